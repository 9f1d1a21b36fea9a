/**
 * The search pipeline over a real collection engine (in-memory store), with deterministic
 * rerankers: each option must change the result the way it says.
 */
import { describe, expect, it } from 'vitest'
import { sigmoid } from '../../src/core/scores.js'
import { CollectionEngine } from '../../src/collection/engine.js'
import type { RerankerPort, SearchExtras, SearchRequest, StageSpec } from '../../src/search/types.js'
import { margin } from '../../src/search/pipeline.js'
import { BUDGET_PLANNED_SHARE, pairTokens, ThroughputMeter } from '../../src/rank/throughput.js'
import { createCoordination } from '../../src/store/coordination.js'
import { MemoryBackend } from '../../src/store/memory.js'
import type { DocumentInput } from '../../src/types.js'
import { WinnowError } from '../../src/errors.js'
import { codeOf } from './helpers.js'
import { searchCollection } from '../../src/search/searchCollection.js'

const coordination = createCoordination({})

let clock = 0
const now = () => clock

interface FakeReranker extends RerankerPort {
  calls: string[][]
}

/** A reranker whose logit is `logitOf(text)`; each call advances the clock by `msPerToken` per estimated token. */
function fakeReranker(model: string, logitOf: (text: string) => number, msPerToken = 1, log?: string[]): FakeReranker {
  const meter = new ThroughputMeter()
  const port: FakeReranker = {
    model,
    dtype: 'fp32',
    maxLength: 512,
    meter,
    calls: [],
    async score(query, passages) {
      log?.push(`score:${model}`)
      port.calls.push([...passages])
      const tokens = passages.reduce((n, p) => n + pairTokens(query, p, 512), 0)
      clock += tokens * msPerToken
      meter.record(tokens, tokens * msPerToken)
      // One token per word: what lengthCorrection reads.
      return { logits: Float32Array.from(passages, logitOf), documentTokens: passages.map((p) => p.split(/\s+/).filter(Boolean).length) }
    },
  }
  return port
}

async function collection(docs: DocumentInput[], settings = {}) {
  const store = await new MemoryBackend().open('c')
  const engine = await CollectionEngine.open('c', { store, coordination, embedder: null }, settings)
  await engine.add(docs, async () => {})
  return engine
}

const noCheckpoint = async () => {}

function search(engine: CollectionEngine, query: string, options: Omit<SearchRequest, 'query'>, extras: SearchExtras = {}) {
  return searchCollection(engine, { query, mode: 'keyword', ...options }, noCheckpoint, { now, ...extras })
}

function withRerankers(...ports: FakeReranker[]): SearchExtras {
  return {
    hasReranker: true,
    reranker: async (stage: StageSpec) => {
      const port = stage.model === null ? ports[0] : ports.find((p) => p.model === stage.model)
      if (!port) throw new Error(`no fake reranker ${stage.model}`)
      return port
    },
  }
}

// Keyword order for "apple": a1 (three mentions) > a2 (two) > a3 (one); the "gold" markers are what
// the fake cross-encoder likes.
const FRUIT: DocumentInput[] = [
  { id: 'a1', text: 'apple apple apple orchard notes' },
  { id: 'a2', text: 'apple apple pie recipe gold' },
  { id: 'a3', text: 'apple cider gold gold' },
  { id: 'b1', text: 'banana bread' },
]
const goldCount = (text: string) => (text.match(/gold/g) ?? []).length

