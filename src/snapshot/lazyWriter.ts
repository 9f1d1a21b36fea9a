/**
 * Writes a format-2 snapshot (`writeLazy.ts` describes the layout) from a collection given in
 * parts: each part is a collection built apart whose seqs and segment ids continue the part before
 * (`buildSnapshot` builds a large corpus so, a part at a time). A part's documents, lists, vector
 * blocks and rows go out as files as soon as it is added; what stays until {@link finish} is small —
 * its segment tables, packed, the index entries, and its postings as a sorted run (in memory, or
 * where the caller keeps runs) — so memory follows the part, not the corpus.
 *
 * @example
 * const writer = new LazySnapshotWriter(options, async (file) => write(file))
 * for (const part of parts) await writer.add(part)
 * const manifest = await writer.finish()
 */
import { invalidInput } from '../errors.js'
import type { Manifest, PostingRecord } from '../store/types.js'
import { SNAPSHOT_V2, type LazyKind, type ShardEntry, type SnapshotManifest } from './format.js'
import { INDEX_HASH_BYTES, type LazyIndex } from './lazyIndex.js'
import { mergeRuns, memoryRuns, writeRun, type RunStore } from './postingRuns.js'
import type { PackedCodebook } from './pqLists.js'
import { writeRowFiles } from './rowFiles.js'
import { listsInSeqOrder, packSegment, type PackedSegment } from './segmentTables.js'
import { collectionSection, documentEntries, encodeShard, estimateDocument, finishManifest, pack, type CollectionRecords, type SnapshotFile } from './write.js'
import { listShards, postingsPayload, postingsSize, vectorShards } from './lazyShards.js'
import type { WriteLazyOptions } from './lazyIndex.js'

/** One shard of a kind, as its index lists it. */
interface Part {
  first: string | number
  segment: number
  records: number
  payload: unknown
}

/** A kind's index, filled as its shards are written. */
class IndexBuilder {
  readonly first: (string | number)[] = []
  readonly segments: number[] = []
  readonly bytes: number[] = []
  readonly records: number[] = []
  private sha: number[] = []

  constructor(readonly kind: LazyKind) {}

  get count(): number {
    return this.bytes.length
  }

  add(entry: ShardEntry, first: string | number, segment: number): void {
    this.first.push(first)
    this.segments.push(segment)
    this.bytes.push(entry.bytes)
    this.records.push(entry.records)
    for (let b = 0; b < INDEX_HASH_BYTES; b++) this.sha.push(parseInt(entry.sha256.slice(b * 2, b * 2 + 2), 16))
  }

  /** Appends the files of an index built elsewhere (a part's rows files), numbered after these. */
  addIndex(index: LazyIndex): void {
    for (let i = 0; i < index.bytes.length; i++) {
      this.first.push((index.first as Uint32Array)[i]!)
      this.segments.push(index.segments[i]!)
      this.bytes.push(index.bytes[i]!)
      this.records.push(index.records[i]!)
    }
    this.sha.push(...index.sha256)
  }

  build(extra: Partial<LazyIndex> = {}): LazyIndex {
    const numeric = this.kind !== 'postings'
    return {
      of: this.kind,
      sha256: Uint8Array.from(this.sha),
      bytes: Uint32Array.from(this.bytes),
      records: Uint32Array.from(this.records),
      first: numeric ? Uint32Array.from(this.first as number[]) : (this.first as string[]),
      segments: Uint32Array.from(this.segments),
      ...extra,
    }
  }
}

export class LazySnapshotWriter {
  private readonly indexes = new Map<LazyKind, IndexBuilder>((['postings', 'documents', 'lists', 'vectors', 'rows'] as const).map((k) => [k, new IndexBuilder(k)]))
  private readonly tables: PackedSegment[] = []
  private readonly runs: RunStore[] = []
  private codebook: PackedCodebook | undefined
  /** Seqs of the rows files so far (the rows index lists every one, as gaps). */
  private rowSeqGaps: Uint32Array[] = []
  private lastRowSeq = 0
  private rowBytes: number | undefined
  private manifest: Manifest | null = null
  private finished = false

  /** `run`: where each part's postings wait for the merge (default: in memory). */
  constructor(
    private readonly options: WriteLazyOptions,
    private readonly sink: (file: SnapshotFile) => Promise<void>,
    private readonly run: () => RunStore = memoryRuns(),
  ) {}

