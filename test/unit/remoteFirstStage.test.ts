/**
 * The remote first stage without a browser: what a retriever may answer (REMOTE_MALFORMED naming
 * the first bad field), the page's call (timeout, abort, failures), httpRetriever over a fake
 * fetch, and the unchanged pipeline on remote candidates (alone, fused with a collection's, and
 * with no collection) driven by deterministic rerankers.
 */
import { describe, expect, it } from 'vitest'
import { WinnowError } from '../../src/errors.js'
import { callRetriever, resolveRetriever } from '../../src/client/remote.js'
import { httpRetriever } from '../../src/client/httpRetriever.js'
import { checkRemoteCandidates, fuseRetrieved, remoteRetrieved } from '../../src/search/remote.js'
import { planRemoteSearch, searchRemote } from '../../src/search/remoteSearch.js'
import { CollectionEngine } from '../../src/collection/engine.js'
import type { RerankerPort, SearchExtras } from '../../src/search/types.js'
import { BUDGET_PLANNED_SHARE, pairTokens, ThroughputMeter } from '../../src/rank/throughput.js'
import { createCoordination } from '../../src/store/coordination.js'
import { MemoryBackend } from '../../src/store/memory.js'
import type { RemoteCandidate, RetrieverRequest } from '../../src/types.js'
import { searchCollection } from '../../src/search/searchCollection.js'

async function rejection(promise: Promise<unknown> | (() => unknown)): Promise<WinnowError> {
  try {
    await (typeof promise === 'function' ? promise() : promise)
  } catch (error) {
    if (error instanceof WinnowError) return error
    throw error
  }
  throw new Error('expected a rejection')
}

/** A reranker whose logit is the number of times 'relevant' occurs in the passage, minus its length / 1000. */
function fakeReranker(): RerankerPort & { read: string[][] } {
  const port = {
    model: 'fake',
    dtype: 'fp32' as const,
    maxLength: 512,
    meter: new ThroughputMeter(),
    read: [] as string[][],
    async score(_query: string, passages: readonly string[]) {
      port.read.push([...passages])
      return {
        logits: Float32Array.from(passages, (p) => (p.match(/relevant/g)?.length ?? 0) - p.length / 1000),
        documentTokens: passages.map((p) => p.split(/\s+/).length),
      }
    },
  }
  return port
}

const noCheckpoint = async () => {}

function extras(candidates: unknown, reranker = fakeReranker(), firstStage: 'remote' | 'fuse' = 'remote'): SearchExtras & { reranker: () => Promise<RerankerPort> } {
  return { hasReranker: true, reranker: async () => reranker, remote: { candidates, firstStage, mode: 'keyword' } }
}

const REMOTE: RemoteCandidate[] = [
  { id: 'a', text: 'nothing to see', score: 9 },
  { id: 'b', text: 'relevant relevant passage', score: 6, title: 'B', metadata: { lang: 'en' } },
  { id: 'c', text: 'one relevant passage', score: 3, documentId: 'doc-c' },
  { id: 'd', text: 'another relevant passage from doc c', score: 1, documentId: 'doc-c' },
]

describe('checkRemoteCandidates', () => {
  it('copies candidates into plain data and drops unknown fields', () => {
    const out = checkRemoteCandidates([{ id: 'x', text: 't', score: 1.5, extra: () => 1, metadata: { n: 1 }, vector: [3, 4] }])
    expect(out).toEqual([{ id: 'x', text: 't', score: 1.5, metadata: { n: 1 }, vector: Float32Array.from([3, 4]) }])
    expect(() => structuredClone(out)).not.toThrow()
  })

  it.each([
    [{ notAList: true }, undefined, 'candidates'],
    [[{ id: 'a', text: 'x' }, { id: 'b' }], 1, 'text'],
    [[{ id: '', text: 'x' }], 0, 'id'],
    [[{ id: 7, text: 'x' }], 0, 'id'],
    [[{ id: 'a', text: 'x' }, { id: 'a', text: 'y' }], 1, 'id'],
    [[{ id: 'a', text: 'x', score: 'high' }], 0, 'score'],
    [[{ id: 'a', text: 'x', score: Number.NaN }], 0, 'score'],
    [[{ id: 'a', text: 'x', title: 3 }], 0, 'title'],
    [[{ id: 'a', text: 'x', metadata: [1] }], 0, 'metadata'],
    [[{ id: 'a', text: 'x', documentId: 5 }], 0, 'documentId'],
    [[{ id: 'a', text: 'x', vector: [1, 2] }, { id: 'b', text: 'y', vector: [1, 2, 3] }], 1, 'vector'],
    [[{ id: 'a', text: 'x', vector: [1, Number.POSITIVE_INFINITY] }], 0, 'vector'],
    [['just a string'], 0, 'the candidate'],
  ])('refuses %j as REMOTE_MALFORMED at index %s, field %s', async (value, index, field) => {
    const error = await rejection(() => checkRemoteCandidates(value))
    expect(error.code).toBe('REMOTE_MALFORMED')
    expect(error.details.index).toBe(index)
    expect(error.details.field).toBe(field)
  })
})

