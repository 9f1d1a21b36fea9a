import { WinnowError } from '../errors.js'
import type { Checkpoint } from '../core/checkpoint.js'
import type { LoadedCrossEncoder } from '../models/loadCrossEncoder.js'
import type { LoadedEmbedder } from '../models/loadEmbedder.js'
import { embedderPort } from '../models/embedderPort.js'
import { yieldToEventLoop, type SerialQueue } from '../models/queue.js'
import { CollectionEngine } from '../collection/engine.js'
import { createCoordination, type Coordination } from '../store/coordination.js'
import { collectionDeletedError, isCollectionDeleted } from '../store/deleted.js'
import { IdbBackend } from '../store/idb.js'
import type { CollectionStore, StoreBackend } from '../store/types.js'
import { IdbSnapshotStorage } from '../store/idbSnapshots.js'
import { isGone, type SnapshotStorage } from '../store/snapshots.js'
import { refuseIfPlainCollection, SNAPSHOT_INCARNATION, SnapshotMirror } from '../snapshot/mirror.js'
import { checkSnapshotOptions } from '../snapshot/sync.js'
import type { CollectionInfo, CollectionOptions, SnapshotProgress } from '../types.js'
import type { CollectionRef, OpenedCollection } from './protocol.js'

/** The models a collection's engine uses (the worker's, once init has loaded them). */
export interface RegistryModels {
  reranker: LoadedCrossEncoder | null
  embedder: LoadedEmbedder | null
  info: { embedder: { model: string } | null }
}

/** An open collection, as {@link CollectionRegistry.use} hands it to a call. */
export interface RegistryEntry {
  readonly name: string
  /** Set (before `engine` resolves) when the collection mirrors a snapshot. */
  readonly mirror: SnapshotMirror | null
}

interface Entry extends RegistryEntry {
  options: string
  engine: Promise<CollectionEngine>
  mirror: SnapshotMirror | null
  /** Which creation of the collection the engine serves (set before `engine` resolves); see {@link CollectionRef}. */
  incarnation: string | null
  /** A plain collection's store, to find it deleted or cleared underneath before a call. */
  store: CollectionStore | null
}

/** What the registry reads from outside; tests replace them. */
export interface RegistryEnvironment {
  backend: StoreBackend
  snapshots: SnapshotStorage
  fetch: typeof globalThis.fetch
}

/**
 * The worker's open collections. One engine per name (opened once, shared by every handle the
 * page holds); model runs go through the worker's one queue, embedding in small slices.
 *
 * Snapshot collections (`{ snapshot: url }`) serve an imported version read-only, kept up to date
 * by their {@link SnapshotMirror}.
 *
 * A handle names its collection with the incarnation it opened ({@link CollectionRef}): a call for
 * a collection deleted since (here, in another tab, or cleared by the browser), or deleted and
 * created again, rejects with COLLECTION_DELETED and never creates an empty one; the entry is
 * dropped, so `winnow.collection(name)` then opens a new collection cleanly.
 *
 * @example
 * const registry = new CollectionRegistry(queue, () => models)
 * await registry.open('handbook', {})
 * await registry.use('handbook', 'write', (engine, checkpoint) => engine.add(documents, checkpoint), callId)
 */
export class CollectionRegistry {
  private readonly engines = new Map<string, Entry>()
  private readonly cancelled = new Set<number>()
  private readonly coordination: Coordination = createCoordination()
  private readonly env: RegistryEnvironment

  constructor(
    private readonly queue: SerialQueue,
    private readonly models: () => Promise<RegistryModels>,
    env: Partial<RegistryEnvironment> = {},
  ) {
    this.env = { backend: env.backend ?? new IdbBackend(), snapshots: env.snapshots ?? new IdbSnapshotStorage(), fetch: env.fetch ?? ((...a) => globalThis.fetch(...a)) }
  }

