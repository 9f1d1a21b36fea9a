import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  averagePrecisionAtK,
  dedupe,
  evaluateRun,
  mrrAtK,
  ndcgAtK,
  recallAtK,
  trecOrder,
} from '../../src/core/metrics.js'

const judged = (entries: [string, number][]) => new Map(entries)

describe('ndcgAtK', () => {
  // Judgments: a = 2, b = 1, c = 1 (graded, linear gains as trec_eval uses).
  const qrels = judged([
    ['a', 2],
    ['b', 1],
    ['c', 1],
  ])

  it('matches a hand-computed graded example', () => {
    // Ranked a, x, b: DCG = 2/log2(2) + 0 + 1/log2(4) = 2 + 0 + 0.5 = 2.5.
    // Ideal a, b, c: IDCG = 2/1 + 1/log2(3) + 1/2 = 2.5 + 0.63093 = 3.13093.
    expect(ndcgAtK(['a', 'x', 'b'], qrels, 10)).toBeCloseTo(2.5 / (2.5 + 1 / Math.log2(3)), 12)
    expect(ndcgAtK(['a', 'x', 'b'], qrels, 10)).toBeCloseTo(0.798485, 6)
  })

  it('cuts both the ranking and the ideal at k', () => {
    // k = 2: DCG = 2 (a at rank 1; b at rank 3 is cut); IDCG@2 = 2 + 1/log2(3).
    expect(ndcgAtK(['a', 'x', 'b'], qrels, 2)).toBeCloseTo(2 / (2 + 1 / Math.log2(3)), 12)
    expect(ndcgAtK(['x', 'a'], qrels, 1)).toBe(0)
  })

  it('is 1 for the ideal order and less for a swapped one', () => {
    expect(ndcgAtK(['a', 'b', 'c'], qrels, 10)).toBeCloseTo(1, 12)
    expect(ndcgAtK(['b', 'a', 'c'], qrels, 10)).toBeLessThan(1)
  })

  it('uses the grades as linear gains: gains 2 and 1 in ideal and in swapped order', () => {
    const graded = judged([
      ['a', 2],
      ['b', 1],
    ])
    // Ideal a, b: DCG = IDCG = 2/log2(2) + 1/log2(3) = 2 + 0.63093 = 2.63093 → 1.
    expect(ndcgAtK(['a', 'b'], graded, 10)).toBeCloseTo(1, 12)
    // Swapped b, a: DCG = 1/1 + 2/log2(3) = 1 + 1.26186 = 2.26186; 2.26186 / 2.63093 = 0.859719.
    // (With 2^rel − 1 gains it would be (1 + 3/log2 3) / (3 + 1/log2 3) = 0.8258.)
    expect(ndcgAtK(['b', 'a'], graded, 10)).toBeCloseTo(0.859719, 6)
  })

  it('counts a repeated document once', () => {
    expect(ndcgAtK(['b', 'b'], judged([['b', 1]]), 10)).toBeCloseTo(1, 12)
    expect(ndcgAtK(['b', 'b'], judged([['b', 1], ['c', 1]]), 10)).toBeCloseTo(1 / (1 + 1 / Math.log2(3)), 12)
  })

  it('treats judgments of 0 (and below) as not relevant, and is 0 with nothing relevant', () => {
    expect(ndcgAtK(['z', 'a'], judged([['z', 0], ['a', 1]]), 10)).toBeCloseTo(1 / Math.log2(3), 12)
    expect(ndcgAtK(['z'], judged([['z', 0]]), 10)).toBe(0)
    expect(ndcgAtK([], qrels, 10)).toBe(0)
  })
})

describe('recallAtK', () => {
  const qrels = judged([
    ['a', 1],
    ['b', 2],
    ['c', 1],
    ['n', 0],
  ])

  it('is the share of relevant documents in the first k', () => {
    expect(recallAtK(['x', 'b', 'a', 'c'], qrels, 2)).toBeCloseTo(1 / 3, 12)
    expect(recallAtK(['x', 'b', 'a', 'c'], qrels, 3)).toBeCloseTo(2 / 3, 12)
    expect(recallAtK(['x', 'b', 'a', 'c'], qrels, 100)).toBe(1)
  })

  it('ignores judgments of 0, repeats, and queries with nothing relevant', () => {
    expect(recallAtK(['n', 'a', 'a'], qrels, 3)).toBeCloseTo(1 / 3, 12)
    expect(recallAtK(['n'], judged([['n', 0]]), 10)).toBe(0)
  })
})

