/**
 * Which models the demos run, decided in this order and said in plain words on the page:
 *
 * 1. **Self-hosted**: the real models under `/models/<id>/` (where
 *    `npx winnow-rerank models pull <id> --out public/models` puts them), checked by their
 *    `config.json`.
 * 2. **The Hugging Face hub, already downloaded**: the real models in this browser's Cache API from
 *    an earlier visit (transformers.js caches every file it downloads): no network needed.
 * 3. **The hub, reachable**: a small file answers within {@link HUB_PROBE_TIMEOUT_MS}. The page
 *    *offers* the download with its size per dtype and starts in test mode until it is accepted.
 * 4. **Test mode**: the random-weight fixtures, bannered as such; the reranker does not reorder by
 *    default and the first stage is keyword only (random embeddings are noise).
 *
 * `?hub=<url>` points the hub at another host (tests use the stand-in at `/hub/`); `?hub=off` never
 * contacts one. Pure apart from the `fetch` and `caches` handed in, so it is unit-tested in Node.
 */
import type { DevicePreference, Dtype, WinnowOptions } from '../src/index.ts'

/** The real models the demos are meant to run. */
export const REAL_MODELS = { reranker: 'Xenova/ms-marco-MiniLM-L-6-v2', embedder: 'Xenova/all-MiniLM-L6-v2' } as const
/** The committed random-weight fixtures (test/fixtures/models): they prove the plumbing, never relevance. */
export const TEST_MODELS = { reranker: 'tiny-random-cross-encoder', embedder: 'tiny-random-embedder' } as const

export type Role = keyof typeof REAL_MODELS

/** The dtypes the real models' hub repositories have ONNX files for (neither has a q4 file). */
export type RealDtype = 'q8' | 'fp16' | 'fp32'
export const REAL_DTYPES: readonly RealDtype[] = ['q8', 'fp16', 'fp32']

/** The ONNX weights file of each dtype, as transformers.js names them. */
export const ONNX_FILES: Readonly<Record<RealDtype, string>> = { q8: 'onnx/model_quantized.onnx', fp16: 'onnx/model_fp16.onnx', fp32: 'onnx/model.onnx' }

/**
 * Download size of each real model's ONNX weights, in MB (10^6 bytes), as the hub's file listings
 * show them: huggingface.co/Xenova/ms-marco-MiniLM-L-6-v2/tree/fec3517/onnx (model_quantized.onnx
 * 23.1 MB, model_fp16.onnx 45.6 MB, model.onnx 91 MB) and huggingface.co/Xenova/all-MiniLM-L6-v2/tree/57cbdab/onnx
 * (23 MB, 45.3 MB, 90.4 MB). The tokenizer and config files add less than 1 MB per model.
 */
export const DOWNLOAD_MB: Readonly<Record<Role, Readonly<Record<RealDtype, number>>>> = {
  reranker: { q8: 23.1, fp16: 45.6, fp32: 91 },
  embedder: { q8: 23, fp16: 45.3, fp32: 90.4 },
}

export const DEFAULT_HUB = 'https://huggingface.co/'
/** A reachable hub answers a HEAD of a 700-byte file well within this; an unreachable one must not hold the page up. */
export const HUB_PROBE_TIMEOUT_MS = 4000
/** transformers.js's Cache API cache (its `env.cacheKey` default). */
export const MODEL_CACHE = 'transformers-cache'
/**
 * The header the stand-in hub of the tests (vite.config.ts) sends: it serves the random fixtures
 * under the real ids, and the page says so instead of calling them real.
 */
export const STAND_IN_HEADER = 'x-winnow-stand-in'

/** A hub the page may download the real models from. */
export interface Hub {
  /** Absolute URL ending in `/`, e.g. `https://huggingface.co/`. */
  host: string
  /** The stand-in hub of the tests: random weights under the real names. */
  standIn: boolean
}

/** Where the models come from, and why. */
export type ModelSource =
  | { kind: 'self-hosted'; base: string; standIn: boolean }
  | { kind: 'hub'; hub: Hub; dtype: RealDtype; cached: boolean }
  | { kind: 'test'; base: string; offer: Hub | null; why: TestReason }

/** Why the page is in test mode. */
export type TestReason = 'hub-off' | 'hub-unreachable' | 'not-downloaded'

