import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { defaultBatchTokens, paddingWaste, planBatches } from '../../src/core/batching.js'
import { seeded } from './helpers.js'

const lengthsArb = fc.array(fc.integer({ min: 1, max: 600 }), { maxLength: 80 })
const limitsArb = fc.record({ maxTokens: fc.integer({ min: 1, max: 4096 }), maxRows: fc.integer({ min: 1, max: 70 }) })


describe('planBatches', () => {
  it('matches the documented example', () => {
    expect(planBatches([5, 100, 6, 98], { maxTokens: 200, maxRows: 8 })).toEqual([[1, 3], [2, 0]])
  })

  it('puts every index in exactly one batch', () => {
    fc.assert(
      fc.property(lengthsArb, limitsArb, (lengths, limits) => {
        const flat = planBatches(lengths, limits).flat()
        expect(flat.slice().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i))
      }),
    )
  })

  it('orders each batch by non-increasing length, and batches longest first', () => {
    fc.assert(
      fc.property(lengthsArb, limitsArb, (lengths, limits) => {
        const flat = planBatches(lengths, limits).flat()
        for (let k = 1; k < flat.length; k++) {
          const prev = lengths[flat[k - 1]!]!
          const cur = lengths[flat[k]!]!
          expect(cur).toBeLessThanOrEqual(prev)
          if (cur === prev) expect(flat[k]!).toBeGreaterThan(flat[k - 1]!) // ties by input order
        }
      }),
    )
  })

  it('keeps padded tokens within maxTokens (unless alone) and rows within maxRows', () => {
    fc.assert(
      fc.property(lengthsArb, limitsArb, (lengths, limits) => {
        for (const batch of planBatches(lengths, limits)) {
          expect(batch.length).toBeGreaterThan(0)
          expect(batch.length).toBeLessThanOrEqual(limits.maxRows)
          const padded = batch.length * lengths[batch[0]!]!
          if (batch.length > 1) expect(padded).toBeLessThanOrEqual(limits.maxTokens)
        }
      }),
    )
  })

  it('gives a row longer than maxTokens a batch of its own', () => {
    expect(planBatches([50, 10, 300, 10], { maxTokens: 100, maxRows: 8 })).toEqual([[2], [0, 1], [3]]) // 2 × 50 fits, 3 × 50 does not
  })

  it('caps by rows when the token budget is large', () => {
    expect(planBatches([3, 3, 3, 3, 3], { maxTokens: 1000, maxRows: 2 })).toEqual([[0, 1], [2, 3], [4]])
  })

  it('is deterministic', () => {
    fc.assert(
      fc.property(lengthsArb, limitsArb, (lengths, limits) => {
        expect(planBatches(lengths, limits)).toEqual(planBatches(lengths.slice(), { ...limits }))
      }),
    )
  })

  it('returns no batches for no rows', () => {
    expect(planBatches([], { maxTokens: 10, maxRows: 2 })).toEqual([])
  })

  it.each([
    { maxTokens: 0, maxRows: 4 },
    { maxTokens: 100, maxRows: 0 },
    { maxTokens: -5, maxRows: 4 },
    { maxTokens: Number.NaN, maxRows: 4 },
    { maxTokens: 100, maxRows: Number.NaN },
  ])('throws RangeError on bad limits %o', (limits) => {
    expect(() => planBatches([1, 2, 3], limits)).toThrow(RangeError)
  })
})

describe('paddingWaste', () => {
  it('matches the documented example', () => {
    expect(paddingWaste([2, 4], [[1, 0]])).toBe(0.25)
  })

  it('computes a hand-checked case over several batches', () => {
    // batch [0,1]: width 10, slots 20, real 16; batch [2]: width 5, slots 5, real 5 → 1 - 21/25
    expect(paddingWaste([10, 6, 5], [[0, 1], [2]])).toBeCloseTo(4 / 25, 12)
  })

  it('is 0 for equal lengths and for an empty plan', () => {
    expect(paddingWaste([7, 7, 7], [[0, 1, 2]])).toBe(0)
    expect(paddingWaste([], [])).toBe(0)
  })

  it('is lower for the plan than for fixed-size chunks in input order on a mixed distribution', () => {
    const rand = seeded(42)
    const lengths = Array.from({ length: 50 }, () => 20 + Math.floor(rand() * 481))
    const plan = planBatches(lengths, { maxTokens: 8 * 500, maxRows: 8 })
    // the same number of rows per batch as the plan's largest batch, input order
    const rows = Math.max(...plan.map((b) => b.length))
    const chunks: number[][] = []
    for (let i = 0; i < lengths.length; i += rows) chunks.push(lengths.slice(i, i + rows).map((_, k) => i + k))
    const planWaste = paddingWaste(lengths, plan)
    const chunkWaste = paddingWaste(lengths, chunks)
    expect(rows).toBe(8)
    expect(planWaste).toBeLessThan(chunkWaste)
    expect(planWaste).toBeGreaterThanOrEqual(0)
  })
})

describe('defaultBatchTokens', () => {
  it('is small on CPUs (WASM, onnxruntime-node) and wide on WebGPU', () => {
    expect(defaultBatchTokens('wasm')).toBe(1024)
    expect(defaultBatchTokens('cpu')).toBe(1024)
    expect(defaultBatchTokens('webgpu')).toBe(4096)
  })
})
