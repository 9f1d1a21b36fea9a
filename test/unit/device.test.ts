import { describe, expect, it, vi } from 'vitest'
import { WinnowError } from '../../src/errors.js'
import { chooseDevice, type AdapterLike, type GpuLike } from '../../src/models/device.js'
import { DEFAULT_DTYPES, normalizeDtypeChoice } from '../../src/models/dtype.js'
import { codeOf } from './helpers.js'

function adapter(opts: { f16?: boolean; fallback?: boolean; legacyFallback?: boolean; noInfo?: boolean } = {}): AdapterLike {
  const a: AdapterLike = { features: new Set(opts.f16 ? ['shader-f16'] : []) }
  if (!opts.noInfo) a.info = { vendor: 'acme', architecture: 'rdna', description: 'Acme GPU', isFallbackAdapter: opts.fallback }
  if (opts.legacyFallback !== undefined) a.isFallbackAdapter = opts.legacyFallback
  return a
}
const gpuWith = (a: AdapterLike | null): GpuLike => ({ requestAdapter: vi.fn(async () => a) })
const defaults = { ...DEFAULT_DTYPES }


describe('chooseDevice', () => {
  it('auto without navigator.gpu → wasm at the wasm dtype', async () => {
    const c = await chooseDevice('auto', defaults, undefined)
    expect(c.info.kind).toBe('wasm')
    expect(c.dtype).toBe('q8')
    expect(c.info.adapter).toBeUndefined()
  })

  it('auto with no adapter → wasm', async () => {
    const c = await chooseDevice('auto', defaults, gpuWith(null))
    expect(c.info.kind).toBe('wasm')
    expect(c.dtype).toBe('q8')
  })

  it('auto with a fallback adapter → wasm, describing the adapter as fallback', async () => {
    const c = await chooseDevice('auto', defaults, gpuWith(adapter({ fallback: true })))
    expect(c.info.kind).toBe('wasm')
    expect(c.dtype).toBe('q8')
    expect(c.info.adapter).toEqual({ vendor: 'acme', architecture: 'rdna', description: 'Acme GPU', isFallbackAdapter: true, shaderF16: false })
    expect(c.adapter).toBeUndefined()
  })

  it('detects the legacy adapter.isFallbackAdapter spelling', async () => {
    const c = await chooseDevice('auto', defaults, gpuWith(adapter({ noInfo: true, legacyFallback: true })))
    expect(c.info.kind).toBe('wasm')
    expect(c.info.adapter?.isFallbackAdapter).toBe(true)
    expect(c.info.adapter?.vendor).toBe('')
  })

  it('auto with a hardware adapter → webgpu at q4 by default, handing over the adapter', async () => {
    const a = adapter({ fallback: false })
    const gpu = gpuWith(a)
    const c = await chooseDevice('auto', defaults, gpu)
    expect(c.info.kind).toBe('webgpu')
    expect(c.dtype).toBe('q4')
    expect(c.adapter).toBe(a)
    expect(c.info.adapter?.isFallbackAdapter).toBe(false)
    expect(gpu.requestAdapter).toHaveBeenCalledWith({ powerPreference: 'high-performance' })
  })

  it('explicit webgpu accepts a fallback adapter', async () => {
    const c = await chooseDevice('webgpu', defaults, gpuWith(adapter({ fallback: true })))
    expect(c.info.kind).toBe('webgpu')
    expect(c.dtype).toBe('q4')
    expect(c.info.adapter?.isFallbackAdapter).toBe(true)
  })

  it('explicit webgpu without navigator.gpu or adapter → WEBGPU_UNAVAILABLE', async () => {
    expect(await codeOf(chooseDevice('webgpu', defaults, undefined))).toBe('WEBGPU_UNAVAILABLE')
    expect(await codeOf(chooseDevice('webgpu', defaults, gpuWith(null)))).toBe('WEBGPU_UNAVAILABLE')
  })

  it('explicit webgpu when requestAdapter throws → WEBGPU_UNAVAILABLE', async () => {
    const gpu: GpuLike = {
      requestAdapter: async () => {
        throw new Error('GPU process crashed')
      },
    }
    expect(await codeOf(chooseDevice('webgpu', defaults, gpu))).toBe('WEBGPU_UNAVAILABLE')
    // auto falls back instead
    const c = await chooseDevice('auto', defaults, gpu)
    expect(c.info.kind).toBe('wasm')
  })

  it('explicit webgpu with fp16 weights and no shader-f16 → UNSUPPORTED_DTYPE', async () => {
    const gpu = gpuWith(adapter())
    expect(await codeOf(chooseDevice('webgpu', { webgpu: 'fp16', wasm: 'q8' }, gpu))).toBe('UNSUPPORTED_DTYPE')
    expect(await codeOf(chooseDevice('webgpu', { webgpu: 'q4f16', wasm: 'q8' }, gpu))).toBe('UNSUPPORTED_DTYPE')
  })

  it('fp16 weights run on webgpu with shader-f16', async () => {
    const c = await chooseDevice('webgpu', { webgpu: 'fp16', wasm: 'q8' }, gpuWith(adapter({ f16: true })))
    expect(c.dtype).toBe('fp16')
    expect(c.info.adapter?.shaderF16).toBe(true)
  })

  it("auto with dtype 'fp16' and no shader-f16 → wasm, which runs fp16 (and q4f16) weights", async () => {
    for (const dtype of ['fp16', 'q4f16'] as const) {
      const c = await chooseDevice('auto', normalizeDtypeChoice(dtype), gpuWith(adapter()))
      expect(c.info.kind).toBe('wasm')
      expect(c.info.reason).toMatch(/shader-f16/)
      expect(c.dtype).toBe(dtype)
    }
    expect((await chooseDevice('wasm', normalizeDtypeChoice('fp16'), undefined)).dtype).toBe('fp16')
  })

  it('auto with q4f16 on webgpu but no shader-f16 → wasm q8', async () => {
    const c = await chooseDevice('auto', { webgpu: 'q4f16', wasm: 'q8' }, gpuWith(adapter()))
    expect(c.info.kind).toBe('wasm')
    expect(c.dtype).toBe('q8')
    expect(c.info.adapter?.shaderF16).toBe(false)
  })

  it("'wasm' never asks for an adapter", async () => {
    const gpu = gpuWith(adapter())
    const c = await chooseDevice('wasm', defaults, gpu)
    expect(c.info.kind).toBe('wasm')
    expect(c.dtype).toBe('q8')
    expect(gpu.requestAdapter).not.toHaveBeenCalled()
  })
})

