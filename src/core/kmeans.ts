/**
 * Spherical k-means over unit vectors, the training half of the ANN index (`collection/ivfBuild.ts`):
 * centroids are unit means of their rows, and a row belongs to the centroid with the largest dot
 * product (its cosine). Every step here is synchronous and bounded, so the caller can yield between
 * steps; randomness comes from a seeded generator, so the same rows and seed give the same lists.
 *
 * Assignment is the cost (rows × lists × dims multiply-adds), so it runs on the int8 kernel where
 * WebAssembly SIMD is available: the centroids are quantized once per step into an arena and each
 * row, quantized too, is scored against all of them in one kernel call. int8 picks the same
 * centroid as fp32 except between near-ties (cosines within ~1e-3), where either is a fine list.
 */
import { defaultInt8Kernel, ARENA_CHUNK_ROWS, ARENA_MAX_DIMS, VectorArena, type Int8Kernel } from './int8Kernel.js'
import { quantizeInto } from './quantize.js'

/**
 * `count` distinct indices of `[0, n)` in ascending order, drawn with `random` (a partial
 * Fisher-Yates shuffle over a sparse map, so memory is O(count)).
 *
 * @example
 * sampleIndices(1_000_000, 32_000, seededRandom(1))
 */
export function sampleIndices(n: number, count: number, random: () => number): Uint32Array {
  const k = Math.min(n, count)
  const swapped = new Map<number, number>()
  const out = new Uint32Array(k)
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i))
    const at = swapped.get(j) ?? j
    swapped.set(j, swapped.get(i) ?? i)
    out[i] = at
  }
  return out.sort()
}

/**
 * Finds, for rows, the nearest of a fixed set of unit centroids. Holds the centroids' int8 codes
 * in an arena when a kernel is available, else scores them in fp32 in JavaScript.
 *
 * Pass an arena to reuse instead of a kernel (it is reset: one scorer per arena at a time).
 *
 * @example
 * const nearest = new NearestCentroid(centroids, lists, dims)
 * nearest.assign(rows, 0, n, out)
 */
export class NearestCentroid {
  private readonly arena: VectorArena | null
  private readonly offset: number
  private readonly scales: Float32Array
  private readonly rowCodes: Int8Array
  private readonly rowScale = new Float32Array(1)
  private row: Float32Array = new Float32Array(0)

  constructor(
    private readonly centroids: Float32Array,
    readonly lists: number,
    readonly dims: number,
    kernel: Int8Kernel | VectorArena | null = defaultInt8Kernel(),
  ) {
    this.rowCodes = new Int8Array(dims)
    this.scales = new Float32Array(lists)
    const codes = new Int8Array(lists * dims)
    quantizeInto(centroids.subarray(0, lists * dims), dims, codes, this.scales, 0)
    // A given arena is reset and reused: k-means makes a scorer per round, and a WebAssembly
    // memory per scorer would reserve address space faster than the collector frees it.
    const arena = !kernel || dims > ARENA_MAX_DIMS ? null : kernel instanceof VectorArena ? (kernel.reset(), kernel) : kernel.createArena()
    const at = arena ? arena.append(codes) : -1
    this.arena = at >= 0 ? arena : null
    this.offset = at
  }

  /**
   * Writes the nearest centroid of rows `[from, to)` of `rows` (row after row, `dims` each) into
   * `out[from…to)`; with `best`, also each one's approximate cosine to it.
   */
  assign(rows: Float32Array | QuantizedRows, from: number, to: number, out: Uint32Array, best?: Float32Array): void {
    const scores = new Float32Array(this.lists)
    for (let r = from; r < to; r++) {
      this.setRow(rows, r)
      this.score(0, this.lists, scores)
      let top = 0
      for (let c = 1; c < this.lists; c++) if (scores[c]! > scores[top]!) top = c
      out[r] = top
      if (best) best[r] = scores[top]!
    }
  }