describe('rerank', () => {
  it('reorders the candidates; hits carry both scores and the first-stage rank', async () => {
    const engine = await collection(FRUIT)
    const first = await search(engine, 'apple', { rerank: false, k: 3 })
    expect(first.hits.map((h) => h.id)).toEqual(['a1', 'a2', 'a3'])
    expect(first.route.path).toBe('first-stage')
    expect(first.hits[0]!.rerankScore).toBeUndefined()
    expect(first.hits[0]!.score).toBe(1) // the best BM25 normalises to 1
    expect(first.hits[1]!.score).toBeCloseTo(first.hits[1]!.firstStageScore / first.hits[0]!.firstStageScore, 12)

    const reranker = fakeReranker('fake', (t) => goldCount(t) - 1)
    const { hits, route } = await search(engine, 'apple', { k: 3 }, withRerankers(reranker))
    expect(hits.map((h) => h.id)).toEqual(['a3', 'a2', 'a1'])
    expect(hits.map((h) => h.rankBefore)).toEqual([3, 2, 1])
    expect(hits[0]!.rerankScore).toBeCloseTo(sigmoid(1), 6)
    expect(hits[0]!.score).toBe(hits[0]!.rerankScore)
    expect(hits[0]!.firstStageScore).toBe(first.hits[2]!.firstStageScore)
    expect(route).toMatchObject({ path: 'reranked', candidates: 3, reranked: 3, mode: 'keyword' })
    expect(route.stages).toEqual([{ model: 'fake', dtype: 'fp32', reranked: 3, kept: 3, ms: expect.any(Number) }])
    // The reranker read the (query, passage) texts of every candidate.
    expect(reranker.calls[0]!.sort()).toEqual(FRUIT.slice(0, 3).map((d) => d.text).sort())
  })

  it('defaults to the instance reranker when one exists, and to none otherwise', async () => {
    const engine = await collection(FRUIT)
    const reranker = fakeReranker('fake', (t) => goldCount(t))
    expect((await search(engine, 'apple', {}, withRerankers(reranker))).route.path).toBe('reranked')
    expect((await search(engine, 'apple', {}, { ...withRerankers(reranker), hasReranker: false })).route.path).toBe('first-stage')
    expect(await codeOf(search(engine, 'apple', { rerank: true }, { hasReranker: false }))).toBe('INVALID_INPUT')
  })

  it('a cascade: each stage reads what the one before kept', async () => {
    // Gold per document: d0 0, d1 1, d2 2, d3 3, d4 0, d5 1, d6 2, d7 3.
    const docs = Array.from({ length: 8 }, (_, i) => ({ id: `d${i}`, text: `${'apple '.repeat(9 - i)}${'gold '.repeat(i % 4)}${i === 4 ? 'silver' : ''}`.trim() }))
    const engine = await collection(docs)
    const cheap = fakeReranker('cheap', (t) => goldCount(t))
    // The costly model loves "silver" (d4), but the cheap stage drops d4 (no gold), so it never sees it.
    const costly = fakeReranker('costly', (t) => (t.includes('silver') ? 10 : 0) - goldCount(t) * 0.1)
    const { hits, route } = await search(
      engine,
      'apple',
      { k: 3, candidates: 8, rerank: [{ model: 'cheap', keep: 4 }, { model: 'costly', keep: 3 }] },
      withRerankers(cheap, costly),
    )
    expect(cheap.calls[0]).toHaveLength(8)
    expect(new Set(costly.calls[0]!)).toEqual(new Set(['d2', 'd3', 'd6', 'd7'].map((id) => docs.find((d) => d.id === id)!.text)))
    // Costly: d2 and d6 (-0.2), then d3 (-0.3; ties keep the first-stage order, where more "apple"s rank higher).
    expect(hits.map((h) => h.id)).toEqual(['d2', 'd6', 'd3'])
    const first = await search(engine, 'apple', { k: 8, rerank: false })
    expect(hits.map((h) => h.rankBefore)).toEqual(hits.map((h) => first.hits.findIndex((f) => f.id === h.id) + 1))
    expect(hits[0]!.rerankScore).toBeCloseTo(sigmoid(-0.2), 6) // the last stage's score
    expect(route.stages.map((s) => [s.model, s.reranked, s.kept])).toEqual([
      ['cheap', 8, 4],
      ['costly', 4, 3],
    ])
  })
})

