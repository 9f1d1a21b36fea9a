import { WinnowError } from '../errors.js'
import type { LoadedCrossEncoder } from '../models/loadCrossEncoder.js'
import type { LoadedEmbedder } from '../models/loadEmbedder.js'
import { embedderPort } from './embedderPort.js'
import { CollectionEngine, type EmbedderPort } from '../search/collection.js'
import { createCoordination, type Coordination } from '../store/coordination.js'
import { IdbBackend } from '../store/idb.js'
import type { StoreBackend } from '../store/types.js'
import type { AddProgress, AddResult, CollectionInfo, CollectionOptions, SearchHit } from '../types.js'
import type { WorkerSearchOptions } from './protocol.js'
import { yieldToEventLoop, type SerialQueue } from './queue.js'
import type { RerankerPool } from './rerankers.js'
import type { PipelineResult } from '../search/pipeline.js'


interface Models {
  reranker: LoadedCrossEncoder | null
  embedder: LoadedEmbedder | null
  info: { embedder: { model: string } | null }
}

/**
 * The worker's open collections. One engine per name (opened once, shared by every handle the
 * page holds); model runs go through the worker's one queue, embedding in small slices.
 *
 * @example
 * const host = new CollectionHost(queue, () => models)
 * await host.open('handbook', {})
 */
export class CollectionHost {
  private readonly engines = new Map<string, { options: string; engine: Promise<CollectionEngine> }>()
  private readonly cancelled = new Set<number>()
  private readonly coordination: Coordination = createCoordination()

  constructor(
    private readonly queue: SerialQueue,
    private readonly models: () => Promise<Models>,
    private readonly rerankers: () => Promise<RerankerPool>,
    private readonly backend: StoreBackend = new IdbBackend(),
  ) {}

  async open(name: string, options: CollectionOptions): Promise<CollectionInfo> {
    checkName(name)
    const key = JSON.stringify(options ?? {})
    const existing = this.engines.get(name)
    if (existing && existing.options !== key && key !== '{}') {
      throw new WinnowError('INVALID_INPUT', `collection '${name}' is already open with other options in this instance; open it once, or omit the options`)
    }
    if (!existing) {
      const engine = this.openEngine(name, options ?? {})
      const entry = { options: key, engine }
      this.engines.set(name, entry)
      // A failed open must not stick: the next call tries again.
      engine.catch(() => {
        if (this.engines.get(name) === entry) this.engines.delete(name)
      })
    }
    return (await this.engines.get(name)!.engine).info()
  }

  /** The open engine of `name`; reopened on demand (after a worker restart the page reopens it). */
  engine(name: string): Promise<CollectionEngine> {
    const entry = this.engines.get(name)
    if (entry) return entry.engine
    return this.open(name, {}).then(() => this.engines.get(name)!.engine)
  }

  async add(callId: number, name: string, documents: unknown, onProgress?: (p: AddProgress) => void): Promise<AddResult> {
    const engine = await this.engine(name)
    try {
      return await engine.add(documents, this.checkpointFor(callId), onProgress)
    } finally {
      this.cancelled.delete(callId)
    }
  }

  async search(callId: number, name: string, query: string, options: WorkerSearchOptions, onFirstStage?: (hits: SearchHit[]) => void): Promise<PipelineResult> {
    const engine = await this.engine(name)
    const models = await this.models()
    const checkpoint = this.checkpointFor(callId)
    try {
      if (options !== undefined && (options === null || typeof options !== 'object')) throw new WinnowError('INVALID_INPUT', 'search options must be an object')
      return await engine.search({ ...(options ?? {}), query }, checkpoint, {
        hasReranker: models.reranker !== null,
        onFirstStage,
        reranker: async (stage) => {
          const pool = await this.rerankers()
          return pool.port(await pool.get(stage.model, stage.dtype), callId, checkpoint)
        },
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
    await this.backend.destroy(name)
  }

  list(): Promise<string[]> {
    return this.backend.list()
  }

  cancel(callId: number): void {
    this.cancelled.add(callId)
  }

  closeAll(): void {
    for (const { engine } of this.engines.values()) void engine.then((e) => e.close()).catch(() => {})
    this.engines.clear()
    this.coordination.close()
  }

  private async openEngine(name: string, options: CollectionOptions): Promise<CollectionEngine> {
    const models = await this.models()
    const store = await this.backend.open(name)
    try {
      return await CollectionEngine.open(
        name,
        {
          store,
          coordination: this.coordination,
          embedder: models.embedder && models.info.embedder ? embedderPort(models.embedder, models.info.embedder.model, this.queue) : null,
          rerankerTokens: models.reranker ? rerankerPassageTokens(models.reranker) : undefined,
        },
        options,
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

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new WinnowError('INVALID_INPUT', `a collection name must be a non-empty string of at most 200 characters, got ${typeof name === 'string' ? `'${name}'` : typeof name}`)
  }
}
