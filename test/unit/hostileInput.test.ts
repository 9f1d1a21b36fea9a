import { describe, expect, it } from 'vitest'
import { checkCallOptions } from '../../src/client/validate.js'
import { checkDocuments, toFloat32 } from '../../src/collection/ingest.js'
import { codeOf } from '../helpers/errors.js'

// Regression cases the reliability fuzz (test/reliability/fuzz.spec.ts) found: each one used to
// escape as a raw TypeError, an INTERNAL error, or silently lost data.
const limits = { maxTextLength: 1000, dims: null }

describe('hostile call options', () => {
  it('refuses null, non-AbortSignal signals, non-function callbacks and unreadable proxies with INVALID_INPUT', () => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    expect(codeOf(() => checkCallOptions(null, 'add'))).toBe('INVALID_INPUT')
    expect(codeOf(() => checkCallOptions({ signal: 'x' }, 'search'))).toBe('INVALID_INPUT')
    expect(codeOf(() => checkCallOptions({ onProgress: 5 }, 'add', 'onProgress'))).toBe('INVALID_INPUT')
    expect(codeOf(() => checkCallOptions(proxy, 'search'))).toBe('INVALID_INPUT')
    const signal = new AbortController().signal
    expect(checkCallOptions({ signal, k: 3 }, 'search')).toEqual({ signal, k: 3 })
    expect(checkCallOptions({ signal: null }, 'search')).toEqual({})
    expect(checkCallOptions(undefined, 'search')).toEqual({})
  })
})

describe('hostile documents', () => {
  it("keeps a metadata key named __proto__ as data and leaves the prototype alone", () => {
    const [doc] = checkDocuments([{ id: 'a', text: 't', metadata: JSON.parse('{"__proto__": null, "lang": "en"}') }], limits)
    expect(Object.keys(doc!.metadata!)).toEqual(['__proto__', 'lang'])
    expect(Object.getPrototypeOf(doc!.metadata)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(doc!.metadata, '__proto__')?.value).toBeNull()
  })

  it('refuses holes in metadata arrays and BigInts in vectors with INVALID_INPUT', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(codeOf(() => checkDocuments([{ id: 'a', text: 't', metadata: { tags: [, 'x'] } }], limits))).toBe('INVALID_INPUT')
    expect(codeOf(() => checkDocuments([{ id: 'a', text: 't', vector: [1n, 2n] as unknown as number[] }], limits))).toBe('INVALID_INPUT')
    expect(codeOf(() => toFloat32([Symbol('x')] as unknown as number[], 'vector'))).toBe('INVALID_INPUT')
    expect(toFloat32([1, 2], 'vector')).toEqual(new Float32Array([1, 2]))
  })
})
