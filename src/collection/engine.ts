import { invalidInput } from '../errors.js'
import type { Coordination } from '../store/coordination.js'
import { SCHEMA_VERSION, type CollectionStore, type Manifest } from '../store/types.js'
import { createAnalyzer, type Analyzer, type AnalyzerOptions } from '../text/analyzer.js'
import type { ChunkingOptions, ResolvedChunking } from '../text/chunking.js'
import { buildAddBatch } from './addBatch.js'
import { readLiveDocument } from './documents.js'
import { ChunkTable } from './chunkTable.js'
import { Int8Loader } from './int8Reads.js'
import { runMerges, WritesFirst, type MergeHost } from './merging.js'
import { planOptimize, segmentStats } from './compaction.js'
import { LocalCommits } from './localCommits.js'
import { readAddedSegments, readWholeView } from './viewReads.js'
import { checkDocuments, checkVectorRules, DEFAULT_MAX_TEXT_LENGTH, prepareDocuments, type PreparedDocument } from './ingest.js'
import type { AddProgress, AddResult, CollectionInfo, SearchHit, SearchOptions, StoredDocument } from '../types.js'
import type { Checkpoint } from '../core/checkpoint.js'
import type { EmbedderPort } from '../models/embedderPort.js'
import type { CollectionSettings, CollectionView } from './ports.js'
import { pickAnalyzer, pickChunking, pickVectorIndex, type ResolvedVectorIndex } from './settings.js'
import { BlockCache, ListCache, PostingsCache } from './caches.js'
import { vectorIndexInfo, type IndexProgress } from './ivfBuild.js'
import type { EmbedderConventions } from '../models/conventions.js'
import { collectionInfoOf } from './info.js'
import { checkStillRecorded, countPrefixTokens, passageVectors, pickConventions } from './embedding.js'
import type { Pooling } from '../models/embedder.js'

interface Deps {
  store: CollectionStore
  coordination: Coordination
  embedder: EmbedderPort | null
  /** Usable tokens per passage for the reranker, to size chunks. */
  rerankerTokens?: number
}

/**
 * One collection: its in-memory view ({@link ChunkTable}) over the store, which the read side
 * searches (search/searchCollection.ts), and its writes (atomic, under the cross-tab write lock).
 * Another tab's commit marks the view stale; it is refreshed (only the new segments read) before
 * the next operation.
 *
 * @example
 * const docs = await CollectionEngine.open('handbook', { store, coordination, embedder: null }, {})
 * await docs.add([{ id: 'a', text: 'Install with npm' }], checkpoint)
 * const { hits } = await searchCollection(docs, { query: 'install', mode: 'keyword', k: 5 }, checkpoint)
 */
export class CollectionEngine {
  private table = new ChunkTable()
  private readonly postings = new PostingsCache()
  private readonly blocks = new BlockCache()
  private readonly lists: ListCache
  /** A merge partitioning a segment here: how far it got (`info().vectorIndex.building`). */
  private building: IndexProgress | null = null
  private refreshing: Promise<void> | null = null
  private queuedRefresh: Promise<void> | null = null
  private compacting: Promise<void> | null = null
  /** Reads the int8 blocks a lazy reopen left unread. */
  private readonly int8: Int8Loader
  /** Adds and deletes in flight, which background merges let go first. */
  private readonly writes = new WritesFirst()
  private readonly local = new LocalCommits()
  private closed = false
  private readonly unsubscribe: () => void

  private constructor(
    readonly name: string,
    private readonly deps: Deps,
    private manifest: Manifest,
    private analyzer: Analyzer,
    private chunking: ResolvedChunking | null,
    private readonly maxTextLength: number,
    /** How this collection embeds (recorded, or the embedder's for a collection without vectors yet); null without conventions. */
    private readonly conventions: EmbedderConventions | null,
    private readonly index: ResolvedVectorIndex,
  ) {
    this.lists = new ListCache(index.cacheBytes)
    this.int8 = new Int8Loader({ name, store: deps.store, table: () => this.table, refresh: () => this.refresh() })
    this.unsubscribe = deps.coordination.subscribe((collection, generation) => {
      // Another tab committed: catch up now, so the page's next search does not pay for it.
      if (collection === name && generation !== this.manifest.generation) void this.refresh().catch(() => {})
    })
  }

