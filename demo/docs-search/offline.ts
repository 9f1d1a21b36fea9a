/**
 * Registers the docs search's service worker (sw.js next to this file, served as
 * /docs-search-sw.js), so the page, its assets, the docs pages read online and the snapshot's
 * manifest are there offline. The first visit's files loaded before the worker took control are
 * posted to it, so it caches them too.
 */
import { sameOriginScriptUrl } from '../trustedTypes.ts'

/** The script URL and scope: the page's hashed assets live in /assets/, outside its folder. */
export const SERVICE_WORKER_URL = '/docs-search-sw.js'
export const SERVICE_WORKER_SCOPE = '/'

/**
 * onnxruntime's glue modules under winnow's default `wasmBaseUrl` (WASM and WebGPU), for the worker
 * to keep: winnow imports them from their own URL, and only a service worker answers that offline
 * (winnow's worker fetches them, so they are not among the page's own resources).
 */
export const ORT_GLUE_URLS = ['/ort/ort-wasm-simd-threaded.mjs', '/ort/ort-wasm-simd-threaded.asyncify.mjs'] as const

/**
 * The same-origin URLs a page loaded (without fragments, no duplicates), for the worker to cache;
 * it decides which it keeps.
 *
 * @example
 * loadedUrls(['https://a.org/assets/x.js', 'https://cdn.example/y.js'], 'https://a.org/demo/#top')
 * // ['https://a.org/demo/', 'https://a.org/assets/x.js']
 */
export function loadedUrls(resources: readonly string[], pageUrl: string, extra: readonly string[] = []): string[] {
  const origin = new URL(pageUrl).origin
  const urls = new Set<string>()
  for (const raw of [pageUrl, ...resources, ...extra]) {
    let url: URL
    try {
      url = new URL(raw, pageUrl)
    } catch {
      continue
    }
    if (url.origin !== origin) continue
    url.hash = ''
    urls.add(url.href)
  }
  return [...urls]
}

/**
 * Registers the worker when `enabled` (pass `import.meta.env.PROD`: in dev it would cache what
 * Vite serves). When the page was not yet controlled (a first visit), posts what it loaded to the
 * worker once it is active; `postLoaded()` posts again later (say, once the search is ready).
 *
 * @example
 * const offline = registerOfflineWorker({ enabled: import.meta.env.PROD, extraUrls: () => [manifestUrl] })
 * offline.postLoaded()
 */
export function registerOfflineWorker(options: { enabled: boolean; extraUrls?: () => readonly string[] }): { postLoaded(): void } {
  const extraUrls = options.extraUrls ?? (() => [])
  const container = typeof navigator !== 'undefined' ? navigator.serviceWorker : undefined
  if (!container || !options.enabled) return { postLoaded() {} }
  const firstVisit = !container.controller
  const active = container
    // Through the demos' Trusted Types policy: a page that requires Trusted Types refuses a plain string here.
    .register(sameOriginScriptUrl(SERVICE_WORKER_URL), { scope: SERVICE_WORKER_SCOPE })
    .then(() => container.ready)
    .then((registration) => registration.active)
    .catch((error: unknown) => {
      console.warn('docs search: no offline support, the service worker did not register:', error)
      return null
    })
  const postLoaded = () => {
    if (!firstVisit) return // a controlled page's fetches went through the worker already
    void active.then((worker) => {
      const resources = performance.getEntriesByType('resource').map((entry) => entry.name)
      worker?.postMessage({ type: 'cache-urls', urls: loadedUrls(resources, location.href, extraUrls()) })
    })
  }
  postLoaded()
  return { postLoaded }
}
