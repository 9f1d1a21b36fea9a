/**
 * The payloads of a format-2 snapshot's shards of postings, lists and vector blocks, grouped to
 * their target sizes (see `writeLazy.ts` for the layout, `lazyWriter.ts` for the writer).
 */
import type { PostingRecord, QuantizedBlockRecord } from '../store/types.js'
import { pqLists, PQ_DSUB, type PackedCodebook, type PqListsPayload } from './pqLists.js'
import { pack, type CollectionRecords } from './write.js'
import type { LazyPostings, WriteLazyOptions } from './lazyIndex.js'

/** Bytes a term's postings add to a shard, before compression (what shards are packed by). */
export function postingsSize(group: readonly PostingRecord[]): number {
  return group[0]!.term.length + group.reduce((n, p) => n + 4 + p.seqs.length * 3, 0)
}

/** A postings shard's payload: terms in order, each with its segments ascending, seqs gap-coded. */
export function postingsPayload(groups: readonly (readonly PostingRecord[])[]): LazyPostings {
  const flat = groups.flat()
  const total = flat.reduce((n, p) => n + p.seqs.length, 0)
  const out: LazyPostings = { terms: flat.map((p) => p.term), segments: Uint32Array.from(flat, (p) => p.segment), lengths: Uint32Array.from(flat, (p) => p.seqs.length), seqs: new Uint32Array(total), tfs: new Uint16Array(total) }
  let at = 0
  for (const p of flat) {
    for (let j = 0; j < p.seqs.length; j++) out.seqs[at + j] = j === 0 ? p.seqs[0]! : p.seqs[j]! - p.seqs[j - 1]!
    out.tfs.set(p.tfs, at)
    at += p.seqs.length
  }
  return out
}

/**
 * The lists' shards: product-quantized (default where 4 divides the dimensions; with `codebook`,
 * that of an earlier part of the snapshot, else one trained on these lists) or int8.
 */
export function listShards(records: CollectionRecords, options: WriteLazyOptions, codebook?: PackedCodebook): { parts: { first: number; segment: number; records: number; payload: unknown }[]; codebook?: PackedCodebook } {
  const lists = records.lists ?? []
  const dims = records.manifest.dims
  const target = options.vectorBytes ?? 64 * 1024
  const pq = lists.length > 0 && dims !== null && (options.listCodes ?? (dims % PQ_DSUB === 0 ? 'pq' : 'int8')) === 'pq'
  if (!pq) return { parts: bySegment(lists, (l) => l.codes.length + l.scales.length * 4 + 16, target, (g) => ({ lists: g })) }
  const coded = pqLists(lists, records.segments, dims!, PQ_DSUB, codebook)
  return { parts: bySegment(coded.lists, (l) => l.codes.length + 16, target, (g) => ({ pq: g }) satisfies PqListsPayload), codebook: coded.codebook }
}

/** Lists packed into shards of about `target` bytes, segment by segment, in list order. */
function bySegment<L extends { segment: number; list: number }>(lists: readonly L[], size: (l: L) => number, target: number, payload: (group: L[]) => unknown) {
  const segments = new Map<number, L[]>()
  for (const l of lists) (segments.get(l.segment) ?? segments.set(l.segment, []).get(l.segment)!).push(l)
  return [...segments.keys()].sort((a, b) => a - b).flatMap((segment) =>
    pack(segments.get(segment)!.sort((a, b) => a.list - b.list), target, size).map((g) => ({ first: g[0]!.list, segment, records: g.length, payload: payload(g) })),
  )
}

export function vectorShards(blocks: readonly QuantizedBlockRecord[], target: number) {
  const bySegment = new Map<number, QuantizedBlockRecord[]>()
  for (const q of blocks) (bySegment.get(q.segment) ?? bySegment.set(q.segment, []).get(q.segment)!).push(q)
  return [...bySegment.keys()].sort((a, b) => a - b).flatMap((segment) =>
    pack(bySegment.get(segment)!.sort((a, b) => a.block - b.block), target, (q) => q.codes.length + q.scales.length * 8).map((g) => ({ first: g[0]!.block, segment, records: g.length, payload: { blocks: g } })),
  )
}
