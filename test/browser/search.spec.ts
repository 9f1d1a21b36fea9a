/**
 * The search pipeline end to end in Chromium, through the public API: worker, IndexedDB, the tiny
 * cross-encoder and embedder (random weights: scores are checked against the reranker itself, not
 * for meaning).
 */
import { expect, test } from '@playwright/test'
import { openHarness, TINY } from './helpers.js'

const EMBEDDER = 'tiny-random-embedder'

const DOCS = [
  { id: 'leaks', title: 'Memory leaks', text: 'A memory leak happens when a program keeps references it no longer needs. Leaking pages grow until the tab crashes.' },
  { id: 'gc', title: 'Garbage collection', text: 'The garbage collector frees memory that is no longer reachable from the roots.' },
  { id: 'cache', title: 'Caches', text: 'An unbounded cache behaves like a memory leak: entries are kept forever.' },
  { id: 'timers', title: 'Timers', text: 'Intervals that are never cleared keep their closures, and the memory those closures reference, alive.' },
  { id: 'workers', title: 'Workers', text: 'A dedicated worker runs scripts off the main thread; terminate it to release its memory.' },
  { id: 'dom', title: 'Detached DOM', text: 'Detached DOM nodes referenced from JavaScript leak: the memory of the whole subtree is retained.' },
  { id: 'hostile', title: '<img src=x onerror="window.pwned=1">', text: 'memory <img src=x onerror="window.pwned=1"> and <script>window.pwned=2</script> leak markup' },
]

test('search reranks first-stage candidates with the cross-encoder, reports its route, and streams the first stage', async ({ page }) => {
  await openHarness(page)
  const out = await page.evaluate(
    async ({ docs, reranker, embedder }) => {
      const w = window as any
      const winnow = await w.winnowApi.createWinnow({ reranker: { model: reranker, dtype: 'fp32' }, embedder: { model: embedder, dtype: 'fp32' }, device: 'wasm' })
      const collection = await winnow.collection('pipeline')
      await collection.add(docs)
      const query = 'why does memory leak'
      const plain = await collection.search(query, { k: 7, rerank: false })
      const events: string[] = []
      let streamed: any[] = []
      const promise = collection.search(query, {
        k: 3,
        candidates: 7,
        onFirstStage: (hits: any[]) => {
          events.push('first-stage')
          streamed = hits
        },
      })
      promise.then(() => events.push('final'))
      const reranked = await promise
      // What the reranker alone says about the same passages.
      const direct = await winnow.rerank(query, plain.map((h: any) => h.text))
      await winnow.dispose()
      return { plain: [...plain], plainRoute: plain.route, reranked: [...reranked], route: reranked.route, streamed, events, direct }
    },
    { docs: DOCS, reranker: TINY, embedder: EMBEDDER },
  )
  expect(out.plainRoute.path).toBe('first-stage')
  expect(out.plainRoute.mode).toBe('hybrid')
  expect(out.route).toMatchObject({ path: 'reranked', mode: 'hybrid', candidates: 7, reranked: 7 })
  expect(out.route.stages).toHaveLength(1)
  expect(out.route.stages[0]).toMatchObject({ model: TINY, dtype: 'fp32', reranked: 7, kept: 7 })
  // Best three by the cross-encoder's own scores, each with its first-stage rank and score.
  const byScore = [...out.direct].sort((a: any, b: any) => b.score - a.score).slice(0, 3)
  expect(out.reranked.map((h: any) => h.text)).toEqual(byScore.map((r: any) => out.plain[r.index].text))
  for (const hit of out.reranked) {
    const before = out.plain.findIndex((p: any) => p.chunkId === hit.chunkId)
    expect(hit.rankBefore).toBe(before + 1)
    expect(hit.firstStageScore).toBe(out.plain[before].firstStageScore)
    const direct = out.direct.find((r: any) => r.index === before)
    expect(Math.abs(hit.rerankScore - direct.score)).toBeLessThan(1e-5)
    expect(hit.score).toBe(hit.rerankScore)
  }
  // The first stage arrived before the reranked result, in first-stage order.
  expect(out.events).toEqual(['first-stage', 'final'])
  expect(out.streamed.map((h: any) => h.chunkId)).toEqual(out.plain.slice(0, 3).map((h: any) => h.chunkId))
  expect(out.streamed.every((h: any) => h.rerankScore === undefined)).toBe(true)
})

