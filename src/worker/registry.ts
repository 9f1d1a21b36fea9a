import { WinnowError } from '../errors.js'
import type { LoadedCrossEncoder } from '../models/loadCrossEncoder.js'
import type { LoadedEmbedder } from '../models/loadEmbedder.js'
import { embedderPort } from '../models/embedderPort.js'
import { CollectionEngine } from '../collection/engine.js'
import { createCoordination, type Coordination } from '../store/coordination.js'
import { collectionDeletedError, isCollectionDeleted } from '../store/deleted.js'
import { IdbBackend } from '../store/idb.js'
import type { CollectionStore, StoreBackend } from '../store/types.js'
import { IdbSnapshotStorage } from '../store/idbSnapshots.js'
import { isGone, type SnapshotPointer, type SnapshotStorage } from '../store/snapshots.js'
import { checkSnapshotOptions, importLatest } from '../snapshot/sync.js'
import type { AddProgress, AddResult, CollectionInfo, CollectionOptions, SearchHit, SnapshotOutcome, SnapshotProgress, StoredDocument } from '../types.js'
import type { CollectionRef, WorkerSearchOptions } from './protocol.js'
import { yieldToEventLoop, type SerialQueue } from '../models/queue.js'
import type { RerankerPool } from './rerankers.js'
import type { PipelineResult, RemoteFirstStage, SearchExtras } from '../search/types.js'
import { searchCollection } from '../search/searchCollection.js'
import { planRemoteSearch, searchRemote } from '../search/remoteSearch.js'


interface Models {
  reranker: LoadedCrossEncoder | null
  embedder: LoadedEmbedder | null
  info: { embedder: { model: string } | null }
}

/** A snapshot collection's source and the version serving it. */
interface SnapshotState {
  url: string
  /** The version serving; null only during a first import. */
  pointer: SnapshotPointer | null
  onProgress?: (p: SnapshotProgress) => void
  syncing: Promise<SnapshotOutcome> | null
}

interface Entry {
  options: string
  engine: Promise<CollectionEngine>
  /** Set (before `engine` resolves) when the collection mirrors a snapshot. */
  snapshot: SnapshotState | null
  /** Which creation of the collection the engine serves (set before `engine` resolves); see {@link CollectionRef}. */
  incarnation: string | null
  /** A plain collection's store, to find it deleted or cleared underneath before a call. */
  store: CollectionStore | null
}

/** The incarnation of every snapshot collection: a mirror of its URL, re-imported if deleted. */
const SNAPSHOT_INCARNATION = 'snapshot'

/** Announced (with generation 0) when a snapshot collection's pointer moved. */
const SNAPSHOT_TOPIC = '\u0000snapshot:'

/** What the host reads from outside; tests replace them. */
export interface HostEnvironment {
  backend: StoreBackend
  snapshots: SnapshotStorage
  fetch: typeof globalThis.fetch
}

/**
 * The worker's open collections. One engine per name (opened once, shared by every handle the
 * page holds); model runs go through the worker's one queue, embedding in small slices.
 *
 * Snapshot collections (`{ snapshot: url }`) serve an imported version read-only; a newer version
 * is imported beside it and swapped in once complete — searches already running finish on the
 * engine they started with, which is closed (and its version deleted) after the last one.
 *
 * A handle names its collection with the incarnation it opened ({@link CollectionRef}): a call for
 * a collection deleted since (here, in another tab, or cleared by the browser), or deleted and
 * created again, rejects with COLLECTION_DELETED and never creates an empty one; the entry is
 * dropped, so `winnow.collection(name)` then opens a new collection cleanly.
 *
 * @example
 * const host = new CollectionHost(queue, () => models, () => rerankers)
 * await host.open('handbook', {})
 */
export class CollectionHost {
  private readonly engines = new Map<string, Entry>()
  private readonly cancelled = new Set<number>()
  private readonly coordination: Coordination = createCoordination()
  private readonly usage = new WeakMap<CollectionEngine, { active: number; retire?: () => void }>()
  private readonly env: HostEnvironment
  private readonly unsubscribe: () => void

