import { invalidInput, WinnowError } from '../errors.js'
import { collectionDeletedError, type DeletedReason } from './deleted.js'
import { blockChanges, docSeq } from './passageBlocks.js'
import { applyRowChanges, rowChanges } from './rowBlocks.js'
import type {
  ChunkRecord,
  CollectionStore,
  DocRecord,
  DocRef,
  ListRecord,
  Manifest,
  PostingRecord,
  QuantizedBlockRecord,
  SegmentRecord,
  StoreBackend,
  RowBlockRecord,
  StagedRecords,
  WriteBatch,
} from './types.js'

interface Tables {
  /** A random id per creation (see `CollectionStore.incarnation`). */
  incarnation: string
  /** Set by `destroy()`: stores still holding these tables reject every call. */
  deleted: boolean
  manifest: Manifest | null
  /** Documents by `id \0 smallest seq` (their {@link DocRef}), as IndexedDB's passage blocks tell them apart. */
  docs: Map<string, DocRecord>
  chunks: Map<number, ChunkRecord>
  /** The highest chunk seq ever written (seqs are never reused): checks a batch's `unused` claim. */
  highestSeq: number
  segments: Map<number, SegmentRecord>
  /** term → segment → postings */
  postings: Map<string, Map<number, PostingRecord>>
  quantized: Map<string, QuantizedBlockRecord>
  rows: Map<number, RowBlockRecord>
  lists: Map<string, ListRecord>
  tombstones: Set<number>
}

/**
 * The in-memory twin of the IndexedDB store: same contract, nothing persisted beyond the backend
 * object. Records are structured-cloned in and out, as IndexedDB does, so callers cannot alias
 * stored data. Used by Node tests, the eval harness and build-time tools.
 *
 * `failCommits` makes the next commits throw the given error without applying anything — the
 * contract suite uses it to check that a refused write leaves the collection as it was.
 *
 * @example
 * const backend = new MemoryBackend()
 * const store = await backend.open('handbook')
 */
export class MemoryBackend implements StoreBackend {
  private readonly collections = new Map<string, Tables>()
  /** Errors thrown by the next commits, in order (fault injection for tests). */
  readonly failCommits: Error[] = []

  /**
   * Opens (creating unless `create: false`). `gone` makes the error a store of a destroyed
   * collection rejects with (default COLLECTION_DELETED; snapshot versions use their own).
   */
  async open(name: string, options: { create?: boolean; gone?: (reason: DeletedReason) => WinnowError } = {}): Promise<CollectionStore> {
    const gone = options.gone ?? ((reason: DeletedReason) => collectionDeletedError(name, reason))
    let tables = this.collections.get(name)
    if (!tables) {
      if (options.create === false) throw gone('deleted')
      tables = {
        incarnation: `${++incarnations}-${Math.random().toString(36).slice(2)}`,
        deleted: false,
        manifest: null,
        docs: new Map(),
        highestSeq: -1,
        chunks: new Map(),
        segments: new Map(),
        postings: new Map(),
        quantized: new Map(),
        rows: new Map(),
        lists: new Map(),
        tombstones: new Set(),
      }
      this.collections.set(name, tables)
    }
    return new MemoryStore(name, tables, this.failCommits, gone)
  }

  async destroy(name: string): Promise<void> {
    const tables = this.collections.get(name)
    if (tables) tables.deleted = true
    this.collections.delete(name)
  }

  /** Whether `name` was opened (and not destroyed). */
  has(name: string): boolean {
    return this.collections.has(name)
  }