describe('remote candidates as the first stage', () => {
  it('normalises scores over the best one, or by rank without scores', async () => {
    const scored = remoteRetrieved(checkRemoteCandidates(REMOTE), 'keyword', 10)
    expect(scored.candidates.map((c) => c.normalized)).toEqual([1, 6 / 9, 3 / 9, 1 / 9])
    expect(scored.candidates.map((c) => c.docId)).toEqual(['a', 'b', 'doc-c', 'doc-c'])
    const ranked = remoteRetrieved(checkRemoteCandidates(REMOTE.map(({ score: _s, ...c }) => c)), 'keyword', 10)
    expect(ranked.candidates.map((c) => c.normalized)).toEqual([1, 0.75, 0.5, 0.25])
    expect(await ranked.vectors([0, 1])).toBeNull()
    expect(remoteRetrieved(checkRemoteCandidates(REMOTE), 'keyword', 2).candidates).toHaveLength(2)
  })

  it('reranks them in the worker pipeline with no collection: order, scores, hits, route', async () => {
    const reranker = fakeReranker()
    const { hits, route } = await searchRemote({ query: 'relevant', k: 3 }, noCheckpoint, extras(REMOTE, reranker))
    expect(reranker.read).toEqual([REMOTE.map((c) => c.text)])
    expect(hits.map((h) => h.chunkId)).toEqual(['b', 'c', 'd'])
    expect(hits[0]).toMatchObject({ id: 'b', chunkId: 'b', chunkIndex: 0, title: 'B', metadata: { lang: 'en' }, firstStageScore: 6, rankBefore: 2, scores: { remote: 6 }, text: REMOTE[1]!.text, start: 0, end: REMOTE[1]!.text.length })
    expect(hits[1]!.id).toBe('doc-c')
    expect(hits[0]!.snippet.highlights.length).toBeGreaterThan(0)
    expect(route).toMatchObject({ path: 'reranked', mode: 'keyword', firstStage: 'remote', candidates: 4, reranked: 4 })
  })

  it('keeps the rest of the pipeline: maxPerDocument, minScore, skipRerankAbove, rerankFusion, cascade keep, onFirstStage, MMR by term overlap or candidate vectors', async () => {
    const perDoc = await searchRemote({ query: 'relevant', k: 4, maxPerDocument: 1 }, noCheckpoint, extras(REMOTE))
    expect(perDoc.hits.map((h) => h.chunkId)).toEqual(['b', 'c', 'a'])
    const floor = await searchRemote({ query: 'relevant', k: 4, minScore: 0.6 }, noCheckpoint, extras(REMOTE))
    expect(floor.hits.map((h) => h.chunkId)).toEqual(['b', 'c', 'd'])
    const decisive = [{ id: 'x', text: 'x', score: 10 }, { id: 'y', text: 'relevant', score: 1 }]
    const skipped = await searchRemote({ query: 'relevant', k: 2, skipRerankAbove: 0.5 }, noCheckpoint, extras(decisive))
    expect(skipped.route.path).toBe('skipped')
    expect(skipped.hits.map((h) => h.chunkId)).toEqual(['x', 'y'])
    const fused = await searchRemote({ query: 'relevant', k: 4, rerankFusion: { method: 'rrf', weight: 0 } }, noCheckpoint, extras(REMOTE))
    expect(fused.hits.map((h) => h.chunkId)).toEqual(['a', 'b', 'c', 'd']) // weight 0: the retriever's order
    const reranker = fakeReranker()
    const cascade = await searchRemote({ query: 'relevant', k: 4, rerank: [{ keep: 2 }, {}] }, noCheckpoint, extras(REMOTE, reranker))
    expect(reranker.read.map((r) => r.length)).toEqual([4, 2])
    expect(cascade.hits.map((h) => h.chunkId)).toEqual(['b', 'c'])
    const seen: string[][] = []
    await searchRemote({ query: 'relevant', k: 2 }, noCheckpoint, { ...extras(REMOTE), onFirstStage: (hits) => seen.push(hits.map((h) => h.chunkId)) })
    expect(seen).toEqual([['a', 'b']])
    // Two identical passages: MMR (term overlap) puts a different one between them.
    const twins = [
      { id: 't1', text: 'relevant relevant alpha beta', score: 3 },
      { id: 't2', text: 'relevant relevant alpha beta', score: 2 },
      { id: 'o', text: 'relevant gamma delta', score: 1 },
    ]
    const plain = await searchRemote({ query: 'relevant', k: 3 }, noCheckpoint, extras(twins))
    const diverse = await searchRemote({ query: 'relevant', k: 3, mmr: { lambda: 0.3 } }, noCheckpoint, extras(twins))
    expect(plain.hits.map((h) => h.chunkId)).toEqual(['t1', 't2', 'o'])
    expect(diverse.hits.map((h) => h.chunkId)).toEqual(['t1', 'o', 't2'])
    // With vectors, MMR compares them instead: t2 points elsewhere, so it is not a near-duplicate.
    const vectors = twins.map((c, i) => ({ ...c, vector: i === 1 ? [0, 1] : [1, 0] }))
    const byVector = await searchRemote({ query: 'relevant', k: 3, mmr: { lambda: 0.3 } }, noCheckpoint, extras(vectors))
    expect(byVector.hits.map((h) => h.chunkId)).toEqual(['t1', 't2', 'o'])
  })

  it('rerankBudgetMs reranks as many top remote candidates as the measured speed allows, the rest follow in the remote order', async () => {
    const text = `relevant ${'hay '.repeat(30)}`.trim()
    const many: RemoteCandidate[] = Array.from({ length: 40 }, (_, i) => ({ id: `r${String(i).padStart(2, '0')}`, text, score: 40 - i }))
    const reranker = fakeReranker()
    reranker.meter.record(1000, 1000) // 1 ms per token, as a warm-up run would measure
    const expected = Math.floor((300 * BUDGET_PLANNED_SHARE) / pairTokens('relevant', text, 512))
    expect(expected).toBeGreaterThan(1)
    expect(expected).toBeLessThan(40)
    const { hits, route } = await searchRemote({ query: 'relevant', k: 40, rerankBudgetMs: 300 }, noCheckpoint, extras(many, reranker))
    expect(route).toMatchObject({ path: 'budget', firstStage: 'remote', candidates: 40, reranked: expected })
    expect(reranker.read).toEqual([many.slice(0, expected).map((c) => c.text)])
    expect(hits.slice(expected).map((h) => h.id)).toEqual(many.slice(expected).map((c) => c.id))
    expect(hits.slice(expected).every((h) => h.rerankScore === undefined)).toBe(true)
  })

  it('an abort while remote candidates are being reranked is ABORTED, and no later stage reads them', async () => {
    let aborted = false
    const reranker = fakeReranker()
    const score = reranker.score.bind(reranker)
    reranker.score = async (query, passages) => {
      const out = await score(query, passages)
      aborted = true // the search's signal fires while the first stage of the cascade runs
      return out
    }
    const checkpoint = async () => {
      if (aborted) throw new WinnowError('ABORTED', 'the search was aborted')
    }
    const error = await rejection(searchRemote({ query: 'relevant', k: 2, rerank: [{ keep: 2 }, {}] }, checkpoint, extras(REMOTE, reranker)))
    expect(error.code).toBe('ABORTED')
    expect(reranker.read).toEqual([REMOTE.map((c) => c.text)])
  })

  it('refuses options of a local first stage, fuse without a collection, and malformed candidates in the worker too', async () => {
    expect((await rejection(searchRemote({ query: 'q', mode: 'vector' }, noCheckpoint, extras(REMOTE)))).details).toEqual({ option: 'mode' })
    expect((await rejection(searchRemote({ query: 'q' }, noCheckpoint, extras(REMOTE, fakeReranker(), 'fuse')))).code).toBe('INVALID_INPUT')
    expect((await rejection(searchRemote({ query: 'q' }, noCheckpoint, extras([{ id: 'a' }])))).code).toBe('REMOTE_MALFORMED')
  })

  it('the worker’s entry points refuse options that are not an object: INVALID_INPUT', async () => {
    const store = await new MemoryBackend().open('c')
    const engine = await CollectionEngine.open('c', { store, coordination: createCoordination({}), embedder: null }, { chunking: false })
    for (const bad of [null, 5, 'k', true]) {
      const collection = await rejection(searchCollection(engine, bad as never, noCheckpoint))
      const remote = await rejection(searchRemote(bad as never, noCheckpoint, extras(REMOTE)))
      const plan = await rejection(() => planRemoteSearch(bad, { firstStage: 'remote', mode: 'keyword' }, { hasReranker: true, standalone: true }))
      for (const error of [collection, remote, plan]) expect([error.code, error.message]).toEqual(['INVALID_INPUT', 'search options must be an object'])
    }
  })

  it('replaces or fuses with a collection’s own first stage', async () => {
    const store = await new MemoryBackend().open('c')
    const engine = await CollectionEngine.open('c', { store, coordination: createCoordination({}), embedder: null }, { chunking: false })
    await engine.add(
      [
        { id: 'b', text: 'relevant relevant passage' },
        { id: 'local-only', text: 'a relevant passage found only here' },
      ],
      noCheckpoint,
    )
    const replaced = await searchCollection(engine, { query: 'relevant', k: 5, rerank: false }, noCheckpoint, { remote: { candidates: REMOTE, firstStage: 'remote', mode: 'keyword' } })
    expect(replaced.hits.map((h) => h.chunkId)).toEqual(['a', 'b', 'c', 'd'])
    expect(replaced.route.firstStage).toBe('remote')
    const fused = await searchCollection(engine, { query: 'relevant', k: 5, rerank: false, mode: 'keyword' }, noCheckpoint, { remote: { candidates: REMOTE, firstStage: 'fuse', mode: 'keyword' } })
    // 'b' is in both lists (remote id = local document id): it leads, with the local passage.
    expect(fused.hits[0]).toMatchObject({ id: 'b', chunkId: 'b#0', scores: { remote: 6 } })
    expect(fused.hits[0]!.scores.keyword).toBeGreaterThan(0)
    expect(fused.hits.map((h) => h.chunkId).sort()).toEqual(['a', 'b#0', 'c', 'd', 'local-only#0'])
    expect(fused.route.firstStage).toBe('fused')
    // First locally, second remotely: (1/61 + 1/62) over the best possible 2/61.
    expect(fused.hits[0]!.score).toBeCloseTo((1 / 61 + 1 / 62) / (2 / 61), 9)
  })

  it('fuses by chunk id first, then by document', () => {
    const local = {
      mode: 'keyword' as const,
      candidates: [
        { docId: 'd', score: 2, normalized: 1, scores: { keyword: 2 } },
        { docId: 'd', score: 1, normalized: 0.5, scores: { keyword: 1 } },
      ],
      passages: [0, 1].map((index) => ({ index, start: 0, end: 1, text: `d${index}`, section: null, path: [] })),
      vectors: async () => null,
    }
    const fused = fuseRetrieved(local, checkRemoteCandidates([{ id: 'd#1', text: 'x' }, { id: 'd', text: 'y' }]), 10)
    expect(fused.passages.map((p) => p!.text)).toEqual(['d0', 'd1'])
    expect(fused.candidates.map((c) => c.score)).toEqual([1 / 61 + 1 / 62, 1 / 62 + 1 / 61])
  })
})

