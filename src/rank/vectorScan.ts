/**
 * The vector first stage: a brute-force scan over int8 codes picks `candidateCount(k)` approximate
 * neighbours, then {@link rescoreExact} ranks those few by their exact fp32 cosine. Brute force
 * because an on-device collection is 10^4-10^5 chunks: a full int8 scan of 100k × 384 takes
 * ~2.7 ms with the WebAssembly SIMD kernel (~33 ms with the JavaScript loop it falls back to);
 * every row is scored (no graph or partition to miss neighbours), and there is no index to build
 * or persist.
 *
 * Measured with `bench/scan-kernel.mjs` (Node 20.20 / V8 11.3, 2-core Xeon VM shared with other
 * work, random unit vectors, 50 queries, 64-row blocks loaded through `ChunkTable`), p50 of scan +
 * {@link rescoreExact} of `candidateCount(10)` = 50 candidates, range over four runs:
 *
 * | rows × 384 | JavaScript     | WebAssembly SIMD | of which the kernel |
 * |------------|----------------|------------------|---------------------|
 * | 10k        | 3.4-3.8 ms     | 0.33-0.40 ms     | 0.19-0.20 ms        |
 * | 100k       | 32.8-36.3 ms   | 2.6-2.9 ms       | 1.9-2.1 ms          |
 *
 * Both paths return bit-identical slots and scores (the bench checks every query, the unit tests
 * random data at 3-1000 dims).
 */
import type { VectorArena } from '../core/int8Kernel.js'
import type { QuantizedBlock } from './quantizedBlock.js'
import { quantizeInto } from '../core/quantize.js'
import { TopK } from '../core/topk.js'
import { dot, isFiniteVector } from '../core/vector.js'
import { WinnowError } from '../errors.js'
import { type ArenaQuery, scanArenaRun } from './arenaScan.js'


/** Slots and scores, best first; ties go to the smaller slot. */
export interface ScoredSlots {
  slots: Int32Array
  scores: Float64Array
}

/**
 * Approximate top-`n` slots by int8 dot product with `query`. Rows whose slot is negative, or not
 * allowed (`allowed[slot] === 0`, or `slot >= allowed.length`), are skipped before the top-n, so `n`
 * results come back whenever at least `n` rows are allowed. Scores approximate the cosine to ~1e-3;
 * rerank them with {@link rescoreExact}.
 *
 * Blocks whose codes live in a {@link VectorArena} (what `ChunkTable` builds where WebAssembly SIMD
 * runs) go to the SIMD kernel, a run of back-to-back blocks per few calls (see `arenaScan.ts`):
 * ~12× faster than the JavaScript loop, which still scores every other block (no SIMD, no arena).
 * The integer sums are the same on both paths, and so are the scores and ties.
 *
 * How the JavaScript loop is fast (measured on Node 20 / V8, 100k × 384): the query is quantized to
 * int8 too, so the inner loop is pure Int32 arithmetic (`| 0` keeps V8 on its integer path). An fp32
 * query over the same codes was ~10 % slower with byte loads and ~30 % slower with word loads, and
 * no more accurate after rescoring: the rows' own rounding dominates the error (an int16-precision or fp32 query
 * left recall@10 unchanged to three decimals). When the codes are 4-byte aligned and
 * `dims % 4 === 0` (384, 768, 1024 ...), four codes come from one Int32 load, split by shifts: ~1.5×
 * faster than byte loads. The per-row scale is applied once per row, after the integer sum, and
 * nothing is allocated per row.
 *
 * @throws WinnowError `DIMENSION_MISMATCH` when a block's `dims` differs from `query.length`;
 *   `INVALID_INPUT` when the query has a non-finite component or a block's arrays are too short.
 * @example
 * const { slots } = scanQuantized(query, blocks, candidateCount(10, total), allowed)
 */
export function scanQuantized(
  query: Float32Array,
  blocks: readonly QuantizedBlock[],
  n: number,
  allowed: Uint8Array | null = null,
): ScoredSlots {
  const dims = query.length
  for (const block of blocks) checkBlock(block, dims)
  if (!isFiniteVector(query)) {
    throw new WinnowError('INVALID_INPUT', 'The query vector has a NaN or infinite component; check the embedder output.')
  }
  const top = new TopK(n)
  if (top.capacity === 0 || dims === 0) return empty()

  const qCodes = new Int8Array(dims)
  const qScaleBox = new Float32Array(1)
  quantizeInto(query, dims, qCodes, qScaleBox, 0)
  const qScale = qScaleBox[0]!
  // Widened to Int32 so the multiply needs no sign extension in the loop, and permuted to the
  // order in which the word path extracts bytes (which depends on the platform's endianness).
  const qLanes = new Int32Array(dims)
  const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1
  for (let i = 0; i < dims; i++) qLanes[i] = qCodes[littleEndian ? i : (i & ~3) | (3 - (i & 3))]!
  const qPlain = littleEndian ? qLanes : Int32Array.from(qCodes)

  const arenaQuery: ArenaQuery = { codes: qCodes, scale: qScale, loaded: null }
  for (let b = 0; b < blocks.length; ) {
    const block = blocks[b]!
    if (block.arena) {
      b = scanArenaRun(arenaQuery, blocks, b, allowed, top)
      continue
    }
    b++
    const rows = block.slots.length
    if (rows === 0) continue
    if (dims % 4 === 0 && block.codes.byteOffset % 4 === 0) {
      const words = new Int32Array(block.codes.buffer, block.codes.byteOffset, (rows * dims) >> 2)
      scanWords(qLanes, qScale, words, block, rows, allowed, top)
    } else {
      scanBytes(qPlain, qScale, block, rows, allowed, top)
    }
  }
  const { ids, scores } = top.sorted()
  return { slots: ids, scores }
}