describe('routing', () => {
  it('skipRerankAbove: a decisive first stage skips reranking, a close one does not', async () => {
    const engine = await collection([
      { id: 'hit', text: 'zebra zebra zebra zebra zebra stripes' },
      { id: 'weak', text: 'zebra crossing and a long tail of other words to make it weaker still' },
      { id: 'weak2', text: 'a zebra among many many other animals of the savanna and the plains' },
    ])
    const reranker = fakeReranker('fake', () => 0)
    const decisive = await search(engine, 'zebra', { skipRerankAbove: 0.3 }, withRerankers(reranker))
    expect(decisive.route.margin!).toBeGreaterThan(0.3)
    expect(decisive.route.path).toBe('skipped')
    expect(reranker.calls).toHaveLength(0)
    expect(decisive.hits[0]!.rerankScore).toBeUndefined()
    const close = await search(engine, 'zebra', { skipRerankAbove: decisive.route.margin! + 0.01 }, withRerankers(reranker))
    expect(close.route.path).toBe('reranked')
    expect(reranker.calls).toHaveLength(1)
  })

  it('margin is (s1 − s2) / s1 on normalised scores', () => {
    expect(margin([1, 0.25, 0.1])).toBe(0.75)
    expect(margin([0.5])).toBe(1)
    expect(margin([0, 0])).toBe(0)
    expect(margin([0.8, 0.8])).toBe(0)
  })

  it('rerankBudgetMs reranks as many top candidates as the measured speed allows', async () => {
    const docs = Array.from({ length: 20 }, (_, i) => ({ id: `p${String(i).padStart(2, '0')}`, text: `needle ${'hay '.repeat(20 + i)}` }))
    const engine = await collection(docs)
    const reranker = fakeReranker('fake', (t) => -t.length, 0.5) // 0.5 ms per estimated token
    // Calibrate as the worker does at warm-up (one timed run).
    reranker.meter.record(1000, 500)
    const first = await search(engine, 'needle', { rerank: false, candidates: 20, k: 20 })
    const tokens = first.hits.map((h) => pairTokens('needle', h.text, 512))
    const budget = 150
    let expected = 0
    let sum = 0
    while (expected < tokens.length && (sum + tokens[expected]!) * 0.5 <= budget * BUDGET_PLANNED_SHARE) sum += tokens[expected++]!
    expect(expected).toBeGreaterThan(1)
    expect(expected).toBeLessThan(20)

    const { hits, route } = await search(engine, 'needle', { k: 20, candidates: 20, rerankBudgetMs: budget }, withRerankers(reranker))
    expect(route.path).toBe('budget')
    expect(route.reranked).toBe(expected)
    expect(route.budget!.tokensPerSecond).toBeCloseTo(2000, 6)
    expect(route.budget!.estimatedMs).toBeLessThanOrEqual(budget)
    expect(reranker.calls[0]).toHaveLength(expected)
    // Reranked first (shortest passage first, per the fake), then the rest in first-stage order.
    expect(hits.slice(0, expected).every((h) => h.rerankScore !== undefined)).toBe(true)
    expect(hits.slice(expected).map((h) => h.id)).toEqual(first.hits.slice(expected).map((h) => h.id))
    expect(reranker.meter.samples).toBe(2) // refreshed by the run
    // A budget that fits everything reranks everything.
    const all = await search(engine, 'needle', { k: 5, candidates: 20, rerankBudgetMs: 1e6 }, withRerankers(reranker))
    expect(all.route).toMatchObject({ path: 'reranked', reranked: 20 })
  })

  it('rerankBudgetMs follows the measured speed: a slower device reranks fewer', async () => {
    const text = `needle ${'hay '.repeat(30)}`
    const engine = await collection(Array.from({ length: 100 }, (_, i) => ({ id: `p${i}`, text })))
    const fast = fakeReranker('fake', () => 0)
    fast.meter.record(1000, 100) // 0.1 ms per token
    const slow = fakeReranker('fake', () => 0)
    slow.meter.record(1000, 1000) // 1 ms per token
    const budget = { k: 5, candidates: 100, rerankBudgetMs: 300 }
    const perPair = pairTokens('needle', text.trim(), 512) // passages are stored trimmed
    expect((await search(engine, 'needle', budget, withRerankers(fast))).route.reranked).toBe(Math.floor((300 * BUDGET_PLANNED_SHARE) / (perPair * 0.1)))
    expect((await search(engine, 'needle', budget, withRerankers(slow))).route.reranked).toBe(Math.floor((300 * BUDGET_PLANNED_SHARE) / perPair))
  })
})

