/**
 * The docs search's service worker (demo/docs-search/sw.js), run in a Node VM context with a fake
 * `self`, Cache Storage and network: which requests it answers, what it stores, what it serves
 * offline, and that documents keep their cross-origin isolation headers.
 */
import { readFileSync } from 'node:fs'
import { runInNewContext } from 'node:vm'
import { beforeEach, describe, expect, it } from 'vitest'

const ORIGIN = 'https://docs.example'
const PAGE = `${ORIGIN}/demo/docs-search/`
const ISOLATED = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
const SOURCE = readFileSync('demo/docs-search/sw.js', 'utf8')

type Listener = (event: unknown) => void

class FakeCache {
  entries = new Map<string, Response>()
  async match(request: string | { url: string }, options: { ignoreSearch?: boolean } = {}): Promise<Response | undefined> {
    const url = typeof request === 'string' ? request : request.url
    const strip = (u: string) => (options.ignoreSearch ? u.split('?')[0]! : u)
    for (const [key, response] of this.entries) if (strip(key) === strip(url)) return response.clone()
    return undefined
  }
  async put(request: string | { url: string }, response: Response): Promise<void> {
    this.entries.set(typeof request === 'string' ? new URL(request, ORIGIN).href : request.url, response)
  }
}

class FakeCaches {
  stores = new Map<string, FakeCache>()
  async open(name: string) {
    if (!this.stores.has(name)) this.stores.set(name, new FakeCache())
    return this.stores.get(name)!
  }
  async keys() {
    return [...this.stores.keys()]
  }
  async delete(name: string) {
    return this.stores.delete(name)
  }
}

/** A network response as a browser's fetch gives it: `type` 'basic' for same-origin. */
function basic(body: string, init: ResponseInit = {}, extra: { redirected?: boolean } = {}): Response {
  const response = new Response(body, { status: 200, headers: { 'Content-Type': 'text/html', ...ISOLATED }, ...init })
  Object.defineProperty(response, 'type', { value: 'basic' })
  if (extra.redirected) Object.defineProperty(response, 'redirected', { value: true })
  return response
}

interface FakeRequest {
  url: string
  method: string
  mode: string
  headers: Headers
}

function request(path: string, init: { method?: string; mode?: string; headers?: Record<string, string> } = {}): FakeRequest {
  return { url: new URL(path, ORIGIN).href, method: init.method ?? 'GET', mode: init.mode ?? 'cors', headers: new Headers(init.headers ?? {}) }
}

let listeners: Map<string, Listener>
let caches: FakeCaches
let network: { online: boolean; fetched: string[]; respond: (url: string) => Response }
let claimed: boolean
let skipped: boolean

function start(): void {
  listeners = new Map()
  caches = new FakeCaches()
  claimed = false
  skipped = false
  network = { online: true, fetched: [], respond: (url) => basic(`body of ${url}`) }
  const self = {
    location: new URL(`${ORIGIN}/docs-search-sw.js`),
    addEventListener: (type: string, listener: Listener) => listeners.set(type, listener),
    skipWaiting: async () => void (skipped = true),
    clients: { claim: async () => void (claimed = true) },
  }
  const fetch = async (input: string | FakeRequest) => {
    const url = typeof input === 'string' ? new URL(input, ORIGIN).href : input.url
    network.fetched.push(url)
    if (!network.online) throw new TypeError('Failed to fetch')
    return network.respond(url)
  }
  runInNewContext(SOURCE, { self, caches, fetch, Response, Headers, URL, Set, Promise, console })
}

/** Dispatches a fetch event; `undefined` when the worker left it to the browser. */
async function dispatchFetch(req: FakeRequest): Promise<Response | undefined> {
  let responded: Promise<Response> | undefined
  const waits: Promise<unknown>[] = []
  listeners.get('fetch')!({ request: req, respondWith: (p: Promise<Response>) => (responded = p), waitUntil: (p: Promise<unknown>) => waits.push(p) })
  if (!responded) return undefined
  const response = await responded
  await Promise.all(waits)
  return response
}