  /**
   * Every record of a collection (copies), in key order: what the snapshot writer reads.
   *
   * @example
   * const { manifest, docs } = backend.dump('docs')
   */
  dump(name: string): { manifest: Manifest; docs: DocRecord[]; chunks: ChunkRecord[]; segments: SegmentRecord[]; postings: PostingRecord[]; quantized: QuantizedBlockRecord[]; rows: RowBlockRecord[]; lists: ListRecord[]; tombstones: number[] } {
    const t = this.collections.get(name)
    if (!t?.manifest) throw invalidInput(`collection '${name}' has nothing stored`, { name })
    return clone({
      manifest: t.manifest,
      docs: [...t.docs.values()],
      chunks: [...t.chunks.values()].sort((a, b) => a.seq - b.seq),
      segments: [...t.segments.values()].sort((a, b) => a.id - b.id),
      postings: [...t.postings.values()].flatMap((bySegment) => [...bySegment.values()]),
      quantized: [...t.quantized.values()].sort((a, b) => a.segment - b.segment || a.block - b.block),
      rows: [...t.rows.values()].sort((a, b) => a.block - b.block),
      lists: [...t.lists.values()].sort((a, b) => a.segment - b.segment || a.list - b.list),
      tombstones: [...t.tombstones].sort((a, b) => a - b),
    })
  }

  async list(): Promise<string[]> {
    return [...this.collections.keys()].sort()
  }
}

const key = (segment: number, block: number) => `${segment}/${block}`
const refKey = (ref: DocRef) => `${ref.id}\u0000${ref.seq}`
let incarnations = 0

class MemoryStore implements CollectionStore {
  private closed = false

  constructor(
    readonly name: string,
    private readonly tables: Tables,
    private readonly failCommits: Error[],
    private readonly gone: (reason: DeletedReason) => WinnowError,
  ) {}

  get incarnation(): string {
    return this.tables.incarnation
  }

  /** The tables, unless the collection was destroyed (as IndexedDB's store learns from `versionchange`). */
  private get t(): Tables {
    if (this.tables.deleted) throw this.gone('deleted')
    return this.tables
  }

  async check(): Promise<void> {
    void this.t
  }

  async readManifest(): Promise<Manifest | null> {
    return clone(this.t.manifest)
  }

  async readSegments(ids?: readonly number[]): Promise<SegmentRecord[]> {
    const all = [...this.t.segments.values()].sort((a, b) => a.id - b.id)
    return clone(ids ? all.filter((s) => ids.includes(s.id)) : all)
  }

  async readSegmentIds(): Promise<number[]> {
    return [...this.t.segments.keys()].sort((a, b) => a - b)
  }

  async readTombstones(): Promise<number[]> {
    return [...this.t.tombstones].sort((a, b) => a - b)
  }

  async readQuantized(segments?: readonly number[]): Promise<QuantizedBlockRecord[]> {
    const all = [...this.t.quantized.values()].sort((a, b) => a.segment - b.segment || a.block - b.block)
    return clone(segments ? all.filter((q) => segments.includes(q.segment)) : all)
  }

  async readLists(keys: readonly (readonly [number, number])[]): Promise<(ListRecord | undefined)[]> {
    return clone(keys.map(([s, l]) => this.t.lists.get(key(s, l))))
  }

  async readRows(blocks: readonly number[]): Promise<RowBlockRecord[]> {
    return clone(blocks.map((b) => this.t.rows.get(b)).filter((r): r is RowBlockRecord => r !== undefined))
  }

  async readPostings(terms: readonly string[]): Promise<Map<string, PostingRecord[]>> {
    const out = new Map<string, PostingRecord[]>()
    for (const term of terms) {
      const bySegment = this.t.postings.get(term)
      out.set(term, clone(bySegment ? [...bySegment.values()].sort((a, b) => a.segment - b.segment) : []))
    }
    return out
  }

  async readSegmentPostings(segment: number): Promise<PostingRecord[]> {
    const out: PostingRecord[] = []
    for (const bySegment of this.t.postings.values()) {
      const p = bySegment.get(segment)
      if (p) out.push(p)
    }
    return clone(out.sort((a, b) => (a.term < b.term ? -1 : a.term > b.term ? 1 : 0)))
  }

