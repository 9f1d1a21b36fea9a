import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { rawLogit, scoreHeadFromConfig, sigmoid } from '../../src/core/scores.js'

describe('scoreHeadFromConfig', () => {
  it('reads a one-label head', () => {
    expect(scoreHeadFromConfig({ id2label: { 0: 'LABEL_0' } })).toEqual({ numLabels: 1, positiveIndex: 0 })
  })

  it('defaults a two-label head to positive index 1', () => {
    expect(scoreHeadFromConfig({ id2label: { 0: 'LABEL_0', 1: 'LABEL_1' } })).toEqual({ numLabels: 2, positiveIndex: 1 })
    expect(scoreHeadFromConfig({ id2label: { 0: 'foo', 1: 'bar' } })).toEqual({ numLabels: 2, positiveIndex: 1 })
  })

  it('finds a positive label name at index 0', () => {
    expect(scoreHeadFromConfig({ id2label: { 0: 'relevant', 1: 'irrelevant' } })).toEqual({ numLabels: 2, positiveIndex: 0 })
    expect(scoreHeadFromConfig({ id2label: { 0: ' Positive ', 1: 'negative' } }).positiveIndex).toBe(0)
    expect(scoreHeadFromConfig({ id2label: { 0: 'yes', 1: 'no' } }).positiveIndex).toBe(0)
  })

  it('rejects three labels with RangeError', () => {
    expect(() => scoreHeadFromConfig({ id2label: { 0: 'a', 1: 'b', 2: 'c' } })).toThrow(RangeError)
    expect(() => scoreHeadFromConfig({ num_labels: 3 })).toThrow(RangeError)
  })

  it('falls back to num_labels, then to one label', () => {
    expect(scoreHeadFromConfig({ num_labels: 2 })).toEqual({ numLabels: 2, positiveIndex: 1 })
    expect(scoreHeadFromConfig({ num_labels: 1 })).toEqual({ numLabels: 1, positiveIndex: 0 })
    expect(scoreHeadFromConfig({})).toEqual({ numLabels: 1, positiveIndex: 0 })
  })
})

describe('rawLogit', () => {
  it('reads a one-logit head by row', () => {
    const logits = new Float32Array([0.5, -1.25, 3])
    expect(rawLogit(logits, 1, { numLabels: 1, positiveIndex: 0 })).toBe(-1.25)
    expect(rawLogit(logits, 2, { numLabels: 1, positiveIndex: 0 })).toBe(3)
  })

  it('takes positive minus negative for a two-logit head', () => {
    const logits = [0.25, 1.5, 2, -1]
    expect(rawLogit(logits, 0, { numLabels: 2, positiveIndex: 1 })).toBe(1.25)
    expect(rawLogit(logits, 1, { numLabels: 2, positiveIndex: 1 })).toBe(-3)
    expect(rawLogit(logits, 0, { numLabels: 2, positiveIndex: 0 })).toBe(-1.25)
    expect(rawLogit(logits, 1, { numLabels: 2, positiveIndex: 0 })).toBe(3)
  })
})

describe('sigmoid', () => {
  it('is 0.5 at 0 and matches known values', () => {
    expect(sigmoid(0)).toBe(0.5)
    expect(sigmoid(2)).toBeCloseTo(0.8807970779778823, 14)
    expect(sigmoid(-2)).toBeCloseTo(0.11920292202211755, 14)
  })

  it('is symmetric: sigmoid(-x) = 1 - sigmoid(x)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, min: -50, max: 50 }), (x) => {
        expect(Math.abs(sigmoid(-x) - (1 - sigmoid(x)))).toBeLessThan(1e-15)
      }),
    )
  })

  it('stays finite and in [0, 1] at extremes', () => {
    for (const x of [1000, -1000, 1e308, -1e308, Infinity, -Infinity]) {
      const y = sigmoid(x)
      expect(Number.isNaN(y)).toBe(false)
      expect(y).toBeGreaterThanOrEqual(0)
      expect(y).toBeLessThanOrEqual(1)
    }
    expect(sigmoid(1000)).toBe(1)
    expect(sigmoid(-1000)).toBe(0)
    expect(sigmoid(-700)).toBeGreaterThan(0) // no underflow to 0 / 0
  })

  it('is strictly increasing where doubles resolve it', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, min: -10, max: 10 }), fc.double({ noNaN: true, min: 1e-3, max: 5 }), (x, dx) => {
        expect(sigmoid(x + dx)).toBeGreaterThan(sigmoid(x))
      }),
    )
  })

  it('equals the two-class softmax of the positive class (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, min: -30, max: 30 }), fc.double({ noNaN: true, min: -30, max: 30 }), (l0, l1) => {
        const m = Math.max(l0, l1)
        const e0 = Math.exp(l0 - m)
        const e1 = Math.exp(l1 - m)
        const softmax1 = e1 / (e0 + e1)
        const viaHead = sigmoid(rawLogit([l0, l1], 0, { numLabels: 2, positiveIndex: 1 }))
        expect(Math.abs(softmax1 - viaHead)).toBeLessThan(1e-12)
      }),
    )
  })
})
