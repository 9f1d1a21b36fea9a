/**
 * Partitioning a segment's vectors into inverted lists (the ANN index): when a merge writes a
 * segment of at least `minRows` rows with vectors, it trains centroids on a sample of those rows
 * (spherical k-means, seeded), assigns every row to its nearest centroid and orders the rows by
 * list. Its int8 codes are then stored one record per list and read per query, for the lists
 * nearest the query only; smaller segments (every add's, and merges below the size) stay exact.
 *
 * Retraining is part of compaction: a segment's centroids are trained on its own rows when a
 * merge writes it, so every merge that rewrites a partitioned segment (growth, deletes reclaimed)
 * retrains it, and nothing is ever assigned to centroids trained on other data.
 */
import { accumulate, groupByList, NearestCentroid, normalizeMeans, sampleIndices } from '../core/kmeans.js'
import { seededRandom } from '../core/random.js'
import { quantize } from '../core/quantize.js'
import type { IvfLayout, ListRecord } from '../store/types.js'
import type { VectorIndexInfo } from '../types.js'
import type { ListCache } from './caches.js'
import type { ChunkView } from './ports.js'

/** Rows below which a merged segment stays exact (the scan of 50k × 384 int8 rows takes ~1.3 ms). */
export const DEFAULT_INDEX_MIN_ROWS = 50_000
/** Lists probed per partitioned segment by default (see docs/guides/vector-index.md for the trade-off). */
export const DEFAULT_PROBES = 4
/** Training rows per list (k-means needs a few dozen per centroid to place it). */
const SAMPLE_PER_LIST = 32
/** k-means rounds over the sample; it stops sooner once fewer than 0.5 % of rows change list. */
const ITERATIONS = 10
/** Rows assigned between pauses. */
const STEP_ROWS = 2048

/** What a partitioned segment's build reports, for `info().vectorIndex.building`. */
export interface IndexProgress {
  phase: 'training' | 'assigning'
  /** Rows (or sample rows × rounds) done and to do in this phase. */
  done: number
  total: number
}

/** How many lists a segment of `rows` rows gets: √rows, at least 8, at most 4,096. */
export function listCount(rows: number): number {
  return Math.max(8, Math.min(4096, Math.round(Math.sqrt(rows))))
}

/**
 * Trains `lists` centroids for the unit rows in `all` (`n × dims`) and assigns each row to its
 * nearest one. Returns the centroids, each list's start in list order, and `order`: the row of
 * `all` that goes at each position of the partitioned segment.
 *
 * @example
 * const { layout, order } = await partitionRows(all, n, 384, { seed: 1, pause })
 */
export async function partitionRows(
  all: Float32Array,
  n: number,
  dims: number,
  options: { seed: number; lists?: number; pause?: () => Promise<void>; onProgress?: (p: IndexProgress) => void },
): Promise<{ layout: IvfLayout; order: Uint32Array }> {
  const pause = options.pause ?? (async () => {})
  const lists = Math.min(n, options.lists ?? listCount(n))
  const random = seededRandom(options.seed)
  const picked = sampleIndices(n, lists * SAMPLE_PER_LIST, random)
  const m = picked.length
  const sample = new Float32Array(m * dims)
  picked.forEach((row, i) => sample.set(all.subarray(row * dims, (row + 1) * dims), i * dims))

  // Start from `lists` distinct sample rows.
  let centroids: Float32Array = new Float32Array(lists * dims)
  sampleIndices(m, lists, random).forEach((row, c) => centroids.set(sample.subarray(row * dims, (row + 1) * dims), c * dims))
  const assigned = new Uint32Array(m)
  const previous = new Uint32Array(m).fill(0xffffffff)
  const fit = new Float32Array(m)
  for (let round = 0; round < ITERATIONS; round++) {
    const nearest = new NearestCentroid(centroids, lists, dims)
    for (let from = 0; from < m; from += STEP_ROWS) {
      nearest.assign(sample, from, Math.min(m, from + STEP_ROWS), assigned, fit)
      options.onProgress?.({ phase: 'training', done: round * m + Math.min(m, from + STEP_ROWS), total: ITERATIONS * m })
      await pause()
    }
    let changed = 0
    for (let i = 0; i < m; i++) if (assigned[i] !== previous[i]) changed++
    previous.set(assigned)
    const sums = new Float64Array(lists * dims)
    const counts = new Uint32Array(lists)
    accumulate(sample, dims, 0, m, assigned, sums, counts)
    // An empty list restarts at the rows that fit their list worst, one each.
    const worst = Array.from(fit.keys()).sort((a, b) => fit[a]! - fit[b]! || a - b)
    let spare = 0
    centroids = normalizeMeans(sums, counts, dims, () => {
      const row = worst[spare++ % m]!
      return sample.subarray(row * dims, (row + 1) * dims)
    })
    if (changed <= m * 0.005) break
  }

  const nearest = new NearestCentroid(centroids, lists, dims)
  const rowsList = new Uint32Array(n)
  for (let from = 0; from < n; from += STEP_ROWS) {
    nearest.assign(all, from, Math.min(n, from + STEP_ROWS), rowsList)
    options.onProgress?.({ phase: 'assigning', done: Math.min(n, from + STEP_ROWS), total: n })
    await pause()
  }
  const { order, starts } = groupByList(rowsList, lists)
  return { layout: { centroids, starts }, order }
}