  static async open(name: string, deps: Deps, settings: CollectionSettings = {}): Promise<CollectionEngine> {
    const stored = await deps.store.readManifest()
    const analyzerConfig = pickAnalyzer(stored, settings.analyzer)
    const maxTextLength = settings.maxTextLength ?? DEFAULT_MAX_TEXT_LENGTH
    if (!(Number.isInteger(maxTextLength) && maxTextLength > 0)) throw invalidInput(`maxTextLength must be a positive integer`)
    if (stored && deps.embedder && stored.embedder && stored.embedder !== deps.embedder.model) {
      throw invalidInput(
        `collection '${name}' was embedded with ${stored.embedder}, but this instance loads ${deps.embedder.model}; use the same embedder or deleteCollection('${name}') and add the documents again`,
        { stored: stored.embedder, loaded: deps.embedder.model },
      )
    }
    const conventions = pickConventions(name, stored, deps.embedder)
    // The document prefix is part of every embedded passage: windows leave room for it.
    const prefixTokens = deps.embedder && conventions ? countPrefixTokens(deps.embedder, conventions.documentPrefix) : 0
    const chunkLimit = Math.min(deps.embedder ? Math.max(1, deps.embedder.maxTokens - prefixTokens) : Infinity, deps.rerankerTokens ?? Infinity)
    const chunking = pickChunking(stored, settings.chunking, Number.isFinite(chunkLimit) ? chunkLimit : undefined)
    const manifest: Manifest = stored ?? {
      schema: SCHEMA_VERSION,
      generation: 0,
      nextSeq: 0,
      nextSegment: 0,
      dims: null,
      vectorSource: 'none',
      embedder: null,
      analyzer: analyzerConfig,
      chunking,
      docCount: 0,
      chunkCount: 0,
      totalLength: 0,
      updatedAt: Date.now(),
    }
    const { version: _version, ...analyzerOptions } = analyzerConfig
    const index = pickVectorIndex(settings.vectorIndex)
    const engine = new CollectionEngine(name, deps, manifest, createAnalyzer(analyzerOptions as AnalyzerOptions), chunking, maxTextLength, conventions, index)
    ;(await engine.readView(true))()
    if (engine.table.vectorsPending) engine.int8.schedule()
    return engine
  }

  info(): CollectionInfo {
    const vectorIndex = vectorIndexInfo(this.table, this.lists, this.building, this.index)
    return collectionInfoOf(this.name, this.manifest, { analyzer: this.analyzer.config, chunking: this.chunking, vectorIndex, merging: this.compacting !== null })
  }

  async count(): Promise<number> {
    await this.refresh()
    return this.manifest.docCount
  }

  async get(id: string): Promise<StoredDocument | null> {
    if (typeof id !== 'string') throw invalidInput(`id must be a string`)
    return readLiveDocument(id, { refresh: () => this.refresh(), generation: () => this.manifest.generation, refOf: (doc) => this.table.docRefOf(doc), store: this.deps.store })
  }

  /**
   * Adds or replaces documents. Chunking and embedding happen before the write lock is taken; the
   * write is one transaction, so after a crash either every chunk of this call is searchable or none.
   */
  add(input: unknown, checkpoint: Checkpoint, onProgress?: (p: AddProgress) => void): Promise<AddResult> {
    return this.writes.track(() => this.addNow(input, checkpoint, onProgress))
  }

  private async addNow(input: unknown, checkpoint: Checkpoint, onProgress?: (p: AddProgress) => void): Promise<AddResult> {
    const embedder = this.deps.embedder
    const docs = checkDocuments(input, { maxTextLength: this.maxTextLength, dims: this.manifest.dims ?? embedder?.dims ?? null })
    if (docs.length === 0) return { documents: 0, chunks: 0, replaced: 0 }
    const withVector = docs.filter((d) => d.vector).length
    if (!this.deps.embedder) checkVectorRules(this.name, this.manifest, withVector, docs.length)
    onProgress?.({ phase: 'chunking', done: 0, total: docs.length })
    const countTokens = embedder ? (w: string) => embedder.countWordTokens(w) : undefined
    const prepared = prepareDocuments(docs, { chunking: this.chunking, analyzer: this.analyzer, countTokens })
    await checkpoint()
    const chunkTotal = prepared.reduce((n, d) => n + d.chunks.length, 0)
    onProgress?.({ phase: 'chunking', done: docs.length, total: docs.length })

    const dims = this.manifest.dims ?? embedder?.dims ?? (withVector > 0 ? docs.find((d) => d.vector)!.vector!.length : null)
    const vectors =
      embedder || withVector > 0
        ? await passageVectors(prepared, chunkTotal, dims!, embedder, { prefix: this.conventions?.documentPrefix ?? '', checkpoint, onProgress, embedOptions: this.embedOptions() })
        : null
    await checkpoint()
    onProgress?.({ phase: 'writing', done: 0, total: chunkTotal })
    const result = await this.deps.coordination.withWriteLock(this.name, async () => {
      await this.refresh()
      return this.commitAdd(prepared, vectors, dims, embedder && withVector < docs.length ? embedder.model : null)
    })
    onProgress?.({ phase: 'done', done: chunkTotal, total: chunkTotal })
    return result
  }