describe('dedupe and repeated documents', () => {
  // d2 is the only relevant document; the ranking repeats d1 before it.
  const qrels = judged([['d2', 1]])
  const ranked = ['d1', 'd1', 'd2']

  it('keeps the first occurrence, so later documents move up', () => {
    expect(dedupe(ranked)).toEqual(['d1', 'd2'])
    expect(dedupe(['b', 'a', 'b', 'c', 'a'])).toEqual(['b', 'a', 'c'])
  })

  it('gives d2 rank 2 in every metric, not rank 3', () => {
    // Rank 2: 1/log2(3) = 0.63093 (rank 3 would give 1/log2(4) = 0.5).
    expect(ndcgAtK(ranked, qrels, 10)).toBeCloseTo(1 / Math.log2(3), 12)
    // Rank 2: 1/2 (rank 3 would give 1/3); and it is inside a cutoff of 2.
    expect(mrrAtK(ranked, qrels, 10)).toBe(1 / 2)
    expect(mrrAtK(ranked, qrels, 2)).toBe(1 / 2)
    // Precision at rank 2 = 1/2, one relevant document: AP = 1/2.
    expect(averagePrecisionAtK(ranked, qrels, 10)).toBe(1 / 2)
    // Within the first 2 (after removing the repeat) is d2: recall 1 (0 if the repeat took rank 2).
    expect(recallAtK(ranked, qrels, 2)).toBe(1)
    expect(recallAtK(['a', 'a', 'b'], judged([['a', 1], ['b', 1], ['c', 1]]), 2)).toBeCloseTo(2 / 3, 12)
  })
})

describe('mrrAtK', () => {
  // x and y are judged non-relevant (0); r is relevant.
  const qrels = judged([
    ['x', 0],
    ['y', 0],
    ['r', 1],
  ])

  it('is 1 / rank of the first relevant document', () => {
    // First relevant at rank 3: 1/3.
    expect(mrrAtK(['x', 'y', 'r'], qrels, 10)).toBeCloseTo(1 / 3, 12)
    expect(mrrAtK(['x', 'y', 'r'], qrels, 3)).toBeCloseTo(1 / 3, 12)
    expect(mrrAtK(['r', 'x'], qrels, 10)).toBe(1)
    // Only the first relevant one counts: a second at rank 1 after r at rank 2 changes nothing.
    expect(mrrAtK(['u', 'r', 's'], judged([['r', 1], ['s', 2]]), 10)).toBe(1 / 2)
  })

  it('is 0 when the first relevant document is beyond k, or there is none', () => {
    // First relevant at rank 3, k = 2: 0.
    expect(mrrAtK(['x', 'y', 'r'], qrels, 2)).toBe(0)
    expect(mrrAtK(['x', 'y'], qrels, 10)).toBe(0)
    expect(mrrAtK([], qrels, 10)).toBe(0)
  })

  it('with k = Infinity is trec_eval recip_rank', () => {
    const long = [...Array.from({ length: 20 }, (_, i) => `n${i}`), 'r']
    // r at rank 21: 1/21.
    expect(mrrAtK(long, qrels, Infinity)).toBeCloseTo(1 / 21, 12)
  })
})

