/**
 * Turns a built collection (the records of an in-memory store) into snapshot files. No file system
 * here: the CLI writes what this returns, and tests read it directly.
 */

import { invalidInput, WinnowError } from '../errors.js'
import { RECORD_LAYOUT, VECTOR_BLOCK_ROWS, type ChunkRecord, type DocRecord, type ListRecord, type Manifest, type PostingRecord, type QuantizedBlockRecord, type RowBlockRecord, type SegmentRecord } from '../store/types.js'
import { encodeRecords, gzip, sha256Hex } from './codec.js'
import { hashInput, SNAPSHOT_FORMAT, SNAPSHOT_V1, type ShardEntry, type ShardKind, type ShardPayloads, type SnapshotChunk, type SnapshotDocument, type SnapshotEmbedder, type SnapshotManifest } from './format.js'

/** Everything a collection stores, as read back from its store (see `MemoryBackend.dump`). */
export interface CollectionRecords {
  manifest: Manifest
  docs: DocRecord[]
  chunks: ChunkRecord[]
  segments: SegmentRecord[]
  postings: PostingRecord[]
  quantized: QuantizedBlockRecord[]
  /** Inverted lists of partitioned segments: a snapshot carries them as the int8 blocks of their rows. */
  lists?: ListRecord[]
  /** The fp32 rows (format 2 carries them as int16 for rescoring; format 1 rebuilds them from int8). */
  rows?: RowBlockRecord[]
  tombstones: number[]
}

/** Options of {@link writeSnapshot}. */
export interface WriteSnapshotOptions {
  /** The model that embedded the chunks, when the collection has vectors. */
  embedder: SnapshotEmbedder | null
  /** Target size of a shard before compression. Default 512 KiB. */
  shardBytes?: number
  /** Goes into `manifest.generator`. */
  generator?: string
  /** Build time (ISO). Default: now. */
  createdAt?: string
}

/** A file to write next to the manifest. */
export interface SnapshotFile {
  path: string
  bytes: Uint8Array
}

/** Default target shard size (uncompressed): a few hundred ms of a slow connection, a short transaction. */
export const DEFAULT_SHARD_BYTES = 512 * 1024

/**
 * Encodes a collection's records as a snapshot: the manifest and its shards (documents with their
 * chunks, segment tables, packed postings, int8 vector blocks; fp32 vectors are left out and
 * rebuilt from the int8 codes on import, a quarter of the bytes for a ~1e-3 cosine error).
 *
 * @throws Error when the collection still has tombstones (build snapshots from one clean add).
 * @example
 * const { manifest, files } = await writeSnapshot(backend.dump('docs'), { embedder: null })
 */
export async function writeSnapshot(records: CollectionRecords, options: WriteSnapshotOptions): Promise<{ manifest: SnapshotManifest; files: SnapshotFile[] }> {
  if (records.tombstones.length > 0) throw invalidInput('the collection has deleted chunks not yet compacted; build the snapshot from a fresh collection')
  const target = options.shardBytes ?? DEFAULT_SHARD_BYTES
  const payloads: { kind: ShardKind; records: number; payload: unknown }[] = []

  for (const group of pack(documentEntries(records), target, estimateDocument)) {
    payloads.push({ kind: 'documents', records: group.length, payload: { documents: group } satisfies ShardPayloads['documents'] })
  }
  // Segments as record layout 1 has them: snapshots carry int8 blocks only, and the importer
  // rebuilds the fp32 rows from them.
  const segments = [...records.segments].sort((a, b) => a.id - b.id).map(({ ivf: _ivf, ...s }) => ({ ...s, vectorBlocks: s.vectorBlocks > 0 ? Math.ceil(s.seqs.length / VECTOR_BLOCK_ROWS) : 0 }))
  for (const group of pack(segments, target, (s) => s.seqs.length * 12 + JSON.stringify(s.docs).length)) {
    payloads.push({ kind: 'segments', records: group.length, payload: { segments: group } satisfies ShardPayloads['segments'] })
  }
  const bySegment = new Map<number, PostingRecord[]>()
  for (const p of records.postings) (bySegment.get(p.segment) ?? bySegment.set(p.segment, []).get(p.segment)!).push(p)
  for (const segment of [...bySegment.keys()].sort((a, b) => a - b)) {
    const sorted = bySegment.get(segment)!.sort((a, b) => (a.term < b.term ? -1 : a.term > b.term ? 1 : 0))
    for (const group of pack(sorted, target, (p) => p.term.length + 4 + p.seqs.length * 6)) {
      payloads.push({ kind: 'postings', records: group.length, payload: packPostings(segment, group) })
    }
  }
  const blocks = [...records.quantized, ...listBlocks(records)].sort((a, b) => a.segment - b.segment || a.block - b.block)
  for (const group of pack(blocks, target, (q) => q.codes.length + q.scales.length * 4 + q.seqs.length * 4)) {
    payloads.push({ kind: 'vectors', records: group.length, payload: { blocks: group } satisfies ShardPayloads['vectors'] })
  }

  const files: SnapshotFile[] = []
  const shards: ShardEntry[] = []
  const counters = new Map<ShardKind, number>()
  for (const { kind, records: count, payload } of payloads) {
    const n = counters.get(kind) ?? 0
    counters.set(kind, n + 1)
    const { file, entry } = await encodeShard(kind, n, count, payload)
    files.push(file)
    shards.push(entry)
  }
  return { manifest: await finishManifest(SNAPSHOT_V1, collectionSection(records, options), shards, options), files }
}

