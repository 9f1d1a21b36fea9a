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
import { accumulate, groupByList, NearestCentroid, normalizeMeans, quantizeRows, sampleIndices } from '../core/kmeans.js'
import { defaultInt8Kernel, type VectorArena } from '../core/int8Kernel.js'
import { Neighbours, probesFor, recallCurve } from './ivfRecall.js'
import { seededRandom } from '../core/random.js'
import { quantize } from '../core/quantize.js'
import type { IvfLayout, ListRecord } from '../store/types.js'
import type { VectorIndexInfo } from '../types.js'
import type { ListCache } from './caches.js'
import type { ChunkView } from './ports.js'

/** Rows below which a merged segment stays exact (the scan of 50k × 384 int8 rows takes ~1.3 ms). */
export const DEFAULT_INDEX_MIN_ROWS = 50_000
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

/**
 * How many lists a segment of `rows` rows gets: √rows, at least 8, at most 4,096 (512 at 262,144).
 * Measured at 1M × 384 in Chromium, 4√rows lists (smaller records, under Chromium's 64 KiB
 * inline value size) read no faster per query, and cost more to train and 4× the centroids.
 */
export function listCount(rows: number): number {
  return Math.max(8, Math.min(4096, Math.round(Math.sqrt(rows))))
}

/** Lists above which training and assignment go through a coarse level of √lists centroids. */
const FLAT_MAX_LISTS = 256
/**
 * Rows of a segment used as queries to estimate its recall curve, and the neighbours each counts.
 * The curve picks how many lists a search probes, so its noise is the default recall's: with 64
 * queries (640 neighbours, a standard error of ~0.01 near 0.95) 1M benchmark runs that probed 12-13
 * lists measured 0.942, 0.96, 0.978 and 0.98. Partitioning 262,144 × 384 rows in Node took 3.5 s
 * with 64, 3.75 s with 128 and 5.0 s with 256 (each query is scored against every row).
 */
const RECALL_QUERIES = 128
const RECALL_K = 10
/** Training rows per coarse centroid. */
const COARSE_SAMPLE_PER_LIST = 256
/** Coarse centroids whose fine lists a row is compared with, in a two-level assignment. */
const COARSE_PROBES = 2

