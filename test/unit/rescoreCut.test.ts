/**
 * The rescoring cut (`rescoreCut` in rank/vectorScan.ts): of an int8 scan's candidates, only those
 * within 2 × 6σ of the k-th's int8 score get their fp32 rows read. Over seeded sets built to stress
 * int8 (random, tight clusters with outlier dimensions that coarsen every row's scale, near-
 * duplicates), the top k after the cut must equal the top k after rescoring every candidate, slots
 * and scores, for every seed; and the cut must actually leave rows unread.
 */
import { describe, expect, it } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { createCoordination } from '../../src/store/coordination.js'
import { MemoryBackend } from '../../src/store/memory.js'
import { rowBlockRows } from '../../src/store/types.js'
import { quantize } from '../../src/core/quantize.js'
import { candidateCount, CUT_SIGMAS, maxRowScale, queryScale, rescoreCut, rescoreExact, scanQuantized } from '../../src/rank/vectorScan.js'
import type { QuantizedBlock } from '../../src/rank/quantizedBlock.js'
import { seeded } from './helpers.js'

const DIMS = 384
const ROWS = 3000
const none = async () => {}
const SEEDS = Array.from({ length: 8 }, (_, i) => 500 + i)

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

type Kind = 'random' | 'anisotropic' | 'near-duplicates'
/** Rows and queries of one kind: queries lie near rows, as a search's query near its answers. */
function dataset(kind: Kind, seed: number): { vectors: Float32Array; queries: Float32Array[] } {
  const g = gaussian(seed)
  const vectors = new Float32Array(ROWS * DIMS)
  const noisy = (centre: Float32Array, width: number) => unit(Float32Array.from(centre, (c) => c + width * g()))
  let centres: Float32Array[]
  if (kind === 'random') centres = Array.from({ length: ROWS }, () => unit(Float32Array.from({ length: DIMS }, g)))
  else {
    const mean = new Float32Array(DIMS)
    if (kind === 'anisotropic') {
      mean[5] = 3
      mean[100] = -2.5
      mean[300] = 2
    }
    centres = Array.from({ length: 30 }, () => Float32Array.from(mean, (m) => m + 0.3 * g()))
  }
  const width = kind === 'near-duplicates' ? 0.01 : kind === 'anisotropic' ? 0.06 : 0
  for (let i = 0; i < ROWS; i++) vectors.set(width === 0 ? centres[i]! : noisy(centres[i % centres.length]!, width), i * DIMS)
  const queries = Array.from({ length: 25 }, (_, j) => noisy(vectors.subarray(((j * 37) % ROWS) * DIMS, ((j * 37) % ROWS + 1) * DIMS), kind === 'random' ? 0.02 : width))
  return { vectors, queries }
}

function rescored(query: Float32Array, vectors: Float32Array, slots: Int32Array, k: number) {
  const gathered = new Float32Array(slots.length * DIMS)
  slots.forEach((slot, i) => gathered.set(vectors.subarray(slot * DIMS, (slot + 1) * DIMS), i * DIMS))
  return rescoreExact(query, slots, gathered, DIMS, k)
}

