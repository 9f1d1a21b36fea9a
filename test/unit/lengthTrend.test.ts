import { describe, expect, it } from 'vitest'
import { LENGTH_REFERENCE_TOKENS, lengthAdjustments, MIN_AUTO_PASSAGES, theilSenSlope } from '../../src/rank/lengthTrend.js'
import { fuseRerank } from '../../src/rank/rerankFusion.js'
import { resolveLengthCorrection, resolveRerankFusion } from '../../src/rank/rerankOptions.js'
import { codeOf } from './helpers.js'

/** A seeded LCG in [0, 1). */
function random(seed: number) {
  let s = seed >>> 0
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32)
}

describe('theilSenSlope', () => {
  it('is the slope of a line, and ignores a minority of outliers where least squares follows them', () => {
    expect(theilSenSlope([1, 2, 3, 4], [3, 5, 7, 9])).toBeCloseTo(2, 12)
    const x = [0, 1, 2, 3, 4]
    const y = [0, 2, 4, 6, 100]
    expect(theilSenSlope(x, y)).toBeCloseTo(2, 12)
    const mx = 2
    const my = y.reduce((a, b) => a + b) / 5
    const ols = x.reduce((a, xi, i) => a + (xi - mx) * (y[i]! - my), 0) / x.reduce((a, xi) => a + (xi - mx) ** 2, 0)
    expect(ols).toBeGreaterThan(15) // what a least-squares fit would remove
  })

  it('is null without two different x, and skips non-finite points', () => {
    expect(theilSenSlope([3, 3, 3], [1, 2, 3])).toBeNull()
    expect(theilSenSlope([], [])).toBeNull()
    expect(theilSenSlope([0, 1, NaN, 2], [0, 1, 50, 2])).toBeCloseTo(1, 12)
  })

  it('reads an evenly spaced subset of long lists, still exact on a line', () => {
    const n = 5000
    const x = Array.from({ length: n }, (_, i) => Math.log(10 + i))
    expect(theilSenSlope(x, x.map((v) => -0.7 * v + 4))).toBeCloseTo(-0.7, 9)
  })
})

describe('lengthAdjustments', () => {
  it('a given slope subtracts slope · ln(tokens / 100), 0 at the reference length', () => {
    const { slope, adjustments } = lengthAdjustments([5, 5, 5], [LENGTH_REFERENCE_TOKENS, 1000, 10], 0.5)
    expect(slope).toBe(0.5)
    expect(adjustments[0]).toBe(0)
    expect(adjustments[1]).toBeCloseTo(0.5 * Math.log(10), 12)
    expect(adjustments[2]).toBeCloseTo(-0.5 * Math.log(10), 12)
    // 0 tokens counts as 1 (no -Infinity).
    expect(lengthAdjustments([1], [0], 1).adjustments[0]).toBeCloseTo(Math.log(1 / 100), 12)
  })

  it("'auto' recovers a known trend from logits with a few relevant passages, for every seed", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const rand = random(seed)
      const slope = 0.2 + rand() * 2
      const n = 20 + Math.floor(rand() * 80)
      const tokens = Array.from({ length: n }, () => 5 + Math.floor(rand() * 500))
      const relevant = new Set(Array.from({ length: Math.max(1, Math.floor(n / 10)) }, () => Math.floor(rand() * n)))
      const logits = tokens.map((t, i) => slope * Math.log(t) + (relevant.has(i) ? 4 : 0) - 3)
      const fit = lengthAdjustments(logits, tokens, 'auto')
      expect(fit.slope).toBeCloseTo(slope, 6)
      // After the correction every relevant passage is above every other one.
      const corrected = logits.map((l, i) => l - fit.adjustments[i]!)
      const worstRelevant = Math.min(...[...relevant].map((i) => corrected[i]!))
      const bestOther = Math.max(...corrected.filter((_, i) => !relevant.has(i)))
      expect(worstRelevant).toBeGreaterThan(bestOther)
    }
  })

  it("'auto' removes nothing from too few passages or lengths", () => {
    const few = Array.from({ length: MIN_AUTO_PASSAGES - 1 }, (_, i) => 10 * (i + 1))
    expect(lengthAdjustments(few.map(Math.log), few, 'auto').slope).toBe(0)
    const twoLengths = Array.from({ length: 20 }, (_, i) => (i % 2 ? 10 : 300))
    const fit = lengthAdjustments(twoLengths.map(Math.log), twoLengths, 'auto')
    expect(fit.slope).toBe(0)
    expect([...fit.adjustments].every((a) => a === 0)).toBe(true)
  })
})

