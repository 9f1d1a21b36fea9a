// demo/models.ts: which models the demos (RAG, docs search, the playground) run, and how they say it.
import { describe, expect, it } from 'vitest'
import {
  deviceFromSearch,
  chooseSource,
  DEFAULT_HUB,
  describeSource,
  describeTestReason,
  downloadSize,
  DOWNLOAD_MB,
  hubFromSearch,
  MODEL_CACHE,
  vectorFloorFromSearch,
  REAL_MODELS,
  TEST_MODELS,
  winnowOptions,
  type ModelSource,
  type SourceEnvironment,
} from '../../demo/models.ts'

const BASE = 'https://app.example/models/'
const HUB = 'https://hub.example/'
const PAGE = 'https://app.example/demo/rag/'

interface FakeFile {
  status?: number
  type?: string
  headers?: Record<string, string>
}

/** A fetch over a table of URLs (absent: 404); 'throw' answers a network error; records each call. */
function fakeFetch(files: Record<string, FakeFile | 'throw' | 'hang'>) {
  const calls: { url: string; method: string; signal: boolean }[] = []
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input)
    calls.push({ url, method: init?.method ?? 'GET', signal: init?.signal != null })
    const file = files[url]
    if (file === 'throw') throw new TypeError('Failed to fetch')
    if (file === 'hang') {
      return new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)))
    }
    if (!file) return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } })
    return new Response(null, { status: file.status ?? 200, headers: { 'content-type': file.type ?? 'application/json', ...file.headers } })
  }) as typeof globalThis.fetch
  return { fetch, calls }
}

/** A CacheStorage holding `urls` in transformers.js's cache. */
function fakeCaches(urls: Record<string, Record<string, string>>): CacheStorage {
  return {
    open: async (name: string) => ({
      match: async (url: RequestInfo | URL) => (name === MODEL_CACHE && String(url) in urls ? new Response('', { headers: urls[String(url)] }) : undefined),
    }),
  } as unknown as CacheStorage
}

const selfHosted = (model: string) => `${BASE}${model}/config.json`
const onHub = (model: string, file: string) => `${HUB}${model}/resolve/main/${file}`

describe('hubFromSearch', () => {
  it('defaults to the Hugging Face hub, resolves ?hub= against the page, and turns it off with ?hub=off', () => {
    expect(DEFAULT_HUB).toBe('https://huggingface.co/')
    expect(hubFromSearch('', PAGE)).toBe('https://huggingface.co/')
    expect(hubFromSearch('?hub=/hub/', PAGE)).toBe('https://app.example/hub/')
    expect(hubFromSearch('?hub=https://mirror.example/hf', PAGE)).toBe('https://mirror.example/hf/')
    expect(hubFromSearch('?q=x&hub=off', PAGE)).toBeNull()
    expect(hubFromSearch('?hub=none', PAGE)).toBeNull()
    expect(hubFromSearch('?hub=', PAGE)).toBeNull()
    expect(hubFromSearch('?hub=javascript:alert(1)', PAGE)).toBeNull()
  })
})

describe('deviceFromSearch', () => {
  it("is the page's ?device= when it names one, else 'auto'", () => {
    expect(deviceFromSearch('?device=webgpu')).toBe('webgpu')
    expect(deviceFromSearch('?hub=off&device=wasm')).toBe('wasm')
    expect(deviceFromSearch('')).toBe('auto')
    expect(deviceFromSearch('?device=gpu')).toBe('auto')
  })
})

describe('vectorFloorFromSearch', () => {
  it('is 0.3 unless the page says another cosine from -1 to 1', () => {
    expect(vectorFloorFromSearch('')).toBe(0.3)
    expect(vectorFloorFromSearch('?minVectorScore=0.45')).toBe(0.45)
    expect(vectorFloorFromSearch('?hub=off&minVectorScore=-0.2')).toBe(-0.2)
    for (const bad of ['?minVectorScore=', '?minVectorScore=abc', '?minVectorScore=1.5', '?minVectorScore=-2']) expect(vectorFloorFromSearch(bad)).toBe(0.3)
  })
})