  async readChunks(seqs: readonly number[], docs: readonly DocRef[]): Promise<(ChunkRecord | undefined)[]> {
    return clone(seqs.map((s, i) => {
      const doc = this.t.docs.get(refKey(docs[i]!))
      const chunk = this.t.chunks.get(s)
      return doc && chunk && chunk.docId === doc.id && doc.seqs.includes(s) ? chunk : undefined
    }))
  }

  async readDocs(refs: readonly DocRef[]): Promise<(DocRecord | undefined)[]> {
    return clone(refs.map((ref) => this.t.docs.get(refKey(ref))))
  }

  async commit(batch: WriteBatch): Promise<void> {
    this.write(batch)
  }

  async stage(records: StagedRecords): Promise<void> {
    this.write({ ...records, manifest: undefined })
  }

  private write(batch: Omit<WriteBatch, 'manifest'> & { manifest: Manifest | undefined }): void {
    if (this.closed) throw new WinnowError('STORAGE_UNAVAILABLE', 'store closed')
    const failure = this.failCommits.shift()
    if (failure) throw failure
    // Clone first: a batch that fails to clone must change nothing.
    const b = clone(batch)
    const t = this.t
    if (b.unused) checkUnused(t, b.unused)
    if (b.clearAll) {
      t.docs.clear()
      t.chunks.clear()
      t.segments.clear()
      t.postings.clear()
      t.quantized.clear()
      t.rows.clear()
      t.lists.clear()
      t.tombstones.clear()
    }
    // The same checks and order as IndexedDB's passage blocks (store/passageBlocks.ts).
    blockChanges(b)
    const dims = b.manifest?.dims ?? null
    const rows = rowChanges(b, dims)
    for (const ref of b.deleteDocs ?? []) {
      const doc = t.docs.get(refKey(ref))
      if (!doc) continue
      t.docs.delete(refKey(ref))
      for (const seq of doc.seqs) t.chunks.delete(seq)
    }
    for (const id of b.deleteSegments ?? []) {
      t.segments.delete(id)
      for (const [term, bySegment] of t.postings) {
        bySegment.delete(id)
        if (bySegment.size === 0) t.postings.delete(term)
      }
      for (const [k, q] of t.quantized) if (q.segment === id) t.quantized.delete(k)
      for (const [k, l] of t.lists) if (l.segment === id) t.lists.delete(k)
    }
    for (const seq of b.removeTombstones ?? []) t.tombstones.delete(seq)
    for (const d of b.putDocs ?? []) t.docs.set(refKey({ id: d.id, seq: docSeq(d) }), d)
    for (const c of b.putChunks ?? []) {
      t.chunks.set(c.seq, c)
      if (c.seq > t.highestSeq) t.highestSeq = c.seq
    }
    for (const s of b.putSegments ?? []) t.segments.set(s.id, s)
    for (const p of b.putPostings ?? []) {
      let bySegment = t.postings.get(p.term)
      if (!bySegment) t.postings.set(p.term, (bySegment = new Map()))
      bySegment.set(p.segment, p)
    }
    for (const q of b.putQuantized ?? []) t.quantized.set(key(q.segment, q.block), q)
    for (const [block, change] of rows) {
      const next = applyRowChanges(block, t.rows.get(block), change, dims!)
      if (next) t.rows.set(block, next)
      else t.rows.delete(block)
    }
    for (const l of b.putLists ?? []) t.lists.set(key(l.segment, l.list), l)
    for (const seq of b.addTombstones ?? []) t.tombstones.add(seq)
    if (b.manifest) t.manifest = b.manifest
  }

  close(): void {
    this.closed = true
  }
}

/** The IndexedDB store trusts a batch's `unused` claim and skips reads; here it is checked. */
function checkUnused(t: Tables, unused: { segment: number; fromSeq: number }): void {
  if (t.segments.has(unused.segment) || t.highestSeq >= unused.fromSeq) throw new WinnowError('INTERNAL', `a batch claimed segment ${unused.segment} and seqs from ${unused.fromSeq} unused, but records are stored there`)
}

function clone<T>(value: T): T {
  return structuredClone(value)
}
