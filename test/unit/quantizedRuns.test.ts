/** Int8 blocks stored in runs (store/quantizedRuns.ts): packing then splitting gives the blocks back. */
import { describe, expect, it } from 'vitest'
import { packQuantized, QUANTIZED_RUN_ROWS, splitQuantized } from '../../src/store/quantizedRuns.js'
import { VECTOR_BLOCK_ROWS, type QuantizedBlockRecord } from '../../src/store/types.js'
import { seeded } from './helpers.js'

function block(segment: number, index: number, rows: number, dims: number, rand: () => number): QuantizedBlockRecord {
  return {
    segment,
    block: index,
    dims,
    seqs: Uint32Array.from({ length: rows }, () => Math.floor(rand() * 1e6)),
    codes: Int8Array.from({ length: rows * dims }, () => Math.floor(rand() * 255) - 127),
    scales: Float32Array.from({ length: rows }, () => rand()),
  }
}

const plain = (b: QuantizedBlockRecord) => ({ segment: b.segment, block: b.block, dims: b.dims, seqs: [...b.seqs], codes: [...b.codes], scales: [...b.scales] })
const byKey = (a: QuantizedBlockRecord, b: QuantizedBlockRecord) => a.segment - b.segment || a.block - b.block

describe('int8 runs', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`seed ${seed}: random segments with gaps and short last blocks pack into few records and split back exactly`, () => {
      const rand = seeded(seed)
      const blocks: QuantizedBlockRecord[] = []
      for (let segment = 0; segment < 4; segment++) {
        const dims = [4, 8][segment % 2]!
        const count = 1 + Math.floor(rand() * 150)
        for (let b = 0; b < count; b++) {
          if (rand() < 0.05) continue // a gap: the run must end
          const short = b === count - 1 || rand() < 0.03
          blocks.push(block(segment, b, short ? 1 + Math.floor(rand() * (VECTOR_BLOCK_ROWS - 1)) : VECTOR_BLOCK_ROWS, dims, rand))
        }
      }
      const shuffled = [...blocks].sort(() => rand() - 0.5)
      const runs = packQuantized(shuffled)
      expect(runs.length).toBeLessThan(blocks.length)
      for (const run of runs) expect(run.seqs.length).toBeLessThanOrEqual(QUANTIZED_RUN_ROWS)
      // A structured clone, as IndexedDB stores them.
      const back = structuredClone(runs).flatMap(splitQuantized)
      expect(back.sort(byKey).map(plain)).toEqual([...blocks].sort(byKey).map(plain))
    })
  }

  it('a run ends at a short block, a gap, another segment or the row cap', () => {
    const rand = seeded(9)
    const full = (s: number, b: number) => block(s, b, VECTOR_BLOCK_ROWS, 4, rand)
    const runs = packQuantized([full(0, 0), block(0, 1, 10, 4, rand), full(0, 2), full(0, 4), full(1, 5), ...Array.from({ length: 70 }, (_, i) => full(2, i))])
    expect(runs.map((r) => [r.segment, r.block, r.seqs.length])).toEqual([
      [0, 0, 74],
      [0, 2, 64],
      [0, 4, 64],
      [1, 5, 64],
      [2, 0, QUANTIZED_RUN_ROWS],
      [2, 64, 6 * 64],
    ])
  })

  it('a record of one 64-row block (as written before runs) reads as itself', () => {
    const one = block(3, 7, VECTOR_BLOCK_ROWS, 4, seeded(10))
    expect(splitQuantized(one)).toEqual([one])
  })
})