describe('chooseSource', () => {
  const both = ['reranker', 'embedder'] as const

  it('takes self-hosted real models when every config.json is there, with one HEAD each and no hub request', async () => {
    const { fetch, calls } = fakeFetch({ [selfHosted(REAL_MODELS.reranker)]: {}, [selfHosted(REAL_MODELS.embedder)]: {} })
    expect(await chooseSource({ roles: both, base: BASE, hub: HUB }, { fetch })).toEqual({ kind: 'self-hosted', base: BASE, standIn: false })
    expect(calls).toEqual([
      { url: selfHosted(REAL_MODELS.reranker), method: 'HEAD', signal: false },
      { url: selfHosted(REAL_MODELS.embedder), method: 'HEAD', signal: false },
    ])
  })

  it('does not take an HTML page (an SPA fallback) or a missing embedder for self-hosted models', async () => {
    const html = fakeFetch({ [selfHosted(REAL_MODELS.reranker)]: { type: 'text/html; charset=utf-8' } })
    expect((await chooseSource({ roles: ['reranker'], base: BASE, hub: null }, { fetch: html.fetch })).kind).toBe('test')
    const half = fakeFetch({ [selfHosted(REAL_MODELS.reranker)]: {} })
    expect(await chooseSource({ roles: both, base: BASE, hub: null }, { fetch: half.fetch })).toEqual({ kind: 'test', base: BASE, offer: null, why: 'hub-off' })
  })

  it('says when self-hosted files are stand-ins (the tests’ fixtures under the real names)', async () => {
    const { fetch } = fakeFetch({ [selfHosted(REAL_MODELS.reranker)]: { headers: { 'x-winnow-stand-in': 'tiny-random-cross-encoder' } } })
    expect(await chooseSource({ roles: ['reranker'], base: BASE, hub: null }, { fetch })).toEqual({ kind: 'self-hosted', base: BASE, standIn: true })
  })

  it('with ?hub=off and nothing self-hosted: test mode, and the hub is never asked', async () => {
    const { fetch, calls } = fakeFetch({})
    const caches = fakeCaches({ [onHub(REAL_MODELS.reranker, 'config.json')]: {}, [onHub(REAL_MODELS.reranker, 'onnx/model_quantized.onnx')]: {} })
    expect(await chooseSource({ roles: ['reranker'], base: BASE, hub: null }, { fetch, caches })).toEqual({ kind: 'test', base: BASE, offer: null, why: 'hub-off' })
    expect(calls.map((c) => c.url)).toEqual([selfHosted(REAL_MODELS.reranker)])
  })

  it('uses models downloaded from the hub earlier straight from the cache, without asking the hub', async () => {
    const { fetch, calls } = fakeFetch({})
    const cached: Record<string, Record<string, string>> = {}
    for (const model of [REAL_MODELS.reranker, REAL_MODELS.embedder]) for (const file of ['config.json', 'onnx/model_fp16.onnx']) cached[onHub(model, file)] = {}
    const env: SourceEnvironment = { fetch, caches: fakeCaches(cached) }
    expect(await chooseSource({ roles: both, base: BASE, hub: HUB }, env)).toEqual({ kind: 'hub', hub: { host: HUB, standIn: false }, dtype: 'fp16', cached: true })
    expect(calls.some((c) => c.url.startsWith(HUB))).toBe(false)
    // One model's weights missing: not usable offline, so the hub is asked.
    delete cached[onHub(REAL_MODELS.embedder, 'onnx/model_fp16.onnx')]
    expect((await chooseSource({ roles: both, base: BASE, hub: HUB }, env)).kind).toBe('test')
  })

  it('offers a reachable hub (a HEAD of the reranker config with a timeout) instead of downloading unasked', async () => {
    const { fetch, calls } = fakeFetch({ [onHub(REAL_MODELS.reranker, 'config.json')]: {} })
    expect(await chooseSource({ roles: both, base: BASE, hub: HUB }, { fetch, caches: fakeCaches({}) })).toEqual({
      kind: 'test',
      base: BASE,
      offer: { host: HUB, standIn: false },
      why: 'not-downloaded',
    })
    expect(calls.at(-1)).toEqual({ url: onHub(REAL_MODELS.reranker, 'config.json'), method: 'HEAD', signal: true })
  })

  it('falls back to test mode when the hub fails, answers 404, or does not answer in time', async () => {
    for (const answer of ['throw', 'hang', { status: 404 }] as const) {
      const { fetch } = fakeFetch({ [onHub(REAL_MODELS.reranker, 'config.json')]: answer })
      expect(await chooseSource({ roles: ['reranker'], base: BASE, hub: HUB }, { fetch, timeoutMs: 20 })).toEqual({ kind: 'test', base: BASE, offer: null, why: 'hub-unreachable' })
    }
  })

  it('offline, still finds self-hosted models an earlier visit cached', async () => {
    const { fetch } = fakeFetch({ [selfHosted(REAL_MODELS.reranker)]: 'throw' })
    const caches = fakeCaches({ [selfHosted(REAL_MODELS.reranker)]: {}, [`${BASE}${REAL_MODELS.reranker}/onnx/model_quantized.onnx`]: {} })
    expect(await chooseSource({ roles: ['reranker'], base: BASE, hub: null }, { fetch, caches })).toEqual({ kind: 'self-hosted', base: BASE, standIn: false })
  })
})

