import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { codeOf } from '../helpers/errors.js'
import {
  DEFAULT_BM25,
  bm25Idf,
  buildPostings,
  scoreBm25,
  type Bm25Input,
  type QueryTerm,
  type TermPostings,
} from '../../src/rank/bm25.js'

const postings = (seqs: number[], tfs: number[]): TermPostings => ({ seqs: Uint32Array.from(seqs), tfs: Uint16Array.from(tfs) })
const identity = (n: number) => Int32Array.from({ length: n }, (_, i) => i)

describe('bm25Idf', () => {
  it("is Lucene's ln(1 + (N − df + 0.5) / (df + 0.5))", () => {
    expect(bm25Idf(1, 10)).toBeCloseTo(Math.log(1 + 9.5 / 1.5), 12)
    expect(bm25Idf(3, 100)).toBeCloseTo(Math.log(1 + 97.5 / 3.5), 12)
  })

  it('stays positive for a term in every chunk, and clamps df above N', () => {
    expect(bm25Idf(10, 10)).toBeCloseTo(Math.log(1 + 0.5 / 10.5), 12)
    expect(bm25Idf(10, 10)).toBeGreaterThan(0)
    expect(bm25Idf(15, 10)).toBe(bm25Idf(10, 10))
    expect(bm25Idf(-2, 10)).toBe(bm25Idf(0, 10))
  })
})

