import { expect, test, type BrowserContext, type Page } from '@playwright/test'
import { mkdirSync, readFileSync } from 'node:fs'
import { waitOfflineReady } from './demo-helpers.js'

// The docs-search demo over the project's own docs/ (rendered and indexed by `npm run build`), in
// test mode: no real models here and the hub off, so the random reranker is off by default and the
// keyword (BM25) order is what shows. The hub path: demo-models.spec.ts.
const PAGE = '/demo/docs-search/?hub=off'

type Hit = { url: string; anchor: string; title: string }
type Results = { stage: string; query: string; hits: Hit[]; route: string | null }
// The page's test hook (demo/docs-search/main.ts), as the tests see it.
declare global {
  interface Window {
    docsSearch: { lastResults(): Results; snapshotEvents: { phase: string; loaded: number; total: number; outcome?: string }[] }
  }
}

/** Every URL any page, worker or service worker of the context asked for. */
function recordRequests(context: BrowserContext): string[] {
  const urls: string[] = []
  context.on('request', (r) => urls.push(r.url()))
  return urls
}

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error', null, { timeout: 90_000 })
  expect(await page.evaluate(() => document.body.dataset.state), (await page.locator('#error-text').textContent()) ?? '').toBe('ready')
}

/** Types a query and waits for the reranked list of that query. */
async function search(page: Page, query: string): Promise<{ hits: Hit[]; route: string | null }> {
  await page.locator('#q').fill(query)
  await page.waitForFunction((q) => {
    const r = window.docsSearch.lastResults()
    return r.query === q && r.stage === 'reranked'
  }, query)
  return page.evaluate(() => window.docsSearch.lastResults())
}

/** Whether the element `#anchor` exists in the page at `url` (fetched, parsed, not executed). */
async function anchorExists(page: Page, url: string, anchor: string): Promise<boolean> {
  return page.evaluate(
    async ({ url, anchor }) => {
      const html = await (await fetch(url)).text()
      return new DOMParser().parseFromString(html, 'text/html').getElementById(anchor) !== null
    },
    { url, anchor },
  )
}

