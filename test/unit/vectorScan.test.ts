import { describe, expect, it } from 'vitest'
import { quantize } from '../../src/core/quantize.js'
import { TopK } from '../../src/core/topk.js'
import { WinnowError } from '../../src/errors.js'
import { candidateCount, rescoreExact, scanQuantized } from '../../src/rank/vectorScan.js'
import type { QuantizedBlock } from '../../src/rank/quantizedBlock.js'
import { seeded } from './helpers.js'

const DIMS = 384


/** Standard normal samples (Box-Muller) from a seeded uniform source. */
function gaussian(seed: number): () => number {
  const uniform = seeded(seed)
  return () => {
    let u = 0
    while (u === 0) u = uniform()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform())
  }
}

function unit(v: Float32Array): Float32Array {
  let s = 0
  for (const x of v) s += x * x
  const inv = 1 / Math.sqrt(s)
  for (let i = 0; i < v.length; i++) v[i] = v[i]! * inv
  return v
}

function row(x: Float32Array, i: number, dims = DIMS): Float32Array {
  return x.subarray(i * dims, (i + 1) * dims)
}

function blockOf(vectors: Float32Array, dims = DIMS, firstSlot = 0): QuantizedBlock {
  const { codes, scales } = quantize(vectors, dims)
  return { slots: Int32Array.from({ length: scales.length }, (_, i) => firstSlot + i), dims, codes, scales }
}

function exactTop(query: Float32Array, vectors: Float32Array, k: number, dims = DIMS): number[] {
  const top = new TopK(k)
  for (let i = 0; i < vectors.length / dims; i++) {
    let s = 0
    for (let j = 0; j < dims; j++) s += query[j]! * vectors[i * dims + j]!
    top.push(i, s)
  }
  return Array.from(top.sorted().ids)
}

/** The full first stage as a caller runs it: int8 scan, gather fp32 rows, exact rescoring. */
function firstStage(query: Float32Array, vectors: Float32Array, blocks: QuantizedBlock[], k: number) {
  const approx = scanQuantized(query, blocks, candidateCount(k, vectors.length / DIMS))
  const gathered = new Float32Array(approx.slots.length * DIMS)
  approx.slots.forEach((slot, i) => gathered.set(row(vectors, slot), i * DIMS))
  return { approx, exact: rescoreExact(query, approx.slots, gathered, DIMS, k) }
}

function recallAt10(vectors: Float32Array, queries: Float32Array[]): number {
  const blocks = [blockOf(vectors)]
  let sum = 0
  for (const q of queries) {
    const truth = new Set(exactTop(q, vectors, 10))
    const got = firstStage(q, vectors, blocks, 10).exact.slots
    expect(got.length).toBe(10)
    sum += Array.from(got).filter((s) => truth.has(s)).length / 10
  }
  return sum / queries.length
}

describe('scanQuantized + rescoreExact recall', () => {
  it('recall@10 ≥ 0.99 on 20,000 random unit vectors', () => {
    const g = gaussian(7)
    const random = () => unit(Float32Array.from({ length: DIMS }, g))
    const vectors = new Float32Array(20_000 * DIMS)
    for (let i = 0; i < 20_000; i++) vectors.set(random(), i * DIMS)
    const queries = Array.from({ length: 60 }, random)
    const recall = recallAt10(vectors, queries)
    console.log(`[figure] recall@10 random 20k×384, ${queries.length} queries, ${candidateCount(10, 20_000)} candidates: ${recall.toFixed(4)}`)
    expect(recall).toBeGreaterThanOrEqual(0.99)
  })

  it('recall@10 ≥ 0.99 on 200 tight anisotropic clusters with queries near their centres', () => {
    // Harder than random: each cluster's 100 rows have cosine ≈ 0.98 with each other, so the
    // top-10 gaps are small; and three large shared components set every row's int8 scale,
    // leaving the other components a coarse step (as outlier dimensions do in real embeddings).
    const g = gaussian(11)
    const spread = Float32Array.from({ length: DIMS }, (_, j) => 1 / Math.sqrt(1 + j / 8))
    const mean = Float32Array.from(spread, (s) => 0.3 * g() * s)
    mean[5] = 3
    mean[100] = -2.5
    mean[300] = 2
    const around = (centre: Float32Array, width: number) => Float32Array.from(centre, (c, j) => c + width * g() * spread[j]!)
    const centres = Array.from({ length: 200 }, () => around(mean, 1))
    const vectors = new Float32Array(20_000 * DIMS)
    for (let i = 0; i < 20_000; i++) vectors.set(unit(around(centres[i % 200]!, 0.2)), i * DIMS)
    const queries = Array.from({ length: 60 }, (_, i) => unit(around(centres[(i * 7) % 200]!, 0.2)))
    const recall = recallAt10(vectors, queries)
    console.log(`[figure] recall@10 clustered 200×100 (cos≈0.98) 384 dims, ${queries.length} queries: ${recall.toFixed(4)}`)
    expect(recall).toBeGreaterThanOrEqual(0.99)
  })
})