/**
 * Reorders `all`'s rows in place so that row `i` becomes the old row `order[i]` (cycle by cycle,
 * one spare row of memory: at a million rows `all` is 1.5 GB and must not be copied).
 *
 * @example
 * permuteRows(all, 384, order)
 */
export function permuteRows(all: Float32Array, dims: number, order: Uint32Array): void {
  const done = new Uint8Array(order.length)
  const spare = new Float32Array(dims)
  for (let start = 0; start < order.length; start++) {
    if (done[start] || order[start] === start) continue
    spare.set(all.subarray(start * dims, (start + 1) * dims))
    let at = start
    for (;;) {
      done[at] = 1
      const from = order[at]!
      if (from === start) {
        all.set(spare, at * dims)
        break
      }
      all.copyWithin(at * dims, from * dims, (from + 1) * dims)
      at = from
    }
  }
}

/** `values` reordered by `order` (a copy). */
export function permuted(values: ArrayLike<number>, order: Uint32Array): Uint32Array {
  const out = new Uint32Array(order.length)
  for (let i = 0; i < order.length; i++) out[i] = values[order[i]!]!
  return out
}

/**
 * The int8 records of a partitioned segment's lists, from its rows in list order.
 *
 * @example
 * const lists = listRecords(segmentId, all, layout, 384)
 */
export function listRecords(segment: number, all: Float32Array, layout: IvfLayout, dims: number): ListRecord[] {
  const out: ListRecord[] = []
  for (let list = 0; list + 1 < layout.starts.length; list++) {
    const from = layout.starts[list]!
    const to = layout.starts[list + 1]!
    const { codes, scales } = quantize(all.subarray(from * dims, to * dims), dims)
    out.push({ segment, list, dims, codes, scales })
  }
  return out
}

/**
 * What `info().vectorIndex` reports of a view: passages and lists in partitioned segments,
 * passages with vectors scanned exactly, bytes of lists cached, a partitioning under way.
 *
 * @example
 * vectorIndexInfo(table, listCache, null).lists // 316
 */
export function vectorIndexInfo(table: ChunkView, cache: ListCache, building: IndexProgress | null): VectorIndexInfo {
  let partitionedPassages = 0
  let lists = 0
  for (const part of table.partitioned) {
    partitionedPassages += part.ivf.starts[part.lists]!
    lists += part.lists
  }
  let vectors = 0
  for (let slot = 0; slot < table.size; slot++) if (table.vectorRow(slot) >= 0) vectors++
  return { partitionedPassages, lists, exactPassages: vectors - partitionedPassages, cachedBytes: cache.bytes, building: building && { ...building } }
}
