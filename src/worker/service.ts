import { deviceLostError, serializeError, WinnowError } from '../errors.js'
import { loadModels, type ComposedModels } from '../models/compose.js'
import { isDeviceLostError } from '../models/device.js'
import { embedderPort } from '../models/embedderPort.js'
import { watchWebGpuDevice, type DeviceLossInfo } from '../models/runtime.js'
import { SerialQueue } from '../models/queue.js'
import type { Checkpoint } from '../core/checkpoint.js'
import type { AddProgress, AddResult, CollectionInfo, CollectionOptions, LoadProgress, SearchHit, SnapshotOutcome, SnapshotProgress, StoredDocument } from '../types.js'
import type { PipelineResult, RemoteFirstStage, SearchExtras } from '../search/types.js'
import { searchCollection } from '../search/searchCollection.js'
import { planRemoteSearch, searchRemote } from '../search/remoteSearch.js'
import { collectionInfo, CollectionRegistry, type RegistryEnvironment } from './registry.js'
import type { CollectionRef, Envelope, InitResult, OpenedCollection, RawRerank, WorkerApi, WorkerConfig, WorkerPulse, WorkerSearchOptions } from './protocol.js'
import { RerankerPool } from './rerankers.js'
import { releaseProxy } from 'comlink'

/** How long add() waits for the page to handle its last progress event before it resolves anyway. */
const PROGRESS_FLUSH_MS = 2000

/**
 * How long a failed model run waits for the device's `lost` promise: a loss makes runs fail in
 * many ways (failed mappings, wasm aborts), and `lost` may settle just after the failure.
 */
const DEVICE_LOSS_GRACE_MS = 500

/** What the worker tells its host outside of call results. */
export interface WorkerEvents {
  /** The WebGPU device the models run on was lost; the host should restart this worker on WASM. */
  onDeviceLost?: (loss: DeviceLossInfo) => void
}

/** What the service takes from outside; tests replace them (the browser worker uses the defaults). */
export interface WorkerDependencies {
  /** Composes the models at init (default: {@link loadModels}). */
  loadModels?: (config: WorkerConfig, onProgress?: (event: LoadProgress) => void) => Promise<ComposedModels>
  /** Where collections and snapshots are stored, and how manifests are fetched. */
  storage?: Partial<RegistryEnvironment>
}

/**
 * The worker's RPC surface: loads the models once (a failed load is retried by the next init;
 * composition is models/compose.ts), runs rerank calls one at a time, cancellable by call id, and
 * runs each collection call on the registry's open collection. When the WebGPU device is lost it
 * tells its host (`events.onDeviceLost`) and fails the model calls with DEVICE_LOST from then on:
 * models cannot move devices in place (open collections hold their embedder), so the host starts a
 * new worker on WASM.
 *
 * @example
 * Comlink.expose(new WorkerService({ onDeviceLost: (loss) => postMessage({ type: DEVICE_LOST_MESSAGE, loss }) }))
 */
export class WorkerService implements WorkerApi {
  private loading: Promise<ComposedModels> | null = null
  /** Set once the WebGPU device is lost (or a run says so); null while it works or on WASM. */
  private deviceLoss: DeviceLossInfo | null = null
  private watchingDevice = false
  private disposing = false
  private signalLoss: () => void = () => {}
  private readonly lossSignal = new Promise<void>((resolve) => (this.signalLoss = resolve))
  private readonly queue = new SerialQueue()
  private rerankers: RerankerPool | null = null
  /** Model loads running (init's, and rerankers a search loads): the heartbeat allows them longer. */
  private loadsInFlight = 0
  private readonly registry: CollectionRegistry
  private readonly loadModels: NonNullable<WorkerDependencies['loadModels']>

  constructor(
    private readonly events: WorkerEvents = {},
    deps: WorkerDependencies = {},
  ) {
    this.loadModels = deps.loadModels ?? loadModels
    this.registry = new CollectionRegistry(this.queue, () => this.models(), deps.storage)
  }

