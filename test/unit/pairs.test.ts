import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { derivePairTemplate, fitPair, longestFirst, specialCount, writePair, type PairTemplate } from '../../src/core/pairs.js'

// BERT: [CLS]=101 a [SEP]=102 b [SEP], with segment ids
const bert = derivePairTemplate([101, 7, 102, 8, 102], [0, 0, 0, 1, 1], [7], [8])
// RoBERTa: <s>=0 a </s>=2 </s>=2 b </s>=2, no segment ids
const roberta = derivePairTemplate([0, 7, 2, 2, 8, 2], null, [7], [8])

describe('derivePairTemplate', () => {
  it('reads a BERT-like pair encoding', () => {
    expect(bert).toEqual({
      prefix: [101],
      middle: [102],
      suffix: [102],
      prefixTypes: [0],
      middleTypes: [0],
      suffixTypes: [1],
      queryType: 0,
      documentType: 1,
    })
    expect(specialCount(bert)).toBe(3)
  })

  it('reads a RoBERTa-like pair encoding with all segment ids 0', () => {
    expect(roberta).toEqual({
      prefix: [0],
      middle: [2, 2],
      suffix: [2],
      prefixTypes: [0],
      middleTypes: [0, 0],
      suffixTypes: [0],
      queryType: 0,
      documentType: 0,
    })
    expect(specialCount(roberta)).toBe(4)
  })

  it('handles multi-token probes', () => {
    const t = derivePairTemplate([1, 5, 6, 9, 7, 8, 9], [0, 0, 0, 0, 1, 1, 1], [5, 6], [7, 8])
    expect(t.prefix).toEqual([1])
    expect(t.middle).toEqual([9])
    expect(t.suffix).toEqual([9])
    expect(t.documentType).toBe(1)
  })

  it('throws when a probe is not found', () => {
    expect(() => derivePairTemplate([101, 7, 102, 8, 102], null, [9], [8])).toThrow(Error)
    expect(() => derivePairTemplate([101, 7, 102, 8, 102], null, [7], [9])).toThrow(Error)
    // b must come after a
    expect(() => derivePairTemplate([101, 8, 102, 7, 102], null, [7], [8])).toThrow(Error)
    expect(() => derivePairTemplate([101, 7, 102, 8, 102], null, [], [8])).toThrow(Error)
  })
})

/** The reference rule, written out as the Rust source states it (tokenizers `truncate_encodings`). */
function reference(n1: number, n2: number, max: number): [number, number] {
  if (n1 + n2 <= max) return [n1, n2]
  let [a, b] = [n1, n2]
  const swap = a > b
  if (swap) [a, b] = [b, a]
  b = a > max ? a : Math.max(a, max - a)
  if (a + b > max) {
    a = Math.floor(max / 2)
    b = a + (max % 2)
  }
  if (swap) [a, b] = [b, a]
  return [Math.min(a, n1), Math.min(b, n2)]
}

describe('longestFirst', () => {
  it('matches the cases of the tokenizers crate’s own test (max_length 7)', () => {
    const lengths = [0, 2, 4, 8] // empty, short, medium, long
    const expected = [
      [[0, 0], [0, 2], [0, 4], [0, 7]],
      [[2, 0], [2, 2], [2, 4], [2, 5]],
      [[4, 0], [4, 2], [3, 4], [3, 4]],
      [[7, 0], [5, 2], [4, 3], [3, 4]],
    ]
    lengths.forEach((a, i) => lengths.forEach((b, j) => expect(longestFirst(a, b, 7)).toEqual(expected[i]![j])))
  })
})

