/**
 * `minVectorScore` through the public API: it crosses to the worker with the other search options,
 * a query near nothing (and matching no keyword) finds nothing, and a bad value is INVALID_INPUT.
 */
import { expect, test } from '@playwright/test'
import { openHarness } from './helpers.js'

test('minVectorScore: a query near nothing finds nothing, through the worker', async ({ page }) => {
  await openHarness(page)
  const out = await page.evaluate(async (embedder) => {
    const api = (window as any).winnowApi
    const winnow = await api.createWinnow({ reranker: false, embedder: { model: embedder }, device: 'wasm' })
    const docs = await winnow.collection('no-results')
    await docs.clear()
    await docs.add([
      { id: 'a', text: 'A memory leak keeps references it no longer needs.' },
      { id: 'b', text: 'The garbage collector frees memory that is unreachable.' },
      { id: 'c', text: 'Timers that are never cleared keep their closures alive.' },
    ])
    const query = 'zzqxv flibbertigibbet'
    const plain = await docs.search(query, { k: 10 })
    const firstStage: unknown[][] = []
    // A cosine of 1 is reached only by the query's own text: nothing here is that near.
    const floored = await docs.search(query, { k: 10, minVectorScore: 1, onFirstStage: (hits: unknown[]) => firstStage.push(hits) })
    const keywordKept = await docs.search('garbage', { k: 10, minVectorScore: 1 })
    let code = 'resolved'
    try {
      await docs.search(query, { minVectorScore: 2 })
    } catch (e: any) {
      code = e instanceof api.WinnowError ? e.code : String(e)
    }
    await winnow.deleteCollection('no-results')
    await winnow.dispose()
    return { plain: plain.length, mode: plain.route.mode, floored: [...floored], firstStage, keywordKept: keywordKept.map((h: any) => h.id), code }
  }, 'tiny-random-embedder')
  expect(out.mode).toBe('hybrid')
  expect(out.plain).toBe(3) // without a floor the vector side answers every passage
  expect(out.floored).toEqual([])
  expect(out.firstStage).toEqual([[]])
  expect(out.keywordKept).toEqual(['b'])
  expect(out.code).toBe('INVALID_INPUT')
})
