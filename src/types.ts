/** Public types of winnow. Nothing here has runtime code. */

import type { DevicePreference, Dtype, DtypeChoice } from './types/device.js'
export type { DevicePreference, Dtype, DtypeChoice } from './types/device.js'
import type { VectorIndexInfo, VectorIndexOptions } from './types/vectorIndex.js'
export type { VectorIndexInfo, VectorIndexOptions } from './types/vectorIndex.js'
import type { SnapshotFetch, SnapshotProgress } from './types/snapshot.js'
export type { SnapshotFetch, SnapshotOutcome, SnapshotProgress } from './types/snapshot.js'

/** Options for the cross-encoder reranker. */
export interface RerankerOptions {
  /** Hub id or folder name under `modelBaseUrl`. Default `'Xenova/ms-marco-MiniLM-L-6-v2'`. */
  model?: string
  /** Weight format. Default `{ webgpu: 'q4', wasm: 'q8' }`: q8's integer ops would run on the CPU under WebGPU. */
  dtype?: DtypeChoice
  /** Maximum tokens per (query, passage) pair, capped by the model's own limit. Default 512. */
  maxLength?: number
  /**
   * Bound on the query's tokens, applied before a pair that does not fit is cut longest-first (like
   * sentence-transformers' CrossEncoder). Default: none, exactly the reference rule.
   */
  maxQueryLength?: number
  /** Padded tokens per batch (batch size × longest pair). Default 1024 on WASM, 4096 on WebGPU. */
  batchTokens?: number
}

/** Options of {@link createWinnow}. */
export interface WinnowOptions {
  /** The reranker to load. Default: ms-marco-MiniLM-L-6-v2 at the device's default dtype. `false`: none (search only). */
  reranker?: RerankerOptions | false
  /** The bi-encoder for vector and hybrid search, loaded in the same worker. Default: none (keyword search only). */
  embedder?: EmbedderOptions
  /** Default `'auto'`. */
  device?: DevicePreference
  /**
   * Base URL holding `<model>/config.json`, tokenizer files and `onnx/*.onnx`. Default `'/models/'`.
   * `null`: no self-hosted folder — load from `remoteHost` only (needs `allowRemoteModels: true`),
   * without first asking `/models/` for each file (which logs a 404 per file in the console).
   */
  modelBaseUrl?: string | null
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
  /**
   * Called when the instance changes device after it loaded: when the WebGPU device is lost (GPU
   * reset, driver update, memory pressure), the models are loaded again on WASM, and this is called
   * with the new {@link DeviceInfo} (also `winnow.device` from then on). Calls that change nothing
   * and were pending (rerank, search, get, count, info) run again on WASM, once; writes pending
   * (add, delete, clear) reject with DEVICE_LOST. The instance stays on WASM; a new `createWinnow`
   * tries WebGPU again.
   */
  onDeviceChange?: (device: DeviceInfo) => void
  /**
   * How long the worker may go without answering a heartbeat, or without progress on a call it
   * runs, before winnow calls it hung: it is stopped, pending calls reject with
   * WORKER_UNRESPONSIVE, and the next call starts a fresh worker. The worker answers between
   * batches; one batch blocks it for seconds at most on a slow device (a 64-row WASM batch, a
   * WebGPU batch compiling shaders for a new input shape), so the default leaves a wide margin.
   * Loading a model and its first run may take five times as long (at least a minute); a
   * download that merely goes slowly is never cut (bound it with `signal`). Raise it for very
   * large models on slow devices; `Infinity` turns the check off. Default `60_000`.
   */
  hangTimeoutMs?: number
  /** Cancels loading. */
  signal?: AbortSignal
  /**
   * Worker script URL (advanced: bundlers set this up from the package). Under Trusted Types
   * (`require-trusted-types-for 'script'`) a string or URL goes through winnow's policy
   * `winnow-rerank`, which the page's `trusted-types` directive must allow; or pass a
   * TrustedScriptURL made by a policy of your own.
   */
  workerUrl?: string | URL | TrustedScriptURLLike
}

/**
 * A Trusted Types `TrustedScriptURL` (what `trustedTypes.createPolicy(...).createScriptURL()`
 * returns), which TypeScript's DOM types do not declare.
 */
export interface TrustedScriptURLLike {
  toJSON(): string
  toString(): string
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
  /**
   * Remove the reranker's length trend from its logits: `'auto'` fits it on these passages (a
   * robust Theil–Sen fit of the logits over ln(passage tokens); at least 8 passages of 3 different
   * lengths, else nothing is removed), a number is a slope you measured (logits per unit of ln
   * tokens). Each result's `lengthAdjustment` says what was subtracted. Default: none.
   */
  lengthCorrection?: 'auto' | number
  /**
   * Blend the reranker's order with the input order (your retriever's ranking, best first) by
   * reciprocal-rank fusion: results are then ordered by `fusedScore`. `weight` is the reranker's
   * share (default 0.5), `k` default 60.
   */
  rerankFusion?: { method: 'rrf'; k?: number; weight?: number }
  signal?: AbortSignal
}

