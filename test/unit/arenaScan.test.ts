import { describe, expect, it } from 'vitest'
import { loadInt8Kernel, type Int8Kernel, type VectorArena } from '../../src/core/int8Kernel.js'
import { quantize } from '../../src/core/quantize.js'
import { WinnowError } from '../../src/errors.js'
import { ChunkTable } from '../../src/collection/chunkTable.js'
import type { QuantizedBlock } from '../../src/rank/quantizedBlock.js'
import { scanQuantized } from '../../src/rank/vectorScan.js'
import type { QuantizedBlockRecord, SegmentRecord } from '../../src/store/types.js'
import { VECTOR_BLOCK_ROWS } from '../../src/store/types.js'
import { seeded } from './helpers.js'

const kernel = loadInt8Kernel() as Int8Kernel

function newArena(): VectorArena {
  return kernel.createArena()!
}

/** Random unit-ish rows; every 7th row repeats an earlier one, so equal scores (ties) occur. */
function randomRows(rows: number, dims: number, seed: number): Float32Array {
  const random = seeded(seed)
  const out = new Float32Array(rows * dims)
  for (let r = 0; r < rows; r++) {
    if (r % 7 === 6) out.copyWithin(r * dims, (r - 5) * dims, (r - 4) * dims)
    else for (let i = 0; i < dims; i++) out[r * dims + i] = random() * 2 - 1
  }
  return out
}

/** JavaScript blocks of `blockRows` rows (the last may be shorter), slots from `firstSlot` on. */
function jsBlocks(vectors: Float32Array, dims: number, blockRows: number, firstSlot = 0): QuantizedBlock[] {
  const { codes, scales } = quantize(vectors, dims)
  const rows = scales.length
  const blocks: QuantizedBlock[] = []
  for (let from = 0; from < rows; from += blockRows) {
    const to = Math.min(rows, from + blockRows)
    blocks.push({
      slots: Int32Array.from({ length: to - from }, (_, i) => firstSlot + from + i),
      dims,
      codes: codes.slice(from * dims, to * dims),
      scales: scales.slice(from, to),
    })
  }
  return blocks
}

/** The same blocks with their codes copied into `arena`, back to back (as ChunkTable places them). */
function inArena(blocks: QuantizedBlock[], arena: VectorArena): QuantizedBlock[] {
  const placed = blocks.map((b) => {
    const offset = arena.append(b.codes)
    return { ...b, slots: Int32Array.from(b.slots), arena: { arena, offset } }
  })
  // Views taken after the last growth.
  return placed.map((b) => ({ ...b, codes: arena.view(b.arena.offset, b.codes.length) }))
}

function expectSame(a: { slots: Int32Array; scores: Float64Array }, b: { slots: Int32Array; scores: Float64Array }): void {
  expect(Array.from(a.slots)).toEqual(Array.from(b.slots))
  expect(Array.from(a.scores)).toEqual(Array.from(b.scores))
}

function queryOf(dims: number, seed: number): Float32Array {
  const random = seeded(seed)
  return Float32Array.from({ length: dims }, () => random() * 2 - 1)
}

function catchCode(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (e) {
    if (e instanceof WinnowError) return e.code
    throw e
  }
  return undefined
}

