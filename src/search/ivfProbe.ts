/**
 * The vector scan's partitioned half (the ANN index, `collection/ivfBuild.ts`): for each
 * partitioned segment, the lists whose centroids are nearest the query are read (from the
 * collection's list cache, else from the store, in one transaction) and scanned with the exact
 * segments' int8 blocks; the candidates are then rescored in fp32 like any others.
 *
 * Filters and deletes never cost hits: when the probed lists and the exact segments hold fewer
 * allowed rows than the scan needs, more lists are probed, nearest first, until they do or every
 * list is in.
 */
import type { ChunkView, PartitionedSegment } from '../collection/ports.js'
import type { ListCache } from '../collection/caches.js'
import { probesFor } from '../collection/ivfRecall.js'
import { NearestCentroid } from '../core/kmeans.js'
import type { VectorArena } from '../core/int8Kernel.js'
import type { QuantizedBlock } from '../rank/quantizedBlock.js'
import type { CollectionStore, IvfLayout, ListRecord } from '../store/types.js'

/** One list to probe. */
export interface Probe {
  part: PartitionedSegment
  list: number
}

/** Most bytes of probed lists copied into the probe arena per query; the rest scan in JavaScript. */
const PROBE_ARENA_BYTES = 16 * 2 ** 20

/**
 * The lists to probe: in each partitioned segment the `probes` nearest the query (a number, or
 * as many as the segment's recall estimate needs for `targetRecall`), then more, nearest first
 * across segments, while fewer than `n` allowed rows are in reach.
 *
 * @example
 * const plan = planProbes(query, table, 4, 50, allowed)
 * const auto = planProbes(query, table, { targetRecall: 0.95 }, 50, allowed)
 */
export function planProbes(query: Float32Array, table: ChunkView, probes: number | { targetRecall: number }, n: number, allowed: Uint8Array): Probe[] {
  if (table.partitioned.length === 0) return []
  const chosen: Probe[] = []
  let reach = 0
  const take = (part: PartitionedSegment, list: number) => {
    chosen.push({ part, list })
    reach += allowedRows(part, list, allowed)
  }
  const scored = table.partitioned.map((part) => {
    const scores = centroidScores(part, query)
    const count = Math.min(part.lists, typeof probes === 'number' ? probes : probesFor(part.ivf, probes.targetRecall))
    const best = bestLists(scores, count)
    for (const list of best) take(part, list)
    return { part, scores, taken: new Set(best) }
  })
  if (reach >= n) return chosen
  reach += exactAllowedRows(table, allowed)
  const rest = scored
    .flatMap(({ part, scores, taken }) => Array.from(scores.keys(), (list) => ({ part, list, score: scores[list]! })).filter((p) => !taken.has(p.list)))
    .sort((a, b) => b.score - a.score || a.part.segment - b.part.segment || a.list - b.list)
  for (const p of rest) {
    if (reach >= n) break
    take(p.part, p.list)
  }
  return chosen
}

/** Each partitioned segment's centroids as int8 codes in a kernel arena, made on first use. */
const scorers = new WeakMap<IvfLayout, NearestCentroid>()

/** The query's cosine to each centroid of `part` (int8 kernel: lists × dims multiply-adds in a few µs). */
function centroidScores(part: PartitionedSegment, query: Float32Array): Float32Array {
  let scorer = scorers.get(part.ivf)
  if (!scorer) scorers.set(part.ivf, (scorer = new NearestCentroid(part.ivf.centroids, part.lists, query.length)))
  const scores = new Float32Array(part.lists)
  scorer.setRow(query, 0)
  scorer.score(0, part.lists, scores)
  return scores
}

/** The `count` lists of highest score, best first (ties: lower list first). */
function bestLists(scores: Float32Array, count: number): number[] {
  if (count >= 64) return Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, count)
  const best: number[] = []
  for (let list = 0; list < scores.length; list++) {
    const s = scores[list]!
    if (best.length === count && !(s > scores[best[count - 1]!]!)) continue
    let at = Math.min(best.length, count - 1)
    if (best.length < count) best.push(list)
    while (at > 0 && scores[best[at - 1]!]! < s) {
      best[at] = best[at - 1]!
      at--
    }
    best[at] = list
  }
  return best
}

/**
 * The probed lists' records, aligned with `plan`: from the cache, the rest read in one store call
 * and cached. Undefined where the store no longer has the list (its segment was merged away).
 *
 * @example
 * const records = await readProbes(plan, store, cache)
 */
export async function readProbes(plan: readonly Probe[], store: CollectionStore, cache: ListCache): Promise<(ListRecord | undefined)[]> {
  const out: (ListRecord | undefined)[] = plan.map((p) => cache.get(p.part.segment, p.list))
  const missing = plan.flatMap((p, i) => (out[i] ? [] : [i]))
  if (missing.length === 0) return out
  const read = await store.readLists(missing.map((i) => [plan[i]!.part.segment, plan[i]!.list] as const))
  missing.forEach((i, j) => {
    const record = read[j]
    out[i] = record
    if (record) cache.set(record)
  })
  return out
}

/**
 * The probed lists as blocks for `scanQuantized`, their codes copied into `arena` (reset first)
 * up to a cap, so the SIMD kernel scans them. Synchronous: the scan must follow before anything
 * else can use the arena.
 *
 * @example
 * const blocks = probeBlocks(plan, records, cache.probeArena())
 */
export function probeBlocks(plan: readonly Probe[], records: readonly (ListRecord | undefined)[], arena: VectorArena | null): QuantizedBlock[] {
  arena?.reset()
  let placed = 0
  const blocks: QuantizedBlock[] = []
  plan.forEach(({ part, list }, i) => {
    const record = records[i]
    if (!record) return
    const from = part.ivf.starts[list]!
    const rows = part.ivf.starts[list + 1]! - from
    if (rows === 0) return
    const slots = new Int32Array(rows)
    for (let r = 0; r < rows; r++) slots[r] = part.first + from + r
    const length = rows * record.dims
    const codes = record.codes.subarray(0, length)
    const offset = arena && placed + length <= PROBE_ARENA_BYTES ? arena.append(codes) : -1
    const approximate = record.approximate ? { approximate: true as const } : {}
    if (offset < 0) {
      blocks.push({ slots, dims: record.dims, codes, scales: record.scales, arena: undefined, ...approximate })
      return
    }
    placed += length
    blocks.push({ slots, dims: record.dims, codes, scales: record.scales, arena: { arena: arena!, offset }, ...approximate })
  })
  // The arena may have grown while lists were appended: take every view again.
  for (const b of blocks) if (b.arena) b.codes = b.arena.arena.view(b.arena.offset, b.slots.length * b.dims)
  return blocks
}

function allowedRows(part: PartitionedSegment, list: number, allowed: Uint8Array): number {
  const to = part.first + part.ivf.starts[list + 1]!
  let count = 0
  for (let s = part.first + part.ivf.starts[list]!; s < to; s++) count += allowed[s]!
  return count
}

function exactAllowedRows(table: ChunkView, allowed: Uint8Array): number {
  let count = 0
  for (const block of table.blocks) for (let r = 0; r < block.slots.length; r++) count += allowed[block.slots[r]!] ?? 0
  return count
}
