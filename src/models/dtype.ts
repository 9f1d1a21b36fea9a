import { WinnowError } from '../errors.js'
import type { Dtype, DtypeChoice } from '../types.js'

/** The dtypes winnow accepts, with the model file each maps to (transformers.js naming). */
export const DTYPE_FILES: Readonly<Record<Dtype, string>> = {
  fp32: 'model.onnx',
  fp16: 'model_fp16.onnx',
  q8: 'model_quantized.onnx',
  q4: 'model_q4.onnx',
  q4f16: 'model_q4f16.onnx',
}

/**
 * Per-device defaults: under WebGPU, q8's DynamicQuantizeLinear/MatMulInteger fall back to the CPU
 * while q4 (MatMulNBits) runs on the GPU; on WASM, q8 is the smallest fast format.
 */
export const DEFAULT_DTYPES: Readonly<Record<'webgpu' | 'wasm', Dtype>> = { webgpu: 'q4', wasm: 'q8' }

/** Whether a dtype needs fp16 shaders. */
export function needsF16(dtype: Dtype): boolean {
  return dtype === 'fp16' || dtype === 'q4f16'
}

/**
 * Checks a user's dtype choice and returns it normalised; throws INVALID_INPUT on unknown names.
 *
 * @example
 * normalizeDtypeChoice('q8')            // { webgpu: 'q8', wasm: 'q8' }
 * normalizeDtypeChoice({ wasm: 'fp32' }) // { webgpu: 'q4', wasm: 'fp32' }
 */
export function normalizeDtypeChoice(choice: DtypeChoice | undefined): Record<'webgpu' | 'wasm', Dtype> {
  if (choice === undefined) return { ...DEFAULT_DTYPES }
  if (typeof choice === 'string') return { webgpu: checkDtype(choice), wasm: checkDtype(choice) }
  if (choice === null || typeof choice !== 'object') {
    throw new WinnowError('INVALID_INPUT', `dtype must be one of ${Object.keys(DTYPE_FILES).join(', ')} or { webgpu, wasm }`)
  }
  return {
    webgpu: choice.webgpu === undefined ? DEFAULT_DTYPES.webgpu : checkDtype(choice.webgpu),
    wasm: choice.wasm === undefined ? DEFAULT_DTYPES.wasm : checkDtype(choice.wasm),
  }
}

function checkDtype(value: unknown): Dtype {
  if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_FILES, value)) return value as Dtype
  throw new WinnowError('INVALID_INPUT', `unknown dtype ${JSON.stringify(value)}; use one of ${Object.keys(DTYPE_FILES).join(', ')}`, {
    dtype: String(value),
  })
}

/**
 * The dtypes tried, best first, when the default dtype's weights are missing: on WebGPU the GPU
 * formats first, then q8 (its integer ops run on the CPU: slower, but it works); on WASM q8, then
 * q4, then fp32 (fp16 formats need WebGPU).
 */
export const DTYPE_FALLBACK_ORDER: Readonly<Record<'webgpu' | 'wasm', readonly Dtype[]>> = {
  webgpu: ['q4', 'q4f16', 'fp16', 'q8', 'fp32'],
  wasm: ['q8', 'q4', 'fp32'],
}

/** Whether the dtype for `device` was left to winnow (so another one may be used if its file is missing). */
export function isDefaultDtype(choice: DtypeChoice | undefined, device: 'webgpu' | 'wasm'): boolean {
  if (choice === undefined) return true
  if (typeof choice === 'string') return false
  return choice === null || typeof choice !== 'object' || choice[device] === undefined
}

/**
 * Loads with `dtype`; when that dtype was winnow's default (not the caller's) and the model has no
 * weights for it but has others (UNSUPPORTED_DTYPE with `details.available`), loads the best of
 * those for the device instead. A self-hosted folder with only `model_quantized.onnx` then works
 * on a GPU too. A dtype the caller chose is never replaced.
 *
 * @example
 * const { value, dtype } = await loadWithDtypeFallback((d) => loadCrossEncoder({ ...options, dtype: d }), 'q4', { device: 'webgpu', pinned: false, shaderF16: false })
 */
export async function loadWithDtypeFallback<T>(
  load: (dtype: Dtype) => Promise<T>,
  dtype: Dtype,
  options: { device: 'webgpu' | 'wasm'; pinned: boolean; shaderF16: boolean },
): Promise<{ value: T; dtype: Dtype }> {
  try {
    return { value: await load(dtype), dtype }
  } catch (error) {
    const available = (error as WinnowError | undefined)?.code === 'UNSUPPORTED_DTYPE' ? (error as WinnowError).details?.available : undefined
    if (options.pinned || !Array.isArray(available)) throw error
    const usable = (d: Dtype) => available.includes(d) && d !== dtype && (!needsF16(d) || (options.device === 'webgpu' && options.shaderF16))
    const next = DTYPE_FALLBACK_ORDER[options.device].find(usable)
    if (!next) throw error
    return { value: await load(next), dtype: next }
  }
}
