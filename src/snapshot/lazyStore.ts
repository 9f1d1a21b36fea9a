/**
 * A snapshot version of format 2 as a read-only {@link CollectionStore}: the engine searches it as
 * any collection, and each read fetches (or finds cached) only the shards holding what it asks for
 * — the postings of the query's terms, the probed lists, the rows rescoring reads, the texts of
 * the hits. The segment tables are read when it opens. See `writeLazy.ts` for the layout.
 *
 * @example
 * const store = await LazySnapshotStore.open('docs', manifest, new ShardSource(url, { fetch, cache }))
 * const engine = await CollectionEngine.open('docs', { store, coordination, embedder: null })
 */
import { WinnowError } from '../errors.js'
import type { ShardCache } from '../store/shardCache.js'
import { rowBlockRows, type ChunkRecord, type CollectionStore, type DocRecord, type DocRef, type ListRecord, type Manifest, type PostingRecord, type QuantizedBlockRecord, type RowBlockRecord, type SegmentRecord, type WriteBatch } from '../store/types.js'
import type { LazyKind, SnapshotManifest } from './format.js'
import { storeManifest } from './importer.js'
import { shardRecords, type ShardRecords } from './read.js'
import { decodeRow, RowLocator, rowRecordBytes } from './rowFiles.js'
import { pqListRecord, unpackCodebook, type PqListsPayload } from './pqLists.js'
import type { ProductQuantizer } from '../core/pq.js'
import type { ShardRef, ShardSource } from './shardSource.js'
import { INDEX_HASH_BYTES, lazyShardFile, type LazyIndex, type LazyPostings, type LazyRows } from './lazyIndex.js'
import { unpackSegments } from './segmentTables.js'

export class LazySnapshotStore implements CollectionStore {
  private readonly indexes = new Map<LazyKind, Promise<LazyIndex | null>>()
  private readonly decodedDocuments = new WeakMap<object, ShardRecords>()
  private rowLocator: RowLocator | null = null
  private codebook: ProductQuantizer | null = null
  private closed = false

  private constructor(
    readonly name: string,
    private readonly manifest: SnapshotManifest,
    readonly source: ShardSource,
    private readonly segments: SegmentRecord[],
    private readonly cache: ShardCache | null,
  ) {}

  /** Reads the segment tables (the only shards a version needs before its first query). */
  static async open(name: string, manifest: SnapshotManifest, source: ShardSource, cache: ShardCache | null = null): Promise<LazySnapshotStore> {
    const segments: SegmentRecord[] = []
    for (const entry of manifest.shards.filter((s) => s.kind === 'segments')) {
      const records = shardRecords('segments', { segments: unpackSegments(await source.get(entry), malformed) }, manifest)
      if (records.count !== entry.records) throw corrupt(entry.file, `it holds ${records.count} segments, the manifest says ${entry.records}`)
      segments.push(...records.segments)
    }
    return new LazySnapshotStore(name, manifest, source, segments.sort((a, b) => a.id - b.id), cache)
  }

  async check(): Promise<void> {
    this.cache?.check()
  }

  manifestOf(): SnapshotManifest {
    return this.manifest
  }

  cacheOf(): ShardCache | null {
    return this.cache
  }

  async readManifest(): Promise<Manifest | null> {
    return storeManifest(this.manifest)
  }

  async readSegments(ids?: readonly number[]): Promise<SegmentRecord[]> {
    return ids ? this.segments.filter((s) => ids.includes(s.id)) : [...this.segments]
  }

  async readSegmentIds(): Promise<number[]> {
    return this.segments.map((s) => s.id)
  }

  async readTombstones(): Promise<number[]> {
    return []
  }

  async readQuantized(segments?: readonly number[]): Promise<QuantizedBlockRecord[]> {
    const index = await this.index('vectors')
    if (!index) return []
    const wanted = [...index.segments.keys()].filter((i) => !segments || segments.includes(index.segments[i]!))
    const out: QuantizedBlockRecord[] = []
    for (const payload of await Promise.all(wanted.map((i) => this.shard(index, i)))) out.push(...shardRecords('vectors', payload, this.manifest).quantized)
    return out
  }

