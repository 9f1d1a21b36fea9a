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
import { probesFor } from '../collection/ivfBuild.js'
import type { VectorArena } from '../core/int8Kernel.js'
import type { QuantizedBlock } from '../rank/quantizedBlock.js'
import type { CollectionStore, ListRecord } from '../store/types.js'

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
  const dims = query.length
  const ranked: { part: PartitionedSegment; list: number; score: number }[][] = []
  for (const part of table.partitioned) {
    const { centroids } = part.ivf
    const scores = new Float64Array(part.lists)
    for (let c = 0; c < part.lists; c++) {
      let s = 0
      const base = c * dims
      for (let d = 0; d < dims; d++) s += query[d]! * centroids[base + d]!
      scores[c] = s
    }
    const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b)
    ranked.push(order.map((list) => ({ part, list, score: scores[list]! })))
  }
  const chosen: Probe[] = []
  let reach = 0
  const take = (p: Probe) => {
    chosen.push(p)
    reach += allowedRows(p, allowed)
  }
  const counts = table.partitioned.map((part) => (typeof probes === 'number' ? probes : probesFor(part.ivf, probes.targetRecall)))
  ranked.forEach((lists, i) => lists.slice(0, counts[i]).forEach(take))
  if (reach >= n) return chosen
  reach += exactAllowedRows(table, allowed)
  const rest = ranked.flatMap((lists, i) => lists.slice(counts[i])).sort((a, b) => b.score - a.score || a.part.segment - b.part.segment || a.list - b.list)
  for (const p of rest) {
    if (reach >= n) break
    take(p)
  }
  return chosen
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
    if (offset < 0) {
      blocks.push({ slots, dims: record.dims, codes, scales: record.scales, arena: undefined })
      return
    }
    placed += length
    blocks.push({ slots, dims: record.dims, codes, scales: record.scales, arena: { arena: arena!, offset } })
  })
  // The arena may have grown while lists were appended: take every view again.
  for (const b of blocks) if (b.arena) b.codes = b.arena.arena.view(b.arena.offset, b.slots.length * b.dims)
  return blocks
}

function allowedRows({ part, list }: Probe, allowed: Uint8Array): number {
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
