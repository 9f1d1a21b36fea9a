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
  /**
   * Called when the instance changes device after it loaded: when the WebGPU device is lost (GPU
   * reset, driver update, memory pressure), calls pending then reject with DEVICE_LOST, the models
   * are loaded again on WASM, and this is called with the new {@link DeviceInfo} (also
   * `winnow.device` from then on). The instance stays on WASM; a new `createWinnow` tries WebGPU again.
   */
  onDeviceChange?: (device: DeviceInfo) => void
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
  /** Default: the model's sentence-transformers pooling config, else `'mean'`. */
  pooling?: 'mean' | 'cls'
}

/** What was loaded for the embedder. */
export interface EmbedderInfo {
  model: string
  dtype: Dtype
  maxLength: number
  dims: number
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
  /**
   * URL of a snapshot's `manifest.json` (made by `npx winnow index`), resolved against the page.
   * The collection then mirrors the snapshot and is read-only: the first visit imports it (and
   * `collection()` resolves once it is searchable); later visits serve the stored version at once
   * and import a changed one in the background, swapping atomically when it is complete.
   */
  snapshot?: string | URL
  /** Progress and outcome of snapshot checks and imports (also of later `syncSnapshot()` calls). */
  onSnapshotProgress?: (progress: SnapshotProgress) => void
}

/** Progress of a snapshot check or import. `loaded`/`total` count shard bytes. */
export interface SnapshotProgress {
  phase: 'checking' | 'importing' | 'done'
  loaded: number
  total: number
  /** The snapshot's hash being checked or imported (null until the manifest is read). */
  version: string | null
  /**
   * On `'done'`: `unchanged` (hash as stored), `imported` (the new version now serves), `offline`
   * (the manifest was unreachable; the stored version serves), `failed` (see `error`; the stored
   * version serves).
   */
  outcome?: 'unchanged' | 'imported' | 'offline' | 'failed'
  error?: { code: string; message: string }
}

/** What `syncSnapshot()` did. */
export type SnapshotOutcome = 'unchanged' | 'imported' | 'offline'

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

/** First-stage retrieval modes. */
export type SearchMode = 'keyword' | 'vector' | 'hybrid'

/** How hybrid search combines its keyword and vector lists. */
export type Fusion = { method: 'rrf'; k?: number } | { method: 'weighted'; alpha?: number }

/**
 * Metadata conditions, all of which must hold. A value tests equality; `{ in: [...] }` membership;
 * `{ gt, gte, lt, lte }` a range (numbers, or strings such as ISO dates). Array fields match when
 * any element does.
 */
export type Filter = Record<string, unknown>

/** A reranker for `search()`: a model (default: the instance's reranker) and its dtype. */
export interface RerankModel {
  /** Hub id or folder under `modelBaseUrl`. Default: the instance's reranker. */
  model?: string
  /** Default: the device's default (`{ webgpu: 'q4', wasm: 'q8' }`), as for the instance's reranker. */
  dtype?: DtypeChoice
}

/** One stage of a rerank cascade: a reranker and how many of the passages it read go on. */
export interface RerankStage extends RerankModel {
  /** Passages kept (best first) for the next stage. Default: all it read. */
  keep?: number
}

/**
 * Which cross-encoder(s) read the candidates: `false` none, `true` the instance's reranker, a model,
 * or a cascade of rising cost, each stage keeping fewer (`[{ model: tiny, keep: 30 }, { model: minilm }]`).
 */
export type RerankOption = boolean | RerankModel | readonly RerankStage[]

/** How `search()` cuts passages for display. */
export interface SnippetOptions {
  /** Characters per window (before the `…` marks). Default 200. A length ≥ the passage returns it whole. */
  length?: number
  /** Windows joined with ` … ` when the query's terms are spread out. Default 2. */
  windows?: number
}

