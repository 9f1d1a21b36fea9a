/** Public types naming devices and weight formats (shared by the instance's and a search's options). */

/** Where models run. `auto` prefers a real (non-fallback) WebGPU adapter, else WASM. */
export type DevicePreference = 'auto' | 'webgpu' | 'wasm'

/** Model weight formats, named as transformers.js names them. */
export type Dtype = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16'

/** A dtype, or one per device kind (used once the device is known). */
export type DtypeChoice = Dtype | { webgpu?: Dtype; wasm?: Dtype }