describe('normalizeDtypeChoice', () => {
  it('defaults to q4 on webgpu and q8 on wasm', () => {
    expect(normalizeDtypeChoice(undefined)).toEqual({ webgpu: 'q4', wasm: 'q8' })
  })

  it('applies a string to both devices', () => {
    expect(normalizeDtypeChoice('fp32')).toEqual({ webgpu: 'fp32', wasm: 'fp32' })
  })

  it('fills a partial object from the defaults', () => {
    expect(normalizeDtypeChoice({ wasm: 'fp32' })).toEqual({ webgpu: 'q4', wasm: 'fp32' })
    expect(normalizeDtypeChoice({ webgpu: 'q4f16' })).toEqual({ webgpu: 'q4f16', wasm: 'q8' })
  })

  it('rejects unknown dtypes with INVALID_INPUT', () => {
    for (const bad of ['int8', { webgpu: 'fp64' }, { wasm: 'toString' }, 5, null]) {
      let code = 'none'
      try {
        normalizeDtypeChoice(bad as never)
      } catch (e) {
        code = e instanceof WinnowError ? e.code : 'other'
      }
      expect(code).toBe('INVALID_INPUT')
    }
  })

  it('does not hand out the shared defaults object', () => {
    const a = normalizeDtypeChoice(undefined)
    a.wasm = 'fp32'
    expect(normalizeDtypeChoice(undefined).wasm).toBe('q8')
  })
})
