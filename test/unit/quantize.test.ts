import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { quantize, quantizeInto } from '../../src/core/quantize.js'

describe('quantize', () => {
  it('maps each row to codes in [-127, 127] with scale max|v| / 127', () => {
    const { codes, scales } = quantize(new Float32Array([0.6, -0.8, 1, 0.5]), 2)
    expect(Array.from(codes)).toEqual([95, -127, 127, 64]) // 0.6·127/0.8 = 95.25; 0.5·127 = 63.5 → 64
    expect(scales[0]).toBeCloseTo(0.8 / 127, 9)
    expect(scales[1]).toBeCloseTo(1 / 127, 9)
  })

  it('rounds half away from zero, so a negated row has negated codes', () => {
    const { codes } = quantize(new Float32Array([0.5, -0.5, 1, -1, 0.5, -0.5]), 3)
    expect(Array.from(codes)).toEqual([64, -64, 127, -127, 64, -64])
  })

  it('gives a zero row scale 0 and zero codes', () => {
    const { codes, scales } = quantize(new Float32Array([0, 0, 0.3, 0]), 2)
    expect(Array.from(codes)).toEqual([0, 0, 127, 0])
    expect(scales[0]).toBe(0)
  })

  it('reconstructs every component within half a step, and negation negates the codes', () => {
    const component = fc.float({ min: -10, max: 10, noNaN: true })
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.array(component, { minLength: 1, maxLength: 90 }), (dims, values) => {
        const v = Float32Array.from(values.slice(0, values.length - (values.length % dims)))
        fc.pre(v.length > 0)
        const { codes, scales } = quantize(v, dims)
        const negated = quantize(v.map((x) => -x), dims)
        for (let i = 0; i < v.length; i++) {
          const scale = scales[Math.floor(i / dims)]!
          expect(Math.abs(codes[i]!)).toBeLessThanOrEqual(127)
          expect(Math.abs(codes[i]! * scale - v[i]!)).toBeLessThanOrEqual(scale / 2 + 1e-6)
          expect(negated.codes[i]).toBe(codes[i] === 0 ? 0 : -codes[i]!)
        }
      }),
    )
  })
})

describe('quantizeInto', () => {
  it('writes at the given row offset and leaves the other rows alone', () => {
    const codes = new Int8Array(6).fill(7)
    const scales = new Float32Array(3).fill(9)
    quantizeInto(new Float32Array([0, -2]), 2, codes, scales, 1)
    expect(Array.from(codes)).toEqual([7, 7, 0, -127, 7, 7])
    expect(Array.from(scales)).toEqual([9, Math.fround(2 / 127), 9])
  })

  it('refuses bad dims, partial rows and outputs that are too short', () => {
    const v = new Float32Array(4)
    expect(() => quantizeInto(v, 0, new Int8Array(4), new Float32Array(1))).toThrow(RangeError)
    expect(() => quantizeInto(v, 3, new Int8Array(6), new Float32Array(2))).toThrow(RangeError)
    expect(() => quantizeInto(v, 2, new Int8Array(4), new Float32Array(2), 1)).toThrow(RangeError)
    expect(() => quantizeInto(v, 2, new Int8Array(8), new Float32Array(1), 0)).toThrow(RangeError)
  })
})