/**
 * Trains `lists` centroids for the unit rows in `all` (`n × dims`) and assigns each row to its
 * nearest one. Returns the centroids, each list's start in list order, and `order`: the row of
 * `all` that goes at each position of the partitioned segment.
 *
 * Past {@link FLAT_MAX_LISTS} lists the work goes through two levels, as in a hierarchical
 * k-means: √lists coarse centroids are trained first, each coarse cluster's sample then trains
 * its share of the lists, and a row is compared with the coarse centroids and the lists of its
 * {@link COARSE_PROBES} nearest ones instead of with every list (~15× less work at 2,048 lists).
 * Each list's centroid is finally the mean of the rows it got.
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
  const twoLevel = lists > FLAT_MAX_LISTS
  // One arena for every scorer of this partition, in turn (see NearestCentroid).
  const arena = defaultInt8Kernel()?.createArena() ?? null
  const total = ITERATIONS * (m + (twoLevel ? Math.min(m, Math.ceil(Math.sqrt(lists)) * COARSE_SAMPLE_PER_LIST) : 0))
  let trained = 0
  const train = async (rows: Float32Array, count: number, k: number) => {
    const before = trained
    const centroids = await kMeans(rows, count, dims, k, random, arena, pause, (done) => {
      trained = before + done
      options.onProgress?.({ phase: 'training', done: trained, total })
    })
    trained = before + ITERATIONS * count
    return centroids
  }

  let centroids: Float32Array
  // Two levels: coarse c owns the fine lists [fineStart[c], fineStart[c + 1]).
  let coarse: { centroids: Float32Array; count: number; fineStart: Uint32Array } | null = null
  if (!twoLevel) {
    centroids = await train(sample, m, lists)
  } else {
    const coarseCount = Math.ceil(Math.sqrt(lists))
    // The coarse level needs far fewer rows than the lists do: train it on a part of the sample.
    const coarseRows = Math.min(m, coarseCount * COARSE_SAMPLE_PER_LIST)
    const coarseSample = new Float32Array(coarseRows * dims)
    sampleIndices(m, coarseRows, random).forEach((row, i) => coarseSample.set(sample.subarray(row * dims, (row + 1) * dims), i * dims))
    const coarseCentroids = await train(coarseSample, coarseRows, coarseCount)
    const ofSample = new Uint32Array(m)
    new NearestCentroid(coarseCentroids, coarseCount, dims, arena).assign(quantizeRows(sample, m, dims), 0, m, ofSample)
    const groups = groupByList(ofSample, coarseCount)
    const fineCounts = shareLists(groups.starts, lists)
    const fineStart = new Uint32Array(coarseCount + 1)
    for (let c = 0; c < coarseCount; c++) fineStart[c + 1] = fineStart[c]! + fineCounts[c]!
    centroids = new Float32Array(lists * dims)
    for (let c = 0; c < coarseCount; c++) {
      const members = groups.order.subarray(groups.starts[c]!, groups.starts[c + 1]!)
      if (fineCounts[c] === 0) continue
      const rows = new Float32Array(members.length * dims)
      members.forEach((row, i) => rows.set(sample.subarray(row * dims, (row + 1) * dims), i * dims))
      centroids.set(await train(rows, members.length, fineCounts[c]!), fineStart[c]! * dims)
    }
    coarse = { centroids: coarseCentroids, count: coarseCount, fineStart }
  }

  // One arena holds the lists' centroids, the coarse ones and the recall queries (rows of this
  // segment), so each row is quantized and set once and scored against all three.
  const queries = sampleIndices(n, Math.min(RECALL_QUERIES, n - 1), random)
  const coarseCount = coarse?.count ?? 0
  const atCoarse = lists
  const atQueries = lists + coarseCount
  const scored = new Float32Array((atQueries + queries.length) * dims)
  scored.set(centroids)
  if (coarse) scored.set(coarse.centroids, atCoarse * dims)
  queries.forEach((row, q) => scored.set(all.subarray(row * dims, (row + 1) * dims), (atQueries + q) * dims))
  const nearest = new NearestCentroid(scored, atQueries + queries.length, dims, arena)
  const truth = new Neighbours(queries.length, RECALL_K)
  const listScores = new Float32Array(lists)
  const coarseScores = new Float32Array(coarseCount)
  const queryScores = new Float32Array(queries.length)
  const near = new Int32Array(COARSE_PROBES)
  const rowsList = new Uint32Array(n)
  for (let from = 0; from < n; from += STEP_ROWS) {
    const to = Math.min(n, from + STEP_ROWS)
    const chunk = quantizeRows(all.subarray(from * dims), to - from, dims)
    for (let r = from; r < to; r++) {
      nearest.setRow(chunk, r - from)
      nearest.score(atQueries, atQueries + queries.length, queryScores)
      for (let q = 0; q < queries.length; q++) if (queries[q] !== r) truth.offer(q, queryScores[q]!, r)
      let best = 0
      let score = -Infinity
      if (!coarse) {
        nearest.score(0, lists, listScores)
        for (let l = 0; l < lists; l++) if (listScores[l]! > score) [score, best] = [listScores[l]!, l]
      } else {
        nearest.score(atCoarse, atCoarse + coarseCount, coarseScores)
        topIndices(coarseScores, near)
        for (const c of near) {
          if (c < 0) continue
          const a = coarse.fineStart[c]!
          const b = coarse.fineStart[c + 1]!
          nearest.score(a, b, listScores)
          for (let l = 0; l < b - a; l++) if (listScores[l]! > score) [score, best] = [listScores[l]!, a + l]
        }
      }
      rowsList[r] = best
    }
    options.onProgress?.({ phase: 'assigning', done: to, total: n })
    await pause()
  }
  const { order, starts } = groupByList(rowsList, lists)
  if (coarse) {
    // Each list's centroid becomes the mean of the rows it got (an empty list keeps its own).
    const sums = new Float64Array(lists * dims)
    const counts = new Uint32Array(lists)
    for (let from = 0; from < n; from += STEP_ROWS) {
      accumulate(all, dims, from, Math.min(n, from + STEP_ROWS), rowsList, sums, counts)
      await pause()
    }
    const trainedCentroids = centroids
    centroids = normalizeMeans(sums, counts, dims, (c) => trainedCentroids.subarray(c * dims, (c + 1) * dims))
  }
  const recall = recallCurve(centroids, lists, dims, queries, all, truth, rowsList)
  return { layout: { centroids, starts, recall }, order }
}

/**
 * Spherical k-means of `k` centroids over `m` unit rows, started from `k` distinct rows; at most
 * {@link ITERATIONS} rounds, fewer once under 0.5 % of rows change centroid. `progress` gets the
 * rows × rounds done.
 */