  init(config: WorkerConfig, onProgress?: (event: LoadProgress) => void): Promise<Envelope<InitResult>> {
    return envelope(async () => {
      if (!this.loading) {
        this.loading = this.counted(this.load(config, onProgress))
        // A failure must not poison the cached promise: the next init tries again.
        this.loading.catch(() => {
          this.loading = null
        })
      }
      return (await this.loading).info
    })
  }

  rerank(callId: number, query: string, documents: string[]): Promise<Envelope<RawRerank>> {
    return envelope(() => this.onDevice(async () => {
      const { reranker } = await this.models()
      if (!reranker) throw new WinnowError('INVALID_INPUT', 'this instance was created with reranker: false; create one with a reranker to rerank')
      const pool = await this.rerankerPool()
      const entry = await pool.get(null)
      return this.queue.run(callId, async (checkpoint) => {
        const started = performance.now()
        const scores = await reranker.encoder.score(query, documents, checkpoint)
        pool.record(entry, query, documents, performance.now() - started)
        return { logits: scores.logits, queryTruncated: scores.queryTruncated, documentTruncated: scores.documentTruncated, documentTokens: scores.documentTokens }
      })
    }))
  }

  ping(): WorkerPulse {
    const pulse = this.queue.pulse()
    return { ...pulse, loading: pulse.loading || this.loadsInFlight > 0 }
  }

  cancel(callId: number): void {
    this.queue.cancel(callId)
    this.registry.cancel(callId)
  }

  async dispose(): Promise<void> {
    this.disposing = true // freeing the sessions may destroy the device: that is no loss to report
    const loading = this.loading
    this.loading = null
    this.registry.closeAll()
    const pool = this.rerankers
    this.rerankers = null
    await pool?.dispose()
    if (loading) {
      await loading
        .then(async (l) => {
          await l.reranker?.dispose()
          await l.embedder?.dispose()
        })
        .catch(() => {})
    }
  }

  openCollection(name: string, options: CollectionOptions, onSnapshotProgress?: (p: SnapshotProgress) => void, incarnation?: string): Promise<Envelope<OpenedCollection>> {
    const report = onSnapshotProgress ? (p: SnapshotProgress) => void Promise.resolve(onSnapshotProgress(p)).catch(() => {}) : undefined
    return envelope(() => this.registry.open(name, options, report, incarnation))
  }

  collectionInfo(collection: CollectionRef): Promise<Envelope<CollectionInfo>> {
    return envelope(() => this.registry.use(collection, 'read', async (engine, _checkpoint, entry) => collectionInfo(engine, entry)))
  }

  /** Checks a snapshot collection's manifest again and imports a changed version (resolves after the swap). */
  syncSnapshot(callId: number, collection: CollectionRef): Promise<Envelope<SnapshotOutcome>> {
    return envelope(() =>
      this.registry.use(
        collection,
        'read',
        (_engine, checkpoint, { name, mirror }) => {
          if (!mirror) throw new WinnowError('INVALID_INPUT', `collection '${name}' is not a snapshot collection; open it with { snapshot: url }`)
          return mirror.sync(checkpoint)
        },
        callId,
      ),
    )
  }

  add(callId: number, collection: CollectionRef, documents: unknown, onProgress?: (p: AddProgress) => void): Promise<Envelope<AddResult>> {
    // Progress crosses to the page on the callback's own port, so it could land after the result:
    // keep the last call and wait for the page to have handled it (a port delivers in order, so
    // every earlier one has run too). onProgress is never called after add() settles.
    let handled: Promise<unknown> = Promise.resolve()
    const report = onProgress ? (p: AddProgress) => void (handled = Promise.resolve(onProgress(p)).catch(() => {})) : undefined
    return envelope(async () => {
      try {
        return await this.onDevice(() => this.registry.use(collection, 'write', (engine, checkpoint) => engine.add(documents, checkpoint, report), callId))
      } finally {
        // Bounded: a callback that returns a promise that never settles must not hang the add.
        await Promise.race([handled, new Promise((resolve) => setTimeout(resolve, PROGRESS_FLUSH_MS))])
      }
    })
  }

