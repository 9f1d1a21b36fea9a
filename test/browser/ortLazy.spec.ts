import { expect, test } from '@playwright/test'
import { crossEncoderReference, openHarness, TINY } from './helpers.js'

// onnxruntime's WASM is loaded for the first model, not when the worker starts: a worker that runs
// no model (vectors supplied, reranker: false) fetches none of it and holds none of its 13.6 MB;
// the first search that names a reranker loads it then and scores as an instance made with it.
test('onnxruntime is fetched for the first model, not before: searches without models load none of it; a search naming a reranker loads it and reranks as that model does', async ({ page }) => {
  await openHarness(page)
  const ort: string[] = []
  await page.route('**/ort-wasm-simd-threaded*', (route) => {
    ort.push(new URL(route.request().url()).pathname)
    return route.fallback()
  })
  const pair = crossEncoderReference()[0]!
  const name = `ort-lazy-${Math.random().toString(36).slice(2)}`
  const before = await page.evaluate(
    async ({ pair, name }) => {
      const w = window as any
      w.lazyOrt = await w.winnowApi.createWinnow({ reranker: false, device: 'wasm' })
      const docs = await w.lazyOrt.collection(name, { chunking: false })
      await docs.add([
        { id: 'd', text: pair.document, vector: [1, 0, 0] },
        { id: 'e', text: 'something else entirely', vector: [0, 1, 0] },
      ])
      const keyword = await docs.search(pair.document, { mode: 'keyword', k: 2 })
      const vector = await docs.search('', { mode: 'vector', vector: [1, 0.1, 0], k: 2 })
      return { keyword: keyword.map((h: any) => h.id), vector: vector.map((h: any) => h.id) }
    },
    { pair, name },
  )
  expect(before.keyword[0]).toBe('d')
  expect(before.vector).toEqual(['d', 'e'])
  expect(ort).toEqual([])

  const after = await page.evaluate(
    async ({ pair, name, model }) => {
      const w = window as any
      const docs = await w.lazyOrt.collection(name)
      const hits = await docs.search(pair.document, { mode: 'keyword', rerank: { model, dtype: 'fp32' }, k: 1 })
      await w.lazyOrt.dispose()
      const fresh = await w.winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' }, device: 'wasm' })
      const expected = (await fresh.rerank(pair.document, [pair.document]))[0].score
      await fresh.deleteCollection(name)
      await fresh.dispose()
      return { id: hits[0]?.id, rerankScore: hits[0]?.rerankScore as number, expected: expected as number }
    },
    { pair, name, model: TINY },
  )
  expect(ort.some((path) => path.endsWith('.mjs'))).toBe(true)
  expect(after.id).toBe('d')
  expect(Math.abs(after.rerankScore - after.expected)).toBeLessThan(1e-5)
})