describe('scanQuantized', () => {
  const g = gaussian(3)
  const vectors = new Float32Array(500 * DIMS)
  for (let i = 0; i < 500; i++) vectors.set(unit(Float32Array.from({ length: DIMS }, g)), i * DIMS)
  const query = unit(Float32Array.from(row(vectors, 42)))

  it('returns approximate cosines, best first, close to the exact ones', () => {
    const { slots, scores } = scanQuantized(query, [blockOf(vectors)], 20)
    expect(slots[0]).toBe(42) // the query is row 42 itself
    expect(scores[0]).toBeCloseTo(1, 2)
    for (let i = 0; i < slots.length; i++) {
      const exact = row(vectors, slots[i]!).reduce((s, x, j) => s + x * query[j]!, 0)
      expect(Math.abs(scores[i]! - exact)).toBeLessThan(5e-3)
      if (i > 0) expect(scores[i]!).toBeLessThanOrEqual(scores[i - 1]!)
    }
  })

  it('skips rows that are not allowed before the top-n, and still returns n when n are allowed', () => {
    const all = scanQuantized(query, [blockOf(vectors)], 500)
    const best = Array.from(all.slots.subarray(0, 5))
    const allowed = new Uint8Array(500).fill(1)
    for (const s of best) allowed[s] = 0
    const { slots } = scanQuantized(query, [blockOf(vectors)], 5, allowed)
    expect(Array.from(slots)).toEqual(Array.from(all.slots.subarray(5, 10)))
  })

  it('returns fewer than n when fewer are allowed; slots past the mask count as not allowed', () => {
    const allowed = new Uint8Array(10) // slots 10..499 lie past the mask
    allowed[3] = 1
    allowed[7] = 1
    const { slots } = scanQuantized(query, [blockOf(vectors)], 5, allowed)
    expect(Array.from(slots).sort((a, b) => a - b)).toEqual([3, 7])
  })

  it('skips rows whose slot is negative (deleted)', () => {
    const block = blockOf(vectors)
    block.slots[42] = -1
    const { slots } = scanQuantized(query, [block], 500)
    expect(slots.length).toBe(499)
    expect(Array.from(slots)).not.toContain(42)
    expect(Array.from(slots)).not.toContain(-1)
  })

  it('merges several blocks, whatever their alignment, into one ranking', () => {
    const whole = scanQuantized(query, [blockOf(vectors)], 30)
    // Block b starts 1 byte into its buffer, forcing the byte-at-a-time path.
    const b = blockOf(vectors.subarray(200 * DIMS, 350 * DIMS), DIMS, 200)
    const shifted = new Int8Array(b.codes.length + 1)
    shifted.set(b.codes, 1)
    const parts = [
      blockOf(vectors.subarray(0, 200 * DIMS), DIMS, 0),
      { ...b, codes: shifted.subarray(1) },
      blockOf(vectors.subarray(350 * DIMS), DIMS, 350),
    ]
    const merged = scanQuantized(query, parts, 30)
    expect(Array.from(merged.slots)).toEqual(Array.from(whole.slots))
    expect(Array.from(merged.scores)).toEqual(Array.from(whole.scores))
  })

  it('scores dims that are not a multiple of 4 exactly like a hand computation', () => {
    const dims = 3
    const v = new Float32Array([1, 0, 0, 0, 0.6, 0.8, -1, 0, 0])
    const { codes, scales } = quantize(v, dims)
    const block = { slots: new Int32Array([10, 11, 12]), dims, codes, scales }
    const { slots, scores } = scanQuantized(new Float32Array([0.6, 0.8, 0]), [block], 3)
    expect(Array.from(slots)).toEqual([10, 11, 12])
    // Query codes [95, 127, 0], scale 0.8/127. Row 10: codes [127, 0, 0], scale 1/127;
    // row 11: [0, 95, 127], scale 0.8/127; row 12: [-127, 0, 0], scale 1/127.
    expect(scores[0]).toBeCloseTo(95 * 127 * (1 / 127) * (0.8 / 127), 6) // 0.5984 (exact 0.6)
    expect(scores[1]).toBeCloseTo(127 * 95 * (0.8 / 127) * (0.8 / 127), 6) // 0.4787 (exact 0.48)
    expect(scores[2]).toBeCloseTo(-scores[0]!, 9)
  })

  it('returns nothing for no blocks, empty blocks, or n = 0', () => {
    const empty = { slots: new Int32Array(0), dims: DIMS, codes: new Int8Array(0), scales: new Float32Array(0) }
    for (const result of [scanQuantized(query, [], 10), scanQuantized(query, [empty], 10), scanQuantized(query, [blockOf(vectors)], 0)]) {
      expect(result.slots).toBeInstanceOf(Int32Array)
      expect(result.scores).toBeInstanceOf(Float64Array)
      expect(result.slots.length).toBe(0)
    }
  })

  it('refuses a query whose length differs from a block\'s dims with DIMENSION_MISMATCH', () => {
    const err = catchError(() => scanQuantized(new Float32Array(128).fill(0.1), [blockOf(vectors)], 5))
    expect(err?.code).toBe('DIMENSION_MISMATCH')
    expect(err?.details).toEqual({ expected: DIMS, actual: 128 })
  })

  it('refuses a non-finite query and a block with too few codes with INVALID_INPUT', () => {
    const nan = Float32Array.from(query)
    nan[3] = NaN
    expect(catchError(() => scanQuantized(nan, [blockOf(vectors)], 5))?.code).toBe('INVALID_INPUT')
    const b = blockOf(vectors)
    expect(catchError(() => scanQuantized(query, [{ ...b, codes: b.codes.subarray(0, 10) }], 5))?.code).toBe('INVALID_INPUT')
  })
})

