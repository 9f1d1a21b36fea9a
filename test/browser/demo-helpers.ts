/**
 * What the demos' browser tests share: the three pages, the console-error collector, the
 * self-hosted stand-in (the fixtures served under the real ids at /models/ through routing) and the
 * models panel's test hook.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BrowserContext, ConsoleMessage, Page } from '@playwright/test'

export const REAL = { reranker: 'Xenova/ms-marco-MiniLM-L-6-v2', embedder: 'Xenova/all-MiniLM-L6-v2' } as const
const FIXTURE_OF: Record<string, string> = { [REAL.reranker]: 'tiny-random-cross-encoder', [REAL.embedder]: 'tiny-random-embedder' }

/** The demos, by name. */
export const DEMOS = { main: '/demo/', rag: '/demo/rag/', 'docs-search': '/demo/docs-search/' } as const
export type DemoName = keyof typeof DEMOS

/** `window.demoModels` (demo/panel.ts) as the tests see it. */
export interface DemoModels {
  source: { kind: 'self-hosted' | 'hub' | 'test'; why?: string; cached?: boolean; dtype?: string; offer?: { host: string; standIn: boolean } | null } | null
  progress: { model: string; status: string; file: string; loaded: number; total: number; overall: number }[]
  reranking: boolean
}

/** The page's own probe for self-hosted real models: absent here, so the browser logs its 404. */
export function probeUrls(origin: string): string[] {
  return [`${origin}/models/${REAL.reranker}/config.json`, `${origin}/models/${REAL.embedder}/config.json`]
}

/**
 * Collects what Chromium reports as errors: console messages of type error from the page and its
 * workers, and uncaught exceptions. Call before `goto`.
 */
export function collectErrors(page: Page): { errors: ConsoleMessage[]; uncaught: string[] } {
  const errors: ConsoleMessage[] = []
  const uncaught: string[] = []
  const take = (message: ConsoleMessage) => {
    if (message.type() === 'error' && !errors.some((m) => m === message)) errors.push(message)
  }
  page.on('console', take)
  page.on('worker', (worker) => worker.on('console', take))
  page.on('pageerror', (error) => uncaught.push(String(error)))
  return { errors, uncaught }
}

/**
 * The errors left once the page's self-hosted probe is set aside: a `HEAD /models/<real id>/config.json`
 * that 404s is how a page learns the models are not self-hosted, and Chromium logs every 404. Each
 * probe may be logged once per load at most (`loads`).
 */
export function unexpectedErrors(collected: { errors: ConsoleMessage[]; uncaught: string[] }, origin: string, loads = 1): string[] {
  const probes = probeUrls(origin)
  const seen = new Map<string, number>()
  const left: string[] = []
  for (const m of collected.errors) {
    const url = m.location().url
    if (probes.includes(url) && /status of 404/.test(m.text()) && (seen.get(url) ?? 0) < loads) {
      seen.set(url, (seen.get(url) ?? 0) + 1)
      continue
    }
    left.push(`${m.text()} (${url || 'no url'})`)
  }
  return [...left, ...collected.uncaught.map((e) => `uncaught: ${e}`)]
}

/**
 * Serves the random fixtures at /models/<real id>/ as if the real models were self-hosted (with the
 * stand-in header, so the page says what they are).
 */
export async function selfHostStandIns(context: BrowserContext): Promise<void> {
  for (const [id, fixture] of Object.entries(FIXTURE_OF)) {
    await context.route(`**/models/${id}/**`, (route) => {
      const file = new URL(route.request().url()).pathname.split(`/models/${id}/`)[1]!
      const path = join('test/fixtures/models', fixture, file)
      if (file.includes('..') || !existsSync(path)) return route.fulfill({ status: 404, body: 'not found' })
      return route.fulfill({
        status: 200,
        body: readFileSync(path),
        headers: { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream', 'x-winnow-stand-in': fixture },
      })
    })
  }
}

/** The models panel's hook. */
export function demoModels(page: Page): Promise<DemoModels> {
  return page.evaluate(() => (window as unknown as { demoModels: DemoModels }).demoModels && JSON.parse(JSON.stringify((window as unknown as { demoModels: DemoModels }).demoModels)))
}

/** Waits until the page knows where its models come from. */
export async function sourceKnown(page: Page): Promise<DemoModels> {
  await page.waitForFunction(() => (window as unknown as { demoModels?: DemoModels }).demoModels?.source != null)
  return demoModels(page)
}

/** Waits until a demo's models are loaded (and, for docs search, its index is searchable). */
export async function waitLoaded(page: Page, name: DemoName): Promise<void> {
  if (name === 'main') await page.waitForFunction(() => / loaded in \d+ ms$/.test(document.getElementById('model-status')?.textContent ?? ''), null, { timeout: 90_000 })
  if (name === 'rag') await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 90_000 })
  if (name === 'docs-search') await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 90_000 })
}

/**
 * Waits until the docs search's service worker has cached this page and every built asset the page
 * loaded (it caches them in parallel, so the page alone says little), for a reload offline.
 */
export async function waitOfflineReady(page: Page): Promise<void> {
  await page.waitForFunction(async () => {
    if (!navigator.serviceWorker.controller) return false
    const assets = performance.getEntriesByType('resource').map((e) => e.name).filter((u) => new URL(u).origin === location.origin && new URL(u).pathname.startsWith('/assets/'))
    const keys = (await caches.keys()).filter((k) => k.startsWith('docs-search-'))
    const held = async (url: string) => {
      for (const key of keys) if (await (await caches.open(key)).match(url, { ignoreVary: true })) return true
      return false
    }
    for (const url of [location.href, ...assets]) if (!(await held(url.split('#')[0]!))) return false
    return true
  })
}