  remove(collection: CollectionRef, ids: unknown): Promise<Envelope<number>> {
    return envelope(() => this.registry.use(collection, 'write', (engine) => engine.delete(ids)))
  }

  get(collection: CollectionRef, id: string): Promise<Envelope<StoredDocument | null>> {
    return envelope(() => this.registry.use(collection, 'read', (engine) => engine.get(id)))
  }

  count(collection: CollectionRef): Promise<Envelope<number>> {
    return envelope(() => this.registry.use(collection, 'read', (engine) => engine.count()))
  }

  clear(collection: CollectionRef): Promise<Envelope<void>> {
    return envelope(() => this.registry.use(collection, 'write', (engine) => engine.clear()))
  }

  search(
    callId: number,
    collection: CollectionRef,
    query: string,
    options: WorkerSearchOptions,
    onFirstStage?: (hits: SearchHit[]) => void,
  ): Promise<Envelope<PipelineResult>> {
    return envelope(async () => {
      try {
        const report = onFirstStage ? (hits: SearchHit[]) => void Promise.resolve(onFirstStage(hits)).catch(() => {}) : undefined
        return await this.onDevice(() =>
          this.registry.use(
            collection,
            'read',
            async (engine, checkpoint) => {
              const extras = await this.searchExtras(callId, checkpoint, report)
              checkSearchOptions(options)
              return searchCollection(engine, { ...(options ?? {}), query }, checkpoint, extras)
            },
            callId,
          ),
        )
      } finally {
        // The page's callback travels as a comlink proxy (a MessagePort): free it with the call.
        ;(onFirstStage as unknown as Record<symbol, (() => void) | undefined> | undefined)?.[releaseProxy]?.()
      }
    })
  }

  searchRemote(
    callId: number,
    collection: CollectionRef | null,
    query: string,
    options: WorkerSearchOptions,
    remote: RemoteFirstStage,
    onFirstStage?: (hits: SearchHit[]) => void,
  ): Promise<Envelope<PipelineResult>> {
    return envelope(async () => {
      try {
        const report = onFirstStage ? (hits: SearchHit[]) => void Promise.resolve(onFirstStage(hits)).catch(() => {}) : undefined
        return await this.onDevice(async () => {
          checkSearchOptions(options)
          if (remote === null || typeof remote !== 'object') throw new WinnowError('INVALID_INPUT', 'the remote first stage must be an object')
          if (collection === null) return this.registry.call(callId, async (checkpoint) => searchRemote({ ...(options ?? {}), query }, checkpoint, await this.searchExtras(callId, checkpoint, report, remote)))
          return this.registry.use(collection, 'read', async (engine, checkpoint) => searchCollection(engine, { ...(options ?? {}), query }, checkpoint, await this.searchExtras(callId, checkpoint, report, remote)), callId)
        })
      } finally {
        ;(onFirstStage as unknown as Record<symbol, (() => void) | undefined> | undefined)?.[releaseProxy]?.()
      }
    })
  }

  planRemoteSearch(collection: CollectionRef | null, options: WorkerSearchOptions, remote: Omit<RemoteFirstStage, 'candidates'>): Promise<Envelope<number>> {
    return envelope(async () => {
      const hasReranker = (await this.models()).reranker !== null
      const plan = async () => planRemoteSearch((options ?? {}) as Record<string, unknown>, remote ?? {}, { hasReranker, standalone: collection === null })
      return collection === null ? plan() : this.registry.use(collection, 'read', plan)
    })
  }

  /** The query's vector for a retriever sent only the vector: the collection's conventions, else the instance embedder's. */
  embedQuery(callId: number, collection: CollectionRef | null, query: string): Promise<Envelope<Float32Array>> {
    return envelope(() =>
      this.onDevice(() => {
        if (collection !== null) return this.registry.use(collection, 'read', (engine, checkpoint) => engine.embedQuery(query, checkpoint), callId)
        return this.registry.call(callId, async (checkpoint) => {
          if (typeof query !== 'string') throw new WinnowError('INVALID_INPUT', 'query must be a string')
          const models = await this.models()
          if (!models.embedder || !models.info.embedder) {
            throw new WinnowError('INVALID_INPUT', "the retriever is sent the query's vector, and this instance has no embedder to compute it; create it with an embedder, or pass options.vector")
          }
          const port = embedderPort(models.embedder, models.info.embedder.model, this.queue)
          return port.embed([models.embedder.conventions.queryPrefix + query], checkpoint)
        })
      }),
    )
  }

