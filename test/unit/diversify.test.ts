import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { normalize } from '../../src/core/vector.js'
import { capPerGroup, cosineSimilarity, selectDiverse, termOverlapSimilarity, type Similarity } from '../../src/rank/diversify.js'
import { codeOf, seeded } from './helpers.js'

const codeOfCall = (fn: () => unknown) => codeOf(Promise.resolve().then(fn))
const unit = (...xs: number[]) => normalize(new Float32Array(xs))

/** The naive O(n·k²) MMR: recomputes every candidate's max similarity over all picks at every step. */
function referenceMmr(rel: number[], sim: Similarity, lambda: number, k: number, groups?: string[], cap?: number): number[] {
  const picked: number[] = []
  const counts = new Map<string, number>()
  while (picked.length < k) {
    let best = -1
    let bestScore = 0
    for (let i = 0; i < rel.length; i++) {
      if (picked.includes(i)) continue
      if (groups && cap !== undefined && (counts.get(groups[i]!) ?? 0) >= cap) continue
      const score = marginal(rel, sim, lambda, picked, i)
      if (best < 0 || score > bestScore || (score === bestScore && rel[i]! > rel[best]!)) {
        best = i
        bestScore = score
      }
    }
    if (best < 0) break
    picked.push(best)
    if (groups) counts.set(groups[best]!, (counts.get(groups[best]!) ?? 0) + 1)
  }
  return picked
}

function marginal(rel: number[], sim: Similarity, lambda: number, picked: number[], i: number): number {
  let max = picked.length === 0 ? 0 : -Infinity
  for (const j of picked) {
    const s = sim(i, j)
    max = Math.max(max, Number.isNaN(s) ? 0 : s)
  }
  return lambda * rel[i]! - (1 - lambda) * max
}

const byRelevance = (rel: number[]) => rel.map((_, i) => i).sort((a, b) => rel[b]! - rel[a]! || a - b)

/** n items with coarse relevance (so ties happen), an n×n similarity table with some NaN, and groups. */
const instance = fc.integer({ min: 0, max: 12 }).chain((n) =>
  fc.record({
    rel: fc.array(fc.integer({ min: 0, max: 4 }).map((x) => x / 4), { minLength: n, maxLength: n }),
    table: fc.array(fc.oneof(fc.constantFrom(-0.5, 0, 0.25, 0.5, 0.75, 1, NaN), fc.double({ min: -1, max: 1, noNaN: true })), {
      minLength: n * n,
      maxLength: n * n,
    }),
    groups: fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: n, maxLength: n }),
    k: fc.integer({ min: 0, max: 15 }),
    cap: fc.integer({ min: 1, max: 3 }),
    lambda: fc.oneof(fc.constantFrom(0, 0.3, 0.5, 0.7, 1), fc.double({ min: 0, max: 1, noNaN: true })),
  }),
)
const simOf = (table: number[], n: number): Similarity => (i, j) => table[i * n + j]!

