/**
 * Snapshot format version 2: a collection's records as shards a browser fetches when a query needs
 * them (see `lazyStore.ts`), Pagefind-style, with vectors.
 *
 * `manifest.json` lists the segment tables (fetched when the collection opens: each chunk's length,
 * document and list, the documents' ids and metadata, the ANN index's centroids; `segmentTables.ts`)
 * and one index shard per lazy kind. An index shard lists that kind's shards in key order with
 * their first key, size and SHA-256:
 *
 * - `postings`: every segment's postings of a range of terms (a term never spans two shards);
 * - `documents`: documents with their chunks, in order of their first chunk;
 * - `lists`: a partitioned segment's inverted lists, a range of list numbers: product-quantized
 *   residuals with the codebook in the index (`pqLists.ts`), or int8 codes (`listCodes: 'int8'`);
 * - `vectors`: an exact segment's int8 blocks;
 * - `rows`: the rows rescoring reads, as int16 with a scale per row (half the bytes of fp32, within
 *   1/65534 of it), in a few large files read a row at a time by HTTP Range (`rowFiles.ts`).
 *
 * Every name carries its content hash, so a host may cache shards forever.
 */

import { invalidInput } from '../errors.js'
import { type PostingRecord, type QuantizedBlockRecord } from '../store/types.js'
import { pqLists, PQ_DSUB, type PackedCodebook, type PqListsPayload } from './pqLists.js'
import { INDEX_HASH_BYTES, type LazyIndex } from './lazyIndex.js'
import { listsInSeqOrder, packSegment } from './segmentTables.js'
import { writeRowFiles } from './rowFiles.js'
import { SNAPSHOT_V2, type LazyKind, type ShardEntry } from './format.js'
import { collectionSection, documentEntries, encodeShard, estimateDocument, finishManifest, pack, type CollectionRecords, type SnapshotFile, type WriteSnapshotOptions } from './write.js'
import type { SnapshotManifest } from './format.js'

/** Options of {@link writeLazySnapshot}: shard targets are bytes before compression. */
export interface WriteLazyOptions extends WriteSnapshotOptions {
  /** Postings shards (default 32 KiB: ~10,000 postings). */
  postingsBytes?: number
  /** Document shards (default 16 KiB: a hit's text costs a few KiB, not a whole corpus' block). */
  documentBytes?: number
  /** List and vector shards (default 64 KiB). */
  vectorBytes?: number
  /** Rows files (default 1 MiB; read by range, a row at a time). */
  rowFileBytes?: number
  /**
   * How the ANN index's lists are coded: `'pq'` (default where 4 divides the dimensions): product
   * quantization, `dims / 4` bytes a passage (`pqLists.ts`); `'int8'`: as the collection keeps them.
   */
  listCodes?: 'pq' | 'int8'
}

export { INDEX_HASH_BYTES, lazyShardFile, type LazyIndex } from './lazyIndex.js'

export { packSegment, type PackedIvf, type PackedSegment } from './segmentTables.js'

/** A postings shard: terms ascending, each with its segments ascending; seqs gap-coded per posting. */
export interface LazyPostings {
  terms: string[]
  segments: Uint32Array
  lengths: Uint32Array
  seqs: Uint32Array
  tfs: Uint16Array
}

/** A rows shard of 16 rows, as format-2 snapshots before 2026-12-07 had them: int16 rows by row block. */
export interface LazyRows {
  blocks: { block: number; seqs: Uint32Array; codes: Uint16Array; scales: Float32Array }[]
}

/**
 * @throws WinnowError INVALID_INPUT when the collection still has tombstones.
 * @example
 * const { manifest, files } = await writeLazySnapshot(backend.dump('docs'), { embedder: null })
 */