describe('scoreBm25', () => {
  // Three chunks (slots 0..2 = seqs 0..2) of lengths 4, 10, 6 → avgdl 20/3.
  // "memory" in slot 0 (tf 1) and slot 1 (tf 3); "leak" in slot 1 (tf 1) and slot 2 (tf 2).
  const lengths = Uint32Array.of(4, 10, 6)
  const avgLength = 20 / 3
  const memory: QueryTerm = { term: 'memory', weight: 1, df: 2, postings: [postings([0, 1], [1, 3])] }
  const leak: QueryTerm = { term: 'leak', weight: 1, df: 2, postings: [postings([1, 2], [1, 2])] }
  const input = (over: Partial<Bm25Input> = {}): Bm25Input => ({
    terms: [memory, leak],
    docCount: 3,
    avgLength,
    slotOf: identity(3),
    lengths,
    k: 10,
    ...over,
  })

  it('matches the formula computed by hand from tf, df, N and avgdl', () => {
    const k1 = 1.2
    const b = 0.75
    const idf = Math.log(1 + (3 - 2 + 0.5) / (2 + 0.5)) // both terms: df 2 of N 3
    const part = (tf: number, len: number) => (idf * tf) / (tf + k1 * (1 - b + (b * len) / avgLength))
    const expected = [part(1, 4), part(3, 10) + part(1, 10), part(2, 6)]

    const { slots, scores } = scoreBm25(input({ params: { k1, b } }))
    expect(Array.from(slots)).toEqual([1, 2, 0])
    expect(scores[0]).toBeCloseTo(expected[1]!, 12)
    expect(scores[1]).toBeCloseTo(expected[2]!, 12)
    expect(scores[2]).toBeCloseTo(expected[0]!, 12)
  })

  it('uses DEFAULT_BM25 when no params are given', () => {
    expect(Array.from(scoreBm25(input()).scores)).toEqual(Array.from(scoreBm25(input({ params: DEFAULT_BM25 })).scores))
    expect(Array.from(scoreBm25(input()).scores)).not.toEqual(Array.from(scoreBm25(input({ params: { k1: 0.5, b: 0.1 } })).scores))
  })

  it('k1 = 0 ignores term frequency and b = 0 ignores length', () => {
    const idf = bm25Idf(2, 3)
    const flat = scoreBm25(input({ params: { k1: 0, b: 0.75 } }))
    // Every matching term contributes exactly its idf: slot 1 has both terms.
    expect(Array.from(flat.slots)).toEqual([1, 0, 2])
    expect(Array.from(flat.scores)).toEqual([2 * idf, idf, idf])
    const unnormalized = scoreBm25(input({ terms: [leak], params: { k1: 1.2, b: 0 } }))
    expect(unnormalized.scores[0]).toBeCloseTo((idf * 2) / (2 + 1.2), 12) // slot 2, tf 2, length ignored
  })

  it('multiplies a term by its query weight', () => {
    const once = scoreBm25(input({ terms: [leak] }))
    const twice = scoreBm25(input({ terms: [{ ...leak, weight: 2 }] }))
    expect(Array.from(twice.slots)).toEqual(Array.from(once.slots))
    expect(twice.scores[0]).toBeCloseTo(2 * once.scores[0]!, 12)
    expect(scoreBm25(input({ terms: [{ ...leak, weight: 0 }] })).slots).toHaveLength(0)
  })

  it('returns only chunks that match, even when k is larger', () => {
    const { slots } = scoreBm25(input({ terms: [leak], k: 50 }))
    expect(Array.from(slots)).toEqual([2, 1])
    expect(scoreBm25(input({ k: 0 })).slots).toHaveLength(0)
  })

  it('skips deleted seqs (slot -1) and seqs past the end of slotOf', () => {
    // seq 0 deleted; seq 7 was never mapped (slotOf has 3 entries).
    const term: QueryTerm = { term: 'x', weight: 1, df: 2, postings: [postings([0, 1, 7], [5, 1, 9])] }
    const { slots } = scoreBm25(input({ terms: [term], slotOf: Int32Array.of(-1, 1, 2) }))
    expect(Array.from(slots)).toEqual([1])
  })

  it('maps seqs to slots through slotOf', () => {
    // seq 5 lives in slot 0 (length 4), seq 2 in slot 2 (length 6).
    const term: QueryTerm = { term: 'x', weight: 1, df: 2, postings: [postings([2, 5], [1, 1])] }
    const slotOf = Int32Array.of(-1, -1, 2, -1, -1, 0)
    const { slots } = scoreBm25(input({ terms: [term], slotOf }))
    expect(Array.from(slots)).toEqual([0, 2]) // the shorter chunk first
  })

  it('applies the filter before top-k, so a filtered-out best chunk does not cost a result', () => {
    const allowed = Uint8Array.of(1, 0, 1) // slot 1 is the best match overall
    const { slots } = scoreBm25(input({ allowed, k: 2 }))
    expect(Array.from(slots)).toEqual([2, 0])
  })

  it('sums a term over its segments exactly as one merged segment would', () => {
    const chunks = [
      { seq: 0, terms: ['a', 'b', 'a'] },
      { seq: 1, terms: ['b', 'c'] },
      { seq: 2, terms: ['a', 'c', 'c', 'd'] },
      { seq: 3, terms: ['a'] },
    ]
    const merged = buildPostings(chunks)
    const first = buildPostings(chunks.slice(0, 2))
    const second = buildPostings(chunks.slice(2))
    const lengths = Uint32Array.of(3, 2, 4, 1)
    const base = { docCount: 4, avgLength: 2.5, slotOf: identity(4), lengths, k: 10 }
    const query = (segments: Map<string, TermPostings>[]): QueryTerm[] =>
      ['a', 'c'].map((term) => {
        const found = segments.map((s) => s.get(term)).filter((p): p is TermPostings => p !== undefined)
        return { term, weight: 1, postings: found, df: found.reduce((n, p) => n + p.seqs.length, 0) }
      })
    const split = scoreBm25({ ...base, terms: query([first.postings, second.postings]) })
    const whole = scoreBm25({ ...base, terms: query([merged.postings]) })
    expect(query([first.postings, second.postings])[0]!.df).toBe(3)
    expect(Array.from(split.slots)).toEqual(Array.from(whole.slots))
    expect(Array.from(split.scores)).toEqual(Array.from(whole.scores))
    expect(split.slots).toHaveLength(4)
  })

  it('breaks ties by the smaller slot', () => {
    const term: QueryTerm = { term: 'x', weight: 1, df: 3, postings: [postings([0, 1, 2], [1, 1, 1])] }
    const { slots } = scoreBm25(input({ terms: [term], lengths: Uint32Array.of(5, 5, 5), avgLength: 5, slotOf: Int32Array.of(2, 0, 1) }))
    expect(Array.from(slots)).toEqual([0, 1, 2])
  })

  it('leaves no state behind between calls of different sizes', () => {
    const before = scoreBm25(input())
    const big = 1000
    const other: QueryTerm = { term: 'y', weight: 1, df: 1, postings: [postings([999], [1])] }
    scoreBm25({ terms: [other], docCount: big, avgLength: 1, slotOf: identity(big), lengths: new Uint32Array(big).fill(1), k: 5 })
    const after = scoreBm25(input())
    expect(Array.from(after.slots)).toEqual(Array.from(before.slots))
    expect(Array.from(after.scores)).toEqual(Array.from(before.scores))
  })

  it('rejects impossible params and k with INVALID_INPUT', () => {
    for (const params of [{ k1: -1, b: 0.5 }, { k1: 1, b: 1.5 }, { k1: 1, b: -0.1 }, { k1: Infinity, b: 0.5 }, { k1: NaN, b: 0.5 }]) {
      expect(codeOf(() => scoreBm25(input({ params }))), JSON.stringify(params)).toBe('INVALID_INPUT')
    }
    for (const k of [-1, 1.5, NaN]) expect(codeOf(() => scoreBm25(input({ k })))).toBe('INVALID_INPUT')
  })
})

