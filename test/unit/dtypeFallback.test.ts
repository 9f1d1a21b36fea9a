import { describe, expect, it } from 'vitest'
import { WinnowError } from '../../src/errors.js'
import { isDefaultDtype, loadWithDtypeFallback } from '../../src/models/dtype.js'
import type { Dtype } from '../../src/types.js'

/** A loader over a model folder that has only `files`; records what it was asked for. */
function folder(files: Dtype[]) {
  const asked: Dtype[] = []
  const load = async (dtype: Dtype) => {
    asked.push(dtype)
    if (!files.includes(dtype)) throw new WinnowError('UNSUPPORTED_DTYPE', `no ${dtype}`, { dtype, available: files })
    return `model@${dtype}`
  }
  return { load, asked }
}

describe('default dtype fallback', () => {
  it('loads the default when it exists, asking once', async () => {
    const f = folder(['q4', 'q8'])
    expect(await loadWithDtypeFallback(f.load, 'q4', { device: 'webgpu', pinned: false, shaderF16: false })).toEqual({ value: 'model@q4', dtype: 'q4' })
    expect(f.asked).toEqual(['q4'])
  })

  it('on WebGPU without q4 takes q8 (not fp16 without shader-f16), then fp32', async () => {
    const f = folder(['fp32', 'fp16', 'q8'])
    expect(await loadWithDtypeFallback(f.load, 'q4', { device: 'webgpu', pinned: false, shaderF16: false })).toEqual({ value: 'model@q8', dtype: 'q8' })
    expect(f.asked).toEqual(['q4', 'q8'])
    const g = folder(['fp32', 'fp16'])
    expect((await loadWithDtypeFallback(g.load, 'q4', { device: 'webgpu', pinned: false, shaderF16: true })).dtype).toBe('fp16')
    const h = folder(['fp32', 'fp16'])
    expect((await loadWithDtypeFallback(h.load, 'q4', { device: 'webgpu', pinned: false, shaderF16: false })).dtype).toBe('fp32')
  })

  it('on WASM without q8 takes q4, then fp32, never an fp16 format', async () => {
    expect((await loadWithDtypeFallback(folder(['fp32', 'q4']).load, 'q8', { device: 'wasm', pinned: false, shaderF16: true })).dtype).toBe('q4')
    expect((await loadWithDtypeFallback(folder(['fp32', 'q4f16']).load, 'q8', { device: 'wasm', pinned: false, shaderF16: true })).dtype).toBe('fp32')
    await expect(loadWithDtypeFallback(folder(['q4f16']).load, 'q8', { device: 'wasm', pinned: false, shaderF16: true })).rejects.toMatchObject({ code: 'UNSUPPORTED_DTYPE' })
  })

  it("never replaces the caller's dtype, and passes other failures through", async () => {
    const f = folder(['q8'])
    await expect(loadWithDtypeFallback(f.load, 'q4', { device: 'webgpu', pinned: true, shaderF16: false })).rejects.toMatchObject({ code: 'UNSUPPORTED_DTYPE', details: { available: ['q8'] } })
    expect(f.asked).toEqual(['q4'])
    const failing = async () => {
      throw new WinnowError('MODEL_LOAD_FAILED', 'gone', { url: '/models/x/config.json' })
    }
    await expect(loadWithDtypeFallback(failing, 'q4', { device: 'webgpu', pinned: false, shaderF16: false })).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED' })
  })

  it('tells a default dtype from a chosen one, per device', () => {
    expect(isDefaultDtype(undefined, 'webgpu')).toBe(true)
    expect(isDefaultDtype('q8', 'webgpu')).toBe(false)
    expect(isDefaultDtype({ wasm: 'fp32' }, 'webgpu')).toBe(true)
    expect(isDefaultDtype({ wasm: 'fp32' }, 'wasm')).toBe(false)
  })
})
