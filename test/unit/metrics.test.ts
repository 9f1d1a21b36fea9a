import { describe, expect, it } from 'vitest'
import { ndcgAtK, recallAtK } from '../../src/core/metrics.js'

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