describe('winnowOptions', () => {
  const hub: ModelSource = { kind: 'hub', hub: { host: HUB, standIn: false }, dtype: 'q8', cached: false }
  it('loads the real ids from the hub (allowRemoteModels) or the self-hosted folder, at q8 unless told', () => {
    expect(winnowOptions(hub, ['reranker', 'embedder'])).toEqual({
      reranker: { model: REAL_MODELS.reranker, dtype: 'q8' },
      embedder: { model: REAL_MODELS.embedder, dtype: 'q8' },
      modelBaseUrl: null, // the hub only: no 404 per file from /models/
      allowRemoteModels: true,
      remoteHost: HUB,
    })
    expect(winnowOptions({ kind: 'self-hosted', base: BASE, standIn: false }, ['reranker'], 'fp32')).toEqual({ reranker: { model: REAL_MODELS.reranker, dtype: 'fp32' }, modelBaseUrl: BASE })
  })
  it('loads the random fixtures in test mode, never from a hub', () => {
    expect(winnowOptions({ kind: 'test', base: BASE, offer: { host: HUB, standIn: false }, why: 'not-downloaded' }, ['reranker', 'embedder'])).toEqual({
      reranker: { model: TEST_MODELS.reranker },
      embedder: { model: TEST_MODELS.embedder },
      modelBaseUrl: BASE,
    })
  })
})

describe('what the page says', () => {
  it('sums the download per dtype from the hub listings’ figures', () => {
    expect(DOWNLOAD_MB.reranker.q8).toBe(23.1)
    expect(DOWNLOAD_MB.embedder.q8).toBe(23)
    expect(downloadSize(['reranker'], 'q8')).toBe('23.1 MB')
    expect(downloadSize(['reranker', 'embedder'], 'q8')).toBe('46.1 MB')
    expect(downloadSize(['reranker', 'embedder'], 'fp32')).toBe('181.4 MB')
  })

  it('names random weights as random and real ones as real, with where they come from', () => {
    const test: ModelSource = { kind: 'test', base: BASE, offer: null, why: 'hub-off' }
    expect(describeSource(test, ['reranker', 'embedder'])).toBe('Test models tiny-random-cross-encoder and tiny-random-embedder: random weights, results are meaningless.')
    expect(describeSource({ kind: 'self-hosted', base: BASE, standIn: false }, ['reranker'])).toBe('Real model Xenova/ms-marco-MiniLM-L-6-v2, self-hosted on this site at /models/.')
    expect(describeSource({ kind: 'hub', hub: { host: 'https://huggingface.co/', standIn: false }, dtype: 'q8', cached: true }, ['reranker'])).toBe(
      'Real model Xenova/ms-marco-MiniLM-L-6-v2 (q8) from the Hugging Face hub (huggingface.co), downloaded earlier and kept in this browser (works offline).',
    )
    expect(describeSource({ kind: 'hub', hub: { host: 'http://127.0.0.1:4173/hub/', standIn: true }, dtype: 'q8', cached: false }, ['reranker'])).toMatch(
      /^Stand-in files under the real name Xenova\/ms-marco-MiniLM-L-6-v2 \(q8\) from the stand-in hub at 127\.0\.0\.1:4173\/hub\/, .*: random test weights, results are meaningless\.$/,
    )
    for (const why of ['hub-off', 'hub-unreachable', 'not-downloaded'] as const) expect(describeTestReason(why)).toMatch(/^No real models are self-hosted at \/models\//)
  })

  it('never calls random weights "the embedded model"', () => {
    const words = [
      describeSource({ kind: 'test', base: BASE, offer: null, why: 'hub-off' }, ['reranker', 'embedder']),
      ...(['hub-off', 'hub-unreachable', 'not-downloaded'] as const).map(describeTestReason),
    ].join(' ')
    expect(words).not.toMatch(/embedded (test )?model/i)
  })
})
