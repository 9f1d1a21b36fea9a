/** Public types of winnow. Nothing here has runtime code. */

/** Where models run. `auto` prefers a real (non-fallback) WebGPU adapter, else WASM. */
export type DevicePreference = 'auto' | 'webgpu' | 'wasm'

/** Model weight formats, named as transformers.js names them. */
export type Dtype = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16'

/** A dtype, or one per device kind (used once the device is known). */
export type DtypeChoice = Dtype | { webgpu?: Dtype; wasm?: Dtype }

/** Options for the cross-encoder reranker. */
export interface RerankerOptions {
  /** Hub id or folder name under `modelBaseUrl`. Default `'Xenova/ms-marco-MiniLM-L-6-v2'`. */
  model?: string
  /** Weight format. Default `{ webgpu: 'q4', wasm: 'q8' }`: q8's integer ops would run on the CPU under WebGPU. */
  dtype?: DtypeChoice
  /** Maximum tokens per (query, passage) pair, capped by the model's own limit. Default 512. */
  maxLength?: number
  /** Longest query kept, in tokens; a longer query is cut and reported. Default: half of `maxLength`. */
  maxQueryLength?: number
  /** Padded tokens per batch (batch size × longest pair). Default 4096. */
  batchTokens?: number
}

/** Options of {@link createWinnow}. */
export interface WinnowOptions {
  /** The reranker to load. Default: ms-marco-MiniLM-L-6-v2 at the device's default dtype. */
  reranker?: RerankerOptions
  /** Default `'auto'`. */
  device?: DevicePreference
  /** Base URL holding `<model>/config.json`, tokenizer files and `onnx/*.onnx`. Default `'/models/'`. */
  modelBaseUrl?: string
  /** Let hub ids fall back to the Hugging Face hub when the local copy is missing. Default `false`. */
  allowRemoteModels?: boolean
  /** Remote host used when `allowRemoteModels` is true. Default `'https://huggingface.co/'`. */
  remoteHost?: string
  /** Base URL of the onnxruntime-web `.wasm`/`.mjs` files. Default `'ort/'` relative to the page. */
  wasmBaseUrl?: string
  /** WASM threads. Default: `navigator.hardwareConcurrency` capped at 4 when cross-origin isolated, else 1. */
  threads?: number
  /** Cache model and WASM files in the Cache API so later visits work offline. Default `true`. */
  cache?: boolean
  /** Called for every file byte count change and with an overall fraction. */
  onProgress?: (event: LoadProgress) => void
  /** Cancels loading. */
  signal?: AbortSignal
  /** Worker script URL (advanced: bundlers set this up from the package). */
  workerUrl?: string | URL
}

/** Load progress: one file's bytes, plus the fraction over all files seen so far. */
export interface LoadProgress {
  /** Which model the file belongs to. */
  model: string
  /** `'progress'` while bytes arrive, `'done'` when a file is complete, `'ready'` when the model can run. */
  status: 'progress' | 'done' | 'ready'
  /** File path inside the model folder, e.g. `onnx/model_quantized.onnx`; empty on `'ready'`. */
  file: string
  loaded: number
  total: number
  /** Overall fraction 0..1 over all files of this load. */
  overall: number
}

/** The device actually chosen, and why. */
export interface DeviceInfo {
  kind: 'webgpu' | 'wasm'
  /** Human-readable reason for the choice (e.g. "the only WebGPU adapter is a fallback (software) adapter"). */
  reason: string
  /** WASM threads in use (1 when not cross-origin isolated). */
  threads: number
  /** The WebGPU adapter, when one was found. */
  adapter?: { vendor: string; architecture: string; description: string; isFallbackAdapter: boolean; shaderF16: boolean }
}

/** What was loaded for the reranker. */
export interface RerankerInfo {
  model: string
  dtype: Dtype
  /** Effective max tokens per pair. */
  maxLength: number
  /** 1: sigmoid of the logit; 2: softmax of the positive class. */
  numLabels: number
}

/** A passage to rerank: a string, or an object with an id that the result carries back. */
export type RerankInput = string | { id: string; text: string }

/** Options of `rerank()`. */
export interface RerankOptions {
  /** Keep the best `topK`. Default: all. */
  topK?: number
  signal?: AbortSignal
}

/** One reranked passage. */
export interface RerankResult {
  /** Position in the input array. */
  index: number
  /** The input's id, when objects were passed. */
  id?: string
  /** Relevance in 0..1 (sigmoid of `logit`); comparable within one query, not across queries. */
  score: number
  /** The raw score: the model's logit (one-logit heads) or positive minus negative logit (two-logit heads). */
  logit: number
  /** What had to be cut to fit `maxLength`. */
  truncated: { query: boolean; document: boolean }
}