  /** Removes documents by id; returns how many existed. */
  async delete(ids: unknown): Promise<number> {
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw invalidInput('ids must be an array of strings')
    return this.writes.track(() => this.deps.coordination.withWriteLock(this.name, async () => {
      await this.refresh()
      const present = [...new Set(ids as string[])].filter((id) => this.table.hasDocument(id))
      if (present.length === 0) return 0
      const seqs = present.flatMap((id) => this.table.seqsOf(id))
      const removedLength = seqs.reduce((n, s) => n + this.table.lengthOfSeq(s), 0)
      const manifest = this.nextManifest({
        docCount: this.manifest.docCount - present.length,
        chunkCount: this.manifest.chunkCount - seqs.length,
        totalLength: this.manifest.totalLength - removedLength,
      })
      await this.local.commit(this.deps.store, { manifest, deleteDocs: present.map((id) => this.table.docRefOf(id)!), addTombstones: seqs })
      for (const s of seqs) this.table.tombstone(s)
      this.committed(manifest)
      this.scheduleCompactionSoon()
      return present.length
    }))
  }

  /** Removes every document; keeps the collection and its settings. */
  async clear(): Promise<void> {
    await this.deps.coordination.withWriteLock(this.name, async () => {
      await this.refresh()
      const manifest = this.nextManifest({ docCount: 0, chunkCount: 0, totalLength: 0, dims: null, vectorSource: 'none', embedder: null, embedderConventions: null })
      await this.local.commit(this.deps.store, { manifest, clearAll: true })
      this.table = new ChunkTable()
      this.postings.clear()
      this.blocks.clear()
      this.committed(manifest)
    })
  }

  /**
   * The view a search ranks over, as of now: the read side calls {@link refresh} first, and takes a
   * fresh view after each refresh (the table is replaced when segments are merged or removed).
   */
  view(): CollectionView {
    return {
      table: this.table,
      manifest: this.manifest,
      analyzer: this.analyzer,
      store: this.deps.store,
      embedder: this.deps.embedder,
      queryPrefix: this.conventions?.queryPrefix ?? '',
      embedOptions: this.embedOptions(),
      postings: this.postings,
      blocks: this.blocks,
      lists: this.lists,
      probes: this.index.probes,
      targetRecall: this.index.targetRecall,
    }
  }

  /**
   * The query's vector as this collection embeds queries (its recorded prefix and pooling), for a
   * remote retriever that is sent only the vector.
   */
  async embedQuery(query: string, checkpoint: Checkpoint): Promise<Float32Array> {
    if (typeof query !== 'string') throw invalidInput('query must be a string')
    if (!this.deps.embedder) throw invalidInput(`the retriever is sent the query's vector, and collection '${this.name}' has no embedder to compute it; create the instance with an embedder, or pass options.vector`)
    return this.deps.embedder.embed([(this.conventions?.queryPrefix ?? '') + query], checkpoint, undefined, this.embedOptions())
  }

  close(): void {
    this.closed = true
    this.int8.cancel()
    this.unsubscribe()
    this.deps.store.close()
  }

  /** Segments in the current view (tests and diagnostics). */
  segmentCount(): number {
    return this.table.segments.length
  }

  /** Resolves once background compaction (if any) has finished. */
  async idle(): Promise<void> {
    while (this.compacting) await this.compacting
  }

  /**
   * Merges small segments and drops tombstones, in the background after a write (until none is
   * planned), one merge at a time across tabs: see {@link runMerges}. Searches running meanwhile
   * keep the view they started with. With `plan`, merges what it plans instead (see {@link optimize}).
   */
  private scheduleCompaction(plan?: MergeHost['plan']): void {
    if (this.compacting || this.closed) return
    const host: MergeHost = {
      name: this.name,
      store: this.deps.store,
      coordination: this.deps.coordination,
      isClosed: () => this.closed,
      pause: () => this.writes.pause(),
      refresh: () => this.refresh(),
      current: () => ({ table: this.table, manifest: this.manifest }),
      commit: (batch) => this.local.commit(this.deps.store, batch),
      committed: (manifest) => this.committed(manifest),
      index: { minRows: this.index.minRows, onProgress: (p) => void (this.building = p) },
      plan,
      merged: (removed, segment, quantized) => {
        // The view follows from what the merge wrote: no store reads while adds wait.
        this.table = this.table.afterMerge(removed, segment, quantized)
        this.postings.clear()
        this.blocks.clear()
        this.local.changed()
      },
    }
    this.compacting = runMerges(host).finally(() => {
      this.compacting = null
      this.building = null
    })
  }