/** What every reranked passage carries, whatever its input was. */
export interface RerankedPassage {
  /** Position in the input array. */
  index: number
  /** Relevance in 0..1 (sigmoid of `logit`, less `lengthAdjustment` when corrected); comparable within one query, not across queries. */
  score: number
  /** The raw score: the model's logit (one-logit heads) or positive minus negative logit (two-logit heads). */
  logit: number
  /** With `lengthCorrection`: what was subtracted from `logit` before the sigmoid (`score = sigmoid(logit − lengthAdjustment)`). */
  lengthAdjustment?: number
  /** With `rerankFusion`: the blend of this passage's reranker rank and input rank, 0..1; results are ordered by it. */
  fusedScore?: number
  /** What had to be cut to fit `maxLength`: `query` is true on every result of a call whose query was cut for any passage. */
  truncated: { query: boolean; document: boolean }
}

/**
 * One reranked passage. `T` is the type of the passages given to `rerank()`: for `{ id, text }`
 * objects the result carries that `id` (always a string), for strings it has none. A mixed array
 * gives either, so `id` is then `string | undefined`; so does the default `RerankResult`.
 *
 * @example
 * const a = await winnow.rerank(q, ['one', 'two'])                        // RerankResult<string>[]
 * a[0].id // type undefined: strings carry no id
 * const b = await winnow.rerank(q, [{ id: 'doc-1', text: 'one' }])       // RerankResult<{ id: string; text: string }>[]
 * b[0].id // type string: 'doc-1'
 */
export type RerankResult<T extends RerankInput = RerankInput> = RerankedPassage &
  (T extends string
    ? {
        /** Strings carry no id. */
        id?: undefined
      }
    : {
        /** The input object's id. */
        id: string
      })

/** Options for the bi-encoder that embeds passages and queries for vector search. */
export interface EmbedderOptions {
  /** Hub id or folder name under `modelBaseUrl`, e.g. `'Xenova/all-MiniLM-L6-v2'`. */
  model: string
  /** Default `{ webgpu: 'q4', wasm: 'q8' }`, as for the reranker. */
  dtype?: DtypeChoice
  /** Max tokens per passage, capped by the model. Default: min(512, the model's limit). Chunks are sized to fit. */
  maxLength?: number
  /** Padded tokens per batch. Default 1024 on WASM, 4096 on WebGPU. */
  batchTokens?: number
  /**
   * How token vectors become one vector. Default: a well-known model's own (all-MiniLM and the
   * other sentence-transformers `all-*`/`paraphrase-*` models: mean; bge, mxbai, arctic-embed: CLS;
   * …), or the graph's when it outputs a pooled `sentence_embedding`; for any other model, what its
   * sentence-transformers `1_Pooling/config.json` says, else `'mean'`. That file is asked for only
   * then (a model folder without it answers 404), and never when this option is given.
   *
   * @example
   * createWinnow({ embedder: { model: 'my-org/custom-bge', pooling: 'cls' } }) // no 1_Pooling request
   */
  pooling?: 'mean' | 'cls'
  /**
   * Text put before every search query before it is embedded, e.g. e5's `'query: '` or bge's
   * `'Represent this sentence for searching relevant passages: '`. Default: the model's own
   * convention (a table of well-known ids, else the `prompts` of its
   * `config_sentence_transformers.json`), else none. `''`: none. A collection records the prefixes
   * it was built with and keeps using them; see docs/reference/models.md.
   */
  queryPrefix?: string
  /** Text put before every passage before it is embedded, e.g. e5's `'passage: '`. Default as for `queryPrefix`. */
  documentPrefix?: string
}

/** What was loaded for the embedder. */
export interface EmbedderInfo {
  model: string
  dtype: Dtype
  maxLength: number
  dims: number
  pooling: 'mean' | 'cls'
  /** Put before queries by default (a collection built with other prefixes uses its own). */
  queryPrefix: string
  /** Put before passages by default. */
  documentPrefix: string
}

/** How a collection's passages were embedded, recorded with it; queries are embedded the same way. */
export interface EmbedderConventions {
  queryPrefix: string
  documentPrefix: string
  pooling: 'mean' | 'cls'
}

/** How documents are cut into passages; see {@link resolveChunking} for the defaults. */
export interface ChunkingOptions {
  /** Window size in model tokens. Default 256, capped by the models' usable length. */
  maxTokens?: number
  /** Tokens of a window's tail repeated at the next window's head. Default 32 (or maxTokens / 4 if smaller); must be < maxTokens. */
  overlapTokens?: number
  /** Split at markdown / HTML headings before windowing. Default true. */
  headings?: boolean
}

/**
 * How text is analyzed. Every field is optional; pass `false` instead of an object for
 * {@link LANGUAGE_NEUTRAL} analysis (any language: no stop words, stemming or accent folding).
 *
 * @example
 * const options: AnalyzerOptions = { stopWords: ['et', 'al'], minTokenLength: 2 }
 */
