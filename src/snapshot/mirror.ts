/**
 * A snapshot collection in the worker: the imported version serving it, the check for a newer one
 * (imported beside it under the collection's write lock, then swapped in), and other tabs' swaps
 * followed through the pointer. Searches already running finish on the engine they started with,
 * which closes (and its version is deleted) after the last one.
 */
import type { CollectionEngine } from '../collection/engine.js'
import { WinnowError } from '../errors.js'
import type { Coordination } from '../store/coordination.js'
import type { SnapshotPointer, SnapshotStorage } from '../store/snapshots.js'
import type { CollectionStore, StoreBackend } from '../store/types.js'
import type { SnapshotFetch, SnapshotOutcome, SnapshotProgress } from '../types.js'
import { openLazyVersion, prefetchAll } from './lazySync.js'
import { importLatest } from './sync.js'

/** The incarnation of every snapshot collection: a mirror of its URL, re-imported if deleted. */
export const SNAPSHOT_INCARNATION = 'snapshot'

/** What a mirror reads and writes outside itself. */
export interface MirrorEnvironment {
  snapshots: SnapshotStorage
  fetch: typeof globalThis.fetch
  coordination: Coordination
  /** The instance's embedder model (a snapshot's vectors must be its), or null. */
  embedderModel: () => Promise<string | null>
  /** An engine over one version's store (closing the store if it fails). */
  openEngine: (name: string, store: CollectionStore) => Promise<CollectionEngine>
  /** How a format-2 snapshot is fetched (`CollectionOptions.snapshotFetch`). */
  mode?: SnapshotFetch
}

/** Where the engine serving the collection is kept (the registry's entry): the mirror swaps it. */
export interface EngineSlot {
  engine: Promise<CollectionEngine>
}

/**
 * One snapshot collection's mirror of its URL.
 *
 * @example
 * entry.mirror = new SnapshotMirror('docs', url, await storage.readPointer('docs'), entry, env)
 * entry.engine = entry.mirror.open(true)
 */
export class SnapshotMirror {
  /** The version serving; null only during a first import. */
  pointer: SnapshotPointer | null
  private syncing: Promise<SnapshotOutcome> | null = null
  /** Set once the registry dropped the collection: a swap then closes the engine it opened. */
  private closed = false
  /** Calls running per engine, so a retired engine closes after its last one. */
  private readonly usage = new WeakMap<CollectionEngine, { active: number; retire?: () => void }>()
  private readonly unsubscribe: () => void

  constructor(
    readonly name: string,
    readonly url: string,
    pointer: SnapshotPointer | null,
    private readonly slot: EngineSlot,
    private readonly env: MirrorEnvironment,
    public onProgress?: (p: SnapshotProgress) => void,
  ) {
    this.pointer = pointer
    // Another tab imported a new version (see sync): serve it from now on.
    this.unsubscribe = env.coordination.subscribePointers((collection) => {
      if (collection === name) void this.followPointer().catch(() => {})
    })
  }

  /**
   * The engine to serve first: on a first visit (no pointer) once the import is complete; on later
   * visits the stored version at once, checking for a newer one in the background when `check`.
   */
  async open(check: boolean): Promise<CollectionEngine> {
    if (!this.pointer) {
      await this.sync(async () => {})
      return this.openVersionEngine(this.pointer!)
    }
    const engine = await this.openVersionEngine(this.pointer)
    if (check) setTimeout(() => void this.sync(async () => {}).catch(() => {}), 0)
    return engine
  }

  /**
   * Fetches the manifest and, when its hash is new, imports it beside the serving version, moves the
   * pointer, and swaps engines. One tab at a time (the collection's write lock); concurrent calls in
   * this worker share one run.
   */
  sync(checkpoint: () => Promise<void>): Promise<SnapshotOutcome> {
    if (this.syncing) return this.syncing
    const { name } = this
    // The version a failure refers to: the one being imported, once its manifest was read.
    let attempted: string | null = this.pointer?.version ?? null
    const emit = (p: SnapshotProgress) => {
      if (p.version) attempted = p.version
      try {
        this.onProgress?.(p)
      } catch {
        // a throwing listener must not break the import
      }
    }
    const run = (async (): Promise<SnapshotOutcome> => {
      emit({ phase: 'checking', loaded: 0, total: 0, version: this.pointer?.version ?? null })
      try {
        const result = await this.env.coordination.withWriteLock(name, async () => {
          const outcome = await importLatest(name, this.url, {
            storage: this.env.snapshots,
            fetch: this.env.fetch,
            embedder: this.env.embedderModel,
            checkpoint,
            emit,
            mode: this.env.mode,
          })
          // Other tabs follow the pointer (see the constructor).
          if (outcome.outcome === 'imported') this.env.coordination.announcePointer(name)
          return outcome
        })
        // During a first import nothing serves yet (and the slot's engine is this very open): no swap.
        const serving = this.pointer?.version ?? null
        if (serving !== null && serving !== result.pointer.version) await this.swapTo(result.pointer, true)
        this.pointer = result.pointer
        emit({ phase: 'done', loaded: result.bytes, total: result.bytes, version: result.pointer.version, outcome: result.outcome })
        return result.outcome
      } catch (error) {
        const e = error instanceof WinnowError ? error : new WinnowError('INTERNAL', String((error as Error)?.message ?? error))
        emit({ phase: 'done', loaded: 0, total: 0, version: attempted, outcome: 'failed', error: { code: e.code, message: e.message } })
        throw e
      }
    })().finally(() => {
      this.syncing = null
    })
    this.syncing = run
    return run
  }

