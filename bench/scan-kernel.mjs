// node bench/scan-kernel.mjs — the exact vector first stage in Node: int8 scan (JavaScript loop vs
// the WebAssembly SIMD kernel over the vector arena) + exact fp32 rescoring of candidateCount(10)
// candidates, over random unit vectors. Imports the built library: run `node scripts/build-lib.mjs`
// first. Prints p50/p90 per size and path, and the kernel's share; never part of the tests.
//
//   node bench/scan-kernel.mjs [--sizes 10000,100000] [--dims 384] [--queries 50]
import os from 'node:os'
import { parseArgs } from 'node:util'
import { defaultInt8Kernel, ARENA_CHUNK_ROWS } from '../dist/core/int8Kernel.js'
import { quantize } from '../dist/core/quantize.js'
import { ChunkTable } from '../dist/collection/chunkTable.js'
import { candidateCount, rescoreExact, scanQuantized } from '../dist/rank/vectorScan.js'

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    dims: { type: 'string', default: '384' },
    queries: { type: 'string', default: '50' },
  },
})
const DIMS = Number(args.dims)
const QUERIES = Number(args.queries)
const BLOCK_ROWS = 64 // VECTOR_BLOCK_ROWS
const SEGMENT_ROWS = 10_000

const kernel = defaultInt8Kernel()
if (!kernel) throw new Error('this Node has no WebAssembly SIMD; nothing to compare')

function gaussian(seed) {
  let a = seed >>> 0
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return () => Math.sqrt(-2 * Math.log(uniform() || 1e-12)) * Math.cos(2 * Math.PI * uniform())
}

function unitRows(rows, seed) {
  const g = gaussian(seed)
  const out = new Float32Array(rows * DIMS)
  for (let r = 0; r < rows; r++) {
    let s = 0
    for (let i = 0; i < DIMS; i++) s += (out[r * DIMS + i] = g()) ** 2
    const inv = 1 / Math.sqrt(s)
    for (let i = 0; i < DIMS; i++) out[r * DIMS + i] *= inv
  }
  return out
}

/** Segments of 64-row int8 blocks, as the store returns them at reopen. */
function recordsOf(vectors, rows) {
  const records = []
  for (let first = 0, id = 1; first < rows; first += SEGMENT_ROWS, id++) {
    const n = Math.min(SEGMENT_ROWS, rows - first)
    const seqs = Uint32Array.from({ length: n }, (_, i) => first + i)
    const quantized = []
    for (let b = 0; b * BLOCK_ROWS < n; b++) {
      const from = first + b * BLOCK_ROWS
      const to = Math.min(first + n, from + BLOCK_ROWS)
      const { codes, scales } = quantize(vectors.subarray(from * DIMS, to * DIMS), DIMS)
      quantized.push({ segment: id, block: b, dims: DIMS, seqs: seqs.slice(b * BLOCK_ROWS, b * BLOCK_ROWS + (to - from)), codes, scales })
    }
    const segment = {
      id,
      seqs,
      lengths: new Uint32Array(n).fill(1),
      docOf: Uint32Array.from({ length: n }, (_, i) => i),
      docs: Array.from({ length: n }, (_, i) => ({ id: `d${first + i}` })),
      vectorBlocks: Math.ceil(n / BLOCK_ROWS),
    }
    records.push({ segment, quantized })
  }
  return records
}

/** A ChunkTable loaded the way a collection reopens one, and how long that took. */
function tableOf(records, withKernel) {
  const start = performance.now()
  const table = new ChunkTable({ kernel: withKernel ? kernel : null })
  table.reserveArena(records.flatMap((r) => r.quantized))
  for (const { segment, quantized } of records) table.addSegment(segment, quantized)
  return { table, loadMs: performance.now() - start }
}

function firstStage(query, table, vectors, total) {
  const approx = scanQuantized(query, table.blocks, candidateCount(10, total))
  const gathered = new Float32Array(approx.slots.length * DIMS)
  approx.slots.forEach((slot, i) => gathered.set(vectors.subarray(slot * DIMS, (slot + 1) * DIMS), i * DIMS))
  return rescoreExact(query, approx.slots, gathered, DIMS, 10)
}

function timed(fn, queries) {
  for (const q of queries.slice(0, 20)) fn(q) // warm-up: JIT tiers
  const times = queries.map((q) => {
    const start = performance.now()
    fn(q)
    return performance.now() - start
  })
  times.sort((a, b) => a - b)
  return { p50: times[Math.floor(times.length / 2)], p90: times[Math.floor(times.length * 0.9)] }
}

const fmt = (x) => x.toFixed(2).padStart(7)
console.log(`${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.version}; ${DIMS} dims, ${QUERIES} queries, top-10 of ${'candidateCount(10)'} int8 candidates`)
const sizes = args.sizes.split(',').map(Number)
const vectors = unitRows(Math.max(...sizes), 1)
const queryVectors = Array.from({ length: QUERIES }, (_, i) => unitRows(1, 1000 + i))

for (const rows of sizes) {
  const records = recordsOf(vectors, rows)
  const { table: js, loadMs: jsLoad } = tableOf(records, false)
  const { table: wasm, loadMs: wasmLoad } = tableOf(records, true)
  const mismatches = queryVectors.filter((q) => {
    const a = scanQuantized(q, js.blocks, candidateCount(10, rows))
    const b = scanQuantized(q, wasm.blocks, candidateCount(10, rows))
    return a.slots.join() !== b.slots.join() || a.scores.join() !== b.scores.join()
  }).length
  const { codes, memory } = wasm.arenaBytes()
  console.log(`\n${rows.toLocaleString('en')} × ${DIMS}: arena ${(codes / 2 ** 20).toFixed(1)} MiB of codes in ${(memory / 2 ** 20).toFixed(1)} MiB of memory; WASM vs JS results differ on ${mismatches} of ${QUERIES} queries; loading the table ${jsLoad.toFixed(1)} ms without the arena, ${wasmLoad.toFixed(1)} ms with it`)
  // The kernel alone, for its share of the scan: the same arena, every row, no scales or top-k.
  const arena = wasm.blocks[0].arena.arena
  const start = wasm.blocks[0].arena.offset
  const kernelOnly = timed((q) => {
    arena.setQuery(quantize(q, DIMS).codes)
    for (let r = 0; r < rows; r += ARENA_CHUNK_ROWS) arena.dots(start + r * DIMS, Math.min(ARENA_CHUNK_ROWS, rows - r), DIMS)
  }, queryVectors)
  const lines = [
    ['JS scan', timed((q) => scanQuantized(q, js.blocks, candidateCount(10, rows)), queryVectors)],
    ['JS scan + rescore', timed((q) => firstStage(q, js, vectors, rows), queryVectors)],
    ['WASM scan', timed((q) => scanQuantized(q, wasm.blocks, candidateCount(10, rows)), queryVectors)],
    ['WASM scan + rescore', timed((q) => firstStage(q, wasm, vectors, rows), queryVectors)],
    ['  of which the kernel', kernelOnly],
  ]
  console.log(`${''.padEnd(22)}  p50 ms  p90 ms`)
  for (const [name, t] of lines) console.log(`${name.padEnd(22)}${fmt(t.p50)} ${fmt(t.p90)}`)
}