  /**
   * Opens a collection (once per name; later calls share the engine), with the incarnation the
   * handle is to name it by from now on. `expected`: the incarnation a handle opened before
   * (reopening after a worker restart): the collection must still be that one, else
   * COLLECTION_DELETED — nothing is created.
   */
  async open(name: string, options: CollectionOptions, onSnapshotProgress?: (p: SnapshotProgress) => void, expected?: string): Promise<OpenedCollection> {
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
      const entry: Entry = { name, options: key, engine: null as never, mirror: null, incarnation: null, store: null }
      entry.engine = this.openAny(name, data, entry, onSnapshotProgress, expected)
      this.engines.set(name, entry)
      // A failed open must not stick: the next call tries again.
      entry.engine.catch(() => this.drop(name, entry))
    } else if (existing.mirror && onSnapshotProgress) existing.mirror.onProgress = onSnapshotProgress
    return this.use(expected === undefined ? name : { name, incarnation: expected }, 'read', async (engine, _checkpoint, entry) => ({
      info: collectionInfo(engine, entry),
      incarnation: (entry as Entry).incarnation ?? '',
    }))
  }

  /**
   * Runs `fn` on the collection's current engine, counted so a retired snapshot engine closes only
   * after its last call. A handle's call (a `{ name, incarnation }` ref) for a collection deleted or
   * replaced since rejects with COLLECTION_DELETED, as does any call once the store finds itself
   * deleted underneath; the entry is then dropped. Writes to a snapshot collection are READ_ONLY; a
   * read that finds its snapshot version deleted (another tab swapped) follows the pointer and runs
   * once more. With `callId`, `fn`'s checkpoint throws ABORTED once {@link cancel} names the call
   * (see {@link call}); without, it only yields.
   */
  use<T>(collection: CollectionRef, kind: 'read' | 'write', fn: (engine: CollectionEngine, checkpoint: Checkpoint, entry: RegistryEntry) => Promise<T>, callId?: number): Promise<T> {
    if (callId !== undefined) return this.call(callId, (checkpoint) => this.run(collection, kind, fn, checkpoint))
    return this.run(collection, kind, fn, yieldToEventLoop)
  }

  /** Runs `work` with the call's checkpoint (ABORTED once the call is cancelled); forgets the call after. */
  async call<T>(callId: number, work: (checkpoint: Checkpoint) => Promise<T>): Promise<T> {
    try {
      return await work(async () => {
        await yieldToEventLoop()
        if (this.cancelled.has(callId)) throw new WinnowError('ABORTED', 'the call was aborted')
      })
    } finally {
      this.cancelled.delete(callId)
    }
  }

  async destroy(name: string): Promise<void> {
    checkName(name)
    const entry = this.engines.get(name)
    if (entry) this.drop(name, entry)
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
    for (const { engine, mirror } of this.engines.values()) {
      mirror?.close()
      void engine.then((e) => e.close()).catch(() => {})
    }
    this.engines.clear()
    this.coordination.close()
  }

  private async run<T>(collection: CollectionRef, kind: 'read' | 'write', fn: (engine: CollectionEngine, checkpoint: Checkpoint, entry: RegistryEntry) => Promise<T>, checkpoint: Checkpoint): Promise<T> {
    const { name, incarnation } = refOf(collection)
    for (let attempt = 0; ; attempt++) {
      // Not open in this worker (a restart, or deleted here): reopen without creating when a handle asks.
      if (!this.engines.has(name)) await this.open(name, {}, undefined, incarnation)
      const entry = this.engines.get(name)
      if (!entry) throw collectionDeletedError(name, 'deleted')
      const engine = await entry.engine
      if (incarnation !== undefined && entry.incarnation !== incarnation) throw collectionDeletedError(name, 'replaced')
      if (kind === 'write' && entry.mirror) {
        throw new WinnowError('READ_ONLY', `collection '${name}' mirrors the snapshot ${entry.mirror.url}; it changes only when a newer snapshot is imported (rebuild the index with npx winnow-rerank index)`, { collection: name })
      }
      const release = entry.mirror?.hold(engine)
      try {
        await entry.store?.check?.()
        return await fn(engine, checkpoint, entry)
      } catch (error) {
        if (isCollectionDeleted(error)) this.forget(name, entry)
        if (attempt === 0 && entry.mirror && isGone(error)) {
          if (!(await entry.mirror.followGone())) {
            // Deleted (deleteCollection here or in another tab), not swapped: nothing to follow.
            this.forget(name, entry)
            throw collectionDeletedError(name, 'deleted')
          }
          continue
        }
        throw error
      } finally {
        release?.()
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
    this.drop(name, entry)
    void entry.engine.then((e) => e.close()).catch(() => {})
  }

  /** Takes an entry out of the registry (if it is still the one there); its mirror stops. */
  private drop(name: string, entry: Entry): void {
    if (this.engines.get(name) === entry) this.engines.delete(name)
    entry.mirror?.close()
  }

  private async openAny(name: string, options: CollectionOptions, entry: Entry, onProgress?: (p: SnapshotProgress) => void, expected?: string): Promise<CollectionEngine> {
    const pointer = await this.env.snapshots.readPointer(name)
    const url = options.snapshot === undefined ? undefined : String(options.snapshot)
    if (url === undefined && !pointer) return this.openEngine(name, options, entry, expected)
    // A handle of a plain collection finds a snapshot collection of that name: not the one it opened.
    if (expected !== undefined && expected !== SNAPSHOT_INCARNATION) throw collectionDeletedError(name, 'replaced')
    if (!pointer) await refuseIfPlainCollection(this.env.backend, name)
    entry.incarnation = SNAPSHOT_INCARNATION
    const mirror = new SnapshotMirror(
      name,
      url ?? pointer!.url,
      pointer,
      entry,
      {
        snapshots: this.env.snapshots,
        fetch: this.env.fetch,
        coordination: this.coordination,
        embedderModel: async () => (await this.models()).info.embedder?.model ?? null,
        openEngine: (name, store) => this.engineOn(name, store, {}),
        mode: options.snapshotFetch,
      },
      onProgress,
    )
    entry.mirror = mirror
    // The entry left the registry while its pointer was read (a deleteCollection, closeAll): stop following.
    if (this.engines.get(name) !== entry) mirror.close()
    return mirror.open(url !== undefined)
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
      const { analyzer, chunking, maxTextLength, vectorIndex } = options
      return await CollectionEngine.open(
        name,
        {
          store,
          coordination: this.coordination,
          embedder: models.embedder && models.info.embedder ? embedderPort(models.embedder, models.info.embedder.model, this.queue) : null,
          rerankerTokens: models.reranker ? rerankerPassageTokens(models.reranker) : undefined,
        },
        { analyzer, chunking, maxTextLength, vectorIndex },
      )
    } catch (error) {
      store.close()
      throw error
    }
  }
}

/**
 * A collection's facts as `info()` gives them: the engine's, with the snapshot version serving it.
 *
 * @example
 * await registry.use(ref, 'read', async (engine, _checkpoint, entry) => collectionInfo(engine, entry))
 */
export function collectionInfo(engine: CollectionEngine, entry: RegistryEntry): CollectionInfo {
  const p = entry.mirror?.pointer
  return { ...engine.info(), snapshot: p ? { version: p.version, url: p.url, importedAt: p.importedAt } : null }
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