describe('fitPair', () => {
  // BERT: 3 special tokens, so maxLength 128 leaves a budget of 125
  const limits = { maxLength: 128 }

  it('cuts nothing when the pair fits, even a query longer than half the budget', () => {
    expect(fitPair(90, 1, bert, limits)).toEqual({
      queryLength: 90,
      documentLength: 1,
      queryTruncated: false,
      documentTruncated: false,
      length: 94,
    })
  })

  it('cuts only the passage when only the passage is long', () => {
    expect(fitPair(4, 600, bert, limits)).toEqual({
      queryLength: 4,
      documentLength: 121,
      queryTruncated: false,
      documentTruncated: true,
      length: 128,
    })
    expect(fitPair(4, 600, roberta, limits).documentLength).toBe(120) // 4 special tokens
  })

  it('cuts only the query when only the query is long', () => {
    expect(fitPair(600, 3, bert, limits)).toEqual({
      queryLength: 122,
      documentLength: 3,
      queryTruncated: true,
      documentTruncated: false,
      length: 128,
    })
  })

  it('keeps the shorter one whole while it takes at most half the budget', () => {
    expect(fitPair(62, 600, bert, limits)).toMatchObject({ queryLength: 62, documentLength: 63, queryTruncated: false })
    expect(fitPair(600, 62, bert, limits)).toMatchObject({ queryLength: 63, documentLength: 62, documentTruncated: false })
  })

  it('splits an odd budget when both are long, the longer one getting the odd token', () => {
    // budget 125
    expect(fitPair(100, 600, bert, limits)).toMatchObject({ queryLength: 62, documentLength: 63, length: 128 })
    expect(fitPair(600, 100, bert, limits)).toMatchObject({ queryLength: 63, documentLength: 62, length: 128 })
    expect(fitPair(63, 63, bert, limits)).toMatchObject({ queryLength: 62, documentLength: 63 }) // as long: the passage
    expect(fitPair(200, 200, bert, limits)).toMatchObject({ queryLength: 62, documentLength: 63 })
  })

  it('splits an even budget in halves when both are long', () => {
    const even = { maxLength: 127 } // budget 124
    expect(fitPair(100, 600, bert, even)).toMatchObject({ queryLength: 62, documentLength: 62, length: 127 })
    expect(fitPair(600, 100, bert, even)).toMatchObject({ queryLength: 62, documentLength: 62 })
    expect(fitPair(70, 70, bert, even)).toMatchObject({ queryLength: 62, documentLength: 62 })
  })

  it('cuts nothing at exactly the budget, and one token at the budget plus one', () => {
    expect(fitPair(60, 65, bert, limits)).toMatchObject({ queryLength: 60, documentLength: 65, queryTruncated: false, documentTruncated: false, length: 128 })
    expect(fitPair(60, 66, bert, limits)).toMatchObject({ queryLength: 60, documentLength: 65, queryTruncated: false, documentTruncated: true, length: 128 })
    expect(fitPair(66, 60, bert, limits)).toMatchObject({ queryLength: 65, documentLength: 60, queryTruncated: true, documentTruncated: false })
    // as long, one over: both more than half → halves, the passage gets the odd token
    expect(fitPair(63, 63, bert, limits)).toMatchObject({ queryTruncated: true, documentTruncated: false, length: 128 })
  })

  it('bounds the query first when maxQueryLength is set, then splits longest-first', () => {
    const bounded = { maxLength: 20, maxQueryLength: 8 } // budget 17
    expect(fitPair(30, 3, bert, bounded)).toEqual({
      queryLength: 8,
      documentLength: 3,
      queryTruncated: true,
      documentTruncated: false,
      length: 14,
    })
    expect(fitPair(30, 100, bert, bounded)).toMatchObject({ queryLength: 8, documentLength: 9, length: 20 })
    // a bound above half the budget: longest-first still splits two long sequences
    expect(fitPair(50, 50, bert, { maxLength: 10, maxQueryLength: 100 })).toMatchObject({ queryLength: 3, documentLength: 4, length: 10 })
  })

  it('keeps at least one query token when maxQueryLength is 0', () => {
    expect(fitPair(5, 5, bert, { maxLength: 20, maxQueryLength: 0 }).queryLength).toBe(1)
  })

  it('throws RangeError when maxLength leaves no room', () => {
    expect(() => fitPair(1, 1, bert, { maxLength: 4 })).toThrow(RangeError)
    expect(() => fitPair(1, 1, roberta, { maxLength: 5 })).toThrow(RangeError)
    expect(fitPair(1, 1, bert, { maxLength: 5 }).length).toBe(5)
  })

  it('is the reference rule for random lengths and budgets, and respects every bound (property)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 600 }),
        fc.nat({ max: 600 }),
        fc.integer({ min: 5, max: 600 }),
        fc.option(fc.nat({ max: 300 }), { nil: undefined }),
        fc.constantFrom(bert, roberta),
        (q, d, maxLength, maxQueryLength, t: PairTemplate) => {
          const room = maxLength - specialCount(t)
          if (room < 2) return
          const fit = fitPair(q, d, t, { maxLength, maxQueryLength })
          const bounded = maxQueryLength === undefined ? q : Math.min(q, Math.max(1, Math.min(maxQueryLength, room - 1)))
          expect([fit.queryLength, fit.documentLength]).toEqual(reference(bounded, d, room))
          expect(fit.length).toBeLessThanOrEqual(maxLength)
          expect(fit.length).toBe(specialCount(t) + fit.queryLength + fit.documentLength)
          expect(fit.queryLength).toBeLessThanOrEqual(q)
          expect(fit.documentLength).toBeLessThanOrEqual(d)
          if (maxQueryLength !== undefined) expect(fit.queryLength).toBeLessThanOrEqual(Math.max(1, maxQueryLength))
          expect(fit.queryTruncated).toBe(fit.queryLength < q)
          expect(fit.documentTruncated).toBe(fit.documentLength < d)
          if (q >= 1 && d >= 1) expect(Math.min(fit.queryLength, fit.documentLength)).toBeGreaterThanOrEqual(1)
          // nothing is cut while there is room for it
          if (fit.documentTruncated || (maxQueryLength === undefined && fit.queryTruncated)) expect(fit.length).toBe(maxLength)
          if (maxQueryLength === undefined && q + d <= room) expect(fit.queryTruncated || fit.documentTruncated).toBe(false)
        },
      ),
      { numRuns: 2000 },
    )
  })
})

