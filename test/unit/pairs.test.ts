import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { derivePairTemplate, fitPair, specialCount, writePair, type PairTemplate } from '../../src/core/pairs.js'

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

describe('fitPair', () => {
  const limits = { maxLength: 20, maxQueryLength: 8 }

  it('leaves a short pair untouched', () => {
    expect(fitPair(4, 6, bert, limits)).toEqual({
      queryLength: 4,
      documentLength: 6,
      queryTruncated: false,
      documentTruncated: false,
      length: 13,
    })
  })

  it('cuts a long passage to fill exactly maxLength', () => {
    expect(fitPair(4, 100, bert, limits)).toEqual({
      queryLength: 4,
      documentLength: 13,
      queryTruncated: false,
      documentTruncated: true,
      length: 20,
    })
    expect(fitPair(4, 100, roberta, limits).documentLength).toBe(12)
  })

  it('cuts a long query to maxQueryLength and flags it', () => {
    expect(fitPair(30, 3, bert, limits)).toEqual({
      queryLength: 8,
      documentLength: 3,
      queryTruncated: true,
      documentTruncated: false,
      length: 14,
    })
  })

  it('clamps the query bound so the passage keeps at least one token', () => {
    // room = 10 - 3 = 7 → the query keeps at most 6
    const fit = fitPair(50, 50, bert, { maxLength: 10, maxQueryLength: 100 })
    expect(fit.queryLength).toBe(6)
    expect(fit.documentLength).toBe(1)
    expect(fit.length).toBe(10)
    expect(fit.queryTruncated && fit.documentTruncated).toBe(true)
  })

  it('keeps at least one query token when maxQueryLength is 0', () => {
    expect(fitPair(5, 5, bert, { maxLength: 20, maxQueryLength: 0 }).queryLength).toBe(1)
  })

  it('throws RangeError when maxLength leaves no room', () => {
    expect(() => fitPair(1, 1, bert, { maxLength: 4, maxQueryLength: 2 })).toThrow(RangeError)
    expect(() => fitPair(1, 1, roberta, { maxLength: 5, maxQueryLength: 2 })).toThrow(RangeError)
    expect(fitPair(1, 1, bert, { maxLength: 5, maxQueryLength: 2 }).length).toBe(5)
  })

  it('respects every bound for random lengths and limits (property)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 600 }),
        fc.nat({ max: 600 }),
        fc.integer({ min: 5, max: 600 }),
        fc.nat({ max: 300 }),
        fc.constantFrom(bert, roberta),
        (q, d, maxLength, maxQueryLength, t: PairTemplate) => {
          if (maxLength - specialCount(t) < 2) return
          const fit = fitPair(q, d, t, { maxLength, maxQueryLength })
          expect(fit.length).toBeLessThanOrEqual(maxLength)
          expect(fit.length).toBe(specialCount(t) + fit.queryLength + fit.documentLength)
          expect(fit.queryLength).toBeLessThanOrEqual(q)
          expect(fit.documentLength).toBeLessThanOrEqual(d)
          expect(fit.queryLength).toBeLessThanOrEqual(Math.max(1, maxQueryLength))
          expect(fit.queryTruncated).toBe(fit.queryLength < q)
          expect(fit.documentTruncated).toBe(fit.documentLength < d)
          if (q >= 1 && d >= 1) expect(fit.documentLength).toBeGreaterThanOrEqual(1)
          // nothing is cut while there is room for it
          if (fit.documentTruncated) expect(fit.length).toBe(maxLength)
        },
      ),
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
    const long = fitPair(query.length, doc.length, bert, { maxLength: 8, maxQueryLength: 4 })
    expect(long.documentLength).toBe(3)
    writePair(ids, types, mask, 0, width, query, doc, long, bert)
    const short = fitPair(1, 1, bert, { maxLength: 8, maxQueryLength: 4 })
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
    writePair(ids, types, mask, 0, width, [5], [6], fitPair(1, 1, roberta, { maxLength: 6, maxQueryLength: 2 }), roberta)
    expect(Array.from(ids, Number)).toEqual([0, 5, 2, 2, 6, 2])
    expect(Array.from(types, Number)).toEqual([0, 0, 0, 0, 0, 0])
    expect(Array.from(mask, Number)).toEqual([1, 1, 1, 1, 1, 1])
  })
})
