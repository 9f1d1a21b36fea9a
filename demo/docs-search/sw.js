/*
 * winnow docs search: the offline service worker. Plain JS with no imports: the build copies this
 * file to the site root as /docs-search-sw.js, and the search page registers it with scope '/'
 * (its hashed assets live in /assets/, outside the page's folder).
 *
 * Strategy: network first, the cache when the network fails, for same-origin GETs of
 *   - navigations to the search page and its docs pages (paths with a /docs-search/ segment),
 *   - the built assets under /assets/ and the page's own files,
 *   - the snapshot's winnow-index/manifest.json (winnow compares its version with the imported one),
 *   - onnxruntime's glue modules, /ort/*.mjs (about 50 kB each): winnow imports them from their own
 *     URL, and offline only this worker can answer it — without it winnow would import its cached
 *     copy from a blob: URL, which a Content-Security-Policy without blob: refuses.
 * Left to the network, never stored: Range requests, /models/ and the /ort/ .wasm files (winnow
 * keeps model and WASM binaries in the Cache API itself: not twice), the snapshot's shards
 * (imported into IndexedDB), other pages of the origin, and this script (the browser updates it on
 * its own).
 * A document served from the cache keeps COOP same-origin + COEP require-corp, or the page would
 * lose cross-origin isolation (and WASM its threads).
 */
'use strict'

/** Bump when the strategy changes: activate() deletes the caches of other versions. */
const CACHE_PREFIX = 'docs-search-'
const CACHE_NAME = CACHE_PREFIX + 'v2'

const ISOLATION_HEADERS = [
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Embedder-Policy', 'require-corp'],
]
const NEVER_STORED = ['/models/', '/ort/', '/hub/']
const APP_PATH = /\/docs-search(\/|$)/
const ASSETS = '/assets/'
const MANIFEST = /\/winnow-index\/manifest\.json$/
const ORT_GLUE = /^\/ort\/[^/]+\.mjs$/

/** Whether this worker caches `url` (a same-origin page, asset, the snapshot manifest or onnxruntime's glue). */
function cacheable(url) {
  let u
  try {
    u = new URL(url, self.location.href)
  } catch {
    return false
  }
  if (u.origin !== self.location.origin) return false
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false
  const path = u.pathname
  if (ORT_GLUE.test(path)) return true
  if (NEVER_STORED.some((prefix) => path.startsWith(prefix))) return false
  if (path === new URL(self.location.href).pathname) return false
  if (path.includes('/winnow-index/')) return MANIFEST.test(path)
  return path.startsWith(ASSETS) || APP_PATH.test(path)
}

/** Whether the fetch event is ours: a plain same-origin GET of something cacheable. */
function handles(request) {
  if (request.method !== 'GET') return false
  if (request.headers.has('range')) return false
  return cacheable(request.url)
}

/**
 * Only complete, same-origin, successful responses are worth keeping; not redirected ones either
 * (Chromium refuses a redirected response for a navigation).
 */
function storable(response) {
  return response.status === 200 && response.type === 'basic' && !response.redirected
}

/** The response, with the isolation headers it must carry (added only where one is missing). */
function withIsolation(response) {
  if (ISOLATION_HEADERS.every(([name]) => response.headers.has(name))) return response
  const headers = new Headers(response.headers)
  for (const [name, value] of ISOLATION_HEADERS) if (!headers.has(name)) headers.set(name, value)
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers })
}

/** A small page for a docs page that was never visited online, instead of the browser's error page. */
function offlinePage(url) {
  const u = new URL(url)
  const match = /^(.*\/docs-search\/)/.exec(u.pathname)
  const back = match ? match[1] : '/'
  const html =
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<title>Offline</title><style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1d232a}</style>' +
    '</head><body><h1>You are offline</h1>' +
    '<p>This page was not saved for offline reading yet: it is saved the first time you open it online.</p>' +
    `<p><a href="${back}">Back to the docs search</a>, which works offline.</p></body></html>`
  return withIsolation(
    new Response(html, {
      status: 503,
      statusText: 'Offline',
      headers: {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        'X-Docs-Search-Offline': '1',
        // No script at all, and its one inline style.
        'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
      },
    }),
  )
}

async function networkFirst(event) {
  const request = event.request
  try {
    const response = await fetch(request)
    if (storable(response)) {
      const copy = response.clone()
      // Keyed by the URL without its fragment (a navigation's request keeps it; matching ignores it).
      event.waitUntil(caches.open(CACHE_NAME).then((cache) => cache.put(request.url.split('#')[0], copy)).catch(() => {}))
    }
    return response
  } catch (error) {
    const cache = await caches.open(CACHE_NAME)
    let cached = await cache.match(request, { ignoreVary: true })
    // A page opened with another query string (?q=...) is the same page.
    if (!cached && request.mode === 'navigate') cached = await cache.match(request, { ignoreVary: true, ignoreSearch: true })
    if (cached) return withIsolation(cached)
    if (request.mode === 'navigate') return offlinePage(request.url)
    throw error
  }
}

/** Caches URLs the page loaded before this worker controlled it (skipping those already cached). */
async function cacheUrls(urls) {
  const cache = await caches.open(CACHE_NAME)
  const wanted = [...new Set(urls.filter((url) => typeof url === 'string' && cacheable(url)).map((url) => new URL(url, self.location.href).href.split('#')[0]))]
  await Promise.all(
    wanted.map(async (url) => {
      try {
        if (await cache.match(url, { ignoreVary: true })) return
        const response = await fetch(url, { credentials: 'same-origin' })
        if (storable(response)) await cache.put(url, response)
      } catch {
        // Offline or gone: the next visit caches it through the fetch handler.
      }
    }),
  )
}

self.addEventListener('install', (event) => {
  event.waitUntil(self.skipWaiting())
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith(CACHE_PREFIX) && key !== CACHE_NAME) await caches.delete(key)
      }
      await self.clients.claim()
    })(),
  )
})

self.addEventListener('fetch', (event) => {
  if (!handles(event.request)) return
  event.respondWith(networkFirst(event))
})

self.addEventListener('message', (event) => {
  const data = event.data
  if (data && data.type === 'cache-urls' && Array.isArray(data.urls)) event.waitUntil(cacheUrls(data.urls))
})
