import { proxy, type Remote } from 'comlink'
import { rankByScore } from '../core/ranking.js'
import { sigmoid } from '../core/scores.js'
import { lengthAdjustments } from '../rank/lengthTrend.js'
import { fuseRerank } from '../rank/rerankFusion.js'
import { resolveLengthCorrection, resolveRerankFusion } from '../rank/rerankOptions.js'
import { deserializeError, deviceLostError, WinnowError } from '../errors.js'
import type {
  CollectionOptions,
  DeviceInfo,
  EmbedderInfo,
  RerankerInfo,
  RerankInput,
  RerankOptions,
  RerankedPassage,
  RerankResult,
  RemoteSearchOptions,
  SearchResults,
  StorageInfo,
  WinnowOptions,
} from '../types.js'
import { searchWithRetriever } from './remote.js'
import { CollectionHandle, type Collection, type CollectionOwner } from './collectionHandle.js'
import type { Envelope, InitResult, RawRerank, WorkerApi, WorkerConfig } from '../worker/protocol.js'
import { abortError, retryAfterDeviceLoss, WorkerConnection, type ConnectionEvents, type SpawnWorker } from './connection.js'
import { spawnDefaultWorker, spawnWorkerFrom } from './spawn.js'
import { workerRefusalError } from './workerRefusals.js'
import { checkCallOptions, checkOptions, checkRerankArgs } from './validate.js'

/** The default reranker: ms-marco-MiniLM-L-6-v2 in transformers.js layout. */
export const DEFAULT_RERANKER = 'Xenova/ms-marco-MiniLM-L-6-v2'

/** A running winnow instance: one worker with its models. */
export interface Winnow {
  /** The device chosen at load, and why. */
  readonly device: DeviceInfo
  /** The reranker loaded (model, dtype, effective max length, head); null with `reranker: false`. */
  readonly reranker: RerankerInfo | null
  /** The embedder loaded, or null when none was configured. */
  readonly embedder: EmbedderInfo | null
  /**
   * Scores each passage against the query with the cross-encoder and returns them best first.
   * Always an array (empty input → `[]`); ties keep input order. Passages given as `{ id, text }`
   * come back with their `id` (typed `string`); strings come back without one.
   *
   * @example
   * const ranked = await winnow.rerank('memory leaks', docs.map((d) => ({ id: d.path, text: d.body })), { topK: 5 })
   * ranked[0].id // the best document's path, typed string
   */
  rerank<T extends RerankInput>(query: string, documents: readonly T[], options?: RerankOptions): Promise<RerankResult<T>[]>
  /**
   * Opens (creating if needed) a persistent collection in IndexedDB. Omitted options keep what
   * the collection was built with.
   */
  collection(name: string, options?: CollectionOptions): Promise<Collection>
  /**
   * Searches without a collection: a remote retriever (your server's engine) gathers candidates,
   * which carry their own text, and the worker reranks, diversifies and cuts snippets as in
   * `collection.search()`. See the remote first stage guide for what leaves the device.
   *
   * @example
   * const hits = await winnow.search('what causes memory leaks?', { retriever: httpRetriever({ url: '/api/first-stage' }), k: 5 })
   */
  search(query: string, options: RemoteSearchOptions): Promise<SearchResults>
  /** Deletes a collection and everything in it (other tabs let go of it first). */
  deleteCollection(name: string): Promise<void>
  /** Names of the collections on this origin. */
  listCollections(): Promise<string[]>
  /**
   * The origin's storage usage and quota, and whether it is persistent. `persist: true` asks the
   * browser to keep the data under storage pressure (it may prompt or silently refuse).
   */
  storage(options?: { persist?: boolean }): Promise<StorageInfo>
  /** Frees the models and stops the worker; later calls reject with DISPOSED. */
  dispose(): Promise<void>
}