export interface AnalyzerOptions {
  /** Lowercase text before matching. Default `true`. */
  lowercase?: boolean
  /**
   * Remove accents (NFKD, then drop combining diacritical marks U+0300–U+036F; also ß → ss,
   * æ → ae, ø → o, ł → l, ...): "café" matches "cafe". Default `true`. Turn it off for languages
   * where accents tell words apart and users type them (Spanish "año", Vietnamese).
   */
  foldAccents?: boolean
  /**
   * Words dropped from text and queries: `'english'` (Lucene's 33-word English list), your own
   * list (compared after lowercasing and folding, before stemming), or `false`. Default `'english'`.
   */
  stopWords?: 'english' | readonly string[] | false
  /** `'english'` (Porter) or `false`. Default `'english'`. Only lowercase a–z words are stemmed. */
  stemmer?: 'english' | false
  /**
   * Terms shorter than this many characters (code points) are dropped. Default `1` (keep all):
   * single digits ("type 2 diabetes") and single CJK characters are meaningful terms, and the
   * English one-letter words worth dropping ("a") are stop words already.
   */
  minTokenLength?: number
}

/** Options of `winnow.collection()`; an omitted setting keeps what the collection was built with. */
export interface CollectionOptions {
  analyzer?: AnalyzerOptions | false
  /** `false`: one passage per document. */
  chunking?: ChunkingOptions | false
  /** Longest document text accepted, in characters. Default 1,000,000. */
  maxTextLength?: number
  /** The vector index of large collections: when segments are partitioned, how searches probe them. */
  vectorIndex?: VectorIndexOptions
  /**
   * URL of a snapshot's `manifest.json` (made by `npx winnow-rerank index`), resolved against the page.
   * The collection then mirrors the snapshot and is read-only: the first visit imports it (and
   * `collection()` resolves once it is searchable); later visits serve the stored version at once
   * and import a changed one in the background, swapping atomically when it is complete.
   */
  snapshot?: string | URL
  /**
   * How a snapshot of format 2 (`winnow-rerank index --lazy`, or any index past 4 MiB) is fetched:
   * `'lazy'` (default) fetches the segment tables and indexes on the first visit and every other
   * shard when a query needs it, caching each; `'prefetch'` also downloads the rest in the
   * background; `'all'` downloads everything before the collection opens (with progress), for
   * offline use (a version a lazy visit already adopted completes in the background). A snapshot
   * of format 1 is always imported whole.
   */
  snapshotFetch?: SnapshotFetch
  /** Progress and outcome of snapshot checks and imports (also of later `syncSnapshot()` calls). */
  onSnapshotProgress?: (progress: SnapshotProgress) => void
}


/** A metadata value a filter can test. */
export type MetadataValue = string | number | boolean | null

/** A document to add. `id` is unique in the collection: adding it again replaces the old version. */
export interface DocumentInput {
  id: string
  text: string
  title?: string
  /** Flat: values are strings, finite numbers, booleans, null, or arrays of those. */
  metadata?: Record<string, MetadataValue | readonly MetadataValue[]>
  /** Your own vector for the whole document (then it is not chunked); unit length is not required. */
  vector?: Float32Array | readonly number[]
}

/** Progress of `add()`. */
export interface AddProgress {
  phase: 'chunking' | 'embedding' | 'writing' | 'done'
  done: number
  total: number
}

/** Options of `add()`. */
export interface AddOptions {
  onProgress?: (progress: AddProgress) => void
  /** Stops the call before it writes; once writing began the call completes (and resolves). */
  signal?: AbortSignal
}

/** What `add()` did. */
export interface AddResult {
  documents: number
  chunks: number
  /** Documents that replaced an earlier version with the same id. */
  replaced: number
}

// Search options, hits and routes live in searchTypes.ts (re-exported here, so one import serves).
export type * from './types/search.js'


/** Facts about a collection. */
export interface CollectionInfo {
  name: string
  documents: number
  chunks: number
  dims: number | null
  vectorSource: 'embedder' | 'caller' | 'none'
  embedder: string | null
  /** The prefixes and pooling the passages were embedded with; null before the first embedded add, or for a collection written before winnow recorded them (no prefixes). */
  embedderConventions: EmbedderConventions | null
  analyzer: AnalyzerOptions & { version: number }
  chunking: Required<ChunkingOptions> | null
  /** The imported snapshot version serving this collection, if it is a snapshot collection. */
  snapshot: { version: string; url: string; importedAt: number } | null
  /** The vector index (see {@link VectorIndexOptions}): what is partitioned, what is scanned exactly, what is cached, and a partitioning in progress. */
  vectorIndex: VectorIndexInfo
  /** Whether this tab is merging segments in the background now (after adds and deletes; searches go on meanwhile). */
  merging: boolean
}

/** A stored document, as it was given. */
export interface StoredDocument {
  id: string
  text: string
  title?: string
  metadata?: Record<string, unknown>
  /** How many passages it became. */
  chunks: number
}

/** The origin's storage, from `navigator.storage`. */
export interface StorageInfo {
  /** Bytes used by this origin (all of its storage, not only winnow's). */
  usage: number
  quota: number
  /** Whether the browser promised not to evict this origin's data under pressure. */
  persisted: boolean
}
