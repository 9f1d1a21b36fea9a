/** Messages and shapes shared by the client and the worker. Types only, plus three constants. */
import type { SerializedError } from '../errors.js'
import type {
  AddProgress,
  AddResult,
  CollectionInfo,
  CollectionOptions,
  LoadProgress,
  SearchHit,
  SearchOptions,
  SearchRoute,
  SnapshotOutcome,
  SnapshotProgress,
  StoredDocument,
} from '../types.js'

import type { PipelineResult, RemoteFirstStage } from '../search/types.js'
import type { ModelsConfig, ModelsInfo } from '../models/compose.js'

/** Posted by the worker once it holds its liveness lock (see client/connection.ts). */
export const ALIVE_MESSAGE = 'winnow:alive'
/** Prefix of the Web Lock a worker holds for as long as it lives. */
export const LOCK_PREFIX = 'winnow-worker-'
/**
 * Posted by the worker (`{ type, loss: { reason, message } }`) when its WebGPU device is lost,
 * before any call learns of it: on the same port as the call results, so the page switches to WASM
 * before a caller sees DEVICE_LOST and calls again.
 */
export const DEVICE_LOST_MESSAGE = 'winnow:device-lost'

/** Everything the worker needs to load; resolved to absolute URLs on the main thread (see models/compose.ts). */
export type WorkerConfig = ModelsConfig

/** What init reports. */
export type InitResult = ModelsInfo

/** Search options as they cross to the worker (the signal and the callback stay on the page). */
export type WorkerSearchOptions = Omit<SearchOptions, 'signal' | 'onFirstStage'>

/** A search's answer as it crosses back (the pipeline's result); the page attaches `route` to the hits array. */
export type { PipelineResult } from '../search/types.js'

/** Raw rerank output; the client turns it into sorted results. */
export interface RawRerank {
  logits: Float32Array
  queryTruncated: boolean
  documentTruncated: boolean[]
  /** Passage tokens the model read per pair (for `lengthCorrection`). */
  documentTokens: Uint32Array
}

/**
 * The worker's answer to a heartbeat (see client/heartbeat.ts): whether model work runs, a counter
 * that moves between its batches, and whether a model is loading or warming up (first runs compile
 * kernels and shaders in one long batch). Answered whenever the worker's event loop is free.
 */
export interface WorkerPulse {
  busy: boolean
  progress: number
  loading: boolean
}

/**
 * How a call names a collection: its name, or — from a handle — its name and the incarnation the
 * handle opened (a random id per creation, see `CollectionStore.incarnation`), so that a call for
 * a collection deleted since rejects with COLLECTION_DELETED instead of creating an empty one.
 */
export type CollectionRef = string | { name: string; incarnation: string }

/** What `openCollection` answers: the collection's facts and the incarnation to name it by. */
export interface OpenedCollection {
  info: CollectionInfo
  incarnation: string
}

/** Errors cross the boundary as data, never as thrown values (comlink would drop `code`). */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: SerializedError }

/** The worker's RPC surface. */
export interface WorkerApi {
  init(config: WorkerConfig, onProgress?: (event: LoadProgress) => void): Promise<Envelope<InitResult>>
  /** The heartbeat: answered between batches, never queued behind model work. */
  ping(): WorkerPulse
  rerank(callId: number, query: string, documents: string[]): Promise<Envelope<RawRerank>>
  cancel(callId: number): void
  dispose(): Promise<void>
  /** Opens a collection; `incarnation` (a handle reopening on a new worker): it must still be that one. */
  openCollection(name: string, options: CollectionOptions, onSnapshotProgress?: (p: SnapshotProgress) => void, incarnation?: string): Promise<Envelope<OpenedCollection>>
  collectionInfo(collection: CollectionRef): Promise<Envelope<CollectionInfo>>
  syncSnapshot(callId: number, collection: CollectionRef): Promise<Envelope<SnapshotOutcome>>
  add(callId: number, collection: CollectionRef, documents: unknown, onProgress?: (p: AddProgress) => void): Promise<Envelope<AddResult>>
  remove(collection: CollectionRef, ids: unknown): Promise<Envelope<number>>
  get(collection: CollectionRef, id: string): Promise<Envelope<StoredDocument | null>>
  count(collection: CollectionRef): Promise<Envelope<number>>
  clear(collection: CollectionRef): Promise<Envelope<void>>
  search(
    callId: number,
    collection: CollectionRef,
    query: string,
    options: WorkerSearchOptions,
    onFirstStage?: (hits: SearchHit[]) => void,
  ): Promise<Envelope<PipelineResult>>
  /**
   * A search over a remote retriever's candidates (the page called it): in a collection (`'remote'`
   * or `'fuse'`), or with none (`collection` null: `winnow.search()`).
   */
  searchRemote(
    callId: number,
    collection: CollectionRef | null,
    query: string,
    options: WorkerSearchOptions,
    remote: RemoteFirstStage,
    onFirstStage?: (hits: SearchHit[]) => void,
  ): Promise<Envelope<PipelineResult>>
  /** Checks the options of a search with a retriever before the page calls it; resolves with the candidates to ask for. */
  planRemoteSearch(collection: CollectionRef | null, options: WorkerSearchOptions, remote: Omit<RemoteFirstStage, 'candidates'>): Promise<Envelope<number>>
  /** The query's vector (the collection's prefix and pooling, else the instance embedder's), for a retriever sent only the vector. */
  embedQuery(callId: number, collection: CollectionRef | null, query: string): Promise<Envelope<Float32Array>>
  deleteCollection(name: string): Promise<Envelope<void>>
  listCollections(): Promise<Envelope<string[]>>
}