describe('selectDiverse on a constructed case', () => {
  // Items 0..2: one topic, near-duplicates, most relevant. Item 3: another topic, a little less relevant.
  const vectors = [unit(1, 0.05, 0), unit(1, 0, 0.05), unit(1, 0.08, 0.02), unit(0.1, 1, 0)]
  const relevance = [0.9, 0.89, 0.88, 0.8]
  const similarity = cosineSimilarity(vectors)

  it('lambda 1 picks the duplicates first, in relevance order', () => {
    expect(selectDiverse({ relevance, similarity, lambda: 1, k: 4 })).toEqual([0, 1, 2, 3])
  })

  it('lambda 0.5 picks the distinct passage second', () => {
    expect(selectDiverse({ relevance, similarity, lambda: 0.5, k: 4 })).toEqual([0, 3, 1, 2])
    expect(selectDiverse({ relevance, similarity, lambda: 0.5, k: 2 })).toEqual([0, 3])
  })

  it('lambda 0 picks the most relevant first (all tie at 0), then always the least similar', () => {
    // After 0 and 3: item 1 has max sim max(cos(1,0), cos(1,3)), item 2 likewise; the smaller goes next.
    const next = similarity(1, 0) < similarity(2, 0) ? [1, 2] : [2, 1]
    expect(Math.max(similarity(1, 0), similarity(1, 3))).not.toBe(Math.max(similarity(2, 0), similarity(2, 3)))
    expect(selectDiverse({ relevance, similarity, lambda: 0, k: 4 })).toEqual([0, 3, ...next])
  })

  it('lets a negative similarity raise a score (the max over one pick is that pick, not 0)', () => {
    const table: Record<string, number> = { '1,0': -0.5, '2,0': -0.1 }
    const sim: Similarity = (i, j) => table[`${i},${j}`] ?? 0
    // Clamping the max at 0 would tie 1 and 2 at score 0 and pick 2 for its higher relevance.
    expect(selectDiverse({ relevance: [1, 0.5, 0.9], similarity: sim, lambda: 0, k: 2 })).toEqual([0, 1])
  })

  it('counts a NaN similarity as 0', () => {
    const sim: Similarity = (i, j) => (i === 1 && j === 0 ? NaN : i === 2 && j === 0 ? 0.5 : 0)
    // 1: 0.45 − 0 = 0.45; 2: 0.4 − 0.25 = 0.15.
    expect(selectDiverse({ relevance: [1, 0.9, 0.8], similarity: sim, lambda: 0.5, k: 2 })).toEqual([0, 1])
  })

  it('returns nothing for k 0 or no items, and stops at n', () => {
    expect(selectDiverse({ relevance, similarity, lambda: 0.5, k: 0 })).toEqual([])
    expect(selectDiverse({ relevance: [], similarity, lambda: 0.5, k: 3 })).toEqual([])
    expect(selectDiverse({ relevance, similarity, lambda: 0.5, k: 10 })).toHaveLength(4)
  })
})

describe('selectDiverse cost', () => {
  it('makes at most n·(k − 1) similarity calls, each against the newest pick, and none at lambda 1', () => {
    const rand = seeded(7)
    const n = 60
    const k = 12
    const vectors = Array.from({ length: n }, () => unit(rand() - 0.5, rand() - 0.5, rand() - 0.5, rand() - 0.5))
    const cosine = cosineSimilarity(vectors)
    const relevance = Array.from({ length: n }, () => rand())
    let calls = 0
    const counted: Similarity = (i, j) => {
      calls++
      return cosine(i, j)
    }
    const picks = selectDiverse({ relevance, similarity: counted, lambda: 0.6, k })
    expect(picks).toEqual(referenceMmr(relevance, cosine, 0.6, k))
    // Step s (1-based, s >= 2) compares the n − (s − 1) unpicked items with the newest pick.
    let expected = 0
    for (let s = 2; s <= k; s++) expected += n - (s - 1)
    expect(calls).toBe(expected)
    calls = 0
    selectDiverse({ relevance, similarity: counted, lambda: 1, k })
    expect(calls).toBe(0)
  })
})

describe('group caps', () => {
  // Groups: a = {0, 1, 4}, b = {2, 3}. Relevance best first within each group: a → 1, b → 3.
  const relevance = [0.6, 0.9, 0.5, 0.8, 0.7]
  const groups = ['a', 'a', 'b', 'b', 'a']
  const none: Similarity = () => 0

  it('maxPerGroup 1 returns the best of each group', () => {
    for (const lambda of [1, 0.5, 0]) {
      const picks = selectDiverse({ relevance, similarity: none, lambda, k: 5, groups, maxPerGroup: 1 })
      expect(picks).toEqual([1, 3])
    }
  })

  it('maxPerGroup 2 fills the cap per group and then stops', () => {
    expect(selectDiverse({ relevance, similarity: none, lambda: 1, k: 10, groups, maxPerGroup: 2 })).toEqual([1, 3, 4, 2])
  })

  it('groups without maxPerGroup do not cap', () => {
    expect(selectDiverse({ relevance, similarity: none, lambda: 1, k: 10, groups })).toEqual([1, 3, 4, 0, 2])
  })

  it('capPerGroup keeps the first maxPerGroup of each group in the given order and stops at k', () => {
    const order = byRelevance(relevance) // [1, 3, 4, 0, 2]
    expect(capPerGroup(order, groups, 1, 10)).toEqual([1, 3])
    expect(capPerGroup(order, groups, 2, 10)).toEqual([1, 3, 4, 2])
    expect(capPerGroup(order, groups, 2, 3)).toEqual([1, 3, 4])
    expect(capPerGroup([], groups, 1, 3)).toEqual([])
    expect(capPerGroup(order, groups, 5, 0)).toEqual([])
  })
})

