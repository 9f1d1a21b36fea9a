import { env, LogLevel } from '@huggingface/transformers'
import { WinnowError } from '../errors.js'
import { FetchRecorder } from './fetchRecorder.js'
import { policyViolations } from './policyViolations.js'
import { allowOrtThreadWorkers } from './trustedWorkers.js'

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
  // transformers.js's own WASM cache imports onnxruntime's glue from a blob: URL, which a
  // Content-Security-Policy without blob: forbids; loadOrtWasm() caches the files without one.
  env.useWasmCache = false
  env.fetch = recorder.fetch
  quietOnnxRuntime()
  const wasm = env.backends.onnx?.wasm as
    | { wasmPaths?: unknown; numThreads?: number; proxy?: boolean }
    | undefined
  if (wasm) {
    if (options.wasmBaseUrl) {
      // The device's own pair of files (see ORT_WASM_FILES); loadOrtWasm() loads and caches them.
      const files = ORT_WASM_FILES[options.device]
      wasm.wasmPaths = { mjs: options.wasmBaseUrl + files.mjs, wasm: options.wasmBaseUrl + files.wasm }
    }
    wasm.numThreads = options.threads
    wasm.proxy = false // already in a worker
  }
  return recorder
}

/** Where onnxruntime-web's files are, and whether to keep them (the fields of {@link RuntimeOptions} that say so). */
export interface OrtWasmSource {
  /** Absolute base URL of the onnxruntime-web files; without one (Node) there is nothing to load. */
  wasmBaseUrl?: string
  device: 'webgpu' | 'wasm'
  /** WASM threads: above 1, onnxruntime starts thread workers from its glue's URL. */
  threads: number
  /** Keep the `.wasm` binary (and its glue) in the Cache API for later and offline visits. */
  cache: boolean
}

/**
 * Loads onnxruntime-web's WASM runtime in a way a strict Content-Security-Policy allows
 * (`script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'`: no blob:, no data:, no eval). Call it
 * after {@link configureRuntime} and before the first model load.
 *
 * - The glue module (`ort-wasm-simd-threaded[.asyncify].mjs`) is imported from its own URL, so
 *   onnxruntime's thread workers (`new Worker(new URL(import.meta.url))` in the glue) start from
 *   that URL too. transformers.js's own WASM cache (off, see configureRuntime) imported it from a
 *   blob: URL, and the threads became blob: workers.
 * - With `cache`, the `.wasm` binary is kept in the Cache API and handed to onnxruntime as bytes
 *   (`env.wasm.wasmBinary`), so a later visit does not download it again. The glue is kept beside it:
 *   a cached binary is used only while the server's glue is the one it was cached with (the file
 *   names stay the same across onnxruntime versions).
 * - Where this worker's policy requires Trusted Types, the glue's thread workers get a
 *   TrustedScriptURL from winnow's policy (see {@link allowOrtThreadWorkers}).
 * - Offline — the glue's URL cannot be fetched and no service worker serves it — the cached glue
 *   is imported from a blob: URL instead, which a policy without blob: in script-src and worker-src
 *   refuses; with a service worker that serves `wasmBaseUrl`, no blob: is ever needed.
 *
 * Rejects with CSP_BLOCKED (what was blocked, and the directive to change) when the policy of this
 * worker refused something, else MODEL_LOAD_FAILED naming the URL.
 *
 * @example
 * configureRuntime(options)
 * await loadOrtWasm({ wasmBaseUrl: 'https://app.example/ort/', device: 'wasm', threads: 4, cache: true })
 */
