import { readFileSync } from 'node:fs'
import { expect, test, type Page } from '@playwright/test'
import { openHarness } from './helpers.js'

// Fixtures of tools/make_position_fixtures.py. fault-roberta-*: a 34-row position table behind a config that
// claims 514, so any input over 32 tokens fails inside onnxruntime (Gather), while short ones run.
// fault-corrupt-onnx: an onnx/model.onnx onnxruntime cannot create a session from.
const FAULT_RERANKER = 'families/fault-roberta-cross-encoder'
const FAULT_EMBEDDER = 'families/fault-roberta-embedder'
const CORRUPT = 'families/fault-corrupt-onnx'
const GOOD_RERANKER = 'families/position-offset-roberta'
const GOOD_EMBEDDER = 'families/position-offset-roberta-embedder'
const ref = (model: string) => JSON.parse(readFileSync(new URL(`../fixtures/models/${model}/reference.json`, import.meta.url), 'utf8'))
/** The winnow worker of the page (onnxruntime's own pthread workers are skipped), as in failures.spec.ts. */
function winnowWorker(page: Page) {
  const worker = page.workers().find((w) => /\/assets\/worker-[^/]*\.js$/.test(w.url()))
  if (!worker) throw new Error(`no winnow worker among ${page.workers().map((w) => w.url()).join(', ')}`)
  return worker
}
const LONG = Array.from({ length: 80 }, (_, i) => ['paris', 'river', 'query', 'vector', 'memory'][i % 5]).join(' ')

test('reranker: after a failed inference (and a failed start-up timing run) the same instance scores like PyTorch', async ({ page }) => {
  await openHarness(page)
  const pairs = ref(FAULT_RERANKER).pairs as { query: string; document: string; logit: number }[]
  const out = await page.evaluate(
    async ({ model, pairs, long }) => {
      const api = (window as any).winnowApi
      // Its start-up timing run (110-token passages) already fails inside the worker.
      const winnow = await api.createWinnow({ reranker: { model, dtype: 'fp32' }, device: 'wasm' })
      const maxLength = winnow.reranker.maxLength
      const failure = await winnow.rerank('paris', [long]).then(
        () => null,
        (e: any) => ({ code: e instanceof api.WinnowError ? e.code : `not a WinnowError: ${e}`, message: String(e.message) }),
      )
      const after = []
      for (const p of pairs.slice(0, 2)) after.push((await winnow.rerank(p.query, [p.document]))[0])
      const again = await winnow.rerank('paris', [long]).then(() => 'resolved', (e: any) => e.code)
      const last = (await winnow.rerank(pairs[0]!.query, [pairs[0]!.document]))[0]
      await winnow.dispose()
      return { maxLength, failure, after, again, last }
    },
    { model: FAULT_RERANKER, pairs, long: LONG },
  )
  expect(out.maxLength).toBe(512) // the config's claim (514 − 2): the graph cannot take it
  expect(out.failure?.code).toBe('INTERNAL')
  expect(out.failure?.message).toMatch(/Gather|idx|indices/i)
  out.after.forEach((r: any, i: number) => expect(Math.abs(r.logit - pairs[i]!.logit)).toBeLessThan(1e-4))
  expect(out.again).toBe('INTERNAL')
  expect(Math.abs(out.last.logit - pairs[0]!.logit)).toBeLessThan(1e-4)
})

test('embedder: after a failed embedding the same instance embeds like PyTorch', async ({ page }) => {
  await openHarness(page)
  const texts = ref(FAULT_EMBEDDER).texts as { text: string; embedding: number[] }[]
  const out = await page.evaluate(
    async ({ model, texts, long }) => {
      const api = (window as any).winnowApi
      const winnow = await api.createWinnow({ reranker: false, embedder: { model, dtype: 'fp32' }, device: 'wasm' })
      const name = `recovery-${Math.random().toString(36).slice(2)}`
      const docs = await winnow.collection(name, { chunking: false })
      const failure = await docs.add([{ id: 'long', text: long }]).then(
        () => null,
        (e: any) => ({ code: e instanceof api.WinnowError ? e.code : `not a WinnowError: ${e}`, message: String(e.message) }),
      )
      await docs.add([{ id: 'short', text: texts[0]!.text }])
      const hits = await docs.search(texts[1]!.text, { mode: 'vector', rerank: false, k: 5 })
      const count = await docs.count()
      await winnow.deleteCollection(name)
      await winnow.dispose()
      return { failure, hits: hits.map((h: any) => ({ id: h.id, vector: h.scores.vector })), count }
    },
    { model: FAULT_EMBEDDER, texts, long: LONG },
  )
  expect(out.failure?.code).toBe('INTERNAL')
  expect(out.failure?.message).toMatch(/Gather|idx|indices/i)
  expect(out.count).toBe(1) // the failed add wrote nothing
  const cosine = texts[0]!.embedding.reduce((s, x, i) => s + x * texts[1]!.embedding[i]!, 0)
  expect(out.hits.map((h: any) => h.id)).toEqual(['short'])
  expect(Math.abs(out.hits[0]!.vector - cosine)).toBeLessThan(1e-4)
})

