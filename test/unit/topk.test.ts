import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TopK } from '../../src/core/topk.js'

describe('TopK', () => {
  it('keeps the k best, best first, ties by smaller id', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 60 }), fc.integer({ min: 0, max: 20 }), (values, k) => {
        const top = new TopK(k)
        values.forEach((v, i) => top.push(i, v))
        const expected = values
          .map((v, i) => ({ v, i }))
          .sort((a, b) => b.v - a.v || a.i - b.i)
          .slice(0, k)
        const { ids, scores } = top.sorted()
        expect(Array.from(ids)).toEqual(expected.map((e) => e.i))
        expect(Array.from(scores)).toEqual(expected.map((e) => e.v))
      }),
    )
  })

  it('reports the entry threshold once full and ignores NaN', () => {
    const top = new TopK(2)
    expect(top.threshold).toBe(-Infinity)
    top.push(0, 1)
    top.push(1, NaN)
    top.push(2, 3)
    expect(top.length).toBe(2)
    expect(top.threshold).toBe(1)
    top.push(3, 2)
    expect(Array.from(top.sorted().ids)).toEqual([2, 3])
  })
})