  async readLists(keys: readonly (readonly [segment: number, list: number])[]): Promise<(ListRecord | undefined)[]> {
    const index = await this.index('lists')
    if (!index) return keys.map(() => undefined)
    const at = keys.map(([segment, list]) => locate(index, list, segment))
    const payloads = await this.shards(index, at)
    if (index.codebook) return keys.map(([segment, list], i) => this.pqList(index, payloads.get(at[i]!) as PqListsPayload | undefined, segment, list))
    return keys.map(([segment, list], i) => {
      const lists = (payloads.get(at[i]!) as { lists?: ListRecord[] } | undefined)?.lists
      const found = lists?.find((l) => l.segment === segment && l.list === list)
      if (found && (!(found.codes instanceof Int8Array) || !(found.scales instanceof Float32Array) || found.codes.length !== found.scales.length * found.dims)) throw malformed('lists', 'a list has arrays of the wrong type or length')
      return found
    })
  }

  /** A product-quantized list, rebuilt as int8 rows (see `pqLists.ts`). */
  private pqList(index: LazyIndex, payload: PqListsPayload | undefined, segment: number, list: number): ListRecord | undefined {
    const entry = payload?.pq?.find((l) => l.segment === segment && l.list === list)
    if (!entry) return undefined
    const dims = this.manifest.collection.dims!
    const ivf = this.segments.find((s) => s.id === segment)?.ivf
    if (!this.codebook) {
      try {
        this.codebook = unpackCodebook(index.codebook!, dims)
      } catch {
        throw malformed('index', 'its lists codebook has the wrong shape')
      }
    }
    if (!ivf || !(entry.codes instanceof Uint8Array) || entry.rows !== ivf.starts[list + 1]! - ivf.starts[list]! || entry.codes.length !== entry.rows * this.codebook.m) throw malformed('lists', 'a coded list disagrees with its segment')
    return pqListRecord(entry, ivf.centroids.subarray(list * dims, (list + 1) * dims), this.codebook)
  }

  async readRows(blocks: readonly number[], seqs?: readonly number[]): Promise<RowBlockRecord[]> {
    const index = await this.index('rows')
    const dims = this.manifest.collection.dims
    if (!index || dims === null) return []
    if (index.rowBytes !== undefined) return this.readRowFiles(index, dims, blocks, seqs)
    // Rows shards of 16 rows (snapshots built before rows files).
    const at = blocks.map((b) => locate(index, b, 0))
    const payloads = await this.shards(index, at)
    const out: RowBlockRecord[] = []
    blocks.forEach((block, i) => {
      const b = (payloads.get(at[i]!) as LazyRows | undefined)?.blocks?.find((r) => r.block === block)
      if (!b) return
      if (!(b.codes instanceof Uint16Array) || !(b.scales instanceof Float32Array) || b.codes.length !== b.seqs.length * dims || b.seqs.some((s) => Math.floor(s / rowBlockRows(dims)) !== block)) throw malformed('rows', 'a row block has arrays of the wrong type or length')
      const vectors = new Float32Array(b.codes.length)
      for (let r = 0; r < b.seqs.length; r++) for (let j = r * dims, end = j + dims; j < end; j++) vectors[j] = (b.codes[j]! - 32768) * b.scales[r]!
      out.push({ block, seqs: b.seqs, vectors })
    })
    return out
  }

  /** Rows from rows files, a row at a time: `seqs` where given (within `blocks`), else every row of `blocks`. */
  private async readRowFiles(index: LazyIndex, dims: number, blocks: readonly number[], seqs?: readonly number[]): Promise<RowBlockRecord[]> {
    this.rowLocator ??= new RowLocator(checkRowIndex(index, dims))
    const where = this.rowLocator
    const per = rowBlockRows(dims)
    const asked = new Set(blocks)
    const wanted = [...new Set(seqs ? seqs.filter((s) => asked.has(Math.floor(s / per))) : blocks.flatMap((b) => where.seqsOfBlock(b, dims)))].sort((a, b) => a - b)
    const byFile = new Map<number, { seq: number; row: number }[]>()
    for (const seq of wanted) {
      const at = where.find(seq)
      if (at) (byFile.get(at.file) ?? byFile.set(at.file, []).get(at.file)!).push({ seq, row: at.row })
    }
    this.cache?.check()
    const rows = new Map<number, Float32Array>()
    await Promise.all(
      [...byFile].map(async ([file, found]) => {
        const ref = shardRef(index, file)
        const seqOf = new Map(found.map((f) => [f.row, f.seq]))
        const fetched = new Map<number, Float32Array>()
        const records = await this.source.records(ref, index.rowBytes!, found.map((f) => f.row), async (row, bytes) => void fetched.set(row, await decodeRow(bytes, seqOf.get(row)!, dims, ref.file)))
        // Rows from a cache are checked again as they are decoded.
        for (const { seq, row } of found) rows.set(seq, fetched.get(row) ?? (await decodeRow(records.get(row)!, seq, dims, ref.file)))
      }),
    )
    const out = new Map<number, { seqs: number[]; vectors: Float32Array[] }>()
    for (const seq of wanted) {
      const vector = rows.get(seq)
      if (!vector) continue
      const block = Math.floor(seq / per)
      const group = out.get(block) ?? out.set(block, { seqs: [], vectors: [] }).get(block)!
      group.seqs.push(seq)
      group.vectors.push(vector)
    }
    return [...out].map(([block, g]) => {
      const vectors = new Float32Array(g.seqs.length * dims)
      g.vectors.forEach((v, i) => vectors.set(v, i * dims))
      return { block, seqs: Uint32Array.from(g.seqs), vectors }
    })
  }