export async function writeLazySnapshot(built: CollectionRecords, options: WriteLazyOptions): Promise<{ manifest: SnapshotManifest; files: SnapshotFile[] }> {
  if (built.tombstones.length > 0) throw invalidInput('the collection has deleted chunks not yet compacted; build the snapshot from a fresh collection')
  // Each list's rows in seq order, so the segment tables travel in seq order (segmentTables.ts).
  const records = listsInSeqOrder(built)
  const collection = collectionSection(records, options)
  const files: SnapshotFile[] = []
  const shards: ShardEntry[] = []
  const segments = [...records.segments].sort((a, b) => a.id - b.id)
  for (const [n, group] of pack(segments, 1 << 20, (s) => s.seqs.length * 12 + JSON.stringify(s.docs).length).entries()) {
    const { file, entry } = await encodeShard('segments', n, group.length, { packed: group.map(packSegment) })
    files.push(file)
    shards.push(entry)
  }
  const lists = listShards(records, options)
  const kinds: [LazyKind, { first: string | number; segment: number; records: number; payload: unknown }[]][] = [
    ['postings', postingShards(records.postings, options.postingsBytes ?? 32 * 1024)],
    ['documents', pack(documentEntries(records), options.documentBytes ?? 16 * 1024, estimateDocument).map((g) => ({ first: Math.min(...g[0]!.chunks.map((c) => c.seq)), segment: 0, records: g.length, payload: { documents: g } }))],
    ['lists', lists.parts],
    ['vectors', vectorShards(records.quantized, options.vectorBytes ?? 64 * 1024)],
  ]
  for (const [kind, parts] of kinds) {
    if (parts.length === 0) continue
    const numeric = kind !== 'postings'
    const index: LazyIndex = {
      of: kind,
      sha256: new Uint8Array(parts.length * INDEX_HASH_BYTES),
      bytes: new Uint32Array(parts.length),
      records: new Uint32Array(parts.length),
      first: numeric ? Uint32Array.from(parts, (p) => p.first as number) : parts.map((p) => p.first as string),
      segments: Uint32Array.from(parts, (p) => p.segment),
      ...(kind === 'lists' && lists.codebook && { codebook: lists.codebook }),
    }
    for (const [n, part] of parts.entries()) {
      const { file, entry } = await encodeShard(kind, n, part.records, part.payload)
      files.push(file)
      for (let b = 0; b < INDEX_HASH_BYTES; b++) index.sha256[n * INDEX_HASH_BYTES + b] = parseInt(entry.sha256.slice(b * 2, b * 2 + 2), 16)
      index.bytes[n] = entry.bytes
      index.records[n] = entry.records
    }
    const { file, entry } = await encodeShard(`index-${kind}`, 0, parts.length, index)
    files.push(file)
    shards.push({ ...entry, kind: 'index', of: kind })
  }
  const dims = records.manifest.dims
  if (dims !== null && records.rows?.length) {
    const rows = await writeRowFiles(records.rows, dims, options.rowFileBytes)
    files.push(...rows.files)
    const { file, entry } = await encodeShard('index-rows', 0, rows.files.length, rows.index)
    files.push(file)
    shards.push({ ...entry, kind: 'index', of: 'rows' })
  }
  return { manifest: await finishManifest(SNAPSHOT_V2, collection, shards, options), files }
}

function postingShards(postings: readonly PostingRecord[], target: number) {
  const byTerm = new Map<string, PostingRecord[]>()
  for (const p of postings) (byTerm.get(p.term) ?? byTerm.set(p.term, []).get(p.term)!).push(p)
  const terms = [...byTerm.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((t) => byTerm.get(t)!.sort((a, b) => a.segment - b.segment))
  return pack(terms, target, (group) => group[0]!.term.length + group.reduce((n, p) => n + 4 + p.seqs.length * 3, 0)).map((groups) => {
    const flat = groups.flat()
    const total = flat.reduce((n, p) => n + p.seqs.length, 0)
    const out: LazyPostings = { terms: flat.map((p) => p.term), segments: Uint32Array.from(flat, (p) => p.segment), lengths: Uint32Array.from(flat, (p) => p.seqs.length), seqs: new Uint32Array(total), tfs: new Uint16Array(total) }
    let at = 0
    for (const p of flat) {
      for (let j = 0; j < p.seqs.length; j++) out.seqs[at + j] = j === 0 ? p.seqs[0]! : p.seqs[j]! - p.seqs[j - 1]!
      out.tfs.set(p.tfs, at)
      at += p.seqs.length
    }
    return { first: groups[0]![0]!.term, segment: 0, records: flat.length, payload: out }
  })
}

/** The lists' shards: product-quantized (default where 4 divides the dimensions) or int8. */
function listShards(records: CollectionRecords, options: WriteLazyOptions): { parts: { first: number; segment: number; records: number; payload: unknown }[]; codebook?: PackedCodebook } {
  const lists = records.lists ?? []
  const dims = records.manifest.dims
  const target = options.vectorBytes ?? 64 * 1024
  const pq = lists.length > 0 && dims !== null && (options.listCodes ?? (dims % PQ_DSUB === 0 ? 'pq' : 'int8')) === 'pq'
  if (!pq) return { parts: bySegment(lists, (l) => l.codes.length + l.scales.length * 4 + 16, target, (g) => ({ lists: g })) }
  const coded = pqLists(lists, records.segments, dims!)
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

function vectorShards(blocks: readonly QuantizedBlockRecord[], target: number) {
  const bySegment = new Map<number, QuantizedBlockRecord[]>()
  for (const q of blocks) (bySegment.get(q.segment) ?? bySegment.set(q.segment, []).get(q.segment)!).push(q)
  return [...bySegment.keys()].sort((a, b) => a - b).flatMap((segment) =>
    pack(bySegment.get(segment)!.sort((a, b) => a.block - b.block), target, (q) => q.codes.length + q.scales.length * 8).map((g) => ({ first: g[0]!.block, segment, records: g.length, payload: { blocks: g } })),
  )
}
