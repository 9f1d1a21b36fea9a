import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { mergeBuckets, packPostings, POSTING_BUCKETS, termBucket, unpackAll, unpackTerm } from '../../src/store/postingCodec.js'
import type { PostingRecord } from '../../src/store/types.js'

/** Postings of one segment: distinct terms, each with ascending distinct seqs (up to 2^32 - 1) and tfs up to 65,535. */
const postingsArb = (segment: number) =>
  fc
    .uniqueArray(
      fc.record({
        term: fc.oneof(fc.string({ minLength: 1, maxLength: 12, unit: 'binary' }), fc.constantFrom('a', 'b', 'é', '💾', 'leak', 'leaks')),
        seqs: fc.uniqueArray(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 40 }),
        tf: fc.integer({ min: 1, max: 65_535 }),
      }),
      { selector: (p) => p.term, maxLength: 300 },
    )
    .map((list) =>
      list.map((p): PostingRecord => {
        const seqs = Uint32Array.from(p.seqs).sort()
        return { term: p.term, segment, seqs, tfs: Uint16Array.from(seqs, (s) => ((s + p.tf) % 65_535) + 1) }
      }),
    )

describe('packed postings (format v2)', () => {
  it('every term reads back exactly: all of them, and each one by name', () => {
    fc.assert(
      fc.property(postingsArb(7), (postings) => {
        const packed = packPostings(7, postings)
        expect(packed.length).toBe(new Set(postings.map((p) => termBucket(p.term))).size)
        for (const b of packed) {
          expect(b.segment).toBe(7)
          expect(b.terms).toEqual([...b.terms].sort())
          for (const t of b.terms) expect(termBucket(t)).toBe(b.bucket)
        }
        const byTerm = new Map(packed.flatMap(unpackAll).map((p) => [p.term, p]))
        expect(byTerm.size).toBe(postings.length)
        for (const p of postings) {
          expect(byTerm.get(p.term)).toEqual(p)
          expect(unpackTerm(packed.find((b) => b.bucket === termBucket(p.term))!, p.term)).toEqual(p)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('a term the bucket does not hold is null', () => {
    const [bucket] = packPostings(1, [{ term: 'leak', segment: 1, seqs: Uint32Array.of(3), tfs: Uint16Array.of(1) }])
    expect(unpackTerm(bucket!, 'leak')?.seqs).toEqual(Uint32Array.of(3))
    expect(unpackTerm(bucket!, 'leaks')).toBeNull()
    expect(unpackTerm(bucket!, '')).toBeNull()
  })

  it('gaps make small varints: 1,000 consecutive seqs with tf 1 take about 2 bytes each', () => {
    const seqs = Uint32Array.from({ length: 1000 }, (_, i) => 1_000_000 + i)
    const [bucket] = packPostings(0, [{ term: 'the', segment: 0, seqs, tfs: new Uint16Array(1000).fill(1) }])
    // count (2 bytes) + first seq (3 bytes) + 999 one-byte gaps + 1,000 one-byte tfs
    expect(bucket!.data.length).toBe(2 + 3 + 999 + 1000)
  })

  it('merging two packings of a bucket keeps every term and every seq, ascending', () => {
    // Terms that all fall in bucket 0, so both packings are one record of the same bucket.
    const pool = Array.from({ length: 20_000 }, (_, i) => `t${i}`).filter((t) => termBucket(t) === 0).slice(0, 40)
    const side = fc.uniqueArray(
      fc.record({ term: fc.constantFrom(...pool), seqs: fc.uniqueArray(fc.integer({ min: 0, max: 1e6 }), { minLength: 1, maxLength: 20 }) }),
      { selector: (p) => p.term, minLength: 1, maxLength: 30 },
    )
    const records = (list: { term: string; seqs: number[] }[]): PostingRecord[] =>
      list.map((p) => {
        const seqs = Uint32Array.from(p.seqs).sort()
        return { term: p.term, segment: 2, seqs, tfs: Uint16Array.from(seqs, (s) => (s % 9) + 1) }
      })
    fc.assert(
      fc.property(side, side, (a, b) => {
        const left = records(a)
        const right = records(b)
        const merged = mergeBuckets(packPostings(2, left)[0]!, packPostings(2, right)[0]!)
        expect(merged.bucket).toBe(0)
        const terms = new Set([...left, ...right].map((p) => p.term))
        expect(merged.terms.length).toBe(terms.size)
        for (const term of terms) {
          const expected = [...left, ...right].filter((p) => p.term === term).flatMap((p) => [...p.seqs].map((s, i) => [s, p.tfs[i]!] as const))
          expected.sort((x, y) => x[0] - y[0])
          const got = unpackTerm(merged, term)!
          expect([...got.seqs]).toEqual(expected.map((e) => e[0]))
          expect([...got.tfs]).toEqual(expected.map((e) => e[1]))
        }
      }),
      { numRuns: 100 },
    )
  })

  it('seqs given out of order (a merge concatenates segments whose seqs interleave) are stored ascending with their tfs', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 2, maxLength: 60 }), (seqs) => {
        const tfs = seqs.map((s) => (s % 1000) + 1)
        const [bucket] = packPostings(4, [{ term: 'lighthouse', segment: 4, seqs: Uint32Array.from(seqs), tfs: Uint16Array.from(tfs) }])
        const got = unpackTerm(bucket!, 'lighthouse')!
        const expected = seqs.map((s, i) => [s, tfs[i]!] as const).sort((a, b) => a[0] - b[0])
        expect([...got.seqs]).toEqual(expected.map((e) => e[0]))
        expect([...got.tfs]).toEqual(expected.map((e) => e[1]))
      }),
      { numRuns: 200 },
    )
  })

  it('damaged bytes fail with STORAGE_UNAVAILABLE instead of reading past the end', () => {
    const [bucket] = packPostings(0, [{ term: 'a', segment: 0, seqs: Uint32Array.of(1, 300, 70_000), tfs: Uint16Array.of(1, 2, 3) }])
    const cut = { ...bucket!, data: bucket!.data.slice(0, bucket!.data.length - 2) }
    expect(() => unpackTerm(cut, 'a')).toThrowError(expect.objectContaining({ code: 'STORAGE_UNAVAILABLE' }))
    const runaway = { ...bucket!, data: new Uint8Array(bucket!.data.length).fill(0xff) }
    expect(() => unpackTerm(runaway, 'a')).toThrowError(expect.objectContaining({ code: 'STORAGE_UNAVAILABLE' }))
  })

  it('buckets spread terms: 10,000 distinct terms fill every bucket, none with more than twice its share', () => {
    const counts = new Array<number>(POSTING_BUCKETS).fill(0)
    for (let i = 0; i < 10_000; i++) counts[termBucket(`term${i}`)]!++
    expect(Math.min(...counts)).toBeGreaterThan(0)
    expect(Math.max(...counts)).toBeLessThan((2 * 10_000) / POSTING_BUCKETS)
  })
})
