/**
 * Model composition in the browser worker: how many threads, which device and dtype, the
 * onnxruntime set-up, then the reranker and embedder with the dtype fallback — and, for the
 * rerankers a search loads later, the same device, recorder and dtype rule.
 */
import { WinnowError } from '../errors.js'
import type { DeviceInfo, DevicePreference, Dtype, DtypeChoice, EmbedderInfo, EmbedderOptions, LoadProgress, RerankerInfo, RerankerOptions } from '../types.js'
import { chooseDevice, type GpuLike } from './device.js'
import { DTYPE_FILES, isDefaultDtype, loadWithDtypeFallback, needsF16, normalizeDtypeChoice } from './dtype.js'
import { loadCrossEncoder, type LoadedCrossEncoder } from './loadCrossEncoder.js'
import { loadEmbedder, type LoadedEmbedder } from './loadEmbedder.js'
import { configureRuntime, loadOrtWasm, readOptionalModelJson, releaseOrtBinary, useWebGpuAdapter } from './runtime.js'

/** Everything the worker needs to load; resolved to absolute URLs on the main thread. */
export interface ModelsConfig {
  /** null: no reranker (first-stage search only). */
  reranker: (RerankerOptions & { model: string }) | null
  /** The bi-encoder for vector search, if any. */
  embedder: EmbedderOptions | null
  device: DevicePreference
  /** null: the hub only. */
  modelBaseUrl: string | null
  wasmBaseUrl: string
  allowRemoteModels: boolean
  remoteHost?: string
  threads?: number
  cache: boolean
}

/** What was loaded, as init reports it. */
export interface ModelsInfo {
  device: DeviceInfo
  reranker: RerankerInfo | null
  embedder: EmbedderInfo | null
}

/** The models {@link loadModels} composed, and how to load more rerankers the same way. */
export interface ComposedModels {
  reranker: LoadedCrossEncoder | null
  embedder: LoadedEmbedder | null
  info: ModelsInfo
  /** The device the models run on. */
  device: 'webgpu' | 'wasm'
  /** Loads another reranker on this device (a search's `rerank: { model }` or cascade stage). */
  loadReranker(model: string, dtype: Dtype): Promise<LoadedCrossEncoder>
  /** The dtype this device runs a stage's dtype choice at; UNSUPPORTED_DTYPE for an fp16 one the adapter cannot run. */
  rerankerDtype(choice: unknown): Dtype
}

/** Most threads worth asking for: beyond 4, small BERT batches gain little and starve the page. */
const MAX_DEFAULT_THREADS = 4

/**
 * Chooses threads, device and dtypes, sets up onnxruntime, and loads the reranker and embedder
 * (each with the dtype fallback when its dtype was left to winnow). A failed load frees what was
 * loaded before it.
 *
 * @example
 * const models = await loadModels({ reranker: { model: 'Xenova/ms-marco-MiniLM-L-6-v2' }, embedder: null, device: 'auto', modelBaseUrl: null, wasmBaseUrl, allowRemoteModels: true, cache: true })
 * models.info.device.kind // 'webgpu' | 'wasm'
 */
