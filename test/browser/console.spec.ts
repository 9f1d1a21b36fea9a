/**
 * A normal load is quiet: creating an instance with the fixture reranker and embedder (and using
 * them) logs no console error — in the page or in winnow's worker — and asks the server for no
 * file that is not there (each 404 is a red "Failed to load resource" line in the console).
 */
import { expect, test } from '@playwright/test'
import { openHarness, TINY } from './helpers.js'

test('loading the reranker and the embedder logs no console error and requests no missing file', async ({ page }) => {
  const errors: string[] = []
  const failed: string[] = []
  page.on('console', (m) => m.type() === 'error' && errors.push(`page: ${m.text()}`))
  page.on('pageerror', (e) => errors.push(`page exception: ${e.message}`))
  page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && errors.push(`worker: ${m.text()}`)))
  page.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`))
  page.on('requestfailed', (r) => failed.push(`failed ${r.url()}: ${r.failure()?.errorText}`))
  // The harness page has no icon; the browser's request for one is not winnow's.
  await page.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }))
  const requests = await openHarness(page)
  const out = await page.evaluate(
    async ({ reranker, embedder }) => {
      const { createWinnow } = (window as any).winnowApi
      const runs: { device: string; pooling: string; ranked: number; hits: number }[] = []
      for (const device of ['wasm', 'auto']) {
        const winnow = await createWinnow({ reranker: { model: reranker }, embedder: { model: embedder }, device })
        const ranked = await winnow.rerank('memory', ['a memory leak', 'a garbage collector'])
        const docs = await winnow.collection(`quiet-${device}`)
        await docs.add([{ id: 'a', text: 'A memory leak keeps references it no longer needs.' }])
        const hits = await docs.search('memory leak', { k: 3 })
        runs.push({ device: winnow.device.kind, pooling: winnow.embedder.pooling, ranked: ranked.length, hits: hits.length })
        await winnow.deleteCollection(`quiet-${device}`)
        await winnow.dispose()
      }
      return runs
    },
    { reranker: TINY, embedder: 'tiny-random-embedder' },
  )
  expect(out.map((r) => [r.pooling, r.ranked, r.hits])).toEqual([
    ['mean', 2, 1],
    ['mean', 2, 1],
  ])
  // The models came from the server (so a missing file would have shown), and nothing failed.
  expect(requests.some((u) => u.includes('/models/tiny-random-embedder/onnx/'))).toBe(true)
  expect(requests.filter((u) => u.includes('1_Pooling'))).toEqual([])
  expect(failed).toEqual([])
  expect(errors).toEqual([])
})
