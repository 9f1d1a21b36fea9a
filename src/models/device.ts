import { WinnowError } from '../errors.js'
import type { DeviceInfo, DevicePreference, Dtype } from '../types.js'
import { needsF16 } from './dtype.js'

/** The slice of the WebGPU API that device choice needs (so tests can pass a fake). */
export interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<AdapterLike | null>
}
/** The slice of GPUAdapter that device choice reads. */
export interface AdapterLike {
  features: { has(name: string): boolean }
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean }
  isFallbackAdapter?: boolean
}

/** Result of {@link chooseDevice}. */
export interface DeviceChoice {
  info: Omit<DeviceInfo, 'threads'>
  dtype: Dtype
  adapter?: AdapterLike
}

/**
 * Picks WebGPU or WASM. `auto` takes WebGPU only with a real (non-fallback) adapter that can run
 * the dtype; otherwise WASM, with the reason. Explicit `webgpu` accepts a fallback adapter (tests
 * use SwiftShader) but fails with WEBGPU_UNAVAILABLE when there is none, and UNSUPPORTED_DTYPE for
 * fp16 weights without `shader-f16`. fp16 weights on WASM are UNSUPPORTED_DTYPE.
 *
 * @example
 * const { info, dtype } = await chooseDevice('auto', { webgpu: 'q4', wasm: 'q8' }, navigator.gpu)
 */
export async function chooseDevice(
  preference: DevicePreference,
  dtypes: Record<'webgpu' | 'wasm', Dtype>,
  gpu: GpuLike | undefined,
): Promise<DeviceChoice> {
  let adapter: AdapterLike | null = null
  let adapterError = ''
  if (preference !== 'wasm' && gpu) {
    try {
      adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
    } catch (e) {
      adapterError = e instanceof Error ? e.message : String(e)
    }
  }
  const described = adapter ? describeAdapter(adapter) : undefined

  if (preference === 'webgpu') {
    if (!adapter || !described) {
      throw new WinnowError(
        'WEBGPU_UNAVAILABLE',
        gpu
          ? `no WebGPU adapter is available${adapterError ? ` (${adapterError})` : ''}; use device: 'auto' or 'wasm'`
          : "this browser has no WebGPU (navigator.gpu); use device: 'auto' or 'wasm'",
      )
    }
    if (needsF16(dtypes.webgpu) && !described.shaderF16) {
      throw new WinnowError('UNSUPPORTED_DTYPE', `dtype ${dtypes.webgpu} needs the WebGPU feature shader-f16, which this adapter lacks; use q4 or fp32`, {
        dtype: dtypes.webgpu,
        device: 'webgpu',
      })
    }
    return { info: { kind: 'webgpu', reason: 'requested', adapter: described }, dtype: dtypes.webgpu, adapter }
  }

  let reason: string
  if (preference === 'wasm') reason = 'requested'
  else if (!gpu) reason = 'this browser has no WebGPU'
  else if (!adapter || !described) reason = `no WebGPU adapter${adapterError ? ` (${adapterError})` : ''}`
  else if (described.isFallbackAdapter) reason = 'the only WebGPU adapter is a fallback (software) adapter, slower than WASM'
  else if (needsF16(dtypes.webgpu) && !described.shaderF16) reason = `dtype ${dtypes.webgpu} needs shader-f16, which the WebGPU adapter lacks`
  else return { info: { kind: 'webgpu', reason: 'a hardware WebGPU adapter is available', adapter: described }, dtype: dtypes.webgpu, adapter }

  // fp16 and q4f16 weights run on WASM too: onnxruntime's CPU kernels compute in float32 where they
  // have no float16 kernel (casts around them), and MatMulNBits takes float16. Half the download of
  // fp32 (fp16), but no faster than fp32 or q8 on a CPU.
  return { info: { kind: 'wasm', reason, ...(described ? { adapter: described } : {}) }, dtype: dtypes.wasm }
}

function describeAdapter(adapter: AdapterLike): NonNullable<DeviceInfo['adapter']> {
  const info = adapter.info ?? {}
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description ?? '',
    // `info.isFallbackAdapter` is current; `adapter.isFallbackAdapter` is the older spelling.
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false),
    shaderF16: adapter.features.has('shader-f16'),
  }
}

/**
 * Whether an error thrown by a model run says the WebGPU device is gone (onnxruntime-web reports it
 * from a failed buffer mapping: "The Device was lost before mapping was resolved", Dawn as "Device
 * is lost"), as opposed to a fault of the model or its input.
 *
 * @example
 * isDeviceLostError(new Error("Failed to execute 'mapAsync' on 'GPUBuffer': The Device was lost before mapping was resolved.")) // true
 * isDeviceLostError(new Error('indices element out of data bounds')) // false
 */
export function isDeviceLostError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error)
  return /\bdevice\b[^.]{0,40}?\b(lost|destroyed)\b/i.test(message)
}