  constructor(
    private readonly queue: SerialQueue,
    private readonly models: () => Promise<Models>,
    private readonly rerankers: () => Promise<RerankerPool>,
    env: Partial<HostEnvironment> = {},
  ) {
    this.env = { backend: env.backend ?? new IdbBackend(), snapshots: env.snapshots ?? new IdbSnapshotStorage(), fetch: env.fetch ?? ((...a) => globalThis.fetch(...a)) }
    this.unsubscribe = this.coordination.subscribe((topic) => {
      if (!topic.startsWith(SNAPSHOT_TOPIC)) return
      const name = topic.slice(SNAPSHOT_TOPIC.length)
      const entry = this.engines.get(name)
      if (entry?.snapshot) void this.followPointer(name, entry).catch(() => {})
    })
  }

  /**
   * Opens a collection (once per name; later calls share the engine). `expected`: the incarnation
   * a handle opened before (reopening after a worker restart): the collection must still be that
   * one, else COLLECTION_DELETED — nothing is created.
   */
  async open(name: string, options: CollectionOptions, onSnapshotProgress?: (p: SnapshotProgress) => void, expected?: string): Promise<CollectionInfo> {
    return (await this.openForHandle(name, options, onSnapshotProgress, expected)).info
  }

  /** {@link open}, with the incarnation the handle is to name the collection by from now on. */
  async openForHandle(
    name: string,
    options: CollectionOptions,
    onSnapshotProgress?: (p: SnapshotProgress) => void,
    expected?: string,
  ): Promise<{ info: CollectionInfo; incarnation: string }> {
    checkName(name)
    if (options !== undefined && (options === null || typeof options !== 'object')) throw new WinnowError('INVALID_INPUT', 'collection options must be an object')
    if (expected !== undefined && typeof expected !== 'string') throw new WinnowError('INVALID_INPUT', 'the incarnation must be a string')
    const { onSnapshotProgress: _callback, ...data } = (options ?? {}) as CollectionOptions
    checkSnapshotOptions(data)
    const key = optionsKey(data)
    let existing = this.engines.get(name)
    // An entry whose collection was deleted or cleared underneath is dropped: the open starts afresh.
    if (existing && !(await this.stillThere(name, existing))) existing = this.engines.get(name)
    if (existing && existing.options !== key && key !== '{}') {
      throw new WinnowError('INVALID_INPUT', `collection '${name}' is already open with other options in this instance; open it once, or omit the options`)
    }
    if (!existing) {
      const entry: Entry = { options: key, engine: null as never, snapshot: null, incarnation: null, store: null }
      entry.engine = this.openAny(name, data, entry, onSnapshotProgress, expected)
      this.engines.set(name, entry)
      // A failed open must not stick: the next call tries again.
      entry.engine.catch(() => {
        if (this.engines.get(name) === entry) this.engines.delete(name)
      })
    } else if (existing.snapshot && onSnapshotProgress) existing.snapshot.onProgress = onSnapshotProgress
    return this.use(expected === undefined ? name : { name, incarnation: expected }, 'read', async (engine, entry) => ({
      info: infoOf(engine, entry),
      incarnation: entry.incarnation ?? '',
    }))
  }

  /** The collection's facts, with the snapshot version serving it. */
  async info(collection: CollectionRef): Promise<CollectionInfo> {
    return this.use(collection, 'read', async (engine, entry) => infoOf(engine, entry))
  }

  async add(callId: number, collection: CollectionRef, documents: unknown, onProgress?: (p: AddProgress) => void): Promise<AddResult> {
    try {
      return await this.use(collection, 'write', (engine) => engine.add(documents, this.checkpointFor(callId), onProgress))
    } finally {
      this.cancelled.delete(callId)
    }
  }

  remove(collection: CollectionRef, ids: unknown): Promise<number> {
    return this.use(collection, 'write', (engine) => engine.delete(ids))
  }

  get(collection: CollectionRef, id: string): Promise<StoredDocument | null> {
    return this.use(collection, 'read', (engine) => engine.get(id))
  }

  count(collection: CollectionRef): Promise<number> {
    return this.use(collection, 'read', (engine) => engine.count())
  }

  clear(collection: CollectionRef): Promise<void> {
    return this.use(collection, 'write', (engine) => engine.clear())
  }