/**
 * Starts winnow's worker, chooses the device and loads the reranker. Resolves once the model can
 * run; rejects with MODEL_LOAD_FAILED, UNSUPPORTED_DTYPE, WEBGPU_UNAVAILABLE, INVALID_INPUT,
 * ABORTED, WORKER_UNRESPONSIVE or CSP_BLOCKED (a Content-Security-Policy or Trusted Types refused
 * the worker or a file it needs; see docs/guides/security-headers.md) (and may simply be called
 * again after a failure).
 *
 * @example
 * const winnow = await createWinnow({
 *   reranker: { model: 'Xenova/ms-marco-MiniLM-L-6-v2', dtype: 'q8' },
 *   modelBaseUrl: '/models/',
 *   onProgress: (e) => (bar.value = e.overall),
 * })
 * const ranked = await winnow.rerank('what causes memory leaks?', passages, { topK: 5 })
 */
export async function createWinnow(options: WinnowOptions = {}): Promise<Winnow> {
  checkOptions(options)
  const spawn: SpawnWorker = options.workerUrl
    ? (name) => spawnWorkerFrom(options.workerUrl!, name)
    : spawnDefaultWorker
  // The connection reports a lost WebGPU device to the client, which exists only just below.
  const events: ConnectionEvents = {}
  const client = new WinnowClient(new WorkerConnection(spawn, events, { hangTimeoutMs: options.hangTimeoutMs }), toWorkerConfig(options), options)
  events.onDeviceLost = (loss) => client.deviceLost(loss)
  try {
    await client.start(options.signal)
  } catch (error) {
    await client.dispose()
    // A worker the page's Content-Security-Policy refused fails like a crash: say which directive.
    throw (await workerRefusalError(error)) ?? error
  }
  return client
}

class WinnowClient implements Winnow, CollectionOwner {
  private info: InitResult | null = null
  private starting: Promise<Remote<WorkerApi>> | null = null
  private startedGeneration = -1
  private callIds = 0
  private disposed = false
  /** Why the instance left WebGPU for WASM, once it did. */
  private deviceLoss: { reason: string; message: string } | null = null

  constructor(
    readonly connection: WorkerConnection,
    private config: WorkerConfig,
    private readonly options: WinnowOptions,
  ) {}

  get device(): DeviceInfo {
    return this.info!.device
  }

  get reranker(): RerankerInfo | null {
    return this.info!.reranker
  }

  get embedder(): EmbedderInfo | null {
    return this.info!.embedder
  }

  ready(signal?: AbortSignal): Promise<Remote<WorkerApi>> {
    return this.start(signal)
  }

  nextCallId(): number {
    return ++this.callIds
  }

  async collection(name: string, options: CollectionOptions = {}): Promise<Collection> {
    this.assertLive()
    return CollectionHandle.open(this, name, options)
  }

  hasReranker(): boolean {
    return this.info?.reranker != null
  }

  async search(query: string, options: RemoteSearchOptions): Promise<SearchResults> {
    this.assertLive()
    const checked = checkCallOptions(options, 'search', 'onFirstStage')
    if (checked.retriever === undefined) throw new WinnowError('INVALID_INPUT', 'winnow.search() needs options.retriever (a function or httpRetriever()); to search a collection, use collection.search()')
    return searchWithRetriever(
      {
        connection: this.connection,
        nextCallId: () => this.nextCallId(),
        ready: async (signal) => void (await this.start(signal)),
        hasReranker: () => this.hasReranker(),
        ref: () => null,
      },
      query,
      checked,
    )
  }

  async deleteCollection(name: string): Promise<void> {
    this.assertLive()
    await this.start()
    unwrap(await this.connection.call((api) => api.deleteCollection(name) as Promise<Envelope<void>>))
  }

  async listCollections(): Promise<string[]> {
    this.assertLive()
    await this.start()
    return unwrap(await this.connection.call((api) => api.listCollections() as Promise<Envelope<string[]>>))
  }