async function kMeans(
  rows: Float32Array,
  m: number,
  dims: number,
  k: number,
  random: () => number,
  arena: VectorArena | null,
  pause: () => Promise<void>,
  progress: (done: number) => void,
): Promise<Float32Array> {
  let centroids: Float32Array = new Float32Array(k * dims)
  sampleIndices(m, k, random).forEach((row, c) => centroids.set(rows.subarray(row * dims, (row + 1) * dims), c * dims))
  const quantized = quantizeRows(rows, m, dims)
  const assigned = new Uint32Array(m)
  const previous = new Uint32Array(m).fill(0xffffffff)
  const fit = new Float32Array(m)
  for (let round = 0; round < ITERATIONS; round++) {
    const nearest = new NearestCentroid(centroids, k, dims, arena)
    for (let from = 0; from < m; from += STEP_ROWS) {
      nearest.assign(quantized, from, Math.min(m, from + STEP_ROWS), assigned, fit)
      progress(round * m + Math.min(m, from + STEP_ROWS))
      await pause()
    }
    let changed = 0
    for (let i = 0; i < m; i++) if (assigned[i] !== previous[i]) changed++
    previous.set(assigned)
    const sums = new Float64Array(k * dims)
    const counts = new Uint32Array(k)
    accumulate(rows, dims, 0, m, assigned, sums, counts)
    // An empty centroid restarts at the rows that fit their centroid worst, one each.
    let worst: number[] | null = null
    let spare = 0
    centroids = normalizeMeans(sums, counts, dims, () => {
      worst ??= Array.from(fit.keys()).sort((a, b) => fit[a]! - fit[b]! || a - b)
      const row = worst[spare++ % m]!
      return rows.subarray(row * dims, (row + 1) * dims)
    })
    if (changed <= m * 0.005) break
  }
  return centroids
}

/**
 * `lists` shared among coarse clusters in proportion to their sample rows (`starts` as from
 * {@link groupByList}), largest remainders first; a cluster never gets more lists than rows.
 */
function shareLists(starts: Uint32Array, lists: number): Uint32Array {
  const clusters = starts.length - 1
  const m = starts[clusters]!
  const out = new Uint32Array(clusters)
  const size = (c: number) => starts[c + 1]! - starts[c]!
  let given = 0
  for (let c = 0; c < clusters; c++) given += out[c] = Math.min(size(c), Math.floor((lists * size(c)) / m))
  const byRemainder = Array.from(out.keys()).sort((a, b) => ((lists * size(b)) % m) - ((lists * size(a)) % m) || a - b)
  for (let i = 0; given < lists && i < clusters * lists; i++) {
    const c = byRemainder[i % clusters]!
    if (out[c]! < size(c)) {
      out[c]!++
      given++
    }
  }
  return out
}

/** The indices of the `out.length` largest `scores`, best first (-1 where there are fewer). */
function topIndices(scores: Float32Array, out: Int32Array): void {
  out.fill(-1)
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!
    let at = out.length
    while (at > 0 && (out[at - 1]! < 0 || scores[out[at - 1]!]! < s)) at--
    if (at === out.length) continue
    out.copyWithin(at + 1, at, out.length - 1)
    out[at] = i
  }
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
export function vectorIndexInfo(table: ChunkView, cache: ListCache, building: IndexProgress | null, probing: { probes: number | null; targetRecall: number }): VectorIndexInfo {
  let partitionedPassages = 0
  let lists = 0
  let probedLists = 0
  let recalled = 0
  let measured = 0
  for (const part of table.partitioned) {
    const rows = part.ivf.starts[part.lists]!
    partitionedPassages += rows
    lists += part.lists
    const probes = Math.min(part.lists, probing.probes ?? probesFor(part.ivf, probing.targetRecall))
    probedLists += probes
    const curve = part.ivf.recall
    if (curve && curve.length > 0) {
      recalled += rows * curve[Math.min(curve.length, probes) - 1]!
      measured += rows
    }
  }
  let vectors = 0
  for (let slot = 0; slot < table.size; slot++) if (table.vectorRow(slot) >= 0) vectors++
  return {
    partitionedPassages,
    lists,
    exactPassages: vectors - partitionedPassages,
    cachedBytes: cache.bytes,
    estimatedRecall: measured > 0 ? recalled / measured : null,
    probedLists,
    building: building && { ...building },
  }
}