  async search(callId: number, collection: CollectionRef, query: string, options: WorkerSearchOptions, onFirstStage?: (hits: SearchHit[]) => void): Promise<PipelineResult> {
    const checkpoint = this.checkpointFor(callId)
    try {
      return await this.use(collection, 'read', async (engine) => {
        const models = await this.models()
        if (options !== undefined && (options === null || typeof options !== 'object')) throw new WinnowError('INVALID_INPUT', 'search options must be an object')
        return searchCollection(engine, { ...(options ?? {}), query }, checkpoint, {
          hasReranker: models.reranker !== null,
          onFirstStage,
          reranker: async (stage) => {
            const pool = await this.rerankers()
            return pool.port(await pool.get(stage.model, stage.dtype), callId, checkpoint)
          },
        })
      })
    } finally {
      this.cancelled.delete(callId)
    }
  }

  /** A search over a remote retriever's candidates, in a collection or (null) with none. */
  async searchRemote(
    callId: number,
    collection: CollectionRef | null,
    query: string,
    options: WorkerSearchOptions,
    remote: RemoteFirstStage,
    onFirstStage?: (hits: SearchHit[]) => void,
  ): Promise<PipelineResult> {
    const checkpoint = this.checkpointFor(callId)
    if (options !== undefined && (options === null || typeof options !== 'object')) throw new WinnowError('INVALID_INPUT', 'search options must be an object')
    if (remote === null || typeof remote !== 'object') throw new WinnowError('INVALID_INPUT', 'the remote first stage must be an object')
    const extras = async (): Promise<SearchExtras> => ({
      hasReranker: (await this.models()).reranker !== null,
      onFirstStage,
      remote,
      reranker: async (stage) => {
        const pool = await this.rerankers()
        return pool.port(await pool.get(stage.model, stage.dtype), callId, checkpoint)
      },
    })
    try {
      if (collection === null) return await searchRemote({ ...(options ?? {}), query }, checkpoint, await extras())
      return await this.use(collection, 'read', async (engine) => searchCollection(engine, { ...(options ?? {}), query }, checkpoint, await extras()))
    } finally {
      this.cancelled.delete(callId)
    }
  }

  /** Checks a search with a retriever (and that its collection is there); the candidates to ask it for. */
  async planRemote(collection: CollectionRef | null, options: WorkerSearchOptions, remote: Omit<RemoteFirstStage, 'candidates'>): Promise<number> {
    const hasReranker = (await this.models()).reranker !== null
    const plan = async () => planRemoteSearch((options ?? {}) as Record<string, unknown>, remote ?? {}, { hasReranker, standalone: collection === null })
    return collection === null ? plan() : this.use(collection, 'read', plan)
  }

  /** The query's vector for a retriever sent only the vector: the collection's conventions, else the instance embedder's. */
  async embedQuery(callId: number, collection: CollectionRef | null, query: string): Promise<Float32Array> {
    const checkpoint = this.checkpointFor(callId)
    try {
      if (collection !== null) return await this.use(collection, 'read', (engine) => engine.embedQuery(query, checkpoint))
      if (typeof query !== 'string') throw new WinnowError('INVALID_INPUT', 'query must be a string')
      const models = await this.models()
      if (!models.embedder || !models.info.embedder) {
        throw new WinnowError('INVALID_INPUT', "the retriever is sent the query's vector, and this instance has no embedder to compute it; create it with an embedder, or pass options.vector")
      }
      const port = embedderPort(models.embedder, models.info.embedder.model, this.queue)
      return await port.embed([models.embedder.conventions.queryPrefix + query], checkpoint)
    } finally {
      this.cancelled.delete(callId)
    }
  }

  /** Checks a snapshot collection's manifest again and imports a changed version (resolves after the swap). */
  async syncSnapshot(callId: number, collection: CollectionRef): Promise<SnapshotOutcome> {
    const name = refOf(collection).name
    try {
      return await this.use(collection, 'read', (_engine, entry) => {
        if (!entry.snapshot) throw new WinnowError('INVALID_INPUT', `collection '${name}' is not a snapshot collection; open it with { snapshot: url }`)
        return this.sync(name, entry, this.checkpointFor(callId))
      })
    } finally {
      this.cancelled.delete(callId)
    }
  }