describe('averagePrecisionAtK', () => {
  // R = 3 relevant (b graded 2); c is never retrieved.
  const qrels = judged([
    ['a', 1],
    ['b', 2],
    ['c', 1],
    ['n', 0],
  ])
  const ranked = ['a', 'x', 'b', 'n']

  it('divides by every relevant document, retrieved or not', () => {
    // a at rank 1 (P = 1/1), b at rank 3 (P = 2/3), c never: (1/1 + 2/3) / 3 = 5/9 = 0.5556.
    expect(averagePrecisionAtK(ranked, qrels, 100)).toBeCloseTo((1 / 1 + 2 / 3) / 3, 12)
    expect(averagePrecisionAtK(ranked, qrels, 100)).toBeCloseTo(0.555556, 6)
  })

  it('is cut at k, still over all R relevant (map_cut, not min(k, R))', () => {
    // k = 2: only a counts: (1/1) / 3 = 1/3 (dividing by min(k, R) = 2 would give 1/2).
    expect(averagePrecisionAtK(ranked, qrels, 2)).toBeCloseTo(1 / 3, 12)
    expect(averagePrecisionAtK(ranked, qrels, 1)).toBeCloseTo(1 / 3, 12)
    // k = 3 reaches b: 5/9.
    expect(averagePrecisionAtK(ranked, qrels, 3)).toBeCloseTo(5 / 9, 12)
    // A single relevant document at rank 1, k = 1: 1/1.
    expect(averagePrecisionAtK(['a'], judged([['a', 1]]), 1)).toBe(1)
  })

  it('treats grades as binary and is 0 when nothing is relevant', () => {
    const regraded = judged([
      ['a', 3],
      ['b', 1],
      ['c', 7],
      ['n', 0],
    ])
    expect(averagePrecisionAtK(ranked, regraded, 100)).toBeCloseTo(5 / 9, 12)
    expect(averagePrecisionAtK(['n'], judged([['n', 0]]), 10)).toBe(0)
    expect(averagePrecisionAtK([], qrels, 10)).toBe(0)
  })
})

describe('trecOrder', () => {
  it('sorts by score descending, ties by id descending, whatever the input order', () => {
    const run = [
      { id: 'd1', score: 0.5 },
      { id: 'd2', score: 0.5 },
      { id: 'd0', score: 0.9 },
      { id: 'd3', score: 0.1 },
    ]
    // d0 (0.9); d2, d1 tied at 0.5, so id descending; d3 (0.1).
    expect(trecOrder(run)).toEqual(['d0', 'd2', 'd1', 'd3'])
    expect(trecOrder([...run].reverse())).toEqual(['d0', 'd2', 'd1', 'd3'])
  })

  it('compares ids as strings (strcmp), not as numbers or case-folded', () => {
    // 'd9' > 'd10' ('9' > '1'), and 'a' > 'B' (0x61 > 0x42): descending puts d9 and a first.
    expect(trecOrder([{ id: 'd10', score: 1 }, { id: 'd9', score: 1 }])).toEqual(['d9', 'd10'])
    expect(trecOrder([{ id: 'B', score: 1 }, { id: 'a', score: 1 }])).toEqual(['a', 'B'])
  })

  it('puts NaN scores last and leaves the input untouched', () => {
    const run = [
      { id: 'n', score: Number.NaN },
      { id: 'low', score: -Infinity },
      { id: 'high', score: 2 },
    ]
    expect(trecOrder(run)).toEqual(['high', 'low', 'n'])
    expect(run.map((r) => r.id)).toEqual(['n', 'low', 'high'])
  })

  it('can change nDCG: a tie the system put relevant-first is evaluated id-descending', () => {
    const qrels = judged([['d1', 1]])
    const run = [
      { id: 'd1', score: 0.5 },
      { id: 'd2', score: 0.5 },
    ]
    // As returned, d1 is at rank 1: nDCG = 1. In trec_eval order d2, d1: d1 at rank 2 →
    // 1/log2(3) = 0.63093.
    expect(ndcgAtK(run.map((r) => r.id), qrels, 10)).toBe(1)
    expect(ndcgAtK(trecOrder(run), qrels, 10)).toBeCloseTo(1 / Math.log2(3), 12)
  })
})