export async function loadOrtWasm(source: OrtWasmSource, fetchFile: typeof fetch = globalThis.fetch.bind(globalThis)): Promise<void> {
  const wasm = env.backends.onnx?.wasm as { wasmPaths?: unknown; wasmBinary?: ArrayBuffer } | undefined
  if (!wasm || !source.wasmBaseUrl) return
  const files = ORT_WASM_FILES[source.device]
  const mjsUrl = source.wasmBaseUrl + files.mjs
  const wasmUrl = source.wasmBaseUrl + files.wasm
  wasm.wasmPaths = { mjs: mjsUrl, wasm: wasmUrl }
  const violations = policyViolations()
  const mark = violations.mark()
  const context = `loading onnxruntime-web from ${source.wasmBaseUrl}`
  /** CSP_BLOCKED when this worker's policy refused something since the start, else `fallback`. */
  const explain = async (fallback: WinnowError) => (await violations.blockedSince(mark, context)) ?? fallback
  const importGlue = async (url: string) => {
    if (source.threads > 1) allowOrtThreadWorkers(url)
    try {
      await import(/* @vite-ignore */ url)
    } catch (error) {
      throw await explain(ortLoadFailed(mjsUrl, error))
    }
  }

  const cache = source.cache && typeof caches !== 'undefined' ? await caches.open(env.cacheKey).catch(() => null) : null
  if (!cache) {
    // onnxruntime fetches (and compiles while streaming) the binary itself.
    await importGlue(mjsUrl)
    return
  }

  let glue: string | null = null
  let unreachable: unknown = null
  try {
    glue = await (await fetchOrtFile(mjsUrl, fetchFile)).text()
  } catch (error) {
    if (error instanceof WinnowError) throw await explain(error)
    unreachable = error
  }
  const cachedGlue = await cache
    .match(mjsUrl)
    .then((r) => r?.text() ?? null)
    .catch(() => null)
  const cachedBinary = async () => (await cache.match(wasmUrl).catch(() => undefined))?.arrayBuffer() ?? null

  if (glue !== null) {
    await importGlue(mjsUrl)
    let binary = cachedGlue === glue ? await cachedBinary().catch(() => null) : null
    if (!binary) {
      let response: Response
      try {
        response = await fetchOrtFile(wasmUrl, fetchFile)
      } catch (error) {
        throw await explain(error instanceof WinnowError ? error : ortLoadFailed(wasmUrl, error))
      }
      const stored = response.clone()
      binary = await response.arrayBuffer()
      // The binary first: a glue entry then always has its own binary beside it.
      await cache
        .put(wasmUrl, stored)
        .then(() => cache.put(mjsUrl, new Response(glue, { headers: { 'Content-Type': 'text/javascript' } })))
        .catch(() => {})
    }
    wasm.wasmBinary = binary
    return
  }

  const binary = cachedGlue === null ? null : await cachedBinary().catch(() => null)
  if (cachedGlue === null || !binary) throw await explain(ortLoadFailed(mjsUrl, unreachable, 'and no copy is cached'))
  const blobUrl = URL.createObjectURL(new Blob([cachedGlue], { type: 'text/javascript' }))
  await importGlue(blobUrl)
  // Kept for the worker's life: onnxruntime's thread workers start from it.
  wasm.wasmPaths = { mjs: blobUrl, wasm: wasmUrl }
  wasm.wasmBinary = binary
}

/**
 * Lets go of the `.wasm` bytes {@link loadOrtWasm} handed to onnxruntime, once a model has loaded:
 * onnxruntime compiled them when it created its first session and never reads them again (its
 * thread workers get the compiled module), and they are 13.6 MB of the worker's memory.
 */
export function releaseOrtBinary(): void {
  const wasm = env.backends.onnx?.wasm as { wasmBinary?: ArrayBuffer } | undefined
  if (wasm?.wasmBinary) wasm.wasmBinary = undefined
}

/** GET of one onnxruntime file; MODEL_LOAD_FAILED for an HTTP error or an HTML page in its place. */
async function fetchOrtFile(url: string, fetchFile: typeof fetch): Promise<Response> {
  const response = await fetchFile(url)
  const html = /text\/html/i.test(response.headers.get('content-type') ?? '')
  if (response.ok && !html) return response
  throw new WinnowError(
    'MODEL_LOAD_FAILED',
    `could not load onnxruntime-web: ${url}: ${html ? 'the server answered with an HTML page instead of the file' : `HTTP ${response.status}`}. ` +
      'Serve the onnxruntime files at wasmBaseUrl (the Vite plugin emits them under ort/; see the deployment guide).',
    { url, status: response.status, html },
  )
}

function ortLoadFailed(url: string, error: unknown, more = ''): WinnowError {
  const cause = error instanceof Error ? error.message : String(error)
  return new WinnowError(
    'MODEL_LOAD_FAILED',
    `could not load onnxruntime-web: ${url}: ${cause}${more ? ` ${more}` : ''}. Check wasmBaseUrl and that the onnxruntime files are served there.`,
    { url, status: 0, cause },
    { cause: error },
  )
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
    if (!response.ok) throw new WinnowError('MODEL_LOAD_FAILED', `${url}: HTTP ${response.status}`, { url, status: response.status })
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