  async destroy(name: string): Promise<void> {
    checkName(name)
    const entry = this.engines.get(name)
    this.engines.delete(name)
    if (entry) await entry.engine.then((e) => e.close()).catch(() => {})
    await this.env.backend.destroy(name)
    const pointer = await this.env.snapshots.readPointer(name)
    if (pointer) await this.env.snapshots.writePointer(name, null)
    for (const version of await this.env.snapshots.listVersions(name)) await this.env.snapshots.destroyVersion(name, version)
  }

  async list(): Promise<string[]> {
    const [plain, snapshots] = await Promise.all([this.env.backend.list(), this.env.snapshots.listPointers()])
    return [...new Set([...plain, ...snapshots])].sort()
  }

  cancel(callId: number): void {
    this.cancelled.add(callId)
  }

  closeAll(): void {
    for (const { engine } of this.engines.values()) void engine.then((e) => e.close()).catch(() => {})
    this.engines.clear()
    this.unsubscribe()
    this.coordination.close()
  }

  /**
   * Runs `fn` on the collection's current engine, counted so a retired engine closes only after its
   * last call. A handle's call (a `{ name, incarnation }` ref) for a collection deleted or replaced
   * since rejects with COLLECTION_DELETED, as does any call once the store finds itself deleted
   * underneath; the entry is then dropped. Writes to a snapshot collection are refused; a read that
   * finds its snapshot version deleted (another tab swapped) follows the pointer and runs once more.
   */
  private async use<T>(collection: CollectionRef, kind: 'read' | 'write', fn: (engine: CollectionEngine, entry: Entry) => Promise<T>): Promise<T> {
    const { name, incarnation } = refOf(collection)
    for (let attempt = 0; ; attempt++) {
      // Not open in this worker (a restart, or deleted here): reopen without creating when a handle asks.
      if (!this.engines.has(name)) await this.openForHandle(name, {}, undefined, incarnation)
      const entry = this.engines.get(name)
      if (!entry) throw collectionDeletedError(name, 'deleted')
      const engine = await entry.engine
      if (incarnation !== undefined && entry.incarnation !== incarnation) throw collectionDeletedError(name, 'replaced')
      if (kind === 'write' && entry.snapshot) {
        throw new WinnowError('READ_ONLY', `collection '${name}' mirrors the snapshot ${entry.snapshot.url}; it changes only when a newer snapshot is imported (rebuild the index with npx winnow-rerank index)`, { collection: name })
      }
      let u = this.usage.get(engine)
      if (!u) this.usage.set(engine, (u = { active: 0 }))
      u.active++
      try {
        await entry.store?.check?.()
        return await fn(engine, entry)
      } catch (error) {
        if (isCollectionDeleted(error)) this.forget(name, entry)
        if (attempt === 0 && entry.snapshot && isGone(error)) {
          if (!(await this.env.snapshots.readPointer(name))) {
            // Deleted (deleteCollection here or in another tab), not swapped: nothing to follow.
            this.forget(name, entry)
            throw collectionDeletedError(name, 'deleted')
          }
          await this.followPointer(name, entry)
          continue
        }
        throw error
      } finally {
        if (--u.active === 0 && u.retire) u.retire()
      }
    }
  }

  /** Whether an open entry's collection is still there; drops the entry when it is not. */
  private async stillThere(name: string, entry: Entry): Promise<boolean> {
    try {
      await entry.engine
    } catch {
      return false // a failed open has dropped itself
    }
    try {
      await entry.store?.check?.()
      return true
    } catch (error) {
      if (!isCollectionDeleted(error)) return true // the calls report other failures
      this.forget(name, entry)
      return false
    }
  }

  /** Drops an entry (its collection is gone) and closes its engine. */
  private forget(name: string, entry: Entry): void {
    if (this.engines.get(name) !== entry) return
    this.engines.delete(name)
    void entry.engine.then((e) => e.close()).catch(() => {})
  }