describe('buildPostings', () => {
  it('counts term frequencies, orders seqs ascending, and gives lengths in input order', () => {
    const { postings: built, lengths } = buildPostings([
      { seq: 9, terms: ['leak', 'memory', 'leak'] },
      { seq: 2, terms: ['leak'] },
      { seq: 5, terms: [] },
    ])
    expect(Array.from(lengths)).toEqual([3, 1, 0])
    expect(Array.from(built.get('leak')!.seqs)).toEqual([2, 9])
    expect(Array.from(built.get('leak')!.tfs)).toEqual([1, 2])
    expect(Array.from(built.get('memory')!.seqs)).toEqual([9])
    expect([...built.keys()].sort()).toEqual(['leak', 'memory'])
  })

  it('caps term frequency at 65535', () => {
    const { postings: built, lengths } = buildPostings([{ seq: 0, terms: Array<string>(70000).fill('x') }])
    expect(built.get('x')!.tfs[0]).toBe(65535)
    expect(lengths[0]).toBe(70000)
  })

  it('rejects repeated and out-of-range seqs', () => {
    expect(codeOf(() => buildPostings([{ seq: 1, terms: ['a'] }, { seq: 1, terms: ['b'] }]))).toBe('INVALID_INPUT')
    expect(codeOf(() => buildPostings([{ seq: -1, terms: ['a'] }]))).toBe('INVALID_INPUT')
    expect(codeOf(() => buildPostings([{ seq: 0.5, terms: ['a'] }]))).toBe('INVALID_INPUT')
    expect(codeOf(() => buildPostings([{ seq: 2 ** 32, terms: ['a'] }]))).toBe('INVALID_INPUT')
  })
})

describe('scoreBm25 against a naive implementation', () => {
  const vocabulary = ['a', 'b', 'c', 'd', 'e']
  const doc = fc.record({
    terms: fc.array(fc.constantFrom(...vocabulary), { maxLength: 12 }),
    deleted: fc.boolean(),
    allowed: fc.boolean(),
  })

  it('returns the same best k with the same scores', () => {
    fc.assert(
      fc.property(
        fc.array(doc, { minLength: 1, maxLength: 30 }),
        fc.array(fc.constantFrom(...vocabulary, 'zzz'), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 12 }),
        fc.boolean(),
        fc.double({ min: 0, max: 3, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (docs, queryWords, segmentCount, k, filtered, k1, b) => {
          // seq i lives in slot (n - 1 - i), so seq and slot orders differ.
          const n = docs.length
          const slotOf = Int32Array.from(docs, (d, seq) => (d.deleted ? -1 : n - 1 - seq))
          const lengths = new Uint32Array(n)
          docs.forEach((d, seq) => (lengths[n - 1 - seq] = d.terms.length))
          const live = docs.map((d, seq) => ({ ...d, seq, slot: n - 1 - seq })).filter((d) => !d.deleted)
          const docCount = live.length
          const avgLength = docCount === 0 ? 0 : live.reduce((s, d) => s + d.terms.length, 0) / docCount
          const allowed = filtered ? Uint8Array.from({ length: n }, (_, slot) => (docs[n - 1 - slot]!.allowed ? 1 : 0)) : null

          // Segments hold consecutive runs of seqs, deleted chunks included (as a store would).
          const size = Math.ceil(n / segmentCount)
          const segments = Array.from({ length: segmentCount }, (_, s) =>
            buildPostings(docs.slice(s * size, (s + 1) * size).map((d, i) => ({ seq: s * size + i, terms: d.terms }))).postings,
          )
          const weights = new Map<string, number>()
          for (const w of queryWords) weights.set(w, (weights.get(w) ?? 0) + 1)
          const terms: QueryTerm[] = [...weights].map(([term, weight]) => ({
            term,
            weight,
            postings: segments.map((s) => s.get(term)).filter((p): p is TermPostings => p !== undefined),
            df: live.filter((d) => d.terms.includes(term)).length,
          }))
          const got = scoreBm25({ terms, docCount, avgLength, slotOf, lengths, allowed, k, params: { k1, b } })

          const ranked = live
            .filter((d) => !filtered || d.allowed)
            .map((d) => {
              let score = 0
              for (const [term, weight] of weights) {
                const tf = d.terms.filter((t) => t === term).length
                if (tf === 0) continue
                const df = live.filter((x) => x.terms.includes(term)).length
                const idf = Math.log(1 + (docCount - df + 0.5) / (df + 0.5))
                score += (weight * idf * tf) / (tf + k1 * (1 - b + (b * d.terms.length) / avgLength))
              }
              return { slot: d.slot, score }
            })
            .filter((d) => d.score > 0)
            .sort((x, y) => y.score - x.score || x.slot - y.slot)
          const naive = ranked.slice(0, k)

          expect(got.slots).toHaveLength(naive.length)
          naive.forEach((expected, i) => expect(got.scores[i]).toBeCloseTo(expected.score, 9))
          // Every returned slot really has the score it came with (slots may differ from the
          // naive order only where float summation order swaps near-equal scores).
          const scoreOf = new Map(ranked.map((d) => [d.slot, d.score]))
          got.slots.forEach((slot, i) => expect(scoreOf.get(slot)).toBeCloseTo(got.scores[i]!, 9))
          expect(new Set(got.slots).size).toBe(got.slots.length)
        },
      ),
      { numRuns: 300 },
    )
  })
})