describe('validation', () => {
  const base = { relevance: [0.5, 0.4], similarity: () => 0, lambda: 0.5, k: 2 }

  it('rejects lambda outside [0, 1] or NaN, and k not an integer >= 0', async () => {
    expect(await codeOfCall(() => selectDiverse({ ...base, lambda: 1.5 }))).toBe('INVALID_INPUT')
    expect(await codeOfCall(() => selectDiverse({ ...base, lambda: -0.1 }))).toBe('INVALID_INPUT')
    expect(await codeOfCall(() => selectDiverse({ ...base, lambda: NaN }))).toBe('INVALID_INPUT')
    expect(await codeOfCall(() => selectDiverse({ ...base, k: -1 }))).toBe('INVALID_INPUT')
    expect(await codeOfCall(() => selectDiverse({ ...base, k: 1.5 }))).toBe('INVALID_INPUT')
    expect(await codeOfCall(() => selectDiverse({ ...base, k: Infinity }))).toBe('INVALID_INPUT')
    expect(await codeOfCall(() => selectDiverse({ ...base, lambda: 0, k: 0 }))).toBe('resolved')
    expect(await codeOfCall(() => selectDiverse({ ...base, lambda: 1 }))).toBe('resolved')
  })

  it('rejects non-finite relevance, mismatched groups and a bad maxPerGroup', async () => {
    expect(await codeOfCall(() => selectDiverse({ ...base, relevance: [0.5, NaN] }))).toBe('INVALID_INPUT')
    expect(await codeOfCall(() => selectDiverse({ ...base, groups: ['a'] }))).toBe('INVALID_INPUT')
    expect(await codeOfCall(() => selectDiverse({ ...base, groups: ['a', 'b'], maxPerGroup: 0 }))).toBe('INVALID_INPUT')
    expect(await codeOfCall(() => selectDiverse({ ...base, groups: ['a', 'b'], maxPerGroup: 1.5 }))).toBe('INVALID_INPUT')
    expect(await codeOfCall(() => selectDiverse({ ...base, groups: ['a', 'b'], maxPerGroup: 1 }))).toBe('resolved')
  })

  it('capPerGroup rejects a bad cap, a bad k and ids outside groups', async () => {
    expect(await codeOfCall(() => capPerGroup([0], ['a'], 0, 1))).toBe('INVALID_INPUT')
    expect(await codeOfCall(() => capPerGroup([0], ['a'], 1, -1))).toBe('INVALID_INPUT')
    expect(await codeOfCall(() => capPerGroup([1], ['a'], 1, 1))).toBe('INVALID_INPUT')
    expect(await codeOfCall(() => capPerGroup([0.5], ['a'], 1, 1))).toBe('INVALID_INPUT')
  })
})

describe('similarity helpers', () => {
  it('cosineSimilarity is the dot product of the rows, 0 against a null row', () => {
    const sim = cosineSimilarity([new Float32Array([1, 0]), new Float32Array([0.6, 0.8]), null, new Float32Array([0, -1])])
    expect(sim(0, 1)).toBeCloseTo(0.6, 6)
    expect(sim(1, 3)).toBeCloseTo(-0.8, 6)
    expect(sim(1, 1)).toBeCloseTo(1, 6)
    expect(sim(0, 2)).toBe(0)
    expect(sim(2, 2)).toBe(0)
  })

  it('cosineSimilarity refuses rows of different lengths', async () => {
    expect(await codeOfCall(() => cosineSimilarity([new Float32Array(2), null, new Float32Array(3)]))).toBe('DIMENSION_MISMATCH')
  })

  it('termOverlapSimilarity is the Jaccard index, 0 for two empty sets', () => {
    const sim = termOverlapSimilarity([['a', 'b', 'c'], ['b', 'c', 'd', 'd'], [], ['x']])
    expect(sim(0, 1)).toBe(2 / 4) // duplicates in an array count once
    expect(sim(1, 0)).toBe(2 / 4)
    expect(sim(0, 0)).toBe(1)
    expect(sim(0, 2)).toBe(0)
    expect(sim(2, 2)).toBe(0)
    expect(sim(0, 3)).toBe(0)
    const fromSets = termOverlapSimilarity([new Set(['fox', 'red']), new Set(['red', 'dog'])])
    expect(fromSets(0, 1)).toBe(1 / 3)
  })
})