  async readPostings(terms: readonly string[]): Promise<Map<string, PostingRecord[]>> {
    const out = new Map<string, PostingRecord[]>(terms.map((t) => [t, []]))
    const index = await this.index('postings')
    if (!index) return out
    const at = terms.map((t) => locate(index, t, 0))
    const payloads = await this.shards(index, at)
    terms.forEach((term, i) => out.set(term, postingsOf(payloads.get(at[i]!) as LazyPostings | undefined, term)))
    return out
  }

  async readSegmentPostings(segment: number): Promise<PostingRecord[]> {
    const index = await this.index('postings')
    if (!index) return []
    const out: PostingRecord[] = []
    for (let i = 0; i < index.bytes.length; i++) {
      const p = (await this.shard(index, i)) as LazyPostings
      for (const term of new Set(p.terms)) out.push(...postingsOf(p, term).filter((x) => x.segment === segment))
    }
    return out
  }

  async readChunks(seqs: readonly number[], docs: readonly DocRef[]): Promise<(ChunkRecord | undefined)[]> {
    const found = await this.documents(docs)
    return seqs.map((seq, i) => {
      const doc = found[i]
      return doc ? doc.chunks.find((c) => c.seq === seq) : undefined
    })
  }

  async readDocs(refs: readonly DocRef[]): Promise<(DocRecord | undefined)[]> {
    return (await this.documents(refs)).map((d) => d?.doc)
  }

  async readTitles(refs: readonly DocRef[]): Promise<(string | undefined)[]> {
    return (await this.documents(refs)).map((d) => d?.doc.title)
  }

  async commit(_batch: WriteBatch): Promise<void> {
    throw new WinnowError('READ_ONLY', `collection '${this.name}' is a snapshot fetched as it is searched; it changes only when a newer snapshot is published`, { collection: this.name })
  }

  async stage(): Promise<void> {
    return this.commit({} as WriteBatch)
  }

  close(): void {
    this.closed = true
    this.cache?.close()
  }

  /** Documents by reference (the shard holding their first chunk), with their chunks. */
  private async documents(refs: readonly DocRef[]): Promise<({ doc: DocRecord; chunks: ChunkRecord[] } | undefined)[]> {
    const index = await this.index('documents')
    if (!index) return refs.map(() => undefined)
    const at = refs.map((r) => locate(index, r.seq, 0))
    const payloads = await this.shards(index, at)
    const decoded = new Map<number, ShardRecords>()
    for (const [i, payload] of payloads) decoded.set(i, this.documentRecords(payload))
    return refs.map((ref, i) => {
      const records = decoded.get(at[i]!)
      const doc = records?.docs.find((d) => d.id === ref.id && Math.min(...d.seqs) === ref.seq)
      return doc ? { doc, chunks: records!.chunks.filter((c) => c.docId === doc.id && doc.seqs.includes(c.seq)) } : undefined
    })
  }

  /**
   * A documents shard's records, decoded once per payload: a query reads its candidates' passages
   * and then their titles from the same shards (the source hands out the same payload while it
   * keeps it in memory).
   */
  private documentRecords(payload: unknown): ShardRecords {
    let records = this.decodedDocuments.get(payload as object)
    if (!records) this.decodedDocuments.set(payload as object, (records = shardRecords('documents', payload, this.manifest)))
    return records
  }

  /** Each distinct shard of `at` (−1: none), fetched at once. */
  private async shards(index: LazyIndex, at: readonly number[]): Promise<Map<number, unknown>> {
    const distinct = [...new Set(at.filter((i) => i >= 0))]
    const payloads = await Promise.all(distinct.map((i) => this.shard(index, i)))
    return new Map(distinct.map((i, n) => [i, payloads[n]]))
  }