describe('the page’s call of a retriever', () => {
  const request = { query: 'q', k: 5 }

  it('passes the request and a signal, and resolves with the answer', async () => {
    let got: RetrieverRequest | null = null
    const answer = await callRetriever(resolveRetriever(async (r: RetrieverRequest) => ((got = r), REMOTE)), request, undefined, 1000)
    expect(answer).toBe(REMOTE)
    expect(got!.query).toBe('q')
    expect(got!.k).toBe(5)
    expect(got!.signal).toBeInstanceOf(AbortSignal)
  })

  it('REMOTE_TIMEOUT when it hangs, even if it ignores its signal; its signal is aborted', async () => {
    let signal: AbortSignal | null = null
    const error = await rejection(callRetriever(resolveRetriever((r: RetrieverRequest) => ((signal = r.signal), new Promise<never>(() => {}))), request, undefined, 20))
    expect(error.code).toBe('REMOTE_TIMEOUT')
    expect(error.details).toEqual({ ms: 20 })
    expect(signal!.aborted).toBe(true)
  })

  it('ABORTED when the search is aborted; the retriever’s signal follows', async () => {
    const controller = new AbortController()
    let signal: AbortSignal | null = null
    const pending = callRetriever(resolveRetriever((r: RetrieverRequest) => ((signal = r.signal), new Promise<never>(() => {}))), request, controller.signal, 60_000)
    controller.abort()
    expect((await rejection(pending)).code).toBe('ABORTED')
    expect(signal!.aborted).toBe(true)
  })

  it('REMOTE_FAILED with the message and status of what it threw (also synchronously); typed errors pass', async () => {
    const thrown = Object.assign(new Error('db down'), { status: 503 })
    const error = await rejection(callRetriever(resolveRetriever(async () => Promise.reject(thrown)), request, undefined, 1000))
    expect(error.code).toBe('REMOTE_FAILED')
    expect(error.details).toEqual({ message: 'db down', status: 503 })
    const sync = await rejection(
      callRetriever(
        resolveRetriever(() => {
          throw new Error('sync')
        }),
        request,
        undefined,
        1000,
      ),
    )
    expect(sync.code).toBe('REMOTE_FAILED')
    const typed = await rejection(callRetriever(resolveRetriever(async () => Promise.reject(new WinnowError('REMOTE_MALFORMED', 'x', { field: 'body' }))), request, undefined, 1000))
    expect(typed.code).toBe('REMOTE_MALFORMED')
  })

  it('checks the retriever', async () => {
    for (const bad of [null, 3, {}, { retrieve: 1 }, { retrieve: () => [], send: 'query' }, { retrieve: () => [], timeoutMs: 0 }]) {
      expect((await rejection(() => resolveRetriever(bad))).code).toBe('INVALID_INPUT')
    }
    expect(resolveRetriever({ retrieve: () => [], send: 'vector', timeoutMs: 5 })).toMatchObject({ send: 'vector', timeoutMs: 5 })
  })
})