/**
 * One shard: gzip of its encoded records, named by its content (a host may cache shards forever;
 * only manifest.json must revalidate).
 *
 * @example
 * const { file, entry } = await encodeShard('postings', 0, 120, payload)
 */
export async function encodeShard(kind: string, n: number, records: number, payload: unknown): Promise<{ file: SnapshotFile; entry: ShardEntry }> {
  const bytes = await gzip(encodeRecords(payload))
  const sha256 = await sha256Hex(bytes)
  const path = `shards/${kind}-${String(n).padStart(4, '0')}-${sha256.slice(0, 12)}.bin`
  return { file: { path, bytes }, entry: { file: path, kind: kind as ShardKind, records, bytes: bytes.length, sha256 } }
}

/**
 * The manifest's `collection` section, after checking that the snapshot can name its embedder.
 *
 * @example
 * const collection = collectionSection(backend.dump('docs'), { embedder: null })
 */
export function collectionSection(records: Pick<CollectionRecords, 'manifest'>, options: WriteSnapshotOptions): SnapshotManifest['collection'] {
  const m = records.manifest
  const collection: SnapshotManifest['collection'] = {
    schema: RECORD_LAYOUT,
    analyzer: m.analyzer as SnapshotManifest['collection']['analyzer'],
    chunking: m.chunking as Record<string, unknown> | null,
    dims: m.dims,
    vectorSource: m.vectorSource === 'embedder' ? 'embedder' : 'none',
    embedder: m.vectorSource === 'embedder' ? withConventions(options.embedder, m) : null,
    documents: m.docCount,
    chunks: m.chunkCount,
    totalLength: m.totalLength,
    nextSeq: m.nextSeq,
    nextSegment: m.nextSegment,
  }
  if (m.vectorSource === 'caller') throw invalidInput('snapshots carry vectors made by an embedder (which the browser needs for queries); for vectors you supply, name the model that made them (winnow-rerank index --vectors-model, or buildSnapshot\'s vectorsFrom)')
  if (collection.vectorSource === 'embedder' && (!options.embedder || options.embedder.model !== m.embedder || options.embedder.dims !== m.dims)) {
    throw invalidInput(`the collection was embedded with ${String(m.embedder)} (${String(m.dims)} dims), but the snapshot names ${options.embedder?.model ?? 'no embedder'}`)
  }
  const conventions = m.embedderConventions
  if (collection.embedder && conventions && options.embedder && conventions.pooling !== options.embedder.pooling) {
    throw invalidInput(`the collection was embedded with ${conventions.pooling} pooling, but the snapshot names ${options.embedder.pooling}`)
  }
  return collection
}

/** The manifest: its hash over the version, the collection section and the shards. */
export async function finishManifest(version: number, collection: SnapshotManifest['collection'], shards: ShardEntry[], options: WriteSnapshotOptions): Promise<SnapshotManifest> {
  const base = { format: SNAPSHOT_FORMAT, version, collection, shards } as const
  const hash = await sha256Hex(new TextEncoder().encode(hashInput(base)))
  return {
    format: SNAPSHOT_FORMAT,
    version,
    hash,
    generator: options.generator ?? 'winnow',
    createdAt: options.createdAt ?? new Date().toISOString(),
    collection,
    shards,
    bytes: shards.reduce((n, s) => n + s.bytes, 0),
  }
}