describe('evaluateRun', () => {
  // q1: graded a = 2, b = 1, retrieved b, x, a.
  // q2: judged (c = 1) but absent from the runs → 0 everywhere, still counted.
  // q3: judged, nothing relevant (d = 0) → 0 everywhere, still counted.
  // q4: in the runs but not in the qrels → ignored. q5: an empty judgment map → ignored.
  const qrels = new Map<string, Map<string, number>>([
    ['q1', judged([['a', 2], ['b', 1]])],
    ['q2', judged([['c', 1]])],
    ['q3', judged([['d', 0]])],
    ['q5', judged([])],
  ])
  const runs = new Map<string, string[]>([
    ['q1', ['b', 'x', 'a']],
    ['q3', ['d']],
    ['q4', ['a']],
  ])

  it('averages over every judged query, missing and all-nonrelevant ones counting 0', () => {
    const result = evaluateRun(runs, qrels)
    expect(result.queries).toBe(3)
    expect([...result.perQuery.keys()]).toEqual(['q1', 'q2', 'q3'])
    // q1: DCG = 1/1 + 2/log2(4) = 2; IDCG = 2 + 1/log2(3) = 2.63093; nDCG = 0.760188.
    //     MRR = 1 (b at rank 1); Recall@100 = 2/2; AP = (1/1 + 2/3) / 2 = 5/6.
    const q1 = result.perQuery.get('q1')!
    expect(q1.ndcg).toBeCloseTo(0.760188, 6)
    expect(q1.mrr).toBe(1)
    expect(q1.recall).toBe(1)
    expect(q1.map).toBeCloseTo(5 / 6, 12)
    expect(result.perQuery.get('q2')).toEqual({ ndcg: 0, mrr: 0, recall: 0, map: 0 })
    expect(result.perQuery.get('q3')).toEqual({ ndcg: 0, mrr: 0, recall: 0, map: 0 })
    // Means over 3 queries: 0.760188/3 = 0.253396; 1/3; 1/3; (5/6)/3 = 5/18.
    expect(result.ndcg).toBeCloseTo(0.253396, 6)
    expect(result.mrr).toBeCloseTo(1 / 3, 12)
    expect(result.recall).toBeCloseTo(1 / 3, 12)
    expect(result.map).toBeCloseTo(5 / 18, 12)
  })

  it('applies k to nDCG and MRR, recallK to recall, mapK to AP (defaults 10, 100, 100)', () => {
    // The one relevant document at rank 11, then at rank 101.
    const at = (rank: number) => [...Array.from({ length: rank - 1 }, (_, i) => `n${i}`), 'r']
    const one = new Map([['q', judged([['r', 1]])]])
    const rank11 = evaluateRun(new Map([['q', at(11)]]), one)
    // Defaults: past k = 10 → nDCG 0, MRR 0; within 100 → recall 1, AP = (1/11) / 1.
    expect(rank11.ndcg).toBe(0)
    expect(rank11.mrr).toBe(0)
    expect(rank11.recall).toBe(1)
    expect(rank11.map).toBeCloseTo(1 / 11, 12)
    const k11 = evaluateRun(new Map([['q', at(11)]]), one, { k: 11 })
    // k = 11: nDCG = (1/log2(12)) / 1 = 0.278943; MRR = 1/11.
    expect(k11.ndcg).toBeCloseTo(1 / Math.log2(12), 12)
    expect(k11.mrr).toBeCloseTo(1 / 11, 12)
    const rank101 = evaluateRun(new Map([['q', at(101)]]), one)
    expect(rank101.recall).toBe(0)
    expect(rank101.map).toBe(0)
    const wide = evaluateRun(new Map([['q', at(101)]]), one, { recallK: 101, mapK: 101 })
    expect(wide.recall).toBe(1)
    expect(wide.map).toBeCloseTo(1 / 101, 12)
    expect(wide.ndcg).toBe(0)
  })

  it('is all 0 over no judged queries, and repeats in a run do not consume ranks', () => {
    expect(evaluateRun(new Map([['q', ['a']]]), new Map())).toEqual({
      queries: 0,
      ndcg: 0,
      mrr: 0,
      recall: 0,
      map: 0,
      perQuery: new Map(),
    })
    // ['x', 'x', 'r']: r is at rank 2 → MRR 1/2, AP 1/2.
    const dup = evaluateRun(new Map([['q', ['x', 'x', 'r']]]), new Map([['q', judged([['r', 1]])]]))
    expect(dup.mrr).toBe(1 / 2)
    expect(dup.map).toBe(1 / 2)
  })
})

