import { proxy, type Remote } from 'comlink'
import { deserializeError, WinnowError } from '../errors.js'
import type {
  AddOptions,
  AddResult,
  CollectionInfo,
  CollectionOptions,
  DocumentInput,
  SearchHit,
  SearchOptions,
  SearchResults,
  SnapshotOutcome,
  StoredDocument,
} from '../types.js'
import type { CollectionRef, Envelope, OpenedCollection, WorkerApi, PipelineResult } from '../worker/protocol.js'
import { abortError, retryAfterDeviceLoss, type WorkerConnection } from './connection.js'
import { checkCallOptions } from './validate.js'
import { searchWithRetriever } from './remote.js'

/**
 * A persistent collection of documents in IndexedDB, searched in the worker. Every method is a
 * Promise; handles are cheap, and after a worker crash the next call reopens the collection.
 */
export interface Collection {
  readonly name: string
  /**
   * Adds documents, or replaces those whose id exists. Chunks, embeds (with an embedder) and writes
   * in one transaction: resolves once durable; after a crash either all of the call is there or none.
   */
  add(documents: readonly DocumentInput[], options?: AddOptions): Promise<AddResult>
  /** Removes documents by id; resolves with how many existed. */
  delete(ids: readonly string[]): Promise<number>
  /** The stored document, or null. */
  get(id: string): Promise<StoredDocument | null>
  /** Number of documents. */
  count(): Promise<number>
  /** Removes every document; settings stay. */
  clear(): Promise<void>
  /**
   * Searches: first stage (keyword, vector or hybrid), then reranking, routing and diversification
   * as the options ask. Resolves with passages best first; `results.route` says which path ran.
   */
  search(query: string, options?: SearchOptions): Promise<SearchResults>
  /** Counts, vector source, the settings the index was built with, and the snapshot version serving it. */
  info(): Promise<CollectionInfo>
  /**
   * Snapshot collections: fetches the manifest again and, when its hash changed, imports the new
   * version and swaps to it before resolving. `offline` when the manifest is unreachable (the
   * stored version keeps serving).
   */
  syncSnapshot(options?: { signal?: AbortSignal }): Promise<SnapshotOutcome>
}

/** What a collection handle needs from its winnow instance. */
export interface CollectionOwner {
  connection: WorkerConnection
  /** Starts the worker (and loads models) if needed; rejects once disposed. */
  ready(signal?: AbortSignal): Promise<Remote<WorkerApi>>
  nextCallId(): number
  /** Whether the instance has a reranker of its own (known once started). */
  hasReranker(): boolean
}

/**
 * The page-side handle: forwards to the worker, rebuilds typed errors, and reopens the collection
 * on a fresh worker after a crash. Calls name the collection with the incarnation it opened, so a
 * handle whose collection was deleted (here, in another tab, by the browser) gets COLLECTION_DELETED
 * rather than an empty collection created in its place.
 *
 * @example
 * const docs = await CollectionHandle.open(owner, 'handbook', {})
 */
export class CollectionHandle implements Collection {
  private openedOn = -1
  /** Which creation of the collection this handle opened; null until the first open. */
  private incarnation: string | null = null

  private constructor(
    private readonly owner: CollectionOwner,
    readonly name: string,
    private readonly options: CollectionOptions,
  ) {}

  static async open(owner: CollectionOwner, name: string, options: CollectionOptions): Promise<CollectionHandle> {
    if (typeof name !== 'string' || name.length === 0) throw new WinnowError('INVALID_INPUT', 'a collection needs a non-empty string name')
    if (options === null || typeof options !== 'object') throw new WinnowError('INVALID_INPUT', 'collection options must be an object')
    const handle = new CollectionHandle(owner, name, resolveSnapshotUrl(options))
    await handle.ensureOpen()
    return handle
  }