describe('rescoreCut', () => {
  it('keeps the candidates within 2 × 6σ of the k-th int8 score, at least k, at most all', () => {
    const s = 0.5 / 127 // query and rows: σ = sqrt((s² + s²) / 12) = s / √6
    const margin = (2 * CUT_SIGMAS * s) / Math.sqrt(6)
    const scores = Float64Array.from([0.9, 0.85, 0.8, 0.8 - margin * 0.99, 0.8 - margin * 1.01, 0.1])
    expect(rescoreCut(scores, 3, s, s)).toBe(4)
    expect(rescoreCut(scores, 1, s, s)).toBe(1)
    expect(rescoreCut(scores, 6, s, s)).toBe(6)
    expect(rescoreCut(scores, 10, s, s)).toBe(6)
    expect(rescoreCut(scores, 0, s, s)).toBe(0)
    // A coarser row scale widens the cut.
    expect(rescoreCut(scores, 3, s, 40 * s)).toBe(5) // σ ≈ 0.045: only 0.1 stays out
    expect(rescoreCut(Float64Array.from([0.5, 0.5, 0.5]), 1, 0, 0)).toBe(3) // ties with the k-th stay
  })

  it('queryScale is the scan\'s own int8 scale of the query; maxRowScale the largest stored row scale, deleted rows included', () => {
    const q = Float32Array.from([0.1, -0.6, 0.3])
    expect(queryScale(q)).toBeCloseTo(0.6 / 127, 9)
    const { codes, scales } = quantize(Float32Array.from([1, 0, 0, 0, 0.5, 0.5, 0.2, 0.2, 0.9]), 3)
    const block: QuantizedBlock = { slots: Int32Array.from([0, -1, 2]), dims: 3, codes, scales }
    expect(maxRowScale([block])).toBeCloseTo(1 / 127, 9)
    expect(maxRowScale([{ ...block, slots: Int32Array.from([0]) }, { ...block, slots: new Int32Array(0) }])).toBeCloseTo(1 / 127, 9)
    expect(maxRowScale([])).toBe(0)
  })

  for (const kind of ['random', 'anisotropic', 'near-duplicates'] as const) {
    for (const seed of SEEDS) {
      it(`${kind}, seed ${seed}: the top 10 and top 50 after the cut equal those after rescoring every candidate`, () => {
        const { vectors, queries } = dataset(kind, seed)
        const { codes, scales } = quantize(vectors, DIMS)
        const blocks: QuantizedBlock[] = [{ slots: Int32Array.from({ length: ROWS }, (_, i) => i), dims: DIMS, codes, scales }]
        let kept = 0
        let candidates = 0
        for (const k of [10, 50]) {
          for (const q of queries) {
            const approx = scanQuantized(q, blocks, candidateCount(k, ROWS))
            const cut = rescoreCut(approx.scores, k, queryScale(q), maxRowScale(blocks))
            const all = rescored(q, vectors, approx.slots, k)
            const some = rescored(q, vectors, approx.slots.subarray(0, cut), k)
            expect(Array.from(some.slots)).toEqual(Array.from(all.slots))
            expect(Array.from(some.scores)).toEqual(Array.from(all.scores))
            kept += cut
            candidates += approx.slots.length
          }
        }
        console.log(`[figure] rescoreCut ${kind} seed ${seed}: ${kept} of ${candidates} candidates rescored`)
        // The cut must leave rows unread where the scores spread out (not a cut that keeps all).
        if (kind === 'random') expect(kept).toBeLessThan(candidates * 0.9)
      })
    }
  }

  it('a vector search through a collection reads the row blocks of the cut only, and answers as brute force does', async () => {
    const { vectors, queries } = dataset('random', 77)
    const coordination = createCoordination({})
    const store = await new MemoryBackend().open('cut')
    const asked: number[] = []
    const readRows = store.readRows.bind(store)
    store.readRows = (blocks) => {
      asked.push(blocks.length)
      return readRows(blocks)
    }
    const engine = await CollectionEngine.open('cut', { store, coordination, embedder: null }, {})
    try {
      // One row per 16-row block apart: each candidate's row is in a block of its own.
      const per = rowBlockRows(DIMS)
      const docs = Array.from({ length: 400 }, (_, i) => ({ id: `d${i}`, text: `passage ${i}`, vector: Array.from(vectors.subarray(i * DIMS, (i + 1) * DIMS)) }))
      await engine.add(docs, none)
      expect(per).toBe(16)
      for (const q of queries.slice(0, 10)) {
        asked.length = 0
        const hits = (await searchCollection(engine, { query: '', vector: Array.from(q), mode: 'vector', k: 10 }, none)).hits
        const exact = docs
          .map((d, i) => [d.id, vectors.subarray(i * DIMS, (i + 1) * DIMS).reduce((s, x, j) => s + x * q[j]!, 0)] as const)
          .sort((a, b) => b[1] - a[1])
        expect(hits.map((h) => h.id)).toEqual(exact.slice(0, 10).map(([id]) => id))
        hits.forEach((h, j) => expect(Math.abs(h.score - exact[j]![1])).toBeLessThan(1e-6))
        // 50 candidates in at most 25 blocks (400 rows); the cut asks for fewer.
        expect(asked.reduce((a, b) => a + b, 0)).toBeLessThan(20)
      }
    } finally {
      engine.close()
      coordination.close()
    }
  })
})