describe('rescoreExact', () => {
  const vectors = new Float32Array([1, 0, 0.6, 0.8, 0, 1, 0.8, 0.6])
  const query = new Float32Array([0.6, 0.8])

  it('ranks candidates by exact dot product, keeping k, ties to the smaller slot', () => {
    const { slots, scores } = rescoreExact(query, new Int32Array([9, 4, 7, 2]), vectors, 2, 3)
    // 9: 0.6, 4: 1.0, 7: 0.8, 2: 0.96
    expect(Array.from(slots)).toEqual([4, 2, 7])
    expect(scores[0]).toBeCloseTo(1, 6)
    expect(scores[1]).toBeCloseTo(0.96, 6)
    expect(scores[2]).toBeCloseTo(0.8, 6)
    const tie = rescoreExact(new Float32Array([1, 1]), new Int32Array([5, 3]), new Float32Array([0.6, 0.8, 0.8, 0.6]), 2, 2)
    expect(Array.from(tie.slots)).toEqual([3, 5])
  })

  it('skips negative candidate slots', () => {
    const { slots } = rescoreExact(query, new Int32Array([9, -1, 7, 2]), vectors, 2, 4)
    expect(Array.from(slots)).toEqual([2, 7, 9])
  })

  it('refuses mismatched dims and short vector arrays', () => {
    expect(catchError(() => rescoreExact(new Float32Array(3), new Int32Array([1]), new Float32Array(2), 2, 1))?.code).toBe('DIMENSION_MISMATCH')
    expect(catchError(() => rescoreExact(query, new Int32Array([1, 2, 3, 4, 5]), vectors, 2, 1))?.code).toBe('INVALID_INPUT')
  })
})

describe('candidateCount', () => {
  it('adds max(k, 40) to k, capped at the total', () => {
    expect(candidateCount(10, 100_000)).toBe(50)
    expect(candidateCount(100, 100_000)).toBe(200)
    expect(candidateCount(10, 25)).toBe(25)
    expect(candidateCount(0, 100)).toBe(0)
    expect(candidateCount(10, 0)).toBe(0)
  })
})

function catchError(fn: () => unknown): WinnowError | undefined {
  try {
    fn()
  } catch (e) {
    if (e instanceof WinnowError) return e
    throw e
  }
  return undefined
}