describe('selectDiverse properties', () => {
  it('(a) picks distinct valid indices, min(k, n) of them without groups', () => {
    fc.assert(
      fc.property(instance, ({ rel, table, k, lambda }) => {
        const n = rel.length
        const picks = selectDiverse({ relevance: rel, similarity: simOf(table, n), lambda, k })
        expect(picks).toHaveLength(Math.min(k, n))
        expect(new Set(picks).size).toBe(picks.length)
        for (const i of picks) expect(Number.isInteger(i) && i >= 0 && i < n).toBe(true)
      }),
    )
  })

  it('(b) lambda 1 equals a stable sort by relevance, best first', () => {
    fc.assert(
      fc.property(instance, ({ rel, table, k }) => {
        const picks = selectDiverse({ relevance: rel, similarity: simOf(table, rel.length), lambda: 1, k })
        expect(picks).toEqual(byRelevance(rel).slice(0, k))
      }),
    )
  })

  it('(c) never exceeds the group cap and picks min(k, Σ_g min(cap, |g|)) items', () => {
    fc.assert(
      fc.property(instance, ({ rel, table, groups, k, cap, lambda }) => {
        const picks = selectDiverse({ relevance: rel, similarity: simOf(table, rel.length), lambda, k, groups, maxPerGroup: cap })
        const sizes = new Map<string, number>()
        for (const g of groups) sizes.set(g, (sizes.get(g) ?? 0) + 1)
        const taken = new Map<string, number>()
        for (const i of picks) taken.set(groups[i]!, (taken.get(groups[i]!) ?? 0) + 1)
        for (const count of taken.values()) expect(count).toBeLessThanOrEqual(cap)
        let available = 0
        for (const size of sizes.values()) available += Math.min(cap, size)
        expect(picks).toHaveLength(Math.min(k, available))
        expect(new Set(picks).size).toBe(picks.length)
      }),
    )
  })

  it('(d) for any lambda > 0 the first pick is the most relevant item, ties to the lower index', () => {
    const positiveLambda = fc.oneof(fc.constantFrom(Number.MIN_VALUE, 1e-300, 0.5, 1), fc.double({ min: Number.MIN_VALUE, max: 1, noNaN: true }))
    fc.assert(
      fc.property(instance, positiveLambda, ({ rel, table, groups, cap }, lambda) => {
        fc.pre(rel.length > 0)
        const similarity = simOf(table, rel.length)
        const first = byRelevance(rel)[0]
        expect(selectDiverse({ relevance: rel, similarity, lambda, k: 1 })).toEqual([first])
        expect(selectDiverse({ relevance: rel, similarity, lambda, k: 3, groups, maxPerGroup: cap })[0]).toBe(first)
      }),
    )
  })

  it('(e) follows the greedy objective: same picks as the naive O(n·k²) MMR, each maximal', () => {
    fc.assert(
      fc.property(instance, fc.boolean(), ({ rel, table, groups, k, cap, lambda }, withGroups) => {
        const n = rel.length
        const sim = simOf(table, n)
        const g = withGroups ? groups : undefined
        const c = withGroups ? cap : undefined
        const picks = selectDiverse({ relevance: rel, similarity: sim, lambda, k, groups: g, maxPerGroup: c })
        expect(picks).toEqual(referenceMmr(rel, sim, lambda, k, g, c))
        const counts = new Map<string, number>()
        picks.forEach((p, step) => {
          const before = picks.slice(0, step)
          const score = marginal(rel, sim, lambda, before, p)
          for (let i = 0; i < n; i++) {
            if (before.includes(i) || (g && (counts.get(g[i]!) ?? 0) >= c!)) continue
            expect(score).toBeGreaterThanOrEqual(marginal(rel, sim, lambda, before, i))
          }
          if (g) counts.set(g[p]!, (counts.get(g[p]!) ?? 0) + 1)
        })
      }),
    )
  })

  it('(f) lambda 1 with groups equals capPerGroup over the relevance order', () => {
    fc.assert(
      fc.property(instance, ({ rel, table, groups, k, cap }) => {
        const picks = selectDiverse({ relevance: rel, similarity: simOf(table, rel.length), lambda: 1, k, groups, maxPerGroup: cap })
        expect(picks).toEqual(capPerGroup(byRelevance(rel), groups, cap, k))
      }),
    )
  })
})