test('a cascade loads each model once, shared by collections; the budget and the margin route around reranking', async ({ page }) => {
  const requests: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  await openHarness(page)
  const fetched = (file: string) => requests.filter((u) => u.endsWith(`${TINY}/onnx/${file}`)).length
  const cascade = [
    { model: TINY, dtype: 'q8', keep: 4 },
    { model: TINY, dtype: 'fp32', keep: 2 },
  ]
  await page.evaluate(
    async ({ docs, reranker }) => {
      const w = window as any
      w.winnow = await w.winnowApi.createWinnow({ reranker: { model: reranker, dtype: 'fp32' }, device: 'wasm' })
      w.a = await w.winnow.collection('cascade-a')
      w.b = await w.winnow.collection('cascade-b')
      await w.a.add(docs)
      await w.b.add(docs)
    },
    { docs: DOCS, reranker: TINY },
  )
  const oneLoad = fetched('model.onnx') // what loading one model fetches (the instance's fp32 reranker)
  expect(oneLoad).toBeGreaterThan(0)
  expect(fetched('model_quantized.onnx')).toBe(0) // the cascade's q8 model loads lazily
  const search = (name: string, options: object) =>
    page.evaluate(async ({ name, options }) => {
      const results = await (window as any)[name].search('memory leak', { k: 2, candidates: 7, ...options })
      return { hits: [...results], route: results.route }
    }, { name, options })
  const first = await search('a', { rerank: cascade })
  expect(fetched('model_quantized.onnx')).toBe(oneLoad)
  const second = await search('b', { rerank: cascade })
  expect(fetched('model_quantized.onnx')).toBe(oneLoad) // shared: not loaded again for collection b
  for (const { route } of [first, second]) {
    expect(route.stages.map((s: any) => [s.dtype, s.reranked, s.kept])).toEqual([
      ['q8', 7, 4],
      ['fp32', 4, 2],
    ])
  }
  expect(first.hits.map((h: any) => h.id)).toEqual(second.hits.map((h: any) => h.id))

  // Calibrated at warm-up: the budget decides before any budgeted search has run.
  const tiny = await search('a', { rerankBudgetMs: 1e-6 })
  expect(tiny.route).toMatchObject({ path: 'budget', reranked: 0 })
  expect(tiny.route.budget.tokensPerSecond).toBeGreaterThan(0)
  expect(tiny.hits.every((h: any) => h.rerankScore === undefined)).toBe(true)
  const roomy = await search('a', { rerankBudgetMs: 60_000 })
  expect(roomy.route).toMatchObject({ path: 'reranked', reranked: 7 })
  expect(roomy.route.budget.estimatedMs).toBeGreaterThan(0)
  const skipped = await search('a', { skipRerankAbove: 0 })
  expect(skipped.route.path).toBe('skipped')
  expect(skipped.hits.every((h: any) => h.rerankScore === undefined)).toBe(true)
  await page.evaluate(() => (window as any).winnow.dispose())
})

test('a newer search aborts an older one; snippets highlight safely', async ({ page }) => {
  await openHarness(page)
  const out = await page.evaluate(
    async ({ docs, reranker }) => {
      const w = window as any
      const api = w.winnowApi
      const winnow = await api.createWinnow({ reranker: { model: reranker, dtype: 'fp32' }, device: 'wasm' })
      const collection = await winnow.collection('abort')
      const many = Array.from({ length: 300 }, (_, i) => ({ id: `n${i}`, text: `memory note ${i} ${'filler words about leaks '.repeat(20)}` }))
      await collection.add([...docs, ...many])
      const older = new AbortController()
      let olderFirstStage = 0
      // The page aborts the older search once its first stage has arrived, while it is reranking.
      const slow = collection.search('memory leaks', {
        k: 5,
        candidates: 300,
        signal: older.signal,
        onFirstStage: () => {
          olderFirstStage++
          older.abort()
        },
      })
      const olderCode = await slow.then(() => 'resolved', (e: any) => e.code)
      const newer = await collection.search('memory leaks', { k: 3, candidates: 10 })
      const hostile = await collection.search('memory markup', { k: 1, rerank: false, filter: undefined, maxPerDocument: 1 })
      const target = document.createElement('div')
      document.body.append(target)
      target.innerHTML = hostile.map((h: any) => api.highlight(h.snippet)).join('')
      await new Promise((r) => setTimeout(r, 200))
      await winnow.dispose()
      return {
        olderCode,
        olderFirstStage,
        newer: newer.route,
        hostile: hostile.map((h: any) => ({ id: h.id, snippet: h.snippet })),
        html: target.innerHTML,
        marks: [...target.querySelectorAll('mark')].map((m) => m.textContent),
        elements: target.querySelectorAll('img, script').length,
        pwned: (window as any).pwned ?? null,
      }
    },
    { docs: DOCS, reranker: TINY },
  )
  expect(out.olderCode).toBe('ABORTED')
  expect(out.olderFirstStage).toBe(1)
  expect(out.newer.path).toBe('reranked')
  expect(out.hostile[0].id).toBe('hostile')
  expect(out.marks).toEqual(['memory', 'markup'])
  expect(out.elements).toBe(0)
  expect(out.pwned).toBeNull()
  expect(out.html).toContain('&lt;img src=x onerror="window.pwned=1"&gt;')
})