async function dispatch(type: string, data?: unknown): Promise<void> {
  const waits: Promise<unknown>[] = []
  listeners.get(type)!({ data, waitUntil: (p: Promise<unknown>) => waits.push(p) })
  await Promise.all(waits)
}

async function cached(): Promise<string[]> {
  const names = await caches.keys()
  expect(names).toHaveLength(1)
  return [...(await caches.open(names[0]!)).entries.keys()]
}

beforeEach(start)

describe('docs search service worker', () => {
  it('takes over at once: skipWaiting on install, claim on activate, deleting only its own old caches', async () => {
    await caches.open('docs-search-v0')
    await caches.open('transformers-cache') // winnow's model files: not ours
    await caches.open('winnow-model-json')
    await dispatch('install')
    expect(skipped).toBe(true)
    await dispatch('activate')
    expect(claimed).toBe(true)
    expect(await caches.keys()).toEqual(['transformers-cache', 'winnow-model-json'])
  })

  it('answers pages, docs, assets and the snapshot manifest network-first, and stores them', async () => {
    const paths = ['/demo/docs-search/', '/demo/docs-search/docs/guides/getting-started.html', '/assets/docs-search-abc123.js', '/demo/docs-search/winnow-index/manifest.json']
    for (const path of paths) {
      const response = await dispatchFetch(request(path, { mode: path.endsWith('/') || path.endsWith('.html') ? 'navigate' : 'cors' }))
      expect(await response!.text()).toBe(`body of ${ORIGIN}${path}`)
    }
    expect(await cached()).toEqual(paths.map((p) => ORIGIN + p))
  })

  it('leaves models, WASM, shards, Range requests, non-GETs, other origins and other pages to the browser', async () => {
    const ignored = [
      request('/models/tiny-random-embedder/onnx/model_quantized.onnx'),
      request('/ort/ort-wasm-simd-threaded.wasm'),
      request('/hub/Xenova/x/resolve/main/config.json'),
      request('/demo/docs-search/winnow-index/shards/postings-0001-1f2e.bin'),
      request('/demo/docs-search/docs/big.html', { headers: { Range: 'bytes=0-99' } }),
      request('/demo/docs-search/', { method: 'POST' }),
      { ...request('/'), url: 'https://cdn.example/demo/docs-search/x.js' },
      request('/demo/rag/', { mode: 'navigate' }),
      request('/test/browser/pages/harness.html', { mode: 'navigate' }),
      request('/docs-search-sw.js'),
    ]
    for (const req of ignored) expect(await dispatchFetch(req), req.url).toBeUndefined()
    expect(network.fetched).toEqual([])
  })

  it("stores onnxruntime's glue modules (imported from their own URL, which offline only this worker answers), never the .wasm beside them", async () => {
    for (const file of ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.asyncify.mjs']) {
      expect(await (await dispatchFetch(request(`/ort/${file}`)))!.text()).toBe(`body of ${ORIGIN}/ort/${file}`)
    }
    expect(await dispatchFetch(request('/ort/ort-wasm-simd-threaded.asyncify.wasm'))).toBeUndefined()
    expect(await cached()).toEqual([`${ORIGIN}/ort/ort-wasm-simd-threaded.mjs`, `${ORIGIN}/ort/ort-wasm-simd-threaded.asyncify.mjs`])
    network.online = false
    expect(await (await dispatchFetch(request('/ort/ort-wasm-simd-threaded.mjs')))!.text()).toBe(`body of ${ORIGIN}/ort/ort-wasm-simd-threaded.mjs`)
  })

  it('stores only complete same-origin 200s, not errors, redirects or opaque responses', async () => {
    const responses: Record<string, () => Response> = {
      '/assets/missing.js': () => basic('nope', { status: 404 }),
      '/assets/moved.js': () => basic('moved', {}, { redirected: true }),
      '/assets/partial.js': () => basic('part', { status: 206 }),
      '/assets/opaque.js': () => new Response('x'), // type 'default': not a plain network response
      '/assets/ok.js': () => basic('ok'),
    }
    network.respond = (url) => responses[new URL(url).pathname]!()
    for (const path of Object.keys(responses)) await dispatchFetch(request(path))
    expect(await cached()).toEqual([`${ORIGIN}/assets/ok.js`])
  })

  it('offline, serves the cached copy with COOP/COEP, adding them where the stored response lacked them', async () => {
    network.respond = (url) => basic(`old ${new URL(url).pathname}`, { headers: { 'Content-Type': 'text/html' } }) // no isolation headers
    await dispatchFetch(request('/demo/docs-search/', { mode: 'navigate' }))
    network.online = false
    const response = await dispatchFetch(request('/demo/docs-search/', { mode: 'navigate' }))
    expect(response!.status).toBe(200)
    expect(await response!.text()).toBe('old /demo/docs-search/')
    expect(response!.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin')
    expect(response!.headers.get('Cross-Origin-Embedder-Policy')).toBe('require-corp')
    // The same page with another query string is the same page.
    const withQuery = await dispatchFetch(request('/demo/docs-search/?q=install', { mode: 'navigate' }))
    expect(await withQuery!.text()).toBe('old /demo/docs-search/')
  })

  it('prefers the network when it answers, refreshing the stored copy', async () => {
    network.respond = () => basic('v1')
    await dispatchFetch(request('/demo/docs-search/winnow-index/manifest.json'))
    network.respond = () => basic('v2')
    expect(await (await dispatchFetch(request('/demo/docs-search/winnow-index/manifest.json')))!.text()).toBe('v2')
    network.online = false
    expect(await (await dispatchFetch(request('/demo/docs-search/winnow-index/manifest.json')))!.text()).toBe('v2')
  })

  it('offline, a docs page never visited gets a small isolated offline page; a missing asset fails as a network error', async () => {
    network.online = false
    const page = await dispatchFetch(request('/demo/docs-search/docs/reference/api.html', { mode: 'navigate' }))
    expect(page!.status).toBe(503)
    expect(page!.headers.get('Cross-Origin-Embedder-Policy')).toBe('require-corp')
    expect(page!.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin')
    expect(page!.headers.get('Content-Security-Policy')).toBe("default-src 'none'; style-src 'unsafe-inline'")
    const html = await page!.text()
    expect(html).toContain('You are offline')
    expect(html).toContain('href="/demo/docs-search/"')
    await expect(dispatchFetch(request('/assets/never-seen.js'))).rejects.toThrow('Failed to fetch')
  })

  it('caches the URLs the page posts, keeping only what it would cache and fetching nothing twice', async () => {
    await dispatchFetch(request('/assets/already.js'))
    network.fetched = []
    await dispatch('message', {
      type: 'cache-urls',
      urls: [
        `${PAGE}#top`,
        `${ORIGIN}/assets/app.js`,
        `${ORIGIN}/assets/app.js`,
        `${ORIGIN}/assets/already.js`,
        `${ORIGIN}/models/tiny/config.json`,
        `${ORIGIN}/ort/ort-wasm-simd-threaded.mjs`,
        'https://cdn.example/x.js',
        `${PAGE}winnow-index/manifest.json`,
        42,
      ],
    })
    expect(network.fetched).toEqual([PAGE, `${ORIGIN}/assets/app.js`, `${ORIGIN}/ort/ort-wasm-simd-threaded.mjs`, `${PAGE}winnow-index/manifest.json`])
    expect((await cached()).sort()).toEqual(
      [`${ORIGIN}/assets/already.js`, `${ORIGIN}/assets/app.js`, `${ORIGIN}/ort/ort-wasm-simd-threaded.mjs`, PAGE, `${PAGE}winnow-index/manifest.json`].sort(),
    )
    await dispatch('message', { type: 'something-else' }) // ignored
  })
})
