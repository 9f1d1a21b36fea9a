/**
 * Where the demos' models come from (demo/models.ts), through the pages: the hub path against the
 * stand-in hub at /hub/ (vite.config.ts serves the random fixtures under the real ids, and says so
 * in a header), then with the network cut; the self-hosted path (the fixtures routed to
 * /models/<real id>/); and an unreachable hub. No test here has the real weights: what is checked is
 * which files are fetched from where, what the page says, and that it keeps working offline.
 */
import { expect, test, type Page } from '@playwright/test'
import { join } from 'node:path'
import { demoModels, REAL, selfHostStandIns, sourceKnown, waitLoaded, waitOfflineReady } from './demo-helpers.js'

const HUB = '?hub=/hub/'

/** The progress events of one file of a model: there were some, and the last one says it all arrived. */
async function expectDownloaded(page: Page, model: string, file: string): Promise<void> {
  const events = (await demoModels(page)).progress.filter((e) => e.model === model && e.file === file)
  expect(events.length, `${model}/${file} progress events`).toBeGreaterThan(0)
  expect(events.some((e) => e.status === 'progress' && e.total > 0 && e.loaded === e.total)).toBe(true)
}

/** The offer's dtype choices, as shown. */
function offerChoices(page: Page): Promise<string[]> {
  return page.locator('#offer-dtype option').allTextContents()
}

test('main demo: the hub is offered with its sizes, downloads with progress, reranks with the network cut, and the next visit loads the cached copy', async ({ page, context }) => {
  const requests: string[] = []
  context.on('request', (r) => requests.push(r.url()))
  await page.goto(`/demo/${HUB}`)
  const origin = new URL(page.url()).origin
  expect((await sourceKnown(page)).source).toEqual({ kind: 'test', base: `${origin}/models/`, offer: { host: `${origin}/hub/`, standIn: true }, why: 'not-downloaded' })
  await waitLoaded(page, 'main')
  await expect(page.locator('#test-banner')).toBeVisible()
  await expect(page.locator('#hub-offer')).toBeVisible()
  await expect(page.locator('#offer-text')).toContainText(`Xenova/ms-marco-MiniLM-L-6-v2 is available from the stand-in hub at 127.0.0.1:${new URL(origin).port}/hub/.`)
  await expect(page.locator('#offer-text')).toContainText('This stand-in hub serves random test weights under the real names.')
  expect(await offerChoices(page)).toEqual(['q8 · 23.1 MB', 'fp16 · 45.6 MB', 'fp32 · 91.0 MB'])
  // Offered, not taken: nothing but the HEAD of one small file went to the hub.
  expect(requests.filter((u) => u.startsWith(`${origin}/hub/`))).toEqual([`${origin}/hub/${REAL.reranker}/resolve/main/config.json`])

  await page.click('#use-hub')
  await expect(page.locator('#model-status')).toContainText(`${REAL.reranker} (q8) on wasm`)
  await expect(page.locator('#model-progress')).toHaveJSProperty('value', 1)
  await expectDownloaded(page, REAL.reranker, 'onnx/model_quantized.onnx')
  expect(requests).toContain(`${origin}/hub/${REAL.reranker}/resolve/main/onnx/model_quantized.onnx`)
  expect((await demoModels(page)).source).toEqual({ kind: 'hub', hub: { host: `${origin}/hub/`, standIn: true }, dtype: 'q8', cached: false })
  await expect(page.locator('#test-banner')).toBeHidden()
  await expect(page.locator('#hub-offer')).toBeHidden()
  await expect(page.locator('#model-source')).toContainText(`Stand-in files under the real name ${REAL.reranker} (q8) from the stand-in hub at`)
  // Real-model mode reranks without being asked.
  await expect(page.locator('#results')).toHaveAttribute('data-order', 'reranked')
  await expect(page.locator('#results li .score')).toHaveCount(5)

  // The network cut: reranking runs on the device.
  await context.setOffline(true)
  await page.fill('#passages', 'one passage\nanother passage\na third')
  await page.locator('#query').press('Enter')
  await expect(page.locator('#results li .score')).toHaveCount(3)
  await expect(page.locator('#timing')).toContainText('3 passages reranked in')
  await context.setOffline(false)

  // The next visit loads the downloaded copy from the Cache API at once: no offer, not one request
  // to the hub (this page has no service worker, so the page itself still needs the network; the
  // docs search below reloads fully offline).
  const before = requests.length
  await page.reload()
  expect((await sourceKnown(page)).source).toEqual({ kind: 'hub', hub: { host: `${origin}/hub/`, standIn: true }, dtype: 'q8', cached: true })
  await expect(page.locator('#model-status')).toContainText(`${REAL.reranker} (q8) on wasm`)
  await expect(page.locator('#model-source')).toContainText('downloaded earlier and kept in this browser (works offline)')
  await expect(page.locator('#hub-offer')).toBeHidden()
  expect(requests.slice(before).filter((u) => u.startsWith(`${origin}/hub/`))).toEqual([])
  await context.setOffline(true)
  await page.evaluate(() => (document.getElementById('timing')!.textContent = ''))
  await page.locator('#query').press('Enter')
  await expect(page.locator('#timing')).toContainText('passages reranked in')
  await expect(page.locator('#results')).toHaveAttribute('data-order', 'reranked')
  await context.setOffline(false)
})

