import { describe, expect, it } from 'vitest'
import { deserializeError, ERROR_CODES, isErrorCode, serializeError, WinnowError, type SerializedError } from '../../src/errors.js'

describe('WinnowError', () => {
  it('is an Error named WinnowError with code and details', () => {
    const cause = new Error('root')
    const e = new WinnowError('MODEL_LOAD_FAILED', 'no file', { url: '/m/x.onnx', status: 404 }, { cause })
    expect(e).toBeInstanceOf(Error)
    expect(e).toBeInstanceOf(WinnowError)
    expect(e.name).toBe('WinnowError')
    expect(e.code).toBe('MODEL_LOAD_FAILED')
    expect(e.details).toEqual({ url: '/m/x.onnx', status: 404 })
    expect(e.cause).toBe(cause)
  })

  it('defaults details to {}', () => {
    expect(new WinnowError('ABORTED', 'x').details).toEqual({})
  })
})

describe('ERROR_CODES', () => {
  it('lists the codes callers branch on', () => {
    const keys = Object.keys(ERROR_CODES)
    for (const code of ['INVALID_INPUT', 'MODEL_LOAD_FAILED', 'UNSUPPORTED_DTYPE', 'WEBGPU_UNAVAILABLE', 'ABORTED', 'WORKER_CRASHED', 'DISPOSED', 'INTERNAL']) {
      expect(keys).toContain(code)
      expect(isErrorCode(code)).toBe(true)
    }
  })

  it('rejects unknown codes and inherited names', () => {
    expect(isErrorCode('NOPE')).toBe(false)
    expect(isErrorCode('toString')).toBe(false)
    expect(isErrorCode(42)).toBe(false)
  })
})

describe('serializeError / deserializeError', () => {
  it('round-trips code, message and details through structured clone', () => {
    const original = new WinnowError('UNSUPPORTED_DTYPE', 'no q4f16', { available: ['fp32', 'q8'], dtype: 'q4f16' })
    const data = structuredClone(serializeError(original))
    expect(data).toEqual({ code: 'UNSUPPORTED_DTYPE', message: 'no q4f16', details: { available: ['fp32', 'q8'], dtype: 'q4f16' } })
    const back = deserializeError(data)
    expect(back).toBeInstanceOf(WinnowError)
    expect(back.code).toBe('UNSUPPORTED_DTYPE')
    expect(back.message).toBe('no q4f16')
    expect(back.details).toEqual({ available: ['fp32', 'q8'], dtype: 'q4f16' })
  })

  it('turns a plain Error into INTERNAL keeping its message', () => {
    const data = serializeError(new TypeError('boom'))
    expect(data).toEqual({ code: 'INTERNAL', message: 'boom', details: {} })
    expect(deserializeError(data).code).toBe('INTERNAL')
  })

  it('turns a non-Error throwable into INTERNAL', () => {
    expect(serializeError('just a string')).toEqual({ code: 'INTERNAL', message: 'just a string', details: {} })
    expect(serializeError(undefined).code).toBe('INTERNAL')
  })

  it('maps an unknown code to INTERNAL', () => {
    const e = deserializeError({ code: 'MADE_UP', message: 'm', details: { a: 1 } } as unknown as SerializedError)
    expect(e.code).toBe('INTERNAL')
    expect(e.message).toBe('m')
    expect(e.details).toEqual({ a: 1 })
  })

  it('survives malformed data', () => {
    const e = deserializeError(null as unknown as SerializedError)
    expect(e).toBeInstanceOf(WinnowError)
    expect(e.code).toBe('INTERNAL')
    expect(e.details).toEqual({})
  })

  it('makes details with a function cloneable', () => {
    const data = serializeError(new WinnowError('INTERNAL', 'x', { fn: () => 1, url: 'u', nested: { ok: true } }))
    expect(() => structuredClone(data)).not.toThrow()
    expect(data.details).toEqual({ url: 'u', nested: { ok: true } })
  })

  it('drops details that cannot be serialised at all', () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    const data = serializeError(new WinnowError('INTERNAL', 'x', cyclic))
    expect(() => structuredClone(data)).not.toThrow()
    expect(data.details).toEqual({})
  })
})
