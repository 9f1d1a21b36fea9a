/**
 * What a merge reads of its segments' vectors: their int8 codes, never the fp32 rows (those stay
 * where their add wrote them, by seq: store/rowBlocks.ts). The merge re-blocks or partitions the
 * codes; quantizing a row rebuilt from its codes gives the same codes back (the row's largest
 * value is its scale × 127), so merging loses nothing more than the first quantization did.
 */
import { WinnowError } from '../errors.js'
import { VECTOR_BLOCK_ROWS, type CollectionStore, type SegmentRecord } from '../store/types.js'
import { int8Parts } from './int8Reads.js'

/** Lists, or int8 runs of 4,096 rows, a merge reads per request before it pauses for writes. */
const LISTS_PER_READ = 64
const RUNS_PER_READ = 4

/**
 * The merge's live rows rebuilt from int8 (code × scale), `live × dims` in the merge's order: row
 * `i` is row `fromRow[i]` of `segments[fromSegment[i]]`. Reads each segment's int8 blocks, or its
 * inverted lists when partitioned, in parts with `pause()` between them.
 *
 * @throws WinnowError `INTERNAL` when a live row's codes are not stored.
 * @example
 * const all = await mergedRows(store, segments, fromSegment, fromRow, live, 384, pause)
 */
export async function mergedRows(
  store: CollectionStore,
  segments: readonly SegmentRecord[],
  fromSegment: Uint32Array,
  fromRow: Uint32Array,
  live: number,
  dims: number,
  pause: () => Promise<void>,
): Promise<Float32Array> {
  const all = new Float32Array(live * dims)
  // Where each segment row goes among the live rows (-1: dropped).
  const target = segments.map((s) => new Int32Array(s.seqs.length).fill(-1))
  for (let i = 0; i < live; i++) target[fromSegment[i]!]![fromRow[i]!] = i
  let filled = 0
  const copy = (into: Int32Array, firstRow: number, codes: Int8Array, scales: Float32Array) => {
    for (let r = 0; r < scales.length; r++) {
      const i = into[firstRow + r]
      if (i === undefined || i < 0) continue
      const scale = scales[r]!
      for (let d = 0, from = r * dims, to = i * dims; d < dims; d++) all[to + d] = codes[from + d]! * scale
      filled++
    }
  }
  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s]!
    const into = target[s]!
    if (segment.ivf) {
      const lists = segment.ivf.starts.length - 1
      for (let from = 0; from < lists; from += LISTS_PER_READ) {
        const keys = Array.from({ length: Math.min(LISTS_PER_READ, lists - from) }, (_, j) => [segment.id, from + j] as const)
        const records = await store.readLists(keys)
        records.forEach((list, j) => list && copy(into, segment.ivf!.starts[from + j]!, list.codes, list.scales))
        await pause()
      }
    } else {
      for await (const blocks of int8Parts(store, segment.id, RUNS_PER_READ)) {
        for (const b of blocks) copy(into, b.block * VECTOR_BLOCK_ROWS, b.codes, b.scales)
        await pause()
      }
    }
  }
  if (filled !== live) throw new WinnowError('INTERNAL', `the int8 codes of ${live - filled} rows of segments ${segments.map((s) => s.id).join(', ')} are missing`, { missing: live - filled })
  return all
}