/**
 * The hub from the page's query string: `?hub=off` (or `none`) for none, `?hub=<url>` (relative to
 * the page) for another host, else {@link DEFAULT_HUB}. Only http(s) hosts are accepted.
 *
 * @example
 * hubFromSearch('?hub=/hub/', 'http://127.0.0.1:4173/demo/') // 'http://127.0.0.1:4173/hub/'
 * hubFromSearch('?hub=off', 'http://127.0.0.1:4173/demo/')   // null
 * hubFromSearch('', 'http://127.0.0.1:4173/demo/')           // 'https://huggingface.co/'
 */
export function hubFromSearch(search: string, pageUrl: string): string | null {
  const given = new URLSearchParams(search).get('hub')
  if (given === null) return DEFAULT_HUB
  if (/^(off|none|no|false|0)?$/i.test(given.trim())) return null
  let url: URL
  try {
    url = new URL(given, pageUrl)
  } catch {
    return null
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
  url.search = ''
  url.hash = ''
  return url.href.endsWith('/') ? url.href : `${url.href}/`
}

/**
 * The device the page asks winnow for: `?device=webgpu` or `?device=wasm`, else `'auto'` (which
 * never picks a software WebGPU adapter; the tests ask for WebGPU on one explicitly).
 *
 * @example
 * deviceFromSearch('?device=webgpu') // 'webgpu'
 * deviceFromSearch('?device=gpu')    // 'auto'
 */
export function deviceFromSearch(search: string): DevicePreference {
  const given = new URLSearchParams(search).get('device')
  return given === 'webgpu' || given === 'wasm' ? given : 'auto'
}

/**
 * The vector floor (`minVectorScore`) the RAG and docs-search pages use with the real embedder: 0.3,
 * from the page's `?minVectorScore=<cosine>` when that is a number from -1 to 1 (to tune it on your
 * own files; the tests use it to see the option reach the search).
 *
 * @example
 * vectorFloorFromSearch('')                     // 0.3
 * vectorFloorFromSearch('?minVectorScore=0.45') // 0.45
 */
export function vectorFloorFromSearch(search: string, fallback = DEFAULT_MIN_VECTOR_SCORE): number {
  const given = new URLSearchParams(search).get('minVectorScore')
  const value = given === null || given.trim() === '' ? NaN : Number(given)
  return Number.isFinite(value) && value >= -1 && value <= 1 ? value : fallback
}

/**
 * With all-MiniLM-L6-v2, vector-side candidates whose cosine to the query is below this are dropped
 * before fusion, so a query that matches nothing gets no results instead of the least unrelated
 * passages (the vector side always answers). The model puts unrelated English texts around 0–0.2
 * and passages that answer a query well above 0.3 (the library's guide suggests 0.3 as the start
 * too); 0.3 keeps paraphrases the keyword side would miss. Not measured on this machine (no hub):
 * tune it with `?minVectorScore=` on real files.
 */
export const DEFAULT_MIN_VECTOR_SCORE = 0.3

/** A model file's URL on the hub (revision `main`, as transformers.js asks for it). */
export function hubFileUrl(host: string, model: string, file: string): string {
  return `${host}${model}/resolve/main/${file}`
}

/** A model file's URL in a self-hosted folder. */
export function selfHostedFileUrl(base: string, model: string, file: string): string {
  return `${base}${model}/${file}`
}

/** What {@link chooseSource} may touch. */
export interface SourceEnvironment {
  fetch: typeof fetch
  /** The Cache API, when the page has one. */
  caches?: CacheStorage
  /** Default {@link HUB_PROBE_TIMEOUT_MS}. */
  timeoutMs?: number
}

/** What the page needs and where it may look. */
export interface SourceRequest {
  /** The models the page loads (a reranker, and an embedder when it embeds). */
  roles: readonly Role[]
  /** Absolute URL of the self-hosted model folder, ending in `/`. */
  base: string
  /** From {@link hubFromSearch}. */
  hub: string | null
}

type Probe = 'found' | 'absent' | 'unreachable'

/** HEAD of a model file: an HTML page (an SPA's fallback) is not the file. */
async function probe(env: SourceEnvironment, url: string, timeoutMs?: number): Promise<{ result: Probe; standIn: boolean }> {
  try {
    const response = await env.fetch(url, { method: 'HEAD', cache: 'no-store', ...(timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {}) })
    const html = /text\/html/i.test(response.headers.get('content-type') ?? '')
    return { result: response.ok && !html ? 'found' : 'absent', standIn: response.headers.has(STAND_IN_HEADER) }
  } catch {
    return { result: 'unreachable', standIn: false }
  }
}

/** The cached copy of a URL in transformers.js's cache, if any. */
async function cached(env: SourceEnvironment, url: string): Promise<Response | undefined> {
  if (!env.caches) return undefined
  try {
    const cache = await env.caches.open(MODEL_CACHE)
    return await cache.match(url)
  } catch {
    return undefined
  }
}

/** Whether every role's config and `dtype` weights are cached under `fileUrl`'s names. */
async function allCached(env: SourceEnvironment, roles: readonly Role[], dtype: RealDtype, fileUrl: (model: string, file: string) => string): Promise<Response | null> {
  let first: Response | null = null
  for (const role of roles) {
    for (const file of ['config.json', ONNX_FILES[dtype]]) {
      const hit = await cached(env, fileUrl(REAL_MODELS[role], file))
      if (!hit) return null
      first ??= hit
    }
  }
  return first
}

/**
 * Decides where the models come from (see the module comment for the order). Never rejects.
 *
 * @example
 * const source = await chooseSource({ roles: ['reranker'], base: 'https://app.example/models/', hub: 'https://huggingface.co/' }, { fetch, caches })
 * // { kind: 'test', offer: { host: 'https://huggingface.co/', standIn: false }, why: 'not-downloaded', base: ... }
 */
export async function chooseSource(request: SourceRequest, env: SourceEnvironment): Promise<ModelSource> {
  const { roles, base, hub } = request
  // 1. Self-hosted: one HEAD per model (the first missing one ends the check).
  let selfHosted: Probe = 'found'
  let selfStandIn = false
  for (const role of roles) {
    const found = await probe(env, selfHostedFileUrl(base, REAL_MODELS[role], 'config.json'))
    selfStandIn ||= found.standIn
    if (found.result !== 'found') {
      selfHosted = found.result
      break
    }
  }
  if (selfHosted === 'found') return { kind: 'self-hosted', base, standIn: selfStandIn }
  if (selfHosted === 'unreachable') {
    // Offline: self-hosted models loaded on an earlier visit are in the cache under their URLs.
    for (const dtype of REAL_DTYPES) {
      const hit = await allCached(env, roles, dtype, (model, file) => selfHostedFileUrl(base, model, file))
      if (hit) return { kind: 'self-hosted', base, standIn: hit.headers.has(STAND_IN_HEADER) }
    }
  }
  if (hub === null) return { kind: 'test', base, offer: null, why: 'hub-off' }
  // 2. Downloaded from this hub on an earlier visit: no network needed.
  for (const dtype of REAL_DTYPES) {
    const hit = await allCached(env, roles, dtype, (model, file) => hubFileUrl(hub, model, file))
    if (hit) return { kind: 'hub', hub: { host: hub, standIn: hit.headers.has(STAND_IN_HEADER) }, dtype, cached: true }
  }
  // 3. Reachable: offered, not downloaded unasked (tens of MB).
  const reachable = await probe(env, hubFileUrl(hub, REAL_MODELS[roles[0] ?? 'reranker'], 'config.json'), env.timeoutMs ?? HUB_PROBE_TIMEOUT_MS)
  if (reachable.result === 'found') return { kind: 'test', base, offer: { host: hub, standIn: reachable.standIn }, why: 'not-downloaded' }
  return { kind: 'test', base, offer: null, why: 'hub-unreachable' }
}

/** Which model each role runs for a source. */
export function modelsOf(source: ModelSource): { reranker: string; embedder: string } {
  return source.kind === 'test' ? { ...TEST_MODELS } : { ...REAL_MODELS }
}

/**
 * `createWinnow()` options for a source: the models of `roles`, where to find them, and the dtype
 * (real models: `dtype`, default q8, the one the sizes above are quoted for; test models: the
 * library's default unless given).
 *
 * @example
 * winnowOptions({ kind: 'hub', hub: { host: 'https://huggingface.co/', standIn: false }, dtype: 'q8', cached: false }, ['reranker'])
 * // { reranker: { model: 'Xenova/ms-marco-MiniLM-L-6-v2', dtype: 'q8' }, modelBaseUrl: null, allowRemoteModels: true, remoteHost: 'https://huggingface.co/' }
 */
export function winnowOptions(source: ModelSource, roles: readonly Role[], dtype?: Dtype): Pick<WinnowOptions, 'reranker' | 'embedder' | 'modelBaseUrl' | 'allowRemoteModels' | 'remoteHost'> {
  const models = modelsOf(source)
  const chosen = source.kind === 'test' ? dtype : (dtype ?? (source.kind === 'hub' ? source.dtype : 'q8'))
  const withDtype = chosen ? { dtype: chosen } : {}
  const options: ReturnType<typeof winnowOptions> = {
    reranker: roles.includes('reranker') ? { model: models.reranker, ...withDtype } : false,
    ...(roles.includes('embedder') ? { embedder: { model: models.embedder, ...withDtype } } : {}),
  }
  // The hub only: nothing is self-hosted (that was checked first), so no 404 per file from /models/.
  if (source.kind === 'hub') return { ...options, modelBaseUrl: null, allowRemoteModels: true, remoteHost: source.hub.host }
  return { ...options, modelBaseUrl: source.base }
}

/** A hub's name for people: its host, or "the stand-in hub at <url>". */
export function hubName(hub: Hub): string {
  const url = new URL(hub.host)
  if (hub.standIn) return `the stand-in hub at ${url.host}${url.pathname}`
  return url.host === 'huggingface.co' && url.pathname === '/' ? 'the Hugging Face hub (huggingface.co)' : `the model hub at ${url.host}${url.pathname}`
}

/**
 * The download size of `roles` at `dtype`, in words.
 *
 * @example
 * downloadSize(['reranker', 'embedder'], 'q8') // '46.1 MB'
 */
export function downloadSize(roles: readonly Role[], dtype: RealDtype): string {
  const mb = roles.reduce((sum, role) => sum + DOWNLOAD_MB[role][dtype], 0)
  return `${mb.toFixed(1)} MB`
}

/**
 * Where the models come from, in one plain sentence for the page.
 *
 * @example
 * describeSource({ kind: 'self-hosted', base: 'https://app.example/models/', standIn: false }, ['reranker'])
 * // 'Real model Xenova/ms-marco-MiniLM-L-6-v2, self-hosted on this site at /models/.'
 */
export function describeSource(source: ModelSource, roles: readonly Role[]): string {
  const models = modelsOf(source)
  const names = roles.map((role) => models[role]).join(' and ')
  const plural = roles.length > 1 ? 's' : ''
  switch (source.kind) {
    case 'self-hosted': {
      const where = `self-hosted on this site at ${new URL(source.base).pathname}`
      return source.standIn
        ? `Stand-in files under the real name${plural} ${names}, ${where}: random test weights, results are meaningless.`
        : `Real model${plural} ${names}, ${where}.`
    }
    case 'hub': {
      const how = source.cached ? 'downloaded earlier and kept in this browser (works offline)' : 'downloaded once, then kept in this browser (works offline)'
      return source.hub.standIn
        ? `Stand-in files under the real name${plural} ${names} (${source.dtype}) from ${hubName(source.hub)}, ${how}: random test weights, results are meaningless.`
        : `Real model${plural} ${names} (${source.dtype}) from ${hubName(source.hub)}, ${how}.`
    }
    case 'test':
      return `Test model${plural} ${names}: random weights, results are meaningless.`
  }
}

/**
 * Why the page is in test mode, and how to leave it.
 *
 * @example
 * describeTestReason('hub-off') // 'No real models are self-hosted at /models/, and the hub is turned off (?hub=off).'
 */
export function describeTestReason(why: TestReason): string {
  const selfHost = 'No real models are self-hosted at /models/'
  switch (why) {
    case 'hub-off':
      return `${selfHost}, and the hub is turned off (?hub=off).`
    case 'hub-unreachable':
      return `${selfHost}, and the Hugging Face hub cannot be reached (offline, or blocked). Self-host them with npx winnow-rerank models pull <id> --out public/models.`
    case 'not-downloaded':
      return `${selfHost}, and the real ones have not been downloaded from the hub yet: see below.`
  }
}
