import { expect, test } from '@playwright/test'
import { openHarness } from './helpers.js'

const EMBEDDER = 'tiny-random-embedder'
const DOC = 'the lazy dog sleeps in the warm afternoon sun'
const QUERY = 'dog'

// Through createWinnow and the worker: explicit prefixes reach the model, are reported, recorded
// with the collection, used again by a reopen without options, and refused when they disagree.
test('embedder prefixes reach the model in the worker, are recorded, and are used again on reopen', async ({ page }) => {
  await openHarness(page)
  const out = await page.evaluate(
    async ({ model, doc, query }) => {
      const w = window as any
      const search = async (docs: any, q: string) => (await docs.search(q, { mode: 'vector', k: 1 }))[0].scores.vector as number
      // The collection under test: prefixes set as options.
      const prefixed = await w.winnowApi.createWinnow({ reranker: false, device: 'wasm', embedder: { model, dtype: 'fp32', queryPrefix: 'find: ', documentPrefix: 'doc: ' } })
      const a = await prefixed.collection('conv-a', { chunking: false })
      await a.add([{ id: 'd', text: doc }])
      const scoreA = await search(a, query)
      const infoA = await a.info()
      const embedderInfo = prefixed.embedder
      await prefixed.dispose()

      // The same texts with the prefixes written into them, embedded by an instance without prefixes.
      const plain = await w.winnowApi.createWinnow({ reranker: false, device: 'wasm', embedder: { model, dtype: 'fp32' } })
      const b = await plain.collection('conv-b', { chunking: false })
      await b.add([{ id: 'd', text: `doc: ${doc}` }])
      const literal = await search(b, `find: ${query}`)
      const c = await plain.collection('conv-c', { chunking: false })
      await c.add([{ id: 'd', text: doc }])
      const unprefixed = await search(c, query)
      // Reopening the prefixed collection without options: its recorded prefixes apply.
      const reopened = await plain.collection('conv-a')
      const scoreReopened = await search(reopened, query)
      await plain.dispose()

      const conflicting = await w.winnowApi.createWinnow({ reranker: false, device: 'wasm', embedder: { model, dtype: 'fp32', queryPrefix: 'other: ' } })
      const refusal = await conflicting.collection('conv-a').then(
        () => null,
        (e: any) => ({ code: e.code, conflicts: e.details?.conflicts }),
      )
      await conflicting.dispose()
      const invalidOption = await w.winnowApi.createWinnow({ reranker: false, embedder: { model, queryPrefix: 5 } }).then(
        () => null,
        (e: any) => e.code,
      )
      return { scoreA, literal, unprefixed, scoreReopened, conventions: infoA.embedderConventions, embedderInfo, refusal, invalidOption }
    },
    { model: EMBEDDER, doc: DOC, query: QUERY },
  )
  expect(out.embedderInfo).toMatchObject({ model: EMBEDDER, queryPrefix: 'find: ', documentPrefix: 'doc: ', pooling: 'mean' })
  expect(out.conventions).toEqual({ queryPrefix: 'find: ', documentPrefix: 'doc: ', pooling: 'mean' })
  // The prefixed collection scores exactly as the literally prefixed texts do, and not as the bare ones.
  expect(Math.abs(out.scoreA - out.literal)).toBeLessThan(1e-5)
  expect(Math.abs(out.scoreA - out.unprefixed)).toBeGreaterThan(1e-2)
  expect(Math.abs(out.scoreReopened - out.scoreA)).toBeLessThan(1e-5)
  expect(out.refusal).toEqual({ code: 'INVALID_INPUT', conflicts: ['queryPrefix'] })
  expect(out.invalidOption).toBe('INVALID_INPUT')
})