describe('scanQuantized over arena blocks (WebAssembly) vs JavaScript blocks', () => {
  it('has a kernel to test in this Node', () => {
    expect(kernel).not.toBeNull()
  })

  it.each([384, 16, 17, 3, 1000])('gives identical slots and scores, ties included, for %i dims', (dims) => {
    const rows = dims >= 384 ? 700 : 2000
    const vectors = randomRows(rows, dims, dims)
    const js = jsBlocks(vectors, dims, VECTOR_BLOCK_ROWS)
    const wasm = inArena(js, newArena())
    for (const seed of [1, 2, 3]) {
      const query = queryOf(dims, seed)
      expectSame(scanQuantized(query, wasm, 10), scanQuantized(query, js, 10))
      const all = scanQuantized(query, wasm, rows)
      expectSame(all, scanQuantized(query, js, rows))
      expect(all.slots.length).toBe(rows)
    }
    // The repeated rows do tie, and the smaller slot comes first.
    const full = scanQuantized(queryOf(dims, 1), wasm, rows)
    const at = (slot: number) => Array.from(full.slots).indexOf(slot)
    expect(full.scores[at(6)]).toBe(full.scores[at(1)])
    expect(at(1)).toBeLessThan(at(6))
  })

  it('reads the arena, not `codes`: the kernel really runs', () => {
    const dims = 32
    const js = jsBlocks(randomRows(200, dims, 5), dims, 64)
    const wasm = inArena(js, newArena()).map((b) => ({ ...b, codes: new Int8Array(b.codes.length) }))
    const query = queryOf(dims, 9)
    expectSame(scanQuantized(query, wasm, 20), scanQuantized(query, js, 20))
  })

  it('applies the allowed mask the same way: filtered rows, short masks, wholly filtered blocks', () => {
    const dims = 384
    const rows = 1500
    const js = jsBlocks(randomRows(rows, dims, 21), dims, VECTOR_BLOCK_ROWS)
    const wasm = inArena(js, newArena())
    const random = seeded(22)
    const query = queryOf(dims, 23)
    const sparse = Uint8Array.from({ length: rows }, () => (random() < 0.3 ? 1 : 0))
    sparse.fill(0, 64, 320) // blocks 1-4 have nothing allowed: the run breaks and resumes
    const short = new Uint8Array(700).fill(1) // slots ≥ 700 count as not allowed
    const none = new Uint8Array(rows)
    for (const allowed of [sparse, short, none]) {
      for (const n of [10, 50, rows]) {
        const got = scanQuantized(query, wasm, n, allowed)
        expectSame(got, scanQuantized(query, js, n, allowed))
        for (const slot of got.slots) expect(allowed[slot]).toBe(1)
      }
    }
    expect(scanQuantized(query, wasm, 50, none).slots.length).toBe(0)
    expect(scanQuantized(query, wasm, rows, short).slots.length).toBe(700)
  })

  it('skips negative slots the same way, including a block of only deleted rows', () => {
    const dims = 48
    const js = jsBlocks(randomRows(640, dims, 31), dims, 64)
    const random = seeded(32)
    for (const b of js) for (let r = 0; r < b.slots.length; r++) if (random() < 0.2) b.slots[r] = -1
    js[3]!.slots.fill(-1)
    const wasm = inArena(js, newArena())
    const query = queryOf(dims, 33)
    const all = scanQuantized(query, wasm, 640)
    expectSame(all, scanQuantized(query, js, 640))
    expect(Array.from(all.slots)).not.toContain(-1)
    expect(all.slots.length).toBe(js.reduce((n, b) => n + b.slots.filter((s) => s >= 0).length, 0))
  })

  it('handles many blocks across kernel windows, one block larger than a window, and mixed or split arenas', () => {
    const dims = 64
    const vectors = randomRows(15_000, dims, 41)
    const js = jsBlocks(vectors, dims, VECTOR_BLOCK_ROWS) // 235 blocks, 15,000 rows > 3 windows
    const query = queryOf(dims, 42)
    const expected = scanQuantized(query, js, 100)
    expectSame(scanQuantized(query, inArena(js, newArena()), 100), expected)
    // 100-row blocks straddle the kernel's 4,096-row windows; ranking every row shows none is lost
    // or read from the wrong window.
    const uneven = jsBlocks(vectors, dims, 100)
    const everything = scanQuantized(query, inArena(uneven, newArena()), 15_000)
    expectSame(everything, scanQuantized(query, uneven, 15_000))
    expect(everything.slots.length).toBe(15_000)
    // One 5,056-row block, then two arenas, then JavaScript blocks, in an order that breaks runs.
    const big = jsBlocks(vectors.subarray(0, 79 * 64 * dims), dims, 79 * 64) // 5,056 rows
    const rest = js.slice(79)
    const first = inArena(big, newArena())
    const second = newArena()
    const tail = inArena(rest.filter((_, i) => i % 3 !== 0), second)
    const mixed = [rest[0]!, ...tail.reverse(), ...first, ...rest.filter((_, i) => i % 3 === 0 && i > 0)]
    expectSame(scanQuantized(query, mixed, 100), expected)
  })

  it('keeps the errors: dims mismatch, a non-finite query', () => {
    const js = jsBlocks(randomRows(100, 16, 51), 16, 64)
    const wasm = inArena(js, newArena())
    expect(catchCode(() => scanQuantized(new Float32Array(8).fill(0.1), wasm, 5))).toBe('DIMENSION_MISMATCH')
    const nan = queryOf(16, 52)
    nan[2] = NaN
    expect(catchCode(() => scanQuantized(nan, wasm, 5))).toBe('INVALID_INPUT')
  })
})

// --- ChunkTable: the arena as the collection builds it ---

function segmentOf(id: number, firstSeq: number, vectors: Float32Array, dims: number): { segment: SegmentRecord; quantized: QuantizedBlockRecord[] } {
  const rows = vectors.length / dims
  const seqs = Uint32Array.from({ length: rows }, (_, i) => firstSeq + i)
  const segment: SegmentRecord = {
    id,
    seqs,
    lengths: new Uint32Array(rows).fill(3),
    docOf: Uint32Array.from({ length: rows }, (_, i) => i),
    docs: Array.from({ length: rows }, (_, i) => ({ id: `d${firstSeq + i}` })),
    vectorBlocks: Math.ceil(rows / VECTOR_BLOCK_ROWS),
  }
  const quantized: QuantizedBlockRecord[] = []
  for (let b = 0; b * VECTOR_BLOCK_ROWS < rows; b++) {
    const part = vectors.subarray(b * VECTOR_BLOCK_ROWS * dims, Math.min(rows, (b + 1) * VECTOR_BLOCK_ROWS) * dims)
    const { codes, scales } = quantize(part, dims)
    quantized.push({ segment: id, block: b, dims, seqs: seqs.slice(b * VECTOR_BLOCK_ROWS, b * VECTOR_BLOCK_ROWS + scales.length), codes, scales })
  }
  return { segment, quantized: quantized.reverse() } // addSegment sorts by block
}