  /**
   * Sets row `r` of `rows` as the one {@link score} compares with the centroids: quantized here,
   * or already quantized (see {@link quantizeRows}; quantizing every row once is cheaper when
   * rows are scored again and again, as in k-means rounds).
   */
  setRow(rows: Float32Array | QuantizedRows, r: number): void {
    const { dims } = this
    if (!(rows instanceof Float32Array)) {
      this.row = rows.vectors.subarray(r * dims, (r + 1) * dims)
      this.rowScale[0] = rows.scales[r]!
      this.arena?.setQuery(rows.codes.subarray(r * dims, (r + 1) * dims))
      return
    }
    this.row = rows.subarray(r * dims, (r + 1) * dims)
    if (!this.arena) return
    quantizeInto(this.row, dims, this.rowCodes, this.rowScale, 0)
    this.arena.setQuery(this.rowCodes)
  }

  /** Writes the (approximate) cosine of the row set last to centroids `[from, to)` into `out[0…to - from)`. */
  score(from: number, to: number, out: Float32Array): void {
    const { dims } = this
    if (this.arena) {
      const q = this.rowScale[0]!
      for (let c0 = from; c0 < to; c0 += ARENA_CHUNK_ROWS) {
        const count = Math.min(ARENA_CHUNK_ROWS, to - c0)
        const sums = this.arena.dots(this.offset + c0 * dims, count, dims)
        for (let c = 0; c < count; c++) out[c0 - from + c] = sums[c]! * this.scales[c0 + c]! * q
      }
      return
    }
    const row = this.row
    for (let c = from; c < to; c++) {
      const base = c * dims
      let s = 0
      for (let d = 0; d < dims; d++) s += row[d]! * this.centroids[base + d]!
      out[c - from] = s
    }
  }
}

/** Unit rows with their int8 codes, from {@link quantizeRows}. */
export interface QuantizedRows {
  vectors: Float32Array
  codes: Int8Array
  scales: Float32Array
}

/** `rows` (`m × dims`) with their int8 codes, quantized once for repeated {@link NearestCentroid} scoring. */
export function quantizeRows(rows: Float32Array, m: number, dims: number): QuantizedRows {
  const vectors = rows.subarray(0, m * dims)
  const codes = new Int8Array(m * dims)
  const scales = new Float32Array(m)
  quantizeInto(vectors, dims, codes, scales, 0)
  return { vectors, codes, scales }
}

/**
 * Unit means of the rows assigned to each list: `sums` accumulated row by row with
 * {@link accumulate}, then normalized here. A list that got no row takes the row of `fallback`
 * (the caller picks one, e.g. the worst-fitting row), so no list stays empty.
 *
 * @example
 * const next = normalizeMeans(sums, counts, dims, (c) => rows.subarray(...))
 */
export function normalizeMeans(sums: Float64Array, counts: Uint32Array, dims: number, fallback: (list: number) => Float32Array): Float32Array {
  const lists = counts.length
  const out = new Float32Array(lists * dims)
  for (let c = 0; c < lists; c++) {
    const base = c * dims
    let norm = 0
    for (let d = 0; d < dims; d++) norm += sums[base + d]! * sums[base + d]!
    if (counts[c] === 0 || !(norm > 0)) {
      out.set(fallback(c), base)
      continue
    }
    const inv = 1 / Math.sqrt(norm)
    for (let d = 0; d < dims; d++) out[base + d] = sums[base + d]! * inv
  }
  return out
}

/** Adds rows `[from, to)` into their lists' sums and counts. */
export function accumulate(rows: Float32Array, dims: number, from: number, to: number, assigned: Uint32Array, sums: Float64Array, counts: Uint32Array): void {
  for (let r = from; r < to; r++) {
    const c = assigned[r]!
    counts[c] = counts[c]! + 1
    const base = c * dims
    const at = r * dims
    for (let d = 0; d < dims; d++) sums[base + d] = sums[base + d]! + rows[at + d]!
  }
}

/**
 * A permutation grouping rows by list (stable: rows of a list keep their order), and where each
 * list starts in it (`starts[lists]` is the row count).
 *
 * @example
 * const { order, starts } = groupByList(assigned, lists)
 */
export function groupByList(assigned: Uint32Array, lists: number): { order: Uint32Array; starts: Uint32Array } {
  const starts = new Uint32Array(lists + 1)
  for (let r = 0; r < assigned.length; r++) starts[assigned[r]! + 1]!++
  for (let c = 0; c < lists; c++) starts[c + 1] = starts[c + 1]! + starts[c]!
  const next = starts.slice(0, lists)
  const order = new Uint32Array(assigned.length)
  for (let r = 0; r < assigned.length; r++) order[next[assigned[r]!]!++] = r
  return { order, starts }
}