  deleteCollection(name: string): Promise<Envelope<void>> {
    return envelope(() => this.registry.destroy(name))
  }

  listCollections(): Promise<Envelope<string[]>> {
    return envelope(() => this.registry.list())
  }

  /**
   * Runs work that may use the models: once the WebGPU device is lost, a failure that is not a
   * typed one of its own becomes DEVICE_LOST. A run that fails while the device is watched reports
   * the loss when its message says the device is gone, or else waits a moment for `lost` to settle.
   */
  private async onDevice<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      if (error instanceof WinnowError && error.code !== 'INTERNAL') throw error
      if (!this.deviceLoss && this.watchingDevice) {
        if (isDeviceLostError(error)) this.deviceLost({ reason: 'unknown', message: error instanceof Error ? error.message : String(error) })
        else await Promise.race([this.lossSignal, new Promise((resolve) => setTimeout(resolve, DEVICE_LOSS_GRACE_MS))])
      }
      if (this.deviceLoss) throw deviceLostError(this.deviceLoss)
      throw error
    }
  }

  /** What a search runs with beside its collection: whether there is a reranker, and the pool's port for each stage. */
  private async searchExtras(callId: number, checkpoint: Checkpoint, onFirstStage?: (hits: SearchHit[]) => void, remote?: RemoteFirstStage): Promise<SearchExtras> {
    return {
      hasReranker: (await this.models()).reranker !== null,
      onFirstStage,
      remote,
      reranker: async (stage) => {
        const pool = await this.rerankerPool()
        return pool.port(await pool.get(stage.model, stage.dtype), callId, checkpoint)
      },
    }
  }

  /** Counts a load in flight for {@link ping} until it settles. */
  private counted<T>(load: Promise<T>): Promise<T> {
    this.loadsInFlight++
    const done = () => {
      this.loadsInFlight--
    }
    load.then(done, done)
    return load
  }

  private deviceLost(loss: DeviceLossInfo): void {
    if (this.disposing || this.deviceLoss) return
    this.deviceLoss = loss
    this.signalLoss()
    this.events.onDeviceLost?.(loss)
  }

  /** The rerankers (the instance's own, and those searches load lazily); after init only. */
  private async rerankerPool(): Promise<RerankerPool> {
    await this.models()
    return this.rerankers!
  }

  private models(): Promise<ComposedModels> {
    if (!this.loading) return Promise.reject(new WinnowError('INTERNAL', 'called before init'))
    return this.loading
  }

  /** Composes the models, then watches the WebGPU device and sets up the reranker pool. */
  private async load(config: WorkerConfig, onProgress?: (event: LoadProgress) => void): Promise<ComposedModels> {
    const models = await this.loadModels(config, onProgress)
    // onnxruntime-web created its device with the first WebGPU session: watch it from now on.
    if (models.device === 'webgpu') this.watchingDevice = watchWebGpuDevice((loss) => this.deviceLost(loss))
    const pool = new RerankerPool(this.queue, (model, dtype) => this.counted(models.loadReranker(model, dtype)), models.rerankerDtype)
    if (models.reranker && config.reranker) pool.setDefault(config.reranker.model, models.info.reranker!.dtype, models.reranker)
    this.rerankers = pool
    return models
  }
}

/** Search options cross as data: an object, or left out. */
function checkSearchOptions(options: unknown): void {
  if (options !== undefined && (options === null || typeof options !== 'object')) throw new WinnowError('INVALID_INPUT', 'search options must be an object')
}

async function envelope<T>(work: () => Promise<T>): Promise<Envelope<T>> {
  try {
    return { ok: true, value: await work() }
  } catch (error) {
    return { ok: false, error: serializeError(error) }
  }
}