test('a failed model load in the worker does not fail the next load there', async ({ page }) => {
  await openHarness(page)
  const pair = (ref(GOOD_RERANKER).pairs as { query: string; document: string; logit: number }[])[0]!
  const out = await page.evaluate(
    async ({ corrupt, good, pair }) => {
      const api = (window as any).winnowApi
      // The instance's own reranker loads fine; searches name others, loaded in the same worker on first use.
      const winnow = await api.createWinnow({ reranker: { model: 'tiny-random-cross-encoder', dtype: 'fp32' }, device: 'wasm' })
      const name = `recovery-${Math.random().toString(36).slice(2)}`
      const docs = await winnow.collection(name, { chunking: false })
      await docs.add([{ id: 'd', text: pair.document }])
      const search = (model: string) => docs.search(pair.document, { mode: 'keyword', rerank: { model, dtype: 'fp32' }, k: 1 })
      const failure = await search(corrupt).then(
        () => null,
        (e: any) => ({ code: e instanceof api.WinnowError ? e.code : `not a WinnowError: ${e}`, message: String(e.message) }),
      )
      const hits = await search(good)
      const own = (await winnow.rerank('x', ['y']))[0]
      await winnow.deleteCollection(name)
      await winnow.dispose()
      // the same pair scored by an instance whose default reranker is that model
      const fresh = await api.createWinnow({ reranker: { model: good, dtype: 'fp32' }, device: 'wasm' })
      const expected = (await fresh.rerank(pair.document, [pair.document]))[0]
      await fresh.dispose()
      return { failure, rerankScore: hits[0]?.rerankScore, expected: expected.score, own: own.score }
    },
    { corrupt: CORRUPT, good: GOOD_RERANKER, pair },
  )
  expect(out.failure?.code).toBe('MODEL_LOAD_FAILED')
  expect(Number.isFinite(out.own)).toBe(true)
  expect(Math.abs(out.rerankScore - out.expected)).toBeLessThan(1e-5)
})

test('embedder: a failed load on a live instance fails that call only; the next call loads it again and embeds like PyTorch', async ({ page }) => {
  await openHarness(page)
  const texts = ref(GOOD_EMBEDDER).texts as { text: string; embedding: number[] }[]
  // The embedder loads only when the instance starts its worker: after a crash its next call loads it
  // again, and this route makes that load fail (an ONNX file onnxruntime cannot create a session from).
  const damaged = readFileSync(new URL(`../fixtures/models/${CORRUPT}/onnx/model.onnx`, import.meta.url))
  let corrupt = false
  let served = 0
  await page.route(`**/models/${GOOD_EMBEDDER}/onnx/model.onnx`, (route) => {
    if (!corrupt) return route.fallback()
    served++
    return route.fulfill({ status: 200, contentType: 'application/octet-stream', body: damaged })
  })
  await page.evaluate(
    async ({ model, text }) => {
      const w = window as any
      // cache: false, so that every load fetches the weights (and meets the route)
      w.instance = await w.winnowApi.createWinnow({ reranker: false, embedder: { model, dtype: 'fp32' }, device: 'wasm', cache: false })
      w.docs = await w.instance.collection(`recovery-${Math.random().toString(36).slice(2)}`, { chunking: false })
      await w.docs.add([{ id: 'first', text }])
    },
    { model: GOOD_EMBEDDER, text: texts[0]!.text },
  )
  corrupt = true
  await winnowWorker(page).evaluate("queueMicrotask(() => { throw new Error('boom') })")
  await page.waitForFunction(() => (window as any).instance.connection.alive === false)
  const failure = await page.evaluate(async (text) => {
    const w = window as any
    return w.docs.add([{ id: 'lost', text }]).then(
      () => null,
      (e: any) => ({ code: e instanceof w.winnowApi.WinnowError ? e.code : `not a WinnowError: ${e}`, message: String(e.message) }),
    )
  }, texts[1]!.text)
  corrupt = false
  const out = await page.evaluate(async (text) => {
    const w = window as any
    await w.docs.add([{ id: 'second', text }])
    const hits = await w.docs.search(text, { mode: 'vector', rerank: false, k: 5 })
    const count = await w.docs.count()
    const embedder = w.instance.embedder
    await w.instance.deleteCollection(w.docs.name)
    await w.instance.dispose()
    return { hits: hits.map((h: any) => ({ id: h.id, vector: h.scores.vector })), count, embedder }
  }, texts[1]!.text)
  expect(served).toBeGreaterThan(0) // the reload after the crash met the damaged file
  expect(failure?.code).toBe('MODEL_LOAD_FAILED')
  expect(out.embedder).toMatchObject({ model: GOOD_EMBEDDER, dtype: 'fp32' })
  expect(out.count).toBe(2) // 'first' (before the crash) and 'second'; the failed call wrote nothing
  const cosine = texts[0]!.embedding.reduce((s, x, i) => s + x * texts[1]!.embedding[i]!, 0)
  const byId = Object.fromEntries(out.hits.map((h: any) => [h.id, h.vector]))
  expect(Object.keys(byId).sort()).toEqual(['first', 'second'])
  expect(Math.abs(byId.second - 1)).toBeLessThan(1e-4)
  expect(Math.abs(byId.first - cosine)).toBeLessThan(1e-4)
})