  async storage(options: { persist?: boolean } = {}): Promise<StorageInfo> {
    this.assertLive()
    const manager = globalThis.navigator?.storage
    if (!manager?.estimate) throw new WinnowError('STORAGE_UNAVAILABLE', 'navigator.storage is not available here (an insecure context?)')
    // persist() exists only on the page (not in workers), which is why this runs here.
    let persisted = (await manager.persisted?.()) ?? false
    if (options.persist && !persisted && manager.persist) persisted = await manager.persist()
    const { usage = 0, quota = 0 } = await manager.estimate()
    return { usage, quota, persisted }
  }

  private assertLive(): void {
    if (this.disposed) throw new WinnowError('DISPOSED', 'this winnow instance was disposed; call createWinnow() again')
  }

  async start(signal?: AbortSignal): Promise<Remote<WorkerApi>> {
    if (this.disposed) throw new WinnowError('DISPOSED', 'this winnow instance was disposed; call createWinnow() again')
    // One start per worker: concurrent callers share it; a new worker (after a crash) starts anew.
    if (!this.starting || this.startedGeneration !== this.connection.workerGeneration || !this.connection.alive) {
      const onProgress = this.options.onProgress
      const attempt = this.connection
        .call((api) => api.init(this.config, onProgress ? proxy(onProgress) : undefined) as Promise<Envelope<InitResult>>, { load: true })
        .then(unwrap)
        .then((info) => {
          const loss = this.deviceLoss
          this.info = loss ? { ...info, device: { ...info.device, reason: `the WebGPU device was lost (${loss.reason}); running on WASM` } } : info
          return this.connection.api()
        })
      this.starting = attempt
      this.startedGeneration = this.connection.workerGeneration
      attempt.catch(() => {
        // A failed load is retried by the next call, on a fresh worker.
        if (this.starting === attempt) this.starting = null
        this.connection.restart(new WinnowError('MODEL_LOAD_FAILED', 'restarting after a failed load'))
      })
    }
    const starting = this.starting
    if (!signal) return starting
    if (signal.aborted) throw abortError(signal)
    // Aborting a load stops the worker: loads cannot be interrupted any other way.
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        reject(abortError(signal))
        this.connection.restart(abortError(signal))
      }
      signal.addEventListener('abort', onAbort, { once: true })
      starting.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  /**
   * The worker's WebGPU device is gone, and with it every model: reject what is pending with
   * DEVICE_LOST, and load the models again on WASM in a new worker now (so `device` and
   * `onDeviceChange` tell the page at once, and the next call finds them ready).
   */
  deviceLost(loss: { reason: string; message: string }): void {
    if (this.disposed || this.deviceLoss) return
    this.deviceLoss = loss
    this.config = { ...this.config, device: 'wasm' }
    this.connection.restart(deviceLostError(loss))
    this.start().then(
      () => {
        try {
          this.options.onDeviceChange?.(this.device)
        } catch {
          // the page's callback failing must not fail the switch
        }
      },
      () => {
        // The next call retries the load and reports its error.
      },
    )
  }