  async add(documents: readonly DocumentInput[], options?: AddOptions): Promise<AddResult> {
    const { signal, onProgress } = checkCallOptions(options, 'add', 'onProgress') as AddOptions
    if (signal?.aborted) throw abortError(signal)
    await this.ensureOpen(signal)
    const callId = this.owner.nextCallId()
    // No early rejection on abort: the worker stops at its next checkpoint, or finishes a write it
    // has begun, and the promise says which — so a caller never believes a landed write was lost.
    const onAbort = () => void this.owner.connection.api().cancel(callId)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      return unwrap(
        await this.owner.connection.call(
          (api) => api.add(callId, this.ref, documents, onProgress ? proxy(onProgress) : undefined) as Promise<Envelope<AddResult>>,
        ),
      )
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  async delete(ids: readonly string[]): Promise<number> {
    return this.simple((api) => api.remove(this.ref, ids) as Promise<Envelope<number>>)
  }

  async get(id: string): Promise<StoredDocument | null> {
    if (typeof id !== 'string') throw new WinnowError('INVALID_INPUT', 'id must be a string')
    return this.read((api) => api.get(this.ref, id) as Promise<Envelope<StoredDocument | null>>)
  }

  async count(): Promise<number> {
    return this.read((api) => api.count(this.ref) as Promise<Envelope<number>>)
  }

  async clear(): Promise<void> {
    return this.simple((api) => api.clear(this.ref) as Promise<Envelope<void>>)
  }

  async info(): Promise<CollectionInfo> {
    return this.read((api) => api.collectionInfo(this.ref) as Promise<Envelope<CollectionInfo>>)
  }

  async syncSnapshot(options: { signal?: AbortSignal } = {}): Promise<SnapshotOutcome> {
    const { signal } = options ?? {}
    if (signal?.aborted) throw abortError(signal)
    await this.ensureOpen(signal)
    const callId = this.owner.nextCallId()
    return unwrap(
      await this.owner.connection.call((api) => api.syncSnapshot(callId, this.ref) as Promise<Envelope<SnapshotOutcome>>, {
        signal,
        onAbort: (api) => void api.cancel(callId),
      }),
    )
  }

  async search(query: string, options?: SearchOptions): Promise<SearchResults> {
    const checked = checkCallOptions(options, 'search', 'onFirstStage')
    if (checked.retriever !== undefined) {
      return searchWithRetriever(
        {
          connection: this.owner.connection,
          nextCallId: () => this.owner.nextCallId(),
          ready: (signal) => this.ensureOpen(signal),
          hasReranker: () => this.owner.hasReranker(),
          ref: () => this.ref,
        },
        query,
        checked,
      )
    }
    for (const key of ['firstStage', 'remoteTimeoutMs']) {
      if (checked[key] !== undefined) throw new WinnowError('INVALID_INPUT', `${key} applies to a search with a retriever, and this one has none; pass options.retriever or drop ${key}`)
    }
    const { signal, onFirstStage, ...rest } = checked as SearchOptions
    if (signal?.aborted) throw abortError(signal)
    // Idempotent: after a lost WebGPU device it runs again, on WASM (first-stage hits may come twice).
    const { hits, route } = await retryAfterDeviceLoss(signal, async () => {
      await this.ensureOpen(signal)
      const callId = this.owner.nextCallId()
      // An aborted search stays silent: its first-stage hits must not overwrite a newer search's.
      const firstStage = onFirstStage
        ? proxy((hits: SearchHit[]) => {
            if (!signal?.aborted) onFirstStage(hits)
          })
        : undefined
      return unwrap(
        await this.owner.connection.call((api) => api.search(callId, this.ref, query, rest, firstStage) as Promise<Envelope<PipelineResult>>, {
          signal,
          onAbort: (api) => void api.cancel(callId),
        }),
      )
    })
    return Object.assign(hits, { route })
  }

  /** A write: not retried after a lost device (it may have landed; the caller checks). */
  private async simple<T>(fn: (api: Remote<WorkerApi>) => Promise<Envelope<T>>): Promise<T> {
    await this.ensureOpen()
    return unwrap(await this.owner.connection.call(fn))
  }

  /** A read: retried once after a lost WebGPU device (the pending call was rejected when the worker moved to WASM). */
  private read<T>(fn: (api: Remote<WorkerApi>) => Promise<Envelope<T>>): Promise<T> {
    return retryAfterDeviceLoss(undefined, () => this.simple(fn))
  }

  /** Opens the collection in the current worker (again, after a restart). */
  private async ensureOpen(signal?: AbortSignal): Promise<void> {
    await this.owner.ready(signal)
    const generation = this.owner.connection.workerGeneration
    if (this.openedOn === generation) return
    const { onSnapshotProgress, ...data } = this.options
    if (onSnapshotProgress !== undefined && typeof onSnapshotProgress !== 'function') throw new WinnowError('INVALID_INPUT', 'onSnapshotProgress must be a function')
    // The callback lives for the collection (background imports report later), so it is not released.
    const opened = unwrap(
      await this.owner.connection.call(
        (api) =>
          api.openCollection(this.name, data, onSnapshotProgress ? proxy(onSnapshotProgress) : undefined, this.incarnation ?? undefined) as Promise<
            Envelope<OpenedCollection>
          >,
        { signal },
      ),
    )
    this.incarnation = opened.incarnation
    this.openedOn = generation
  }

  /** How calls name the collection: with the incarnation this handle opened, once it has one. */
  private get ref(): CollectionRef {
    return this.incarnation === null ? this.name : { name: this.name, incarnation: this.incarnation }
  }
}

/** The worker fetches from its own URL, so a relative snapshot URL is resolved here, against the page. */
function resolveSnapshotUrl(options: CollectionOptions): CollectionOptions {
  if (options.snapshot === undefined) return options
  if (typeof options.snapshot !== 'string' && !(options.snapshot instanceof URL)) {
    throw new WinnowError('INVALID_INPUT', `snapshot must be a URL (string or URL) of a manifest.json, got ${typeof options.snapshot}`)
  }
  const base = globalThis.document?.baseURI ?? globalThis.location?.href
  let url: string
  try {
    url = new URL(String(options.snapshot), base).href
  } catch {
    throw new WinnowError('INVALID_INPUT', `snapshot '${String(options.snapshot)}' is not a valid URL`)
  }
  return { ...options, snapshot: url }
}

function unwrap<T>(envelope: Envelope<T>): T {
  if (envelope.ok) return envelope.value
  throw deserializeError(envelope.error)
}