  private async openAny(name: string, options: CollectionOptions, entry: Entry, onProgress?: (p: SnapshotProgress) => void, expected?: string): Promise<CollectionEngine> {
    const pointer = await this.env.snapshots.readPointer(name)
    const url = options.snapshot === undefined ? undefined : String(options.snapshot)
    if (url === undefined && !pointer) return this.openEngine(name, options, entry, expected)
    // A handle of a plain collection finds a snapshot collection of that name: not the one it opened.
    if (expected !== undefined && expected !== SNAPSHOT_INCARNATION) throw collectionDeletedError(name, 'replaced')
    if (!pointer) await this.refuseIfPlainCollection(name)
    entry.incarnation = SNAPSHOT_INCARNATION
    const state: SnapshotState = { url: url ?? pointer!.url, pointer, onProgress, syncing: null }
    entry.snapshot = state
    if (!pointer) {
      // First visit: nothing to serve until the import is complete.
      await this.sync(name, entry, async () => {})
      return this.openVersionEngine(name, state.pointer!.version)
    }
    const engine = await this.openVersionEngine(name, pointer.version)
    // Later visits serve the stored version now and look for a newer one in the background.
    if (url !== undefined) setTimeout(() => void this.sync(name, entry, async () => {}).catch(() => {}), 0)
    return engine
  }

  /**
   * Fetches the manifest and, when its hash is new, imports it beside the serving version, moves the
   * pointer, and swaps engines. One tab at a time (the collection's write lock); concurrent calls in
   * this worker share one run.
   */
  private sync(name: string, entry: Entry, checkpoint: () => Promise<void>): Promise<SnapshotOutcome> {
    const state = entry.snapshot!
    if (state.syncing) return state.syncing
    // The version a failure refers to: the one being imported, once its manifest was read.
    let attempted: string | null = state.pointer?.version ?? null
    const emit = (p: SnapshotProgress) => {
      if (p.version) attempted = p.version
      try {
        state.onProgress?.(p)
      } catch {
        // a throwing listener must not break the import
      }
    }
    const run = (async (): Promise<SnapshotOutcome> => {
      emit({ phase: 'checking', loaded: 0, total: 0, version: state.pointer?.version ?? null })
      try {
        const result = await this.coordination.withWriteLock(name, async () => {
          const outcome = await importLatest(name, state.url, {
            storage: this.env.snapshots,
            fetch: this.env.fetch,
            embedder: async () => (await this.models()).info.embedder?.model ?? null,
            checkpoint,
            emit,
          })
          // Other tabs follow the pointer (see the constructor).
          if (outcome.outcome === 'imported') this.coordination.announce(SNAPSHOT_TOPIC + name, 0)
          return outcome
        })
        // During a first import nothing serves yet (and entry.engine is this very open): no swap.
        const serving = state.pointer?.version ?? null
        if (serving !== null && serving !== result.pointer.version) await this.swapTo(name, entry, result.pointer, true)
        state.pointer = result.pointer
        emit({ phase: 'done', loaded: result.bytes, total: result.bytes, version: result.pointer.version, outcome: result.outcome })
        return result.outcome
      } catch (error) {
        const e = error instanceof WinnowError ? error : new WinnowError('INTERNAL', String((error as Error)?.message ?? error))
        emit({ phase: 'done', loaded: 0, total: 0, version: attempted, outcome: 'failed', error: { code: e.code, message: e.message } })
        throw e
      }
    })().finally(() => {
      state.syncing = null
    })
    state.syncing = run
    return run
  }

  /** Another tab moved the pointer: serve its version from now on. */
  private async followPointer(name: string, entry: Entry): Promise<void> {
    const pointer = await this.env.snapshots.readPointer(name)
    if (!pointer || !entry.snapshot?.pointer || pointer.version === entry.snapshot.pointer.version) return
    await this.swapTo(name, entry, pointer, false)
    entry.snapshot.pointer = pointer
    entry.snapshot.onProgress?.({ phase: 'done', loaded: 0, total: 0, version: pointer.version, outcome: 'imported' })
  }

  /** New calls go to the new version's engine; the old one closes after its last call. */
  private async swapTo(name: string, entry: Entry, pointer: SnapshotPointer, deleteOld: boolean): Promise<void> {
    const old = await entry.engine
    const oldVersion = entry.snapshot!.pointer!.version
    const fresh = await this.openVersionEngine(name, pointer.version)
    if (this.engines.get(name) !== entry) {
      fresh.close()
      return
    }
    entry.engine = Promise.resolve(fresh)
    const retire = () => {
      old.close()
      if (deleteOld && oldVersion !== pointer.version) void this.env.snapshots.destroyVersion(name, oldVersion).catch(() => {})
    }
    const u = this.usage.get(old)
    if (u && u.active > 0) u.retire = retire
    else retire()
  }