describe('writePair', () => {
  it('writes ids, segment ids and mask, leaving padding at 0', () => {
    const width = 8
    const ids = new BigInt64Array(2 * width)
    const types = new BigInt64Array(2 * width)
    const mask = new BigInt64Array(2 * width)
    const query = [11, 12]
    const doc = [21, 22, 23, 24]
    const long = fitPair(query.length, doc.length, bert, { maxLength: 8 })
    expect(long.documentLength).toBe(3)
    writePair(ids, types, mask, 0, width, query, doc, long, bert)
    const short = fitPair(1, 1, bert, { maxLength: 8 })
    writePair(ids, types, mask, 1, width, [31], [41], short, bert)
    expect(Array.from(ids, Number)).toEqual([101, 11, 12, 102, 21, 22, 23, 102, 101, 31, 102, 41, 102, 0, 0, 0])
    expect(Array.from(types, Number)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0])
    expect(Array.from(mask, Number)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0])
  })

  it('writes RoBERTa layout with zero segment ids', () => {
    const width = 6
    const ids = new BigInt64Array(width)
    const types = new BigInt64Array(width)
    const mask = new BigInt64Array(width)
    writePair(ids, types, mask, 0, width, [5], [6], fitPair(1, 1, roberta, { maxLength: 6 }), roberta)
    expect(Array.from(ids, Number)).toEqual([0, 5, 2, 2, 6, 2])
    expect(Array.from(types, Number)).toEqual([0, 0, 0, 0, 0, 0])
    expect(Array.from(mask, Number)).toEqual([1, 1, 1, 1, 1, 1])
  })
})