describe('metric properties', () => {
  // Ids from a small pool so rankings hit judged documents, repeat, and miss (u*: never judged).
  const idArb = fc.constantFrom('d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'u0', 'u1')
  const qrelsArb = fc
    .array(fc.tuple(fc.constantFrom('d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7'), fc.integer({ min: -1, max: 3 })), {
      maxLength: 8,
    })
    .map((entries) => new Map(entries))
  const rankedArb = fc.array(idArb, { maxLength: 14 })
  const kArb = fc.integer({ min: 1, max: 16 })

  it('every metric lies in [0, 1], and a repeat anywhere after the first changes nothing', () => {
    fc.assert(
      fc.property(rankedArb, qrelsArb, kArb, fc.nat(), (ranked, qrels, k, at) => {
        const all = (r: readonly string[]) => [
          ndcgAtK(r, qrels, k),
          mrrAtK(r, qrels, k),
          recallAtK(r, qrels, k),
          averagePrecisionAtK(r, qrels, k),
        ]
        const values = all(ranked)
        for (const value of values) {
          expect(value).toBeGreaterThanOrEqual(0)
          expect(value).toBeLessThanOrEqual(1)
        }
        if (ranked.length > 0) {
          // Re-insert the document at position i somewhere after it.
          const i = at % ranked.length
          const j = i + 1 + (at % (ranked.length - i))
          const repeated = [...ranked.slice(0, j), ranked[i]!, ...ranked.slice(j)]
          expect(all(repeated)).toEqual(values)
        }
      }),
    )
  })

  it('a ranking with every relevant document first, in descending gain, scores 1', () => {
    const relevantArb = fc.uniqueArray(fc.tuple(fc.constantFrom('r0', 'r1', 'r2', 'r3', 'r4', 'r5'), fc.integer({ min: 1, max: 3 })), {
      minLength: 1,
      maxLength: 6,
      selector: ([id]) => id,
    })
    const tailArb = fc.array(fc.constantFrom('n0', 'n1', 'n2', 'z0', 'z1', 'r0', 'r1'), { maxLength: 8 })
    fc.assert(
      fc.property(relevantArb, tailArb, kArb, (relevant, tail, k) => {
        // n* are judged 0, z* unjudged; r* in the tail are repeats (or unjudged if not relevant).
        const qrels = new Map<string, number>([...relevant, ['n0', 0], ['n1', 0], ['n2', 0]])
        const head = [...relevant].sort((a, b) => b[1] - a[1]).map(([id]) => id)
        const ranked = [...head, ...tail]
        expect(ndcgAtK(ranked, qrels, k)).toBeCloseTo(1, 12)
        expect(mrrAtK(ranked, qrels, k)).toBe(1)
        expect(averagePrecisionAtK(ranked, qrels, ranked.length)).toBeCloseTo(1, 12)
        expect(recallAtK(ranked, qrels, ranked.length)).toBe(1)
        const run = evaluateRun(new Map([['q', ranked]]), new Map([['q', qrels]]), { k, recallK: ranked.length, mapK: ranked.length })
        expect(run.ndcg).toBeCloseTo(1, 12)
        expect(run.map).toBeCloseTo(1, 12)
      }),
    )
  })

  it('trecOrder does not depend on the order results arrive in', () => {
    const runArb = fc.array(fc.record({ id: idArb, score: fc.constantFrom(0, 0.5, 1, Number.NaN) }), { maxLength: 10 })
    fc.assert(
      fc.property(runArb, fc.nat(), (run, seed) => {
        const rotated = [...run.slice(seed % (run.length || 1)), ...run.slice(0, seed % (run.length || 1))]
        expect(trecOrder([...run].reverse())).toEqual(trecOrder(run))
        expect(trecOrder(rotated)).toEqual(trecOrder(run))
      }),
    )
  })
})