describe('fuseRerank', () => {
  const items = [
    { rerankScore: 0.9, firstRank: 3, firstScore: 0.2 },
    { rerankScore: 0.5, firstRank: 1, firstScore: 1 },
    { rerankScore: 0.1, firstRank: 2, firstScore: 0.6 },
  ]
  it('rrf: weight/(k + rerank rank) + (1 − weight)/(k + first rank), scaled so first in both is 1', () => {
    const fused = fuseRerank(items, { method: 'rrf', k: 60, weight: 0.5 })
    expect(fused[0]).toBeCloseTo(61 * (0.5 / 61 + 0.5 / 63), 12)
    expect(fused[1]).toBeCloseTo(61 * (0.5 / 62 + 0.5 / 61), 12)
    expect(fused[2]).toBeCloseTo(61 * (0.5 / 63 + 0.5 / 62), 12)
    expect(fuseRerank([{ rerankScore: 0.7, firstRank: 1 }], { method: 'rrf', k: 60, weight: 0.3 })[0]).toBeCloseTo(1, 12)
    // weight 1 is the reranker's order, weight 0 the first stage's.
    const order = (f: number[]) => f.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i)
    expect(order(fuseRerank(items, { method: 'rrf', k: 10, weight: 1 }))).toEqual([0, 1, 2])
    expect(order(fuseRerank(items, { method: 'rrf', k: 10, weight: 0 }))).toEqual([1, 2, 0])
  })

  it('rrf ranks the reranker by score, ties by first rank', () => {
    const fused = fuseRerank([{ rerankScore: 0.5, firstRank: 2 }, { rerankScore: 0.5, firstRank: 1 }], { method: 'rrf', k: 0, weight: 1 })
    expect(fused).toEqual([0.5, 1])
  })

  it('weighted: weight · rerankScore + (1 − weight) · firstScore', () => {
    const fused = fuseRerank(items, { method: 'weighted', weight: 0.25 })
    expect(fused[0]).toBeCloseTo(0.25 * 0.9 + 0.75 * 0.2, 12)
    expect(fused[1]).toBeCloseTo(0.25 * 0.5 + 0.75 * 1, 12)
  })
})

describe('rerank adjustment options', () => {
  it('lengthCorrection: auto, a slope, or nothing; anything else is INVALID_INPUT naming the option', async () => {
    expect(resolveLengthCorrection(undefined, 'x')).toBeNull()
    expect(resolveLengthCorrection('auto', 'x')).toBe('auto')
    expect(resolveLengthCorrection(-0.4, 'x')).toBe(-0.4)
    for (const bad of ['on', true, NaN, Infinity, 1e3, {}]) {
      expect(await codeOf((async () => resolveLengthCorrection(bad, 'rerank.lengthCorrection'))())).toBe('INVALID_INPUT')
    }
    expect(() => resolveLengthCorrection('yes', 'rerank.lengthCorrection')).toThrow(/rerank\.lengthCorrection must be 'auto' or a slope/)
  })

  it('rerankFusion: defaults, ranges, unknown keys, and weighted only where first-stage scores exist', async () => {
    expect(resolveRerankFusion({ method: 'rrf' }, 'f', true)).toEqual({ method: 'rrf', k: 60, weight: 0.5 })
    expect(resolveRerankFusion({ method: 'weighted', weight: 0.8 }, 'f', true)).toEqual({ method: 'weighted', weight: 0.8 })
    expect(resolveRerankFusion(undefined, 'f', true)).toBeNull()
    for (const bad of [{ method: 'rrf', weight: 2 }, { method: 'rrf', k: -1 }, { method: 'rrf', alpha: 1 }, { method: 'weighted', k: 5 }, { method: 'max' }, 'rrf', []]) {
      expect(await codeOf((async () => resolveRerankFusion(bad, 'rerankFusion', true))())).toBe('INVALID_INPUT')
    }
    expect(() => resolveRerankFusion({ method: 'weighted' }, 'rerank() options.rerankFusion', false)).toThrow(/needs first-stage scores/)
  })
})