  /**
   * Writes a part: its seqs must follow the last part's, its segment ids be new.
   *
   * @throws WinnowError INVALID_INPUT for a part with deleted chunks, or one that does not follow.
   */
  async add(built: CollectionRecords): Promise<void> {
    if (this.finished) throw invalidInput('the snapshot is finished')
    if (built.tombstones.length > 0) throw invalidInput('the collection has deleted chunks not yet compacted; build the snapshot from a fresh collection')
    const m = built.manifest
    const previous = this.manifest
    if (previous && (m.dims !== previous.dims || built.segments.some((s) => s.id < previous.nextSegment) || Math.min(...built.segments.map((s) => s.seqs[0] ?? Infinity)) < previous.nextSeq)) {
      throw invalidInput('a part of the snapshot must continue the seqs and segment ids of the part before it, with the same dimensions')
    }
    this.manifest = previous ? { ...m, docCount: previous.docCount + m.docCount, chunkCount: previous.chunkCount + m.chunkCount, totalLength: previous.totalLength + m.totalLength } : { ...m }
    // Each list's rows in seq order, so the segment tables travel in seq order (segmentTables.ts).
    const records = listsInSeqOrder(built)
    for (const segment of [...records.segments].sort((a, b) => a.id - b.id)) this.tables.push(packSegment(segment))
    const documents = pack(documentEntries(records), this.options.documentBytes ?? 16 * 1024, estimateDocument)
    await this.shards('documents', documents.map((g) => ({ first: Math.min(...g[0]!.chunks.map((c) => c.seq)), segment: 0, records: g.length, payload: { documents: g } })))
    const lists = listShards(records, this.options, this.codebook)
    this.codebook ??= lists.codebook
    await this.shards('lists', lists.parts)
    await this.shards('vectors', vectorShards(records.quantized, this.options.vectorBytes ?? 64 * 1024))
    const dims = records.manifest.dims
    if (dims !== null && records.rows?.length) {
      const rows = this.indexes.get('rows')!
      const part = await writeRowFiles(records.rows, dims, this.options.rowFileBytes, rows.count)
      for (const file of part.files) await this.sink(file)
      const gaps = part.index.seqGaps!
      // The first gap of a part counts from the last seq of the part before.
      gaps[0] = gaps[0]! - this.lastRowSeq
      this.lastRowSeq = (part.index.first as Uint32Array)[0]! + gaps.subarray(1).reduce((s, g) => s + g, 0)
      this.rowSeqGaps.push(gaps)
      this.rowBytes = part.index.rowBytes
      rows.addIndex(part.index)
    }
    const run = this.run()
    await writeRun(records.postings, run)
    this.runs.push(run)
  }

  /** The postings shards (the runs merged), the indexes and the segment tables; returns the manifest. */
  async finish(): Promise<SnapshotManifest> {
    if (!this.manifest) throw invalidInput('there are no documents to build a snapshot of')
    this.finished = true
    const collection = collectionSection({ manifest: this.manifest }, this.options)
    await this.postings()
    const shards: ShardEntry[] = []
    for (const [n, group] of pack(this.tables, 1 << 20, (t) => t.seqGaps.length * 12 + (t.idTail?.length ?? 0)).entries()) {
      const { file, entry } = await encodeShard('segments', n, group.length, { packed: group })
      await this.sink(file)
      shards.push(entry)
    }
    for (const index of this.indexes.values()) {
      if (index.count === 0) continue
      const extra: Partial<LazyIndex> =
        index.kind === 'lists' && this.codebook ? { codebook: this.codebook } : index.kind === 'rows' ? { rowBytes: this.rowBytes!, seqGaps: concat(this.rowSeqGaps) } : {}
      const { file, entry } = await encodeShard(`index-${index.kind}`, 0, index.count, index.build(extra))
      await this.sink(file)
      shards.push({ ...entry, kind: 'index', of: index.kind })
    }
    // The manifest lists the indexes in the order the one-part writer did (postings, documents, lists, vectors, rows).
    return finishManifest(SNAPSHOT_V2, collection, shards, this.options)
  }

  /** The runs merged into postings shards of about `postingsBytes`, a term never split. */
  private async postings(): Promise<void> {
    const target = this.options.postingsBytes ?? 32 * 1024
    let group: PostingRecord[][] = []
    let bytes = 0
    const flush = async () => {
      if (group.length === 0) return
      await this.shards('postings', [{ first: group[0]![0]!.term, segment: 0, records: group.reduce((n, g) => n + g.length, 0), payload: postingsPayload(group) }])
      group = []
      bytes = 0
    }
    for await (const records of mergeRuns(this.runs)) {
      const size = postingsSize(records)
      if (group.length > 0 && bytes + size > target) await flush()
      group.push(records)
      bytes += size
    }
    await flush()
    for (const run of this.runs) await run.drop()
  }

  private async shards(kind: LazyKind, parts: readonly Part[]): Promise<void> {
    const index = this.indexes.get(kind)!
    for (const part of parts) {
      const { file, entry } = await encodeShard(kind, index.count, part.records, part.payload)
      await this.sink(file)
      index.add(entry, part.first, part.segment)
    }
  }
}

function concat(parts: readonly Uint32Array[]): Uint32Array {
  const out = new Uint32Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