export async function loadModels(config: ModelsConfig, onProgress?: (event: LoadProgress) => void): Promise<ComposedModels> {
  const scope = globalThis as unknown as { crossOriginIsolated?: boolean; navigator?: Navigator & { gpu?: GpuLike } }
  const isolated = scope.crossOriginIsolated === true
  const cores = scope.navigator?.hardwareConcurrency || 1
  const threads = isolated ? Math.max(1, Math.min(16, Math.floor(config.threads ?? Math.min(MAX_DEFAULT_THREADS, cores)))) : 1

  const rerankerDtypes = config.reranker ? normalizeDtypeChoice(config.reranker.dtype) : null
  const embedderDtypes = config.embedder ? normalizeDtypeChoice(config.embedder.dtype) : null
  const choice = await chooseDevice(config.device, rerankerDtypes ?? embedderDtypes ?? normalizeDtypeChoice(undefined), scope.navigator?.gpu)
  const kind = choice.info.kind
  const shaderF16 = Boolean(choice.info.adapter?.shaderF16)
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
  // onnxruntime's glue from its own URL and its binary from the Cache API: no blob: (see
  // loadOrtWasm). Loaded when the first model is about to load, not at start-up: a worker that
  // runs no model (vectors supplied, no reranker) would hold the 13.6 MB binary for nothing. Once
  // a model has loaded, onnxruntime has compiled the binary and its bytes are let go.
  let ort: Promise<void> | null = null
  const ortReady = async (): Promise<void> => {
    const ready = (ort ??= loadOrtWasm({ wasmBaseUrl: config.wasmBaseUrl, device: kind, threads, cache: config.cache }, recorder.fetch))
    await ready.catch((error: unknown) => {
      if (ort === ready) ort = null // a failure is not kept: the next load tries again
      throw error
    })
  }
  if (config.reranker || config.embedder) await ortReady()
  const report = onProgress ? (e: LoadProgress) => void Promise.resolve(onProgress(e)).catch(() => {}) : undefined
  const base = config.modelBaseUrl
  const probe = (model: string) => (base === null ? Promise.resolve([]) : probeDtypes(base, model))
  let reranker: LoadedCrossEncoder | null = null
  let embedder: LoadedEmbedder | null = null
  // The dtypes loaded: the device's default unless its file is missing (see loadWithDtypeFallback).
  let rerankerDtype = choice.dtype
  let embedderDtype = embedderDtypes?.[kind] ?? choice.dtype
  try {
    if (config.reranker) {
      const options = config.reranker
      const loaded = await loadWithDtypeFallback(
        (dtype) =>
          loadCrossEncoder({
            model: options.model,
            dtype,
            device: kind,
            maxLength: options.maxLength,
            maxQueryLength: options.maxQueryLength,
            batchTokens: options.batchTokens,
            recorder,
            probeDtypes: probe,
            onProgress: report,
          }),
        choice.dtype,
        { device: kind, pinned: !isDefaultDtype(options.dtype, kind), shaderF16 },
      )
      reranker = loaded.value
      rerankerDtype = loaded.dtype
    }
    if (config.embedder) {
      const dtype = requireShaderF16('embedder', embedderDtypes![kind], kind, shaderF16)
      const options = config.embedder
      const loaded = await loadWithDtypeFallback(
        (dtype) =>
          loadEmbedder({
            model: options.model,
            dtype,
            device: kind,
            maxLength: options.maxLength,
            batchTokens: options.batchTokens,
            pooling: options.pooling,
            queryPrefix: options.queryPrefix,
            documentPrefix: options.documentPrefix,
            recorder,
            probeDtypes: probe,
            readModelJson: (model, path) => readOptionalModelJson(config, model, path),
            onProgress: report,
          }),
        dtype,
        { device: kind, pinned: !isDefaultDtype(options.dtype, kind), shaderF16 },
      )
      embedder = loaded.value
      embedderDtype = loaded.dtype
    }
  } catch (error) {
    await reranker?.dispose().catch(() => {})
    throw error
  }
  if (reranker || embedder) releaseOrtBinary()
  const threadNote = !isolated && (config.threads ?? 1) > 1 ? ' (1 WASM thread: the page is not cross-origin isolated)' : ''
  const info: ModelsInfo = {
    device: { ...choice.info, reason: choice.info.reason + threadNote, threads },
    reranker:
      reranker && config.reranker
        ? { model: config.reranker.model, dtype: rerankerDtype, maxLength: reranker.encoder.settings.maxLength, numLabels: reranker.numLabels }
        : null,
    embedder:
      embedder && config.embedder
        ? {
            model: config.embedder.model,
            dtype: embedderDtype,
            maxLength: embedder.embedder.settings.maxLength,
            dims: embedder.embedder.settings.dims,
            pooling: embedder.embedder.settings.pooling,
            queryPrefix: embedder.conventions.queryPrefix,
            documentPrefix: embedder.conventions.documentPrefix,
          }
        : null,
  }
  return {
    reranker,
    embedder,
    info,
    device: kind,
    loadReranker: async (model, dtype) => {
      await ortReady()
      const loaded = await loadCrossEncoder({ model, dtype, device: kind, recorder, probeDtypes: probe })
      releaseOrtBinary()
      return loaded
    },
    rerankerDtype: (given) => requireShaderF16('reranker', normalizeDtypeChoice(given as DtypeChoice | undefined)[kind], kind, shaderF16),
  }
}

/**
 * `dtype`, unless it needs fp16 shaders on a WebGPU adapter without `shader-f16`: then
 * UNSUPPORTED_DTYPE (on WASM, fp16 is the dtype fallback's and the runtime's to refuse).
 *
 * @example
 * requireShaderF16('embedder', 'q4f16', 'webgpu', false) // throws UNSUPPORTED_DTYPE
 */
export function requireShaderF16(role: 'reranker' | 'embedder', dtype: Dtype, device: 'webgpu' | 'wasm', shaderF16: boolean): Dtype {
  if (device === 'webgpu' && needsF16(dtype) && !shaderF16) {
    throw new WinnowError('UNSUPPORTED_DTYPE', `${role} dtype ${dtype} needs the WebGPU feature shader-f16, which this adapter lacks; use q4 or fp32`, { dtype, device: 'webgpu' })
  }
  return dtype
}

/** Which dtype files a self-hosted model folder serves (HEAD requests; HTML answers do not count). */
export async function probeDtypes(baseUrl: string, model: string): Promise<Dtype[]> {
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