/**
 * Exact top-`k` among `candidates` by cosine, i.e. by fp32 dot product since stored vectors are
 * unit length. `vectors` holds the candidates' fp32 rows in the same order as `candidates`.
 * Negative candidate slots are skipped.
 *
 * @throws WinnowError `DIMENSION_MISMATCH` when `query.length !== dims`; `INVALID_INPUT` when
 *   `vectors` is shorter than `candidates.length * dims`.
 * @example
 * const approx = scanQuantized(query, blocks, candidateCount(10, total))
 * const best = rescoreExact(query, approx.slots, store.vectorsOf(approx.slots), 384, 10)
 */
export function rescoreExact(
  query: Float32Array,
  candidates: Int32Array,
  vectors: Float32Array,
  dims: number,
  k: number,
): ScoredSlots {
  if (query.length !== dims) {
    throw new WinnowError('DIMENSION_MISMATCH', `The query has ${query.length} dimensions but the vectors have ${dims}; embed with the collection's model.`, {
      expected: dims,
      actual: query.length,
    })
  }
  if (vectors.length < candidates.length * dims) {
    throw new WinnowError('INVALID_INPUT', `rescoreExact needs ${candidates.length * dims} vector values for ${candidates.length} candidates, got ${vectors.length}.`)
  }
  const top = new TopK(k)
  for (let c = 0; c < candidates.length; c++) {
    const slot = candidates[c]!
    if (slot < 0) continue
    top.push(slot, dot(vectors, query, c * dims, 0, dims))
  }
  const { ids, scores } = top.sorted()
  return { slots: ids, scores }
}

/** Standard deviations of the int8 score's error that {@link rescoreCut} allows for, each way. */
export const CUT_SIGMAS = 6

/**
 * How many of an int8 scan's candidates (best first) can still be among the exact top `k`, so that
 * only their fp32 rows need reading: those whose int8 score is at least the k-th one's minus twice
 * `CUT_SIGMAS` standard deviations of the int8 score's error (a candidate's exact score can be that
 * much above its int8 score while the k-th's is that much below).
 *
 * The error: a unit query and a unit row quantized with scales `s_q` and `s_x` (`max |v_i| / 127`)
 * each round every component by at most half a step, close to uniformly, so the int8 dot product
 * is off by about `N(0, (s_q² + s_x²) / 12)` — 6.5e-4 for 384-dim random unit vectors, whose
 * largest error over 5,000 pairs measured 1.3e-3 (`bench/rescore-precision.mjs`), and 1.4e-3
 * on rows whose scale three outlier dimensions set, largest measured error 4.7e-3. `rowScale` is
 * the largest scale among the rows scanned, so one coarse row widens the cut, never narrows it. A
 * strict bound (every rounding error at its worst) is ~0.025 at 384 dimensions: wider than the gap
 * between the 10th and 50th candidates of a clustered million (0.038 median), so it would save
 * nothing. At 1M × 384 (topics) 13–18 of 50 candidates fall within the cut.
 *
 * @example
 * const keep = rescoreCut(approx.scores, 10, queryScale(q), maxRowScale(blocks)) // e.g. 16 of 50
 */
export function rescoreCut(scores: Float64Array, k: number, queryScale: number, rowScale: number): number {
  if (scores.length <= k) return scores.length
  if (!(k > 0)) return 0
  const sigma = Math.sqrt((queryScale * queryScale + rowScale * rowScale) / 12)
  const floor = scores[k - 1]! - 2 * CUT_SIGMAS * sigma
  let keep = k
  while (keep < scores.length && scores[keep]! >= floor) keep++
  return keep
}

/** The int8 scale of `query` as the scan quantizes it: `max |q_i| / 127`. */
export function queryScale(query: Float32Array): number {
  let max = 0
  for (let i = 0; i < query.length; i++) {
    const a = Math.abs(query[i]!)
    if (a > max) max = a
  }
  return max / 127
}

