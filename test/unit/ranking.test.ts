import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { rankByScore } from '../../src/core/ranking.js'

describe('rankByScore', () => {
  it('sorts by score descending', () => {
    expect(rankByScore([0.1, 0.7, 0.3, 0.9])).toEqual([3, 1, 2, 0])
  })

  it('keeps input order on ties (stable)', () => {
    expect(rankByScore([0.2, 0.9, 0.9, 0.1])).toEqual([1, 2, 0, 3])
    expect(rankByScore([0.5, 0.5, 0.5])).toEqual([0, 1, 2])
    expect(rankByScore([1, 2, 1, 2, 1])).toEqual([1, 3, 0, 2, 4])
  })

  it('puts NaN last, in input order', () => {
    expect(rankByScore([Number.NaN, 0.3, Number.NaN, -5])).toEqual([1, 3, 0, 2])
  })

  it('orders -Infinity before NaN and after finite scores', () => {
    expect(rankByScore([Number.NaN, -Infinity, 0])).toEqual([2, 1, 0])
  })

  it('cuts to topK', () => {
    expect(rankByScore([0.1, 0.7, 0.3, 0.9], 2)).toEqual([3, 1])
    expect(rankByScore([0.1, 0.7], 10)).toEqual([1, 0])
  })

  it('returns [] for topK 0 and for no scores', () => {
    expect(rankByScore([0.1, 0.7], 0)).toEqual([])
    expect(rankByScore([])).toEqual([])
  })

  it('accepts typed arrays', () => {
    expect(rankByScore(new Float32Array([1, 3, 2]))).toEqual([1, 2, 0])
  })

  it('returns a prefix of a permutation with non-increasing scores and NaN last (property)', () => {
    const score = fc.oneof(
      fc.double({ noNaN: true, min: -1e6, max: 1e6 }),
      fc.integer({ min: -3, max: 3 }),
      fc.constantFrom(Number.NaN, Infinity, -Infinity),
    )
    fc.assert(
      fc.property(fc.array(score, { maxLength: 60 }), fc.nat({ max: 80 }), (scores, topK) => {
        const full = rankByScore(scores)
        expect(full.slice().sort((a, b) => a - b)).toEqual(scores.map((_, i) => i))
        expect(rankByScore(scores, topK)).toEqual(full.slice(0, topK))
        const firstNaN = full.findIndex((i) => Number.isNaN(scores[i]))
        const ranked = firstNaN < 0 ? full : full.slice(0, firstNaN)
        const nans = firstNaN < 0 ? [] : full.slice(firstNaN)
        for (const i of nans) expect(scores[i]).toBeNaN()
        for (let k = 1; k < nans.length; k++) expect(nans[k]!).toBeGreaterThan(nans[k - 1]!)
        for (let k = 1; k < ranked.length; k++) {
          const a = ranked[k - 1]!
          const b = ranked[k]!
          expect(scores[b]!).toBeLessThanOrEqual(scores[a]!)
          if (scores[a] === scores[b]) expect(b).toBeGreaterThan(a)
        }
      }),
    )
  })
})
