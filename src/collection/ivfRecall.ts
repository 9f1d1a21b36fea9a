/**
 * How well a partitioned segment's lists hold each row's nearest neighbours, measured when the
 * segment is partitioned (`ivfBuild.ts`): a few of the segment's own rows, as queries, are scored
 * against every row while rows are assigned ({@link Neighbours} keeps each one's exact top 10),
 * and {@link recallCurve} turns where those neighbours landed into the recall of probing 1, 2, …
 * lists. Searches then probe each segment for a target recall ({@link probesFor}).
 */
import type { IvfLayout } from '../store/types.js'

/** Lists probed in a partitioned segment written without a recall estimate (see {@link probesFor}). */
export const DEFAULT_PROBES = 4
/** The estimated recall@10 each partitioned segment is probed for when no `probes` is set. */
export const DEFAULT_TARGET_RECALL = 0.95

/**
 * The recall curve of a partition: `curve[p - 1]` is the share of the queries' true nearest rows
 * (`truth`) that lie in the `p` lists whose centroids are nearest each query — what a search
 * probing `p` lists would find, estimated with the segment's own rows as queries. Trimmed after
 * the first 1.
 */
export function recallCurve(centroids: Float32Array, lists: number, dims: number, queries: Uint32Array, all: Float32Array, truth: Neighbours, listOf: Uint32Array): Float32Array {
  const found = new Float64Array(lists)
  let total = 0
  const scores = new Float64Array(lists)
  const rank = new Uint32Array(lists)
  queries.forEach((row, q) => {
    const query = all.subarray(row * dims, (row + 1) * dims)
    for (let c = 0; c < lists; c++) {
      let s = 0
      const base = c * dims
      for (let d = 0; d < dims; d++) s += query[d]! * centroids[base + d]!
      scores[c] = s
    }
    Array.from(scores.keys())
      .sort((a, b) => scores[b]! - scores[a]! || a - b)
      .forEach((list, i) => (rank[list] = i))
    for (const neighbour of truth.rowsOf(q)) {
      found[rank[listOf[neighbour]!]!]!++
      total++
    }
  })
  const curve: number[] = []
  let sum = 0
  for (let p = 0; p < lists; p++) {
    sum += found[p]!
    curve.push(total === 0 ? 1 : sum / total)
    if (sum >= total) break
  }
  return Float32Array.from(curve)
}

/** The `k` best-scoring rows seen so far for each of `queries` queries. */
export class Neighbours {
  private readonly scores: Float32Array
  private readonly rows: Int32Array

  constructor(
    queries: number,
    private readonly k: number,
  ) {
    this.scores = new Float32Array(queries * k).fill(-Infinity)
    this.rows = new Int32Array(queries * k).fill(-1)
  }

  offer(q: number, score: number, row: number): void {
    const base = q * this.k
    let at = this.k - 1
    if (!(score > this.scores[base + at]!)) return
    while (at > 0 && this.scores[base + at - 1]! < score) {
      this.scores[base + at] = this.scores[base + at - 1]!
      this.rows[base + at] = this.rows[base + at - 1]!
      at--
    }
    this.scores[base + at] = score
    this.rows[base + at] = row
  }

  rowsOf(q: number): number[] {
    return Array.from(this.rows.subarray(q * this.k, (q + 1) * this.k)).filter((r) => r >= 0)
  }
}

/**
 * The probes a partitioned segment needs for `target` recall: the fewest lists whose estimated
 * recall (`IvfLayout.recall`) reaches it; {@link DEFAULT_PROBES} for a segment written without the
 * estimate.
 *
 * @example
 * probesFor(part.ivf, 0.95) // 3
 */
export function probesFor(ivf: IvfLayout, target: number): number {
  const curve = ivf.recall
  if (!curve || curve.length === 0) return DEFAULT_PROBES
  for (let p = 0; p < curve.length; p++) if (curve[p]! >= target) return p + 1
  return curve.length
}
