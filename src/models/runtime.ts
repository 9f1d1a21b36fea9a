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
  threads: number
  cache: boolean
}

/**
 * The onnxruntime-web build transformers.js loads (its `onnxruntime-web/webgpu` bundle): one WASM
 * for both the WASM and the WebGPU execution providers.
 */
export const ORT_WASM_FILES = { mjs: 'ort-wasm-simd-threaded.asyncify.mjs', wasm: 'ort-wasm-simd-threaded.asyncify.wasm' } as const

/**
 * Points transformers.js at local files only. transformers.js keeps its settings in a module-level
 * `env`; this is called only inside winnow's own worker (one per instance) or a Node process, so
 * that global is effectively per instance. Returns the recorder that sees every request.
 *
 * @example
 * const recorder = configureRuntime({ modelBaseUrl: 'https://app.example/models/', allowRemoteModels: false, threads: 2, cache: true })
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
      wasm.wasmPaths = { mjs: options.wasmBaseUrl + ORT_WASM_FILES.mjs, wasm: options.wasmBaseUrl + ORT_WASM_FILES.wasm }
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