describe('diversify and filter', () => {
  it('maxPerDocument caps passages per parent document', async () => {
    const long = ['# One', 'apple '.repeat(200), '# Two', 'apple '.repeat(190), '# Three', 'apple '.repeat(180)].join('\n\n')
    const engine = await collection([{ id: 'long', text: long }, { id: 'other', text: 'apple tart' }, { id: 'third', text: 'apple and pear' }], { chunking: { maxTokens: 128, overlapTokens: 0 } })
    const uncapped = await search(engine, 'apple', { k: 3, rerank: false })
    expect(uncapped.hits.map((h) => h.id)).toEqual(['long', 'long', 'long'])
    const capped = await search(engine, 'apple', { k: 3, rerank: false, maxPerDocument: 1 })
    expect(capped.hits.map((h) => h.id).sort()).toEqual(['long', 'other', 'third'])
    const two = await search(engine, 'apple', { k: 4, rerank: false, maxPerDocument: 2 })
    expect(two.hits.filter((h) => h.id === 'long')).toHaveLength(2)
  })

  it('mmr over stored vectors moves a distinct passage above near-duplicates', async () => {
    const v = (x: number, y: number) => {
      const n = Math.hypot(x, y)
      return [x / n, y / n, 0]
    }
    const engine = await collection([
      { id: 'dup1', text: 'rust memory safety borrow checker', vector: v(1, 0) },
      { id: 'dup2', text: 'rust memory safety borrow checker again', vector: v(1, 0.01) },
      { id: 'dup3', text: 'rust memory safety and the borrow checker', vector: v(1, 0.02) },
      { id: 'other', text: 'garbage collection in go', vector: v(0.3, 1) },
    ])
    const query = { mode: 'vector' as const, vector: v(1, 0.05), k: 4, rerank: false as const }
    const plain = await searchCollection(engine, { query: '', ...query }, noCheckpoint)
    expect(plain.hits.map((h) => h.id).at(-1)).toBe('other')
    const diverse = await searchCollection(engine, { query: '', ...query, mmr: { lambda: 0.5 } }, noCheckpoint)
    expect(diverse.hits[1]!.id).toBe('other')
    const relevanceOnly = await searchCollection(engine, { query: '', ...query, mmr: { lambda: 1 } }, noCheckpoint)
    expect(relevanceOnly.hits.map((h) => h.id)).toEqual(plain.hits.map((h) => h.id))
  })

  it('mmr without vectors uses term overlap', async () => {
    const engine = await collection([
      { id: 'x1', text: 'kernel scheduler kernel scheduler kernel' },
      { id: 'x2', text: 'kernel scheduler kernel scheduler' },
      { id: 'y', text: 'kernel modules loading' },
    ])
    const plain = await search(engine, 'kernel', { rerank: false, k: 3 })
    expect(plain.hits.map((h) => h.id)).toEqual(['x1', 'x2', 'y'])
    const diverse = await search(engine, 'kernel', { rerank: false, k: 3, mmr: { lambda: 0.3 } })
    expect(diverse.hits.map((h) => h.id)).toEqual(['x1', 'y', 'x2'])
  })

  it('minScore drops hits below it, on rerank scores and on normalised first-stage scores', async () => {
    const engine = await collection(FRUIT)
    const reranker = fakeReranker('fake', (t) => (goldCount(t) > 0 ? 2 : -2))
    const reranked = await search(engine, 'apple', { minScore: 0.5 }, withRerankers(reranker))
    expect(reranked.hits.map((h) => h.id).sort()).toEqual(['a2', 'a3'])
    expect(reranked.hits.every((h) => h.score >= 0.5)).toBe(true)
    const all = await search(engine, 'apple', { rerank: false })
    const cut = all.hits[1]!.score + 1e-9
    const firstStage = await search(engine, 'apple', { rerank: false, minScore: cut })
    expect(firstStage.hits.map((h) => h.id)).toEqual(['a1'])
  })
})