  private async openVersionEngine(name: string, version: string): Promise<CollectionEngine> {
    const store = await this.env.snapshots.openVersion(name, version, { create: false })
    return this.engineOn(name, store, {})
  }

  /** A snapshot must not silently hide documents someone added to a collection of the same name. */
  private async refuseIfPlainCollection(name: string): Promise<void> {
    if (!(await this.env.backend.list()).includes(name)) return
    const store = await this.env.backend.open(name)
    try {
      const manifest = await store.readManifest()
      if (manifest && manifest.docCount > 0) {
        throw new WinnowError('INVALID_INPUT', `collection '${name}' holds documents added with add(); give the snapshot collection another name, or deleteCollection('${name}') first`, { collection: name })
      }
    } finally {
      store.close()
    }
  }

  /**
   * A plain collection's engine. With `expected` (a handle reopening it) the collection must exist
   * and be the same creation; otherwise it is created when missing.
   */
  private async openEngine(name: string, options: CollectionOptions, entry: Entry, expected?: string): Promise<CollectionEngine> {
    const store = await this.env.backend.open(name, { create: expected === undefined })
    const incarnation = store.incarnation ?? ''
    if (expected !== undefined && incarnation !== expected) {
      store.close()
      throw collectionDeletedError(name, 'replaced')
    }
    entry.incarnation = incarnation
    entry.store = store
    return this.engineOn(name, store, options)
  }

  private async engineOn(name: string, store: CollectionStore, options: CollectionOptions): Promise<CollectionEngine> {
    try {
      const models = await this.models()
      const { analyzer, chunking, maxTextLength } = options
      return await CollectionEngine.open(
        name,
        {
          store,
          coordination: this.coordination,
          embedder: models.embedder && models.info.embedder ? embedderPort(models.embedder, models.info.embedder.model, this.queue) : null,
          rerankerTokens: models.reranker ? rerankerPassageTokens(models.reranker) : undefined,
        },
        { analyzer, chunking, maxTextLength },
      )
    } catch (error) {
      store.close()
      throw error
    }
  }

  private checkpointFor(callId: number): () => Promise<void> {
    return async () => {
      await yieldToEventLoop()
      if (this.cancelled.has(callId)) throw new WinnowError('ABORTED', 'the call was aborted')
    }
  }
}

/** Tokens a passage may have so that (query, passage) still fits the reranker. */
function rerankerPassageTokens(reranker: LoadedCrossEncoder): number {
  const s = reranker.encoder.settings
  const template = s.template.prefix.length + s.template.middle.length + s.template.suffix.length
  // Leave room for a typical query (up to 32 tokens) so passages are rarely cut when reranked.
  return Math.max(16, s.maxLength - template - 32)
}

/** Options as a comparable string; ones JSON cannot write (a BigInt, a cycle) are the caller's mistake. */
function optionsKey(options: object): string {
  try {
    return JSON.stringify(options)
  } catch (error) {
    throw new WinnowError('INVALID_INPUT', `collection options must be plain data (strings, numbers, booleans, arrays, objects): ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** A collection's facts as `info()` gives them: the engine's, with the snapshot version serving it. */
function infoOf(engine: CollectionEngine, entry: Entry): CollectionInfo {
  const p = entry.snapshot?.pointer
  return { ...engine.info(), snapshot: p ? { version: p.version, url: p.url, importedAt: p.importedAt } : null }
}

/** The name and (for a handle's call) the incarnation a call names; the name is checked. */
function refOf(collection: CollectionRef): { name: string; incarnation?: string } {
  if (typeof collection === 'string' || collection === null || typeof collection !== 'object') {
    checkName(collection)
    return { name: collection }
  }
  const { name, incarnation } = collection as { name: unknown; incarnation: unknown }
  checkName(name)
  if (typeof incarnation !== 'string') throw new WinnowError('INVALID_INPUT', 'the incarnation must be a string')
  return { name, incarnation }
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new WinnowError('INVALID_INPUT', `a collection name must be a non-empty string of at most 200 characters, got ${typeof name === 'string' ? `'${name}'` : typeof name}`)
  }
}
