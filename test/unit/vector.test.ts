import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { dot, isFiniteVector, normalize } from '../../src/core/vector.js'

describe('dot', () => {
  it('multiplies and sums, over the whole arrays by default', () => {
    expect(dot(new Float32Array([1, 2, 3]), new Float32Array([4, -5, 6]))).toBe(12)
  })

  it('reads rows of a packed matrix at the given offsets', () => {
    const packed = new Float32Array([9, 9, 1, 2, 3, 9])
    const query = new Float32Array([0, 1, 1, 1])
    // packed[2..4] · query[1..3] = 1 + 2 + 3
    expect(dot(packed, query, 2, 1, 3)).toBe(6)
    expect(dot(packed, query, 2, 1, 1)).toBe(1)
  })
})

describe('normalize', () => {
  it('scales to unit length in place and returns the same array', () => {
    const v = new Float32Array([3, 4])
    const out = normalize(v)
    expect(out).toBe(v)
    expect(v[0]).toBeCloseTo(0.6, 6)
    expect(v[1]).toBeCloseTo(0.8, 6)
  })

  it('leaves a zero vector zero, not NaN', () => {
    expect(Array.from(normalize(new Float32Array(3)))).toEqual([0, 0, 0])
  })

  it('gives unit norm and keeps the direction for any non-zero vector', () => {
    const component = fc.float({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true })
    fc.assert(
      fc.property(fc.array(component, { minLength: 1, maxLength: 50 }), (values) => {
        const v = Float32Array.from(values)
        const before = Math.sqrt(dot(v, v))
        fc.pre(before > 1e-3)
        const original = Float32Array.from(v)
        normalize(v)
        expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 5)
        expect(dot(v, original) / before).toBeCloseTo(1, 4) // cosine with the original is 1
      }),
    )
  })
})

describe('isFiniteVector', () => {
  it('is true only when every component is finite', () => {
    expect(isFiniteVector(new Float32Array([0, -1.5, 3e38]))).toBe(true)
    expect(isFiniteVector(new Float32Array(0))).toBe(true)
    expect(isFiniteVector(new Float32Array([0, NaN]))).toBe(false)
    expect(isFiniteVector(new Float32Array([Infinity, 0]))).toBe(false)
    expect(isFiniteVector([1, -Infinity])).toBe(false)
  })
})