  /**
   * A call found its version deleted: follows the pointer when another tab swapped (true), or
   * answers false when the collection itself was deleted (here or in another tab).
   */
  async followGone(): Promise<boolean> {
    if (!(await this.env.snapshots.readPointer(this.name))) return false
    await this.followPointer()
    return true
  }

  /** Counts a call on `engine` until the returned function is called (see {@link swapTo}). */
  hold(engine: CollectionEngine): () => void {
    let u = this.usage.get(engine)
    if (!u) this.usage.set(engine, (u = { active: 0 }))
    u.active++
    const held = u
    return () => {
      if (--held.active === 0 && held.retire) held.retire()
    }
  }

  /** The registry dropped the collection: stop following other tabs, and install no engine. */
  close(): void {
    this.closed = true
    this.unsubscribe()
  }

  /** Another tab moved the pointer: serve its version from now on. */
  private async followPointer(): Promise<void> {
    const pointer = await this.env.snapshots.readPointer(this.name)
    if (!pointer || !this.pointer || pointer.version === this.pointer.version) return
    await this.swapTo(pointer, false)
    this.pointer = pointer
    this.onProgress?.({ phase: 'done', loaded: 0, total: 0, version: pointer.version, outcome: 'imported' })
  }

  /** New calls go to the new version's engine; the old one closes after its last call. */
  private async swapTo(pointer: SnapshotPointer, deleteOld: boolean): Promise<void> {
    const old = await this.slot.engine
    const oldVersion = this.pointer!.version
    const fresh = await this.openVersionEngine(pointer)
    if (this.closed) {
      fresh.close()
      return
    }
    this.slot.engine = Promise.resolve(fresh)
    const retire = () => {
      old.close()
      if (deleteOld && oldVersion !== pointer.version) void this.env.snapshots.destroyVersion(this.name, oldVersion).catch(() => {})
    }
    const u = this.usage.get(old)
    if (u && u.active > 0) u.retire = retire
    else retire()
  }

  private async openVersionEngine(pointer: SnapshotPointer): Promise<CollectionEngine> {
    if (!pointer.lazy) return this.env.openEngine(this.name, await this.env.snapshots.openVersion(this.name, pointer.version, { create: false }))
    const store = await openLazyVersion(this.name, pointer, { storage: this.env.snapshots, fetch: this.env.fetch })
    const engine = await this.env.openEngine(this.name, store)
    // The rest of the version, in the background: a failure costs only the shards it missed. With
    // 'all' a first visit downloaded everything before this; a version adopted lazily on an earlier
    // visit completes here (offline, the shards already cached keep serving).
    if (this.env.mode === 'prefetch' || this.env.mode === 'all') void prefetchAll(store, async () => this.checkOpen()).catch(() => {})
    return engine
  }

  private checkOpen(): void {
    if (this.closed) throw new WinnowError('ABORTED', 'the snapshot collection was closed')
  }
}

/**
 * A snapshot must not silently hide documents someone added to a collection of the same name.
 *
 * @example
 * await refuseIfPlainCollection(backend, 'docs') // INVALID_INPUT when 'docs' holds added documents
 */
export async function refuseIfPlainCollection(backend: StoreBackend, name: string): Promise<void> {
  if (!(await backend.list()).includes(name)) return
  const store = await backend.open(name)
  try {
    const manifest = await store.readManifest()
    if (manifest && manifest.docCount > 0) {
      throw new WinnowError('INVALID_INPUT', `collection '${name}' holds documents added with add(); give the snapshot collection another name, or deleteCollection('${name}') first`, { collection: name })
    }
  } finally {
    store.close()
  }
}