  /** Merges segments as far as `maxMergeRows` allows, partitioning any past `minRows` (snapshot builds). */
  async optimize(): Promise<void> {
    await this.idle()
    const partitioned = (t: ChunkTable) => new Set(t.partitioned.map((p) => p.segment))
    this.scheduleCompaction((table, maxRows) => planOptimize(segmentStats(table), maxRows, this.index.minRows, partitioned(table)))
    await this.idle()
  }

  /** After the current lock holder returns: compaction queues behind it for the same lock. */
  private scheduleCompactionSoon(): void {
    queueMicrotask(() => this.scheduleCompaction())
  }

  /**
   * Brings the in-memory view up to the stored generation (reads only what changed). What the
   * caller gets reflects every commit made before the call: a refresh already in flight may have
   * read the manifest earlier, so callers then share one more refresh queued behind it.
   */
  refresh(): Promise<void> {
    if (!this.refreshing) return this.startRefresh()
    this.queuedRefresh ??= this.refreshing
      .catch(() => {})
      .then(() => {
        this.queuedRefresh = null
        return this.startRefresh()
      })
    return this.queuedRefresh
  }

  private startRefresh(): Promise<void> {
    const run = this.refreshOnce().finally(() => {
      if (this.refreshing === run) this.refreshing = null
    })
    this.refreshing = run
    return run
  }

  private async refreshOnce(): Promise<void> {
    // Applied only if no commit of this engine landed meanwhile (LocalCommits: its caller applies it).
    for (;;) {
      const version = this.local.version
      const stored = await this.deps.store.readManifest()
      if (!stored || stored.generation === this.manifest.generation) return
      // The ids first: another tab's add should cost this one its new segment, not all ~200 of them.
      const ids = new Set(await this.deps.store.readSegmentIds())
      const known = new Set(this.table.segments)
      // Segments were removed (compaction, clear): rebuild the view from scratch.
      const rebuild = this.table.segments.some((id) => !ids.has(id)) || stored.chunkCount === 0
      const apply = await this.readView(rebuild, [...ids].filter((id) => !known.has(id)))
      if (await this.local.stale(version)) continue
      this.manifest = stored
      apply()
      this.local.changed()
      return
    }
  }

  /** Reads what changed (everything for a rebuild; the int8 blocks only once wanted); returns how to apply it. */
  private async readView(rebuild: boolean, added: number[] = []): Promise<() => void> {
    const read = rebuild ? await readWholeView(this.deps.store, this.int8.wanted) : await readAddedSegments(this.deps.store, added)
    return () => {
      if (rebuild) {
        this.table = ChunkTable.fromStore(read.segments, read.quantized, read.tombstones)
        this.blocks.clear()
        this.lists.clear()
      } else {
        for (const segment of read.segments) this.table.addSegment(segment, read.quantized!.filter((q) => q.segment === segment.id))
        for (const seq of read.tombstones) this.table.tombstone(seq)
      }
      if (rebuild || read.segments.length > 0) this.postings.clear()
    }
  }

  /** Resolves once the int8 blocks a lazy reopen left unread are in the view (see {@link Int8Loader}). */
  loadVectors(): Promise<void> {
    return this.int8.load()
  }

  /** Pooling for the embedder: the collection's, when it knows one. */
  private embedOptions(): { pooling?: Pooling } {
    return this.conventions && this.deps.embedder?.conventions ? { pooling: this.conventions.pooling } : {}
  }

  private async commitAdd(prepared: PreparedDocument[], vectors: Float32Array | null, dims: number | null, embeddedBy: string | null): Promise<AddResult> {
    if (embeddedBy) checkStillRecorded(this.name, this.manifest, this.conventions)
    const planned = buildAddBatch({ prepared, vectors, dims, embeddedBy, manifest: this.manifest, table: this.table })
    // The first embedded add records how passages were embedded (a collection written before
    // conventions were recorded keeps none: it was embedded without prefixes).
    const firstEmbedded = embeddedBy !== null && !(this.manifest.vectorSource === 'embedder' && this.manifest.embedder)
    if (firstEmbedded && this.conventions && this.deps.embedder?.conventions) planned.batch.manifest.embedderConventions = { ...this.conventions }
    await this.local.commit(this.deps.store, planned.batch)
    // Durable: now the view may change.
    for (const s of planned.replacedSeqs) this.table.tombstone(s)
    this.table.addSegment(planned.segment, planned.quantized)
    this.postings.appendSegment(planned.segment.id, planned.postings)
    this.committed(planned.batch.manifest)
    this.scheduleCompactionSoon()
    return planned.result
  }

  private nextManifest(changes: Partial<Manifest>): Manifest {
    return { ...this.manifest, ...changes, generation: this.manifest.generation + 1, updatedAt: Date.now() }
  }

  private committed(manifest: Manifest): void {
    this.manifest = manifest
    this.local.changed()
    this.deps.coordination.announce(this.name, manifest.generation)
  }
}