test('RAG demo: both real ids from the hub (46.1 MB at q8), hybrid search with a vector floor, reranked by the cross-encoder, and answers offline', async ({ page, context }) => {
  test.setTimeout(240_000)
  // The stand-in embedder's random vectors sit close to everything (cosines around 0.5-0.9), so the
  // page's floor is raised to 0.99 to see minVectorScore reach the search: no vector candidate
  // passes it, keyword hits still do.
  await page.goto(`/demo/rag/${HUB}&minVectorScore=0.99`)
  await waitLoaded(page, 'rag')
  await expect(page.locator('#collection-count')).toContainText('“rag:tiny-random-embedder”')
  expect(await offerChoices(page)).toEqual(['q8 · 46.1 MB', 'fp16 · 90.9 MB', 'fp32 · 181.4 MB'])
  await page.click('#use-hub')
  await expect(page.locator('#model-status')).toContainText(`Ready: ${REAL.embedder} (q8) + ${REAL.reranker} (q8) on wasm`)
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
  await expectDownloaded(page, REAL.embedder, 'onnx/model_quantized.onnx')
  await expectDownloaded(page, REAL.reranker, 'onnx/model_quantized.onnx')
  await expect(page.locator('#test-banner')).toBeHidden()
  // One collection per embedder: the real one starts empty.
  await expect(page.locator('#collection-count')).toContainText(`0 documents · 0 passages in “rag:${REAL.embedder}”`)

  await page.setInputFiles('#file-input', ['observatory.pdf', 'sourdough.md'].map((f) => join('test/fixtures/rag', f)))
  await expect(page.locator('#index-status')).toContainText(/^Indexed 2 files into \d+ passages\.$/)
  const ask = async (question: string) => {
    const before = Number((await page.locator('#passages').getAttribute('data-answered')) ?? 0)
    await page.fill('#question', question)
    await page.click('#ask')
    await expect(page.locator('#passages')).toHaveAttribute('data-answered', String(before + 1))
  }
  await ask('Is there a heliostat?')
  await expect(page.locator('#route')).toContainText('hybrid retrieval')
  await expect(page.locator('#route')).toContainText(`reranked by ${REAL.reranker} (q8)`)
  await expect(page.locator('#passages li[data-file="observatory.pdf"]').first()).toBeVisible()
  expect(await page.$$eval('#passages .scores', (els) => els.filter((e) => e.textContent!.includes('cosine')).length)).toBe(0)
  await ask('zzqxv flibbertigibbet')
  await expect(page.locator('#route')).toHaveText('No results for “zzqxv flibbertigibbet”: no passage matches it.')
  await expect(page.locator('#passages li')).toHaveCount(0)

  await context.setOffline(true)
  await ask('Is there a levain?')
  await expect(page.locator('#route')).toContainText(`reranked by ${REAL.reranker} (q8)`)
  await expect(page.locator('#passages li[data-file="sourdough.md"]').first()).toBeVisible()
  await context.setOffline(false)
})

