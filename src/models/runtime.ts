import { env } from '@huggingface/transformers'
import { FetchRecorder } from './fetchRecorder.js'

/** Where files come from and how the WASM backend runs. */
export interface RuntimeOptions {
  /** Absolute base URL (or, in Node, a folder) holding model folders. */
  modelBaseUrl: string
  allowRemoteModels: boolean
  remoteHost?: string
  /** Absolute base URL of the onnxruntime-web files; unused in Node. */
  wasmBaseUrl?: string
  /** Which onnxruntime-web build to load (see {@link ORT_WASM_FILES}). */
  device: 'webgpu' | 'wasm'
  threads: number
  cache: boolean
}

/**
 * The onnxruntime-web builds winnow loads. WebGPU needs the asyncify build (27 MB); the WASM
 * execution provider alone runs on the plain SIMD-threaded build, half the download and without
 * asyncify's instrumentation. Keep in sync with ORT_FILES in src/vite/plugin.ts.
 */
export const ORT_WASM_FILES = {
  webgpu: { mjs: 'ort-wasm-simd-threaded.asyncify.mjs', wasm: 'ort-wasm-simd-threaded.asyncify.wasm' },
  wasm: { mjs: 'ort-wasm-simd-threaded.mjs', wasm: 'ort-wasm-simd-threaded.wasm' },
} as const

/**
 * Points transformers.js at local files only. transformers.js keeps its settings in a module-level
 * `env`; this is called only inside winnow's own worker (one per instance) or a Node process, so
 * that global is effectively per instance. Returns the recorder that sees every request.
 *
 * @example
 * const recorder = configureRuntime({ modelBaseUrl: 'https://app.example/models/', allowRemoteModels: false, threads: 2, cache: true, device: 'wasm' })
 */
export function configureRuntime(options: RuntimeOptions): FetchRecorder {
  const recorder = new FetchRecorder(globalThis.fetch.bind(globalThis))
  const here = globalThis.location?.origin
  const base = /^https?:/.test(options.modelBaseUrl) ? new URL(options.modelBaseUrl) : null
  if (base && !options.allowRemoteModels) {
    // A self-hosted folder is read through transformers.js's remote-host template: its "local"
    // mode takes only paths (not URLs) and probes each file's size with a full GET, downloading
    // the weights twice, while the remote mode probes with `Range: bytes=0-0`.
    env.allowLocalModels = false
    env.allowRemoteModels = true
    env.remoteHost = base.href
    env.remotePathTemplate = '{model}/'
  } else {
    // Local copy first (same origin, by path), then the hub.
    env.allowLocalModels = true
    env.localModelPath = base && base.origin === here ? base.pathname : options.modelBaseUrl
    env.allowRemoteModels = options.allowRemoteModels
    if (options.remoteHost) env.remoteHost = options.remoteHost
  }
  env.useBrowserCache = options.cache && typeof caches !== 'undefined'
  env.useWasmCache = options.cache && typeof caches !== 'undefined'
  env.fetch = recorder.fetch
  const wasm = env.backends.onnx?.wasm as
    | { wasmPaths?: unknown; numThreads?: number; proxy?: boolean }
    | undefined
  if (wasm) {
    if (options.wasmBaseUrl) {
      // An object (not a prefix) so transformers.js can cache both files for offline use.
      const files = ORT_WASM_FILES[options.device]
      wasm.wasmPaths = { mjs: options.wasmBaseUrl + files.mjs, wasm: options.wasmBaseUrl + files.wasm }
    }
    wasm.numThreads = options.threads
    wasm.proxy = false // already in a worker
  }
  return recorder
}

/**
 * Hands onnxruntime-web the adapter winnow chose, so both agree on the GPU.
 *
 * @example
 * useWebGpuAdapter(adapter)
 */
export function useWebGpuAdapter(adapter: unknown): void {
  const webgpu = env.backends.onnx?.webgpu as { adapter?: unknown } | undefined
  if (webgpu && adapter) webgpu.adapter = adapter
}

/**
 * Drops the cached copies of some files of a model (transformers.js keeps every file it downloads
 * in the Cache API), so that a file found damaged or mismatched is downloaded again by the next
 * load instead of failing it forever. Never rejects.
 *
 * @example
 * await forgetCachedFiles('Xenova/ms-marco-MiniLM-L-6-v2', ['onnx/model_quantized.onnx'])
 */
export async function forgetCachedFiles(model: string, files: readonly string[]): Promise<void> {
  if (!env.useBrowserCache || typeof caches === 'undefined' || files.length === 0) return
  try {
    const cache = await caches.open(env.cacheKey)
    // Keys are full URLs: <base><model>/<file> when self-hosted, <host><model>/resolve/<rev>/<file> from a hub.
    const stale = (await cache.keys()).filter((request) => request.url.includes(`/${model}/`) && files.some((file) => request.url.endsWith(`/${file}`)))
    await Promise.all(stale.map((request) => cache.delete(request)))
  } catch {
    // A cache that cannot be read cannot serve the damaged copy either.
  }
}

/** Why a WebGPU device was lost, as `GPUDeviceLostInfo` says. */
export interface DeviceLossInfo {
  reason: string
  message: string
}

/**
 * Calls `onLost` once if the WebGPU device onnxruntime-web created (after the first WebGPU session,
 * at `env.webgpu.device`) is lost. Returns false when there is no such device to watch.
 *
 * @example
 * watchWebGpuDevice((loss) => console.warn('GPU gone:', loss.reason))
 */
export function watchWebGpuDevice(onLost: (loss: DeviceLossInfo) => void): boolean {
  const webgpu = env.backends.onnx?.webgpu as { device?: { lost?: Promise<{ reason?: string; message?: string }> } } | undefined
  const lost = webgpu?.device?.lost
  if (!lost || typeof lost.then !== 'function') return false
  void lost.then(
    (info) => onLost({ reason: String(info?.reason ?? 'unknown'), message: String(info?.message ?? '') }),
    () => {},
  )
  return true
}