  async rerank<T extends RerankInput>(query: string, documents: readonly T[], rawOptions?: RerankOptions): Promise<RerankResult<T>[]> {
    const options = checkCallOptions(rawOptions, 'rerank') as RerankOptions
    const { texts, ids } = checkRerankArgs(query, documents, options.topK)
    const lengthCorrection = resolveLengthCorrection(options.lengthCorrection, 'rerank() options.lengthCorrection')
    const fusion = resolveRerankFusion(options.rerankFusion, 'rerank() options.rerankFusion', false)
    const { signal } = options
    if (this.disposed) throw new WinnowError('DISPOSED', 'this winnow instance was disposed; call createWinnow() again')
    if (signal?.aborted) throw abortError(signal)
    if (this.info && !this.info.reranker) throw new WinnowError('INVALID_INPUT', 'this instance was created with reranker: false; create one with a reranker to rerank')
    if (texts.length === 0 || options.topK === 0) return []
    // Idempotent: a lost WebGPU device moves the instance to WASM, and the rerank runs again there.
    const raw = await retryAfterDeviceLoss(signal, async () => {
      await this.start(signal)
      const callId = ++this.callIds
      return unwrap(
        await this.connection.call((api) => api.rerank(callId, query, texts) as Promise<Envelope<RawRerank>>, {
          signal,
          onAbort: (api) => void api.cancel(callId),
        }),
      )
    })
    const adjusted = lengthCorrection === null ? null : lengthAdjustments(raw.logits, raw.documentTokens, lengthCorrection)
    const scores = Array.from(raw.logits, (logit, i) => sigmoid(logit - (adjusted?.adjustments[i] ?? 0)))
    // With fusion the order is the fused score's; equal fused scores keep the reranker's order.
    const fused = fusion === null ? null : fuseRerank(scores.map((rerankScore, i) => ({ rerankScore, firstRank: i + 1 })), fusion)
    const byReranker = rankByScore(scores)
    const order = fused === null ? byReranker : byReranker.map((index, r) => ({ index, r })).sort((a, b) => fused[b.index]! - fused[a.index]! || a.r - b.r).map((e) => e.index)
    return order.slice(0, options.topK ?? texts.length).map((index) => {
      const result: RerankedPassage & { id?: string } = {
        index,
        score: scores[index]!,
        logit: raw.logits[index]!,
        truncated: { query: raw.queryTruncated, document: raw.documentTruncated[index]! },
      }
      if (adjusted) result.lengthAdjustment = adjusted.adjustments[index]!
      if (fused) result.fusedScore = fused[index]!
      // checkRerankArgs gave an id exactly to the object inputs, which is what RerankResult<T> says.
      if (ids[index] !== undefined) result.id = ids[index]
      return result as RerankResult<T>
    })
  }

  async dispose(): Promise<void> {
    if (this.disposed) return
    this.disposed = true
    if (this.connection.alive) {
      const api = this.connection.api()
      // Free GPU/WASM memory politely, but never wait on a stuck worker for long.
      await Promise.race([api.dispose().catch(() => {}), new Promise((r) => setTimeout(r, 1000))])
    }
    this.connection.close(new WinnowError('DISPOSED', 'this winnow instance was disposed; call createWinnow() again'))
  }
}

function unwrap<T>(envelope: Envelope<T>): T {
  if (envelope.ok) return envelope.value
  throw deserializeError(envelope.error)
}

function toWorkerConfig(options: WinnowOptions): WorkerConfig {
  return {
    reranker:
      options.reranker === false
        ? null
        : {
            model: options.reranker?.model ?? DEFAULT_RERANKER,
            dtype: options.reranker?.dtype,
            maxLength: options.reranker?.maxLength,
            maxQueryLength: options.reranker?.maxQueryLength,
            batchTokens: options.reranker?.batchTokens,
          },
    embedder: options.embedder
      ? {
          model: options.embedder.model,
          dtype: options.embedder.dtype,
          maxLength: options.embedder.maxLength,
          batchTokens: options.embedder.batchTokens,
          pooling: options.embedder.pooling,
          queryPrefix: options.embedder.queryPrefix,
          documentPrefix: options.embedder.documentPrefix,
        }
      : null,
    device: options.device ?? 'auto',
    modelBaseUrl: options.modelBaseUrl === null ? null : absoluteBase(options.modelBaseUrl ?? '/models/'),
    wasmBaseUrl: absoluteBase(options.wasmBaseUrl ?? '/ort/'),
    allowRemoteModels: options.allowRemoteModels ?? false,
    remoteHost: options.remoteHost,
    threads: options.threads,
    cache: options.cache ?? true,
  }
}

/** Resolves a base URL against the page (the worker's own URL would differ) and ends it with '/'. */
function absoluteBase(url: string): string {
  const base = typeof document !== 'undefined' ? document.baseURI : globalThis.location?.href
  const absolute = new URL(url, base).href
  return absolute.endsWith('/') ? absolute : absolute + '/'
}