/** The largest row scale among the rows of `blocks` (~30 µs for 50k rows). */
export function maxRowScale(blocks: readonly QuantizedBlock[]): number {
  let max = 0
  for (const block of blocks) {
    const { scales } = block
    for (let r = 0, rows = block.slots.length; r < rows; r++) if (scales[r]! > max) max = scales[r]!
  }
  return max
}

/**
 * How many int8 candidates to rescore so that the exact top-`k` survives: `k + max(k, 40)`, capped
 * at `total` (k = 10 → 50, k = 100 → 200).
 *
 * Measured with this module (384 dims, 20k vectors, 50-200 queries each; recall@k of
 * scan + {@link rescoreExact} against exact fp32 brute force):
 * - random unit vectors, and 200 isotropic clusters: recall@10 = 1.0 from 15 candidates on;
 * - 200 anisotropic clusters sharing three outlier dimensions, intra-cluster cosine ≈ 0.98 (the
 *   int8 step is coarse there because the outliers set each row's scale): recall@10 = 0.95 at 20,
 *   0.99 at 30, 1.0 at 40-50; recall@100 ≥ 0.9998 at 150 and 1.0 at 200.
 * So 40 extra candidates cover small k and 2k covers large k. Beyond that, near-duplicate clusters
 * (cosine ≈ 0.99 among 100 rows) stay below 0.9 even at 50: no 8-bit code resolves such gaps.
 * Rescoring is cheap (a few hundred fp32 dot products) next to the scan; what grows with this
 * number is how many fp32 blocks the caller must read.
 *
 * @example
 * candidateCount(10, 100_000)  // 50
 * candidateCount(100, 100_000) // 200
 * candidateCount(10, 25)       // 25
 */
export function candidateCount(k: number, total: number): number {
  if (!(k > 0) || !(total > 0)) return 0
  const kk = Math.ceil(k)
  return Math.min(Math.floor(total), kk + Math.max(kk, 40))
}

// The block's arrays come from storage; a short array would read as zeros past its end and
// silently score rows wrong, so reject it up front.
function checkBlock(block: QuantizedBlock, dims: number): void {
  if (block.dims !== dims) {
    throw new WinnowError('DIMENSION_MISMATCH', `The query has ${dims} dimensions but the collection's vectors have ${block.dims}; embed with the collection's model.`, {
      expected: block.dims,
      actual: dims,
    })
  }
  const rows = block.slots.length
  if (block.codes.length < rows * dims || block.scales.length < rows) {
    throw new WinnowError('INVALID_INPUT', `A quantized block of ${rows} rows needs ${rows * dims} codes and ${rows} scales, has ${block.codes.length} and ${block.scales.length}.`)
  }
}

// Four codes per Int32 load, split by shift pairs that sign-extend each byte.
function scanWords(
  q: Int32Array,
  qScale: number,
  words: Int32Array,
  block: QuantizedBlock,
  rows: number,
  allowed: Uint8Array | null,
  top: TopK,
): void {
  const { slots, scales } = block
  const wordsPerRow = block.dims >> 2
  const allowedLength = allowed === null ? 0 : allowed.length
  for (let r = 0; r < rows; r++) {
    const slot = slots[r]!
    if (slot < 0) continue
    if (allowed !== null && (slot >= allowedLength || allowed[slot] === 0)) continue
    // Two accumulators shorten the dependency chain; each stays far below 2^31 (127² · dims / 2).
    let a0 = 0
    let a1 = 0
    for (let w = r * wordsPerRow, end = w + wordsPerRow, j = 0; w < end; w++, j += 4) {
      const v = words[w]!
      a0 = (a0 + q[j]! * ((v << 24) >> 24) + q[j + 1]! * ((v << 16) >> 24)) | 0
      a1 = (a1 + q[j + 2]! * ((v << 8) >> 24) + q[j + 3]! * (v >> 24)) | 0
    }
    top.push(slot, (a0 + a1) * scales[r]! * qScale)
  }
}

// Fallback for unaligned codes or dims not a multiple of 4.
function scanBytes(
  q: Int32Array,
  qScale: number,
  block: QuantizedBlock,
  rows: number,
  allowed: Uint8Array | null,
  top: TopK,
): void {
  const { slots, scales, codes, dims } = block
  const allowedLength = allowed === null ? 0 : allowed.length
  for (let r = 0; r < rows; r++) {
    const slot = slots[r]!
    if (slot < 0) continue
    if (allowed !== null && (slot >= allowedLength || allowed[slot] === 0)) continue
    let acc = 0
    for (let i = 0, c = r * dims; i < dims; i++, c++) acc = (acc + q[i]! * codes[c]!) | 0
    top.push(slot, acc * scales[r]! * qScale)
  }
}

function empty(): ScoredSlots {
  return { slots: new Int32Array(0), scores: new Float64Array(0) }
}