describe('progressive results and snippets', () => {
  it('onFirstStage fires with first-stage hits before any reranking', async () => {
    const engine = await collection(FRUIT)
    const log: string[] = []
    const reranker = fakeReranker('fake', (t) => goldCount(t), 1, log)
    let seen: string[] = []
    const { hits } = await search(engine, 'apple', { k: 2 }, {
      ...withRerankers(reranker),
      onFirstStage: (first) => {
        log.push('first-stage')
        seen = first.map((h) => h.id)
      },
    })
    expect(log).toEqual(['first-stage', 'score:fake'])
    expect(seen).toEqual(['a1', 'a2'])
    expect(hits.map((h) => h.id)).toEqual(['a3', 'a2'])
  })

  it('a cancelled search stops before reranking and rejects with ABORTED', async () => {
    const engine = await collection(FRUIT)
    const reranker = fakeReranker('fake', () => 0)
    // Cancelled right after the first stage: the first checkpoint the pipeline reaches throws.
    const checkpoint = async () => {
      throw new WinnowError('ABORTED', 'the call was aborted')
    }
    expect(await codeOf(searchCollection(engine, { query: 'apple', mode: 'keyword' }, checkpoint, withRerankers(reranker)))).toBe('ABORTED')
    expect(reranker.calls).toHaveLength(0)
  })

  it('snippets locate the query terms, stems included', async () => {
    const text = `${'Unrelated words fill the start of this passage. '.repeat(8)}Programs that keep references they no longer need are leaking memory. ${'More unrelated filler follows here. '.repeat(8)}`
    const engine = await collection([{ id: 'leak', text }])
    const { hits } = await search(engine, 'memory leaks', { rerank: false })
    const { snippet } = hits[0]!
    expect(snippet.text.length).toBeLessThan(text.length)
    const marked = snippet.highlights.map(([s, e]) => snippet.text.slice(s, e).toLowerCase())
    expect(marked).toEqual(['leaking', 'memory'])
    const none = await search(engine, 'memory leaks', { rerank: false, snippet: false })
    expect(none.hits[0]!.snippet).toEqual({ text: '', highlights: [] })
  })
})

describe('options are validated', () => {
  it('refuses bad values with INVALID_INPUT', async () => {
    const engine = await collection(FRUIT)
    const extras = withRerankers(fakeReranker('fake', () => 0))
    for (const bad of [
      { k: 0 },
      { candidates: 2, k: 5 },
      { rerank: [] },
      { rerank: [{ model: 'x', keep: 0 }] },
      { rerank: { model: 'x', keep: 3 } },
      { rerank: 'yes' },
      { mmr: { lambda: 2 } },
      { mmr: { weight: 0.5 } },
      { maxPerDocument: 0 },
      { minScore: 1.5 },
      { skipRerankAbove: -0.1 },
      { rerankBudgetMs: 0 },
      { rerankBudgetMs: Infinity },
      { snippet: { length: 5 } },
    ]) {
      expect(await codeOf(search(engine, 'apple', bad as never, extras)), JSON.stringify(bad)).toBe('INVALID_INPUT')
    }
  })
})