test('docs search: imports the snapshot, finds sections by their words, links land on anchors that exist, keyboard opens one', async ({ page, context }) => {
  const requests = recordRequests(context)
  await page.goto(PAGE)
  await ready(page)
  const events = await page.evaluate(() => window.docsSearch.snapshotEvents)
  expect(events.at(-1)).toMatchObject({ phase: 'done', outcome: 'imported' })
  const imported = events.filter((e) => e.phase === 'importing')
  expect(imported.at(-1)!.loaded).toBe(imported.at(-1)!.total)
  expect(imported.at(-1)!.total).toBeGreaterThan(10_000)

  // Words that occur in only a few sections of docs/: the keyword side must find them.
  const manifest = JSON.parse(readFileSync(`${process.env.WINNOW_TEST_DIST ?? 'dist-app'}/demo/docs-search/winnow-index/manifest.json`, 'utf8'))
  expect(manifest.collection.documents).toBeGreaterThan(50)
  const { hits, route } = await search(page, 'SNAPSHOT_INVALID')
  expect(route).toBe('first-stage')
  expect(hits.length).toBeGreaterThan(0)
  // The rendered result links are the hits' deep links, and every one resolves to an element.
  const hrefs = await page.locator('[data-result]').evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href))
  expect(hrefs.length).toBe(hits.length)
  for (const hit of hits) {
    expect(hit.url).toMatch(/^docs\/.+\.html$/)
    const href = new URL(hit.url + (hit.anchor ? `#${hit.anchor}` : ''), page.url()).href
    expect(hrefs).toContain(href)
    if (hit.anchor) expect(await anchorExists(page, hit.url, hit.anchor), `${hit.url}#${hit.anchor}`).toBe(true)
  }
  // Grouped by page: one group header per distinct page.
  const pages = new Set(hits.map((h) => h.url))
  expect(await page.locator('#results [data-page]').count()).toBe(pages.size)

  // Keyboard: '/' focuses the box, ↓ selects the first result, Enter opens it at its anchor.
  await page.locator('body').click({ position: { x: 5, y: 5 } })
  await page.keyboard.press('/')
  await expect(page.locator('#q')).toBeFocused()
  await page.keyboard.press('ArrowDown')
  const first = hits[0]!
  await page.keyboard.press('Enter')
  await page.waitForURL((u) => u.pathname.endsWith(first.url.replace(/^docs\//, '')))
  expect(new URL(page.url()).hash).toBe(first.anchor ? `#${first.anchor}` : '')
  if (first.anchor) expect(await page.evaluate((a) => document.getElementById(a) !== null, first.anchor)).toBe(true)

  const origin = new URL(page.url()).origin
  const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'))
  expect(foreign).toEqual([])
})

test('docs search in test mode: bannered, the keyword order kept, "No results" for nonsense, the random reranker only when asked', async ({ page }) => {
  await page.goto(PAGE)
  await ready(page)
  await expect(page.locator('#test-banner')).toBeVisible()
  await expect(page.locator('#model-source')).toHaveText('Test model tiny-random-cross-encoder: random weights, results are meaningless.')
  const manifest = JSON.parse(readFileSync(`${process.env.WINNOW_TEST_DIST ?? 'dist-app'}/demo/docs-search/winnow-index/manifest.json`, 'utf8'))
  // No real embedder at build time: a keyword-only snapshot, never random vectors.
  expect(manifest.collection.vectorSource).toBe('none')

  // The placeholder's query finds its section first, in BM25's order.
  const install = await search(page, 'install the package')
  expect(install.route).toBe('first-stage')
  expect(install.hits[0]).toMatchObject({ url: 'docs/guides/getting-started.html', title: 'Install the package' })
  await expect(page.locator('#stage')).toContainText('keyword (BM25) order: the random test reranker is off')

  // Nothing shares a word with nonsense: no results, said so. (Not the usual "zzqxv
  // flibbertigibbet": the docs' own guide to minVectorScore quotes it.)
  const none = await search(page, 'vexquor blamfizzle')
  expect(none.hits).toEqual([])
  await expect(page.locator('#stage')).toHaveText('No results for “vexquor blamfizzle”.')
  expect(await page.locator('[data-result]').count()).toBe(0)

  // The plumbing check: switched on, the random reranker runs (and is named as random).
  await page.locator('#random-rerank').check()
  const reranked = await search(page, 'install the package')
  expect(reranked.route).toBe('reranked')
  expect(reranked.hits.length).toBeGreaterThan(0)
  await expect(page.locator('#stage')).toContainText('reranked by the random test reranker (meaningless order)')
})

test('docs search: after one visit it works with the network off (service worker + IndexedDB), and nothing leaves the origin', async ({ page, context }, testInfo) => {
  const requests = recordRequests(context)
  await page.goto(PAGE)
  await ready(page)
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 })
  const online = await search(page, 'cross-origin isolated')
  expect(online.hits.length).toBeGreaterThan(0)
  // Let the service worker finish caching what the first visit loaded (this page among it).
  await page.evaluate(() => navigator.serviceWorker.ready)
  await waitOfflineReady(page)

  await context.setOffline(true)
  await page.reload()
  await ready(page)
  // A later visit serves the stored version at once and checks the manifest in the background.
  await page.waitForFunction(() => window.docsSearch.snapshotEvents.some((e) => e.phase === 'done'))
  const events = await page.evaluate(() => window.docsSearch.snapshotEvents)
  // No second import: the stored version serves (the manifest check is answered from the
  // service worker's cache, or fails and is reported as offline).
  expect(events.some((e) => e.phase === 'importing')).toBe(false)
  expect(['unchanged', 'offline']).toContain(events.at(-1)?.outcome)
  const offline = await search(page, 'cross-origin isolated')
  expect(offline.hits.map((h) => h.url + '#' + h.anchor)).toEqual(online.hits.map((h) => h.url + '#' + h.anchor))

  mkdirSync('test-results', { recursive: true })
  const shot = await page.screenshot({ path: 'test-results/docs-search.png', fullPage: true })
  await testInfo.attach('docs-search', { body: shot, contentType: 'image/png' })

  // An opened result works offline too once visited; a page never visited gets the offline notice.
  const href = await page.locator('[data-result]').first().getAttribute('href')
  await context.setOffline(false)
  await page.goto(new URL(href!, page.url()).href)
  await context.setOffline(true)
  await page.goBack()
  await ready(page)

  const origin = new URL(page.url()).origin
  const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'))
  expect(foreign).toEqual([])
  await context.setOffline(false)
})