/** Options of `search()`. */
export interface SearchOptions {
  /** Default: `'hybrid'` when the collection has vectors and a way to embed the query, else `'keyword'`. */
  mode?: SearchMode
  /** Hits to return. Default 10. */
  k?: number
  /**
   * First-stage hits gathered for reranking and diversification. Default `max(k, 50)` when any of
   * `rerank`, `mmr` or `maxPerDocument` is on, else `k`. Hybrid reads each list `max(candidates, 100)`
   * deep before fusing.
   */
  candidates?: number
  filter?: Filter
  /** Default `{ method: 'rrf', k: 60 }`. */
  fusion?: Fusion
  /** A query vector instead of embedding the query text (collections with your own vectors). */
  vector?: Float32Array | readonly number[]
  /** Default: `true` when the instance has a reranker, else `false`. */
  rerank?: RerankOption
  /**
   * Maximal marginal relevance: picks hits one at a time by `lambda · relevance − (1 − lambda) ·
   * similarity to the hits already picked` (cosine of the stored vectors; term overlap in
   * collections without vectors). `lambda` 1 is plain relevance order. `true` means `{ lambda: 0.7 }`.
   */
  mmr?: boolean | { lambda?: number }
  /** At most this many passages of one document. Default: no cap. */
  maxPerDocument?: number
  /** Drop hits whose `score` (0..1) is below this. Cross-encoder scores are relative to a query: see the README. */
  minScore?: number
  /** Skip reranking when the normalised first-stage margin `(s1 − s2) / s1` is at least this (0..1). */
  skipRerankAbove?: number
  /** Rerank only as many of the top candidates as this device is measured to score in this many ms. */
  rerankBudgetMs?: number
  /** Snippet size; `false` for none (an empty snippet). */
  snippet?: SnippetOptions | false
  /** Called with the first-stage hits (top `k`, with snippets) before reranking starts. */
  onFirstStage?: (hits: SearchHit[]) => void
  signal?: AbortSignal
}

/** A short excerpt of a passage, with the query's terms located: ranges, not HTML (see `highlight()`). */
export interface Snippet {
  text: string
  /** `[start, end)` offsets into `text` of each matched word, ascending, not overlapping. */
  highlights: [number, number][]
}

/** One passage found by `search()`. */
export interface SearchHit {
  /** The document's id. */
  id: string
  /** `<document id>#<chunk index>`. */
  chunkId: string
  chunkIndex: number
  /**
   * 0..1, higher is better: the cross-encoder's score when the passage was reranked, else the
   * first stage's score normalised (cosine clamped to 0..1, BM25 divided by the best candidate's,
   * RRF divided by its maximum `2 / (k + 1)`, weighted fusion as is).
   */
  score: number
  /** The first stage's raw score: BM25, cosine or fused. */
  firstStageScore: number
  /** The (last) cross-encoder's score, 0..1 (sigmoid of its logit); absent when not reranked. */
  rerankScore?: number
  /** Position in the first stage, from 1. */
  rankBefore: number
  /** Each first-stage list's own score, where the passage appeared in it. */
  scores: { keyword?: number; vector?: number }
  /** The passage, and where it sits in the document's text (`text.slice(start, end)`). */
  text: string
  start: number
  end: number
  /** The innermost heading above the passage, and the headings from outermost to it. */
  section: string | null
  path: string[]
  title?: string
  metadata?: Record<string, unknown>
  snippet: Snippet
}

/** Which path a search took, and what it cost. */
export interface SearchRoute {
  /**
   * `first-stage`: no reranking asked for (or nothing to rerank); `reranked`: every candidate
   * reranked; `skipped`: the first stage was decisive (`skipRerankAbove`); `budget`: only the top
   * `reranked` candidates fit `rerankBudgetMs`.
   */
  path: 'first-stage' | 'reranked' | 'skipped' | 'budget'
  /** Why, in words (for logs and demos). */
  reason: string
  mode: SearchMode
  /** First-stage hits gathered. */
  candidates: number
  /** Candidates the first reranker read. */
  reranked: number
  /** The normalised first-stage margin `(s1 − s2) / s1`, when there were candidates. */
  margin: number | null
  /** Each reranker that ran, in order. */
  stages: { model: string; dtype: Dtype; reranked: number; kept: number; ms: number }[]
  /** What `rerankBudgetMs` decided from: the measured throughput and the estimate for `reranked`. */
  budget: { ms: number; tokensPerSecond: number; estimatedMs: number } | null
  /** Wall-clock ms in the worker. */
  timings: { firstStageMs: number; rerankMs: number; totalMs: number }
}

/** What `search()` resolves with: hits best first, and the route the search took. */
export type SearchResults = SearchHit[] & { route: SearchRoute }

/** Facts about a collection. */
export interface CollectionInfo {
  name: string
  documents: number
  chunks: number
  dims: number | null
  vectorSource: 'embedder' | 'caller' | 'none'
  embedder: string | null
  analyzer: AnalyzerOptions & { version: number }
  chunking: Required<ChunkingOptions> | null
  /** The imported snapshot version serving this collection, if it is a snapshot collection. */
  snapshot: { version: string; url: string; importedAt: number } | null
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