describe('length correction and fusion with the first stage', () => {
  // Twelve passages that all mention "apple" once: 'gold' ones are relevant; the others are padded
  // with filler words, so they are longer. The fake cross-encoder is length-biased: its logit is
  // 1.5 · ln(words) + 2 · gold, so long filler outranks short gold passages.
  const docs: DocumentInput[] = Array.from({ length: 12 }, (_, i) => {
    const gold = i % 4 === 0
    const words = gold ? 4 + i : 40 + 10 * i
    return { id: `p${i}`, text: ['apple', gold ? 'gold' : 'filler', ...Array.from({ length: words - 2 }, () => 'filler')].join(' ') }
  })
  const words = (t: string) => t.split(/\s+/).filter(Boolean).length
  const biased = () => fakeReranker('biased', (t) => 1.5 * Math.log(words(t)) + 2 * goldCount(t))
  const golds = ['p0', 'p4', 'p8']

  it("lengthCorrection 'auto' fits the slope on the candidates and puts the relevant passages first", async () => {
    const engine = await collection(docs)
    const plain = await search(engine, 'apple', { k: 3, candidates: 12 }, withRerankers(biased()))
    expect(plain.hits.map((h) => h.id).filter((id) => golds.includes(id)).length).toBeLessThan(3)
    const { hits, route } = await search(engine, 'apple', { k: 3, candidates: 12, rerank: { lengthCorrection: 'auto' } }, withRerankers(biased()))
    expect(new Set(hits.map((h) => h.id))).toEqual(new Set(golds))
    expect(route.stages[0]!.lengthSlope).toBeCloseTo(1.5, 4) // fitted on float32 logits
    // rerankScore is sigmoid(logit − slope · ln(words / 100)).
    const p0 = hits.find((h) => h.id === 'p0')!
    expect(p0.rerankScore).toBeCloseTo(sigmoid(1.5 * Math.log(4) + 2 - route.stages[0]!.lengthSlope! * Math.log(4 / 100)), 6)
  })

  it('a given slope is used as is, per cascade stage', async () => {
    const engine = await collection(docs)
    const cheap = fakeReranker('cheap', (t) => 1.5 * Math.log(words(t)) + 2 * goldCount(t))
    const costly = fakeReranker('costly', (t) => goldCount(t))
    const { hits, route } = await search(
      engine,
      'apple',
      { k: 3, candidates: 12, rerank: [{ model: 'cheap', keep: 3, lengthCorrection: 1.5 }, { model: 'costly' }] },
      withRerankers(cheap, costly),
    )
    expect(new Set(hits.map((h) => h.id))).toEqual(new Set(golds))
    expect(route.stages[0]!.lengthSlope).toBe(1.5)
    expect(route.stages[1]!.lengthSlope).toBeUndefined()
  })

  it('rerankFusion blends the orders: weight 1 is the reranker, 0 the first stage; the score is the fused one', async () => {
    const engine = await collection(FRUIT)
    const reranker = () => fakeReranker('fake', (t) => goldCount(t) - 1)
    const reranked = (await search(engine, 'apple', { k: 3 }, withRerankers(reranker()))).hits.map((h) => h.id)
    const first = (await search(engine, 'apple', { k: 3, rerank: false })).hits.map((h) => h.id)
    expect(reranked).not.toEqual(first)
    const onlyReranker = await search(engine, 'apple', { k: 3, rerankFusion: { method: 'rrf', weight: 1 } }, withRerankers(reranker()))
    expect(onlyReranker.hits.map((h) => h.id)).toEqual(reranked)
    const onlyFirst = await search(engine, 'apple', { k: 3, rerankFusion: { method: 'rrf', weight: 0 } }, withRerankers(reranker()))
    expect(onlyFirst.hits.map((h) => h.id)).toEqual(first)
    const even = await search(engine, 'apple', { k: 3, rerankFusion: { method: 'rrf', k: 60 } }, withRerankers(reranker()))
    for (const hit of even.hits) {
      const rerankRank = reranked.indexOf(hit.id) + 1
      expect(hit.score).toBeCloseTo(61 * (0.5 / (60 + rerankRank) + 0.5 / (60 + hit.rankBefore)), 9)
      expect(hit.rerankScore).toBeCloseTo(sigmoid(goldCount(hit.text) - 1), 6)
    }
    const weighted = await search(engine, 'apple', { k: 3, rerankFusion: { method: 'weighted', weight: 0.3 } }, withRerankers(reranker()))
    const normalized = new Map((await search(engine, 'apple', { k: 3, rerank: false })).hits.map((h) => [h.id, h.score]))
    for (const hit of weighted.hits) expect(hit.score).toBeCloseTo(0.3 * hit.rerankScore! + 0.7 * normalized.get(hit.id)!, 9)
    expect(weighted.hits.map((h) => h.score)).toEqual([...weighted.hits.map((h) => h.score)].sort((a, b) => b - a))
  })

  it('options are validated: fusion without reranking, bad slopes and shapes are INVALID_INPUT', async () => {
    const engine = await collection(FRUIT)
    expect(await codeOf(search(engine, 'apple', { rerank: false, rerankFusion: { method: 'rrf' } }))).toBe('INVALID_INPUT')
    expect(await codeOf(search(engine, 'apple', { rerank: { lengthCorrection: 'yes' as never } }, withRerankers(biased())))).toBe('INVALID_INPUT')
    expect(await codeOf(search(engine, 'apple', { rerankFusion: { method: 'weighted', weight: 3 } }, withRerankers(biased())))).toBe('INVALID_INPUT')
  })
})
