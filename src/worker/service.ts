import { serializeError, WinnowError } from '../errors.js'
import { chooseDevice, type GpuLike } from '../models/device.js'
import { DTYPE_FILES, normalizeDtypeChoice } from '../models/dtype.js'
import { loadCrossEncoder, type LoadedCrossEncoder } from '../models/loadCrossEncoder.js'
import { configureRuntime, useWebGpuAdapter } from '../models/runtime.js'
import type { Dtype, LoadProgress } from '../types.js'
import type { Envelope, InitResult, RawRerank, WorkerApi, WorkerConfig } from './protocol.js'
import { SerialQueue } from './queue.js'

/** Most threads worth asking for: beyond 4, small BERT batches gain little and starve the page. */
const MAX_DEFAULT_THREADS = 4

/**
 * The worker's service: loads the reranker once (a failed load is retried by the next init) and
 * runs rerank calls one at a time, cancellable by call id.
 *
 * @example
 * Comlink.expose(new WorkerService())
 */
export class WorkerService implements WorkerApi {
  private loading: Promise<{ loaded: LoadedCrossEncoder; info: InitResult }> | null = null
  private readonly queue = new SerialQueue()

  init(config: WorkerConfig, onProgress?: (event: LoadProgress) => void): Promise<Envelope<InitResult>> {
    return envelope(async () => {
      if (!this.loading) {
        this.loading = this.load(config, onProgress)
        // A failure must not poison the cached promise: the next init tries again.
        this.loading.catch(() => {
          this.loading = null
        })
      }
      return (await this.loading).info
    })
  }

  rerank(callId: number, query: string, documents: string[]): Promise<Envelope<RawRerank>> {
    return envelope(async () => {
      if (!this.loading) throw new WinnowError('INTERNAL', 'rerank before init')
      const { loaded } = await this.loading
      return this.queue.run(callId, async (checkpoint) => {
        const scores = await loaded.encoder.score(query, documents, checkpoint)
        return { logits: scores.logits, queryTruncated: scores.queryTruncated, documentTruncated: scores.documentTruncated }
      })
    })
  }

  cancel(callId: number): void {
    this.queue.cancel(callId)
  }

  async dispose(): Promise<void> {
    const loading = this.loading
    this.loading = null
    if (loading) await loading.then((l) => l.loaded.dispose()).catch(() => {})
  }

  private async load(config: WorkerConfig, onProgress?: (event: LoadProgress) => void) {
    const scope = globalThis as unknown as { crossOriginIsolated?: boolean; navigator?: Navigator & { gpu?: GpuLike } }
    const isolated = scope.crossOriginIsolated === true
    const cores = scope.navigator?.hardwareConcurrency || 1
    const threads = isolated ? Math.max(1, Math.min(16, Math.floor(config.threads ?? Math.min(MAX_DEFAULT_THREADS, cores)))) : 1

    const choice = await chooseDevice(config.device, normalizeDtypeChoice(config.reranker.dtype), scope.navigator?.gpu)
    const recorder = configureRuntime({
      modelBaseUrl: config.modelBaseUrl,
      wasmBaseUrl: config.wasmBaseUrl,
      allowRemoteModels: config.allowRemoteModels,
      remoteHost: config.remoteHost,
      threads,
      cache: config.cache,
      device: choice.info.kind,
    })
    if (choice.info.kind === 'webgpu') useWebGpuAdapter(choice.adapter)
    const loaded = await loadCrossEncoder({
      model: config.reranker.model,
      dtype: choice.dtype,
      device: choice.info.kind,
      maxLength: config.reranker.maxLength,
      maxQueryLength: config.reranker.maxQueryLength,
      batchTokens: config.reranker.batchTokens,
      recorder,
      probeDtypes: (model) => probeDtypes(config.modelBaseUrl, model),
      onProgress: onProgress ? (e) => void Promise.resolve(onProgress(e)).catch(() => {}) : undefined,
    })
    const threadNote = !isolated && (config.threads ?? 1) > 1 ? ' (1 WASM thread: the page is not cross-origin isolated)' : ''
    const info: InitResult = {
      device: { ...choice.info, reason: choice.info.reason + threadNote, threads },
      reranker: {
        model: config.reranker.model,
        dtype: choice.dtype,
        maxLength: loaded.encoder.settings.maxLength,
        numLabels: loaded.numLabels,
      },
    }
    return { loaded, info }
  }
}

/** Which dtype files a self-hosted model folder serves (HEAD requests; HTML answers do not count). */
async function probeDtypes(baseUrl: string, model: string): Promise<Dtype[]> {
  const found: Dtype[] = []
  await Promise.all(
    (Object.keys(DTYPE_FILES) as Dtype[]).map(async (dtype) => {
      try {
        const response = await fetch(`${baseUrl}${model}/onnx/${DTYPE_FILES[dtype]}`, { method: 'HEAD' })
        if (response.ok && !/text\/html/i.test(response.headers.get('content-type') ?? '')) found.push(dtype)
      } catch {
        // unreachable: not available
      }
    }),
  )
  return (Object.keys(DTYPE_FILES) as Dtype[]).filter((d) => found.includes(d))
}

async function envelope<T>(work: () => Promise<T>): Promise<Envelope<T>> {
  try {
    return { ok: true, value: await work() }
  } catch (error) {
    return { ok: false, error: serializeError(error) }
  }
}