test('docs search: the reranker from the hub, then a reload with the network off still searches and reranks', async ({ page, context }) => {
  test.setTimeout(240_000)
  await page.goto(`/demo/docs-search/${HUB}`)
  await waitLoaded(page, 'docs-search')
  // The snapshot is keyword only here: only the reranker is offered.
  expect(await offerChoices(page)).toEqual(['q8 · 23.1 MB', 'fp16 · 45.6 MB', 'fp32 · 91.0 MB'])
  await page.click('#use-hub')
  await page.waitForFunction(() => (window as unknown as { demoModels: { source: { kind: string } | null } }).demoModels.source?.kind === 'hub')
  await waitLoaded(page, 'docs-search')
  await expectDownloaded(page, REAL.reranker, 'onnx/model_quantized.onnx')
  const search = async (query: string) => {
    await page.locator('#q').fill(query)
    await page.waitForFunction((q) => {
      const r = (window as unknown as { docsSearch: { lastResults(): { query: string; stage: string } } }).docsSearch.lastResults()
      return r.query === q && r.stage === 'reranked'
    }, query)
    return page.evaluate(() => (window as unknown as { docsSearch: { lastResults(): { hits: { title: string }[]; route: string | null } } }).docsSearch.lastResults())
  }
  const online = await search('install the package')
  expect(online.route).toBe('reranked')
  await expect(page.locator('#stage')).toContainText('reranked by the cross-encoder')

  // Wait until the service worker holds this page, then reload with the network off.
  await waitOfflineReady(page)
  await context.setOffline(true)
  await page.reload()
  await waitLoaded(page, 'docs-search')
  const source = (await demoModels(page)).source
  expect(source).toMatchObject({ kind: 'hub', dtype: 'q8', cached: true })
  const offline = await search('install the package')
  expect(offline.route).toBe('reranked')
  expect(offline.hits.map((h) => h.title)).toEqual(online.hits.map((h) => h.title))
  await context.setOffline(false)
})

test('self-hosted real ids at /models/ are used first, without a hub, and stand-ins are named as such', async ({ page, context }) => {
  await selfHostStandIns(context)
  const requests: string[] = []
  context.on('request', (r) => requests.push(r.url()))
  await page.goto('/demo/?hub=off')
  const origin = new URL(page.url()).origin
  expect((await sourceKnown(page)).source).toEqual({ kind: 'self-hosted', base: `${origin}/models/`, standIn: true })
  await expect(page.locator('#model-status')).toContainText(`${REAL.reranker} (q8) on wasm`)
  await expect(page.locator('#test-banner')).toBeHidden()
  await expect(page.locator('#model-source')).toHaveText(`Stand-in files under the real name ${REAL.reranker}, self-hosted on this site at /models/: random test weights, results are meaningless.`)
  await expect(page.locator('#results')).toHaveAttribute('data-order', 'reranked')
  expect(requests).toContain(`${origin}/models/${REAL.reranker}/onnx/model_quantized.onnx`)
  expect(requests.filter((u) => u.startsWith(`${origin}/hub/`) || !u.startsWith(origin))).toEqual(requests.filter((u) => u.startsWith('blob:')))
})

test('an unreachable hub and nothing self-hosted: test mode, bannered, with the reason and the order given', async ({ page }) => {
  // Port 9 (discard) refuses connections here: the probe fails at once.
  await page.goto('/demo/rag/?hub=http://127.0.0.1:9/')
  expect((await sourceKnown(page)).source).toMatchObject({ kind: 'test', offer: null, why: 'hub-unreachable' })
  await waitLoaded(page, 'rag')
  await expect(page.locator('#test-banner')).toBeVisible()
  await expect(page.locator('#test-why')).toContainText('the Hugging Face hub cannot be reached (offline, or blocked)')
  await expect(page.locator('#hub-offer')).toBeHidden()
  expect((await demoModels(page)).reranking).toBe(false)
})