describe('ChunkTable vector arena', () => {
  const dims = 384

  function build(kernelOption: Int8Kernel | null, segments: number, rowsEach: number) {
    const table = new ChunkTable({ kernel: kernelOption })
    const plain: QuantizedBlock[] = []
    let seq = 0
    for (let s = 0; s < segments; s++) {
      const rows = rowsEach + (s % 5) * 13 // uneven: partial last blocks
      const { segment, quantized } = segmentOf(s + 1, seq, randomRows(rows, dims, 1000 + s), dims)
      const first = table.size
      table.addSegment(segment, quantized)
      for (const q of [...quantized].sort((a, b) => a.block - b.block)) {
        plain.push({ slots: Int32Array.from(q.seqs, (_, r) => first + q.block * VECTOR_BLOCK_ROWS + r), dims, codes: q.codes, scales: q.scales })
      }
      seq += rows
    }
    return { table, plain }
  }

  it('copies every block into one arena across many addSegment calls, and its views stay valid after growth', () => {
    const { table, plain } = build(kernel, 40, 150)
    const { codes, memory } = table.arenaBytes()
    const rows = plain.reduce((n, b) => n + b.slots.length, 0)
    expect(codes).toBe(rows * dims)
    expect(memory).toBeGreaterThan(codes)
    expect(memory).toBeLessThan(codes * 1.25 + 147_456 + 2 * 65_536)
    expect(table.blocks.every((b) => b.arena !== undefined)).toBe(true)
    for (const [i, b] of table.blocks.entries()) {
      expect(b.codes.length).toBe(b.slots.length * dims) // not detached
      expect(Buffer.from(b.codes.buffer, b.codes.byteOffset, b.codes.length).equals(Buffer.from(plain[i]!.codes.buffer))).toBe(true)
      if (i > 0) expect(b.arena!.offset).toBe(table.blocks[i - 1]!.arena!.offset + table.blocks[i - 1]!.codes.length)
    }
    for (const seed of [61, 62]) {
      const query = queryOf(dims, seed)
      expectSame(scanQuantized(query, table.blocks, 50), scanQuantized(query, plain, 50))
    }
  })

  it('grows once, to the size needed, when the whole table is reserved first (as a reopen does)', () => {
    const table = new ChunkTable({ kernel })
    const segments = Array.from({ length: 20 }, (_, s) => segmentOf(s + 1, s * 150, randomRows(150, dims, 2000 + s), dims))
    table.reserveArena(segments.flatMap((s) => s.quantized))
    const { memory } = table.arenaBytes()
    for (const { segment, quantized } of segments) table.addSegment(segment, quantized)
    const after = table.arenaBytes()
    expect(after.codes).toBe(20 * 150 * dims)
    expect(after.memory).toBe(memory) // no growth while adding
    expect(after.memory).toBeLessThan(after.codes + 147_456 + 65_536) // no spare quarter
    const plain = segments.flatMap(({ quantized }, s) =>
      [...quantized].sort((a, b) => a.block - b.block).map((q) => ({ slots: Int32Array.from(q.seqs, (_, r) => s * 150 + q.block * VECTOR_BLOCK_ROWS + r), dims, codes: q.codes, scales: q.scales })),
    )
    const query = queryOf(dims, 63)
    expectSame(scanQuantized(query, table.blocks, 40), scanQuantized(query, plain, 40))
  })

  it('keeps blocks in JavaScript without a kernel (SIMD reported unavailable), with the same results', () => {
    const fallback = loadInt8Kernel({ validate: () => false })
    expect(fallback).toBeNull()
    const simd = build(kernel, 6, 200)
    const none = build(fallback, 6, 200)
    expect(none.table.blocks.some((b) => b.arena !== undefined)).toBe(false)
    expect(none.table.arenaBytes()).toEqual({ codes: 0, memory: 0 })
    const query = queryOf(dims, 71)
    expectSame(scanQuantized(query, none.table.blocks, 30), scanQuantized(query, simd.table.blocks, 30))
  })

  it('leaves a block with too few codes in JavaScript, so that the scan still reports INVALID_INPUT', () => {
    const table = new ChunkTable({ kernel })
    const { segment, quantized } = segmentOf(1, 0, randomRows(100, dims, 81), dims)
    quantized[0] = { ...quantized[0]!, codes: quantized[0]!.codes.subarray(0, 10) }
    table.addSegment(segment, quantized)
    expect(table.blocks.filter((b) => b.arena === undefined).length).toBe(1)
    expect(catchCode(() => scanQuantized(queryOf(dims, 82), table.blocks, 5))).toBe('INVALID_INPUT')
  })

  it('copies only the rows of a record whose codes have spare capacity', () => {
    const table = new ChunkTable({ kernel })
    const { segment, quantized } = segmentOf(1, 0, randomRows(64, dims, 91), dims)
    const padded = new Int8Array(quantized[0]!.codes.length + 1000).fill(99)
    padded.set(quantized[0]!.codes)
    table.addSegment(segment, [{ ...quantized[0]!, codes: padded }])
    expect(table.arenaBytes().codes).toBe(64 * dims)
  })
})