  private shard(index: LazyIndex, i: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new WinnowError('STORAGE_UNAVAILABLE', 'store closed'))
    try {
      // Deleted by another tab that moved to a newer version: `gone`, and the caller follows it.
      this.cache?.check()
    } catch (error) {
      return Promise.reject(error)
    }
    return this.source.get(shardRef(index, i))
  }

  /** The index shard of a kind (null when the snapshot has none), read once; a failed read is retried. */
  index(kind: LazyKind): Promise<LazyIndex | null> {
    let pending = this.indexes.get(kind)
    if (!pending) {
      const entry = this.manifest.shards.find((s) => s.kind === 'index' && s.of === kind)
      pending = entry ? this.source.get(entry).then((p) => checkIndex(p, kind, entry.records)) : Promise.resolve(null)
      pending.catch(() => this.indexes.delete(kind))
      this.indexes.set(kind, pending)
    }
    return pending
  }
}

/** The shard whose range holds `key` within `segment`: the last one starting at or before it; −1 if none. */
function locate(index: LazyIndex, key: string | number, segment: number): number {
  let lo = 0
  let hi = index.first.length - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const s = index.segments[mid]!
    const before = s < segment || (s === segment && index.first[mid]! <= key)
    if (before) {
      if (s === segment) found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found
}

function postingsOf(p: LazyPostings | undefined, term: string): PostingRecord[] {
  if (!p) return []
  const out: PostingRecord[] = []
  let at = 0
  for (let i = 0; i < p.terms.length; i++) {
    const n = p.lengths[i]!
    if (p.terms[i] === term) {
      const seqs = new Uint32Array(n)
      for (let j = 0, previous = 0; j < n; j++) seqs[j] = previous = j === 0 ? p.seqs[at]! : (previous + p.seqs[at + j]!) >>> 0
      out.push({ term, segment: p.segments[i]!, seqs, tfs: p.tfs.slice(at, at + n) })
    }
    at += n
  }
  return out
}

export function checkIndex(payload: unknown, kind: LazyKind, count: number): LazyIndex {
  const p = payload as Partial<LazyIndex> | null
  const n = p?.bytes?.length
  const first = p?.first
  const keys = kind === 'postings' ? Array.isArray(first) && first.every((t) => typeof t === 'string') : first instanceof Uint32Array
  if (!p || p.of !== kind || !(p.sha256 instanceof Uint8Array) || !(p.bytes instanceof Uint32Array) || !(p.records instanceof Uint32Array) || !(p.segments instanceof Uint32Array) || !keys || n !== count) {
    throw malformed('index', `its ${kind} index disagrees with the manifest`)
  }
  if (p.sha256.length !== n * INDEX_HASH_BYTES || first!.length !== n || p.records.length !== n || p.segments.length !== n) throw malformed('index', `its ${kind} index has arrays of different lengths`)
  return p as LazyIndex
}

/** A rows-files index whose seqs agree with its files. */
function checkRowIndex(index: LazyIndex, dims: number): LazyIndex & { rowBytes: number; seqGaps: Uint32Array } {
  const { rowBytes, seqGaps } = index
  const rows = index.records.reduce((n, r) => n + r, 0)
  if (rowBytes !== rowRecordBytes(dims) || !(seqGaps instanceof Uint32Array) || seqGaps.length !== rows || index.records.some((r, f) => r * rowBytes !== index.bytes[f])) throw malformed('index', 'its rows index disagrees with its files')
  return index as LazyIndex & { rowBytes: number; seqGaps: Uint32Array }
}

/** Shard `i` of an index: its file, size and hash prefix. */
export function shardRef(index: LazyIndex, i: number): ShardRef {
  let hex = ''
  for (let b = i * INDEX_HASH_BYTES; b < (i + 1) * INDEX_HASH_BYTES; b++) hex += index.sha256[b]!.toString(16).padStart(2, '0')
  return { file: lazyShardFile(index.of, i, hex), bytes: index.bytes[i]!, sha256: hex }
}

function corrupt(file: string, why: string): WinnowError {
  return new WinnowError('SNAPSHOT_INVALID', `snapshot shard ${file} is damaged: ${why}`, { reason: 'corrupt', file })
}

function malformed(kind: string, why: string): WinnowError {
  return new WinnowError('SNAPSHOT_INVALID', `a ${kind} shard of the snapshot is malformed: ${why}. Rebuild the snapshot`, { reason: 'corrupt', kind })
}