/**
 * A partitioned segment's lists as the 64-row int8 blocks of record layout 1: its rows are in list
 * order, so the lists one after another are its rows in order. The importer writes it as an exact
 * segment; the merge that next rewrites it partitions it again.
 */
function listBlocks(records: CollectionRecords): QuantizedBlockRecord[] {
  const out: QuantizedBlockRecord[] = []
  for (const segment of records.segments) {
    if (!segment.ivf) continue
    const lists = (records.lists ?? []).filter((l) => l.segment === segment.id).sort((a, b) => a.list - b.list)
    const n = segment.seqs.length
    const dims = lists[0]?.dims ?? 0
    const codes = new Int8Array(n * dims)
    const scales = new Float32Array(n)
    for (const l of lists) {
      const at = segment.ivf.starts[l.list]!
      codes.set(l.codes.subarray(0, (segment.ivf.starts[l.list + 1]! - at) * dims), at * dims)
      scales.set(l.scales, at)
    }
    for (let from = 0, b = 0; from < n; from += VECTOR_BLOCK_ROWS, b++) {
      const to = Math.min(n, from + VECTOR_BLOCK_ROWS)
      out.push({ segment: segment.id, block: b, dims, seqs: segment.seqs.slice(from, to), codes: codes.slice(from * dims, to * dims), scales: scales.slice(from, to) })
    }
  }
  return out
}

export function documentEntries(records: CollectionRecords): SnapshotDocument[] {
  const chunks = new Map(records.chunks.map((c) => [c.seq, c]))
  return [...records.docs]
    .sort((a, b) => Math.min(...a.seqs) - Math.min(...b.seqs) || (a.id < b.id ? -1 : 1))
    .map((doc) => {
      const out: SnapshotDocument = { id: doc.id, text: doc.text, chunks: [] }
      if (doc.title !== undefined) out.title = doc.title
      if (doc.metadata !== undefined) out.metadata = doc.metadata
      for (const seq of doc.seqs) {
        const c = chunks.get(seq)
        if (!c) throw new WinnowError('INTERNAL', `document ${doc.id} lists chunk ${seq}, which is not stored`, { id: doc.id, seq })
        const chunk: SnapshotChunk = { seq, index: c.index, start: c.start, end: c.end, section: c.section, path: c.path }
        // Chunk texts are slices of the document: leave them out, the importer cuts them again.
        if (doc.text.slice(c.start, c.end) !== c.text) chunk.text = c.text
        out.chunks.push(chunk)
      }
      return out
    })
}

export function estimateDocument(doc: SnapshotDocument): number {
  return doc.text.length * 1.1 + JSON.stringify(doc.metadata ?? null).length + doc.chunks.length * 80
}

/** Groups items in order so each group's estimated size stays near `target` (one item at least). */
export function pack<T>(items: readonly T[], target: number, size: (item: T) => number): T[][] {
  const groups: T[][] = []
  let current: T[] = []
  let bytes = 0
  for (const item of items) {
    const s = size(item)
    if (current.length > 0 && bytes + s > target) {
      groups.push(current)
      current = []
      bytes = 0
    }
    current.push(item)
    bytes += s
  }
  if (current.length > 0) groups.push(current)
  return groups
}

function packPostings(segment: number, group: PostingRecord[]): ShardPayloads['postings'] {
  const total = group.reduce((n, p) => n + p.seqs.length, 0)
  const lengths = new Uint32Array(group.length)
  const seqs = new Uint32Array(total)
  const tfs = new Uint16Array(total)
  let at = 0
  group.forEach((p, i) => {
    lengths[i] = p.seqs.length
    // Ascending seqs become small gaps, which gzip packs far better than absolute numbers.
    let previous = 0
    for (let j = 0; j < p.seqs.length; j++) {
      seqs[at + j] = j === 0 ? p.seqs[0]! : p.seqs[j]! - previous
      previous = p.seqs[j]!
    }
    tfs.set(p.tfs, at)
    at += p.seqs.length
  })
  return { segment, terms: group.map((p) => p.term), lengths, seqs, tfs }
}

/**
 * The snapshot's embedder entry with the prefixes the collection recorded (a browser embeds its
 * queries with them). A collection without recorded conventions was embedded without prefixes:
 * its entry carries none, as snapshots did before.
 */
function withConventions(embedder: SnapshotEmbedder | null, m: Manifest): SnapshotEmbedder | null {
  const c = m.embedderConventions
  if (!embedder || !c) return embedder
  return { ...embedder, queryPrefix: c.queryPrefix, documentPrefix: c.documentPrefix }
}
