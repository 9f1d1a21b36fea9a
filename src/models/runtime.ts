import { env, LogLevel } from '@huggingface/transformers'
import { FetchRecorder } from './fetchRecorder.js'

/** Where files come from and how the WASM backend runs. */
export interface RuntimeOptions {
  /** Absolute base URL (or, in Node, a folder) holding model folders; null: the hub only. */
  modelBaseUrl: string | null
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

/** The Hugging Face hub's file URL layout (transformers.js's default remote path template). */
const HUB_PATH_TEMPLATE = '{model}/resolve/{revision}/'

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
  const base = options.modelBaseUrl !== null && /^https?:/.test(options.modelBaseUrl) ? new URL(options.modelBaseUrl) : null
  if (options.modelBaseUrl === null) {
    // The hub only: no request for a self-hosted copy first.
    env.allowLocalModels = false
    env.allowRemoteModels = true
    if (options.remoteHost) env.remoteHost = options.remoteHost
    env.remotePathTemplate = HUB_PATH_TEMPLATE
  } else if (base && !options.allowRemoteModels) {
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
    env.remotePathTemplate = HUB_PATH_TEMPLATE
  }
  env.useBrowserCache = options.cache && typeof caches !== 'undefined'
  env.useWasmCache = options.cache && typeof caches !== 'undefined'
  env.fetch = recorder.fetch
  quietOnnxRuntime()
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
 * Sets onnxruntime's log level to `'error'`. onnxruntime-web prints everything its level lets
 * through with console.error, so at `'warning'` or below a normal load shows red lines about node
 * placement and the like; errors stay visible. transformers.js hands out a copy of onnxruntime's
 * `env` (where assigning `logLevel` reaches nothing) with a `setLogLevel` that sets the real one;
 * the assignment covers versions that hand out the real object. Sessions take their level from
 * transformers.js's own `env.logLevel`, whose default (WARNING) it already maps to onnxruntime's
 * error level.
 *
 * @example
 * quietOnnxRuntime() // onnxruntime's env.logLevel is now 'error'
 */
export function quietOnnxRuntime(): void {
  const onnx = env.backends.onnx as { logLevel?: string; setLogLevel?: (level: number) => void } | undefined
  if (!onnx) return
  onnx.logLevel = 'error'
  onnx.setLogLevel?.(LogLevel.ERROR)
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

/** Where {@link readOptionalModelJson} looks: the fields of {@link RuntimeOptions} it needs. */
export interface ModelJsonSource {
  /** Absolute base URL holding model folders; null: the hub only. */
  modelBaseUrl: string | null
  allowRemoteModels: boolean
  remoteHost?: string
  /** Keep what was read (and what was found missing) in the Cache API, for offline visits. */
  cache: boolean
}

/** Cache for small optional model files that transformers.js does not fetch itself. */
const MODEL_JSON_CACHE = 'winnow-model-json'

/**
 * Reads an optional JSON file of a model folder (`path` relative to it): `undefined` when it does
 * not exist. Tries `modelBaseUrl`, then the hub when remote models are allowed. Kept in the Cache
 * API (when `cache`), absences too, so a later offline visit reads the same answer — falling back
 * to a default there would silently change how passages are embedded. Rejects when it cannot tell
 * (a server error, or offline with nothing cached). Every miss is a 404 in the browser's console,
 * so callers ask only when nothing else tells them what they need.
 *
 * @example
 * const config = await readOptionalModelJson(source, 'my-org/embedder', '1_Pooling/config.json')
 */
export async function readOptionalModelJson(
  source: ModelJsonSource,
  model: string,
  path: string,
  fetchFile: typeof fetch = globalThis.fetch.bind(globalThis),
): Promise<unknown> {
  const urls = source.modelBaseUrl === null ? [] : [`${source.modelBaseUrl}${model}/${path}`]
  if (source.allowRemoteModels) urls.push(`${source.remoteHost ?? 'https://huggingface.co/'}${model}/resolve/main/${path}`)
  const cache = source.cache && typeof caches !== 'undefined' ? await caches.open(MODEL_JSON_CACHE).catch(() => null) : null
  let networkError: unknown = null
  for (const url of urls) {
    let response: Response
    try {
      response = await fetchFile(url)
    } catch (error) {
      networkError = error
      const cached = await cache?.match(url)
      if (cached?.status === 404) {
        networkError = null // known to be absent
        continue
      }
      if (cached) return cached.json()
      continue
    }
    if (response.status === 404) {
      // Remember the absence too, so an offline visit knows the file does not exist.
      await cache?.put(url, new Response('null', { status: 404 })).catch(() => {})
      continue
    }
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`)
    if (/text\/html/i.test(response.headers.get('content-type') ?? '')) continue // an SPA fallback page, not the file
    await cache?.put(url, response.clone()).catch(() => {})
    return response.json()
  }
  if (networkError) throw networkError
  return undefined
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
