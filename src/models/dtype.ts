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
