/**
 * The ANN index's inverted lists in a format-2 snapshot, product-quantized (`core/pq.ts`): each
 * passage's vector minus its list's centroid, in `dims / 4` bytes (96 at 384 dims, against 388 as
 * int8 with its scale). A vector query fetches the lists it probes — at a million passages the
 * bulk of what a query downloads — so this quarters it. The codebook (one for the snapshot, int8
 * with a scale per sub-space: 98 KB at 384 dims) travels in the lists index, fetched by the first
 * vector query, not by the open. A browser rebuilds each probed list as int8 rows (centroid +
 * codes), which the engine scans as any list, then rescores every candidate kept with its int16
 * row (`ListRecord.approximate`).
 */

import { decodePq, encodePq, PQ_CENTROIDS, trainPq, type ProductQuantizer } from '../core/pq.js'
import { dequantize, quantize } from '../core/quantize.js'
import { seededRandom } from '../core/random.js'
import type { ListRecord, SegmentRecord } from '../store/types.js'

/** Dimensions per sub-vector. */
export const PQ_DSUB = 4

/** A lists shard of product-quantized lists. */
export interface PqListsPayload {
  pq: { segment: number; list: number; rows: number; codes: Uint8Array }[]
}

/** The codebook as the lists index keeps it. */
export interface PackedCodebook {
  dsub: number
  /** `m × 256 × dsub` int8 codes; sub-space `s`'s scale is `scales[s]`. */
  codes: Int8Array
  scales: Float32Array
}

/** A partitioned segment's centroids as a browser has them (int8, decoded: see `packSegment`). */
export function browserCentroids(segment: SegmentRecord): Float32Array {
  const ivf = segment.ivf!
  const dims = ivf.centroids.length / (ivf.starts.length - 1)
  const { codes, scales } = quantize(ivf.centroids, dims)
  return dequantize(codes, scales, dims)
}

/**
 * Codes each list with `given` (an earlier part's codebook), or with one trained on the residuals
 * of up to 32,768 rows drawn from every list; `pack` groups them into shards.
 *
 * @example
 * const { codebook, lists } = pqLists(records.lists, records.segments, 384)
 */
export function pqLists(lists: readonly ListRecord[], segments: readonly SegmentRecord[], dims: number, dsub = PQ_DSUB, given?: PackedCodebook): { codebook: PackedCodebook; lists: PqListsPayload['pq'] } {
  const centroids = new Map(segments.filter((s) => s.ivf).map((s) => [s.id, browserCentroids(s)]))
  const residuals = (l: ListRecord, from = 0, to = l.scales.length) => {
    const c = centroids.get(l.segment)!.subarray(l.list * dims, (l.list + 1) * dims)
    const out = dequantize(l.codes.subarray(from * dims, to * dims), l.scales.subarray(from, to), dims)
    for (let r = 0; r < to - from; r++) for (let d = 0; d < dims; d++) out[r * dims + d] = out[r * dims + d]! - c[d]!
    return out
  }
  const ordered = [...lists].sort((a, b) => a.segment - b.segment || a.list - b.list)
  const codebook = given ?? trainCodebook(ordered, residuals, dims, dsub)
  const pq = unpackCodebook(codebook, dims)
  return {
    codebook,
    lists: ordered.map((l) => {
      const n = l.scales.length
      const codes = new Uint8Array(n * pq.m)
      encodePq(pq, residuals(l), n, codes)
      return { segment: l.segment, list: l.list, rows: n, codes }
    }),
  }
}

/** One codebook, trained on the residuals of up to 32,768 rows drawn from every list. */
function trainCodebook(ordered: readonly ListRecord[], residuals: (l: ListRecord, from?: number, to?: number) => Float32Array, dims: number, dsub: number): PackedCodebook {
  const starts = new Float64Array(ordered.length + 1)
  ordered.forEach((l, i) => (starts[i + 1] = starts[i]! + l.scales.length))
  const total = starts[ordered.length]!
  const random = seededRandom(20261207)
  const sample = Math.min(total, 32_768)
  const rows = new Float32Array(sample * dims)
  // Every `total / sample`-th row (with a random start): the sample spans every list.
  const step = total / sample
  const offset = random() * step
  for (let i = 0, l = 0; i < sample; i++) {
    const at = Math.min(total - 1, Math.floor(offset + i * step))
    while (starts[l + 1]! <= at) l++
    rows.set(residuals(ordered[l]!, at - starts[l]!, at - starts[l]! + 1), i * dims)
  }
  const trained = trainPq(rows, sample, dims, dsub, random)
  // Coded against the codebook as stored (int8), so a browser decodes what was coded.
  const packed = quantize(trained.centroids, PQ_CENTROIDS * dsub)
  return { dsub, codes: packed.codes, scales: packed.scales }
}

/** The codebook of a lists index, as fp32. */
export function unpackCodebook(codebook: PackedCodebook, dims: number): ProductQuantizer {
  const { dsub, codes, scales } = codebook
  const m = dims / dsub
  if (!Number.isInteger(m) || codes.length !== m * PQ_CENTROIDS * dsub || scales.length !== m) throw new RangeError('a product-quantizer codebook of the wrong shape')
  return { dims, m, dsub, centroids: dequantize(codes, scales, PQ_CENTROIDS * dsub) }
}

/**
 * A coded list as the engine scans it: each row rebuilt (centroid + codes) and quantized to int8,
 * marked `approximate`.
 */
export function pqListRecord(entry: PqListsPayload['pq'][number], centroid: Float32Array, pq: ProductQuantizer): ListRecord {
  const { dims } = pq
  const vectors = new Float32Array(entry.rows * dims)
  for (let r = 0; r < entry.rows; r++) vectors.set(centroid, r * dims)
  decodePq(pq, entry.codes, entry.rows, vectors, true)
  const { codes, scales } = quantize(vectors, dims)
  return { segment: entry.segment, list: entry.list, dims, codes, scales, approximate: true }
}