describe('httpRetriever', () => {
  function fakeFetch(respond: (body: any) => Response | Promise<Response>) {
    const calls: { url: string; init: RequestInit; body: any }[] = []
    const fetch = (async (url: string, init: RequestInit) => {
      const body = JSON.parse(String(init.body))
      calls.push({ url, init, body })
      return respond(body)
    }) as unknown as typeof globalThis.fetch
    return { fetch, calls }
  }
  const json = (value: unknown, status = 200) => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } })

  it('POSTs what its mode sends, with the headers and the signal, and reads candidates', async () => {
    const { fetch, calls } = fakeFetch(() => json({ candidates: REMOTE }))
    const retriever = httpRetriever({ url: 'http://127.0.0.1:1/fs', mode: 'hybrid', headers: () => ({ authorization: 'Bearer t' }), fetch, timeoutMs: 123 })
    expect(retriever.send).toBe('both')
    expect(retriever.timeoutMs).toBe(123)
    const signal = new AbortController().signal
    expect(await retriever.retrieve({ query: 'q', vector: [1, 0], k: 7, filter: { lang: 'en' }, signal })).toEqual(REMOTE)
    expect(calls[0]!.body).toEqual({ mode: 'hybrid', k: 7, query: 'q', vector: [1, 0], filter: { lang: 'en' } })
    expect(calls[0]!.init.method).toBe('POST')
    expect(calls[0]!.init.signal).toBe(signal)
    expect((calls[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer t')
    expect(httpRetriever({ url: 'http://x/', mode: 'vector' }).send).toBe('vector')
    expect(httpRetriever({ url: 'http://x/' }).send).toBe('text')
  })

  it('REMOTE_FAILED with the status and the server’s message; REMOTE_MALFORMED for bad JSON or no list; REMOTE_FAILED status 0 for the network', async () => {
    const signal = new AbortController().signal
    const call = (respond: () => Response | Promise<Response>) => rejection(async () => httpRetriever({ url: 'http://127.0.0.1:1/fs', fetch: fakeFetch(respond).fetch }).retrieve({ query: 'q', k: 1, signal }))
    const failed = await call(() => json({ error: { code: 'internal', message: 'the first stage failed' } }, 500))
    expect(failed.code).toBe('REMOTE_FAILED')
    expect(failed.details).toMatchObject({ status: 500, message: 'the first stage failed', code: 'internal' })
    const html = await call(() => new Response('<html>bad gateway</html>', { status: 502 }))
    expect(html.details).toMatchObject({ status: 502 })
    const notJson = await call(() => new Response('{"candidates": [', { status: 200 }))
    expect(notJson.code).toBe('REMOTE_MALFORMED')
    expect(notJson.details.field).toBe('body')
    const noList = await call(() => json({ rows: [] }))
    expect(noList.details.field).toBe('candidates')
    const network = await call(() => Promise.reject(new TypeError('Failed to fetch')))
    expect(network.code).toBe('REMOTE_FAILED')
    expect(network.details.status).toBe(0)
  })

  it('checks its options', async () => {
    for (const bad of [undefined, { url: 3 }, { url: 'http://x', mode: 'semantic' }, { url: 'http://x', timeoutMs: -1 }, { url: 'http://x', headers: 'x' }]) {
      expect((await rejection(() => httpRetriever(bad as never))).code).toBe('INVALID_INPUT')
    }
  })
})
