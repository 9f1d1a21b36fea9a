/** Public types of `search()`: its options, hits and the route it took. Nothing here has runtime code. */

import type { Dtype, DtypeChoice } from './device.js'

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
  /**
   * Remove this reranker's length trend from its logits before they are compared: `'auto'` fits
   * the trend of the logits over ln(passage tokens) on the passages it reads (a robust Theil–Sen
   * fit; at least 8 passages of 3 different lengths, else nothing is removed), a number is a slope
   * you measured (logits per unit of ln tokens). Each logit loses `slope · ln(tokens / 100)`.
   * Default: none. See the reranking guide, "Length bias".
   */
  lengthCorrection?: 'auto' | number
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

/**
 * Blend the reranker's order with the first stage's (see the reranking guide, "Fusing with the
 * first stage"). `rrf`: reciprocal-rank fusion, `weight / (k + rerank rank) + (1 − weight) / (k +
 * first-stage rank)`, scaled so that first in both scores 1 (ranks only). `weighted`: `weight ·
 * rerankScore + (1 − weight) · first-stage score`, both 0..1. `weight` is the reranker's share,
 * default 0.5; `k` default 60.
 */
export type RerankFusion = { method: 'rrf'; k?: number; weight?: number } | { method: 'weighted'; weight?: number }

/** How `search()` cuts passages for display. */
export interface SnippetOptions {
  /** Characters per window (before the `…` marks). Default 200. A length ≥ the passage returns it whole. */
  length?: number
  /** Windows joined with ` … ` when the query's terms are spread out. Default 2. */
  windows?: number
}

/**
 * One candidate from a remote retriever: a passage with its own text (the reranker reads `text`).
 * Plain JSON-safe data; anything else in it is dropped on the page.
 */
export interface RemoteCandidate {
  /** Unique within one answer; the hit's `chunkId` (and its `id`, unless `documentId` is given). */
  id: string
  /** The passage the reranker reads, snippets cut and MMR compares (at most 1,000,000 characters). */
  text: string
  /** The engine's score, higher is better (`ts_rank_cd`, a cosine, RRF): the hit's `firstStageScore` and `scores.remote`. */
  score?: number
  title?: string
  metadata?: Record<string, unknown>
  /** Groups passages of one document (`maxPerDocument`, and the hit's `id`). Default: `id`. */
  documentId?: string
  /** The passage's unit vector, used by MMR (all candidates must carry one of the same length; else term overlap). */
  vector?: readonly number[] | Float32Array
}

/** What a retriever is asked: what it `sends` decides whether `query`, `vector` or both are set. */
export interface RetrieverRequest {
  /** The query text; absent when the retriever sends only a vector (`send: 'vector'`). */
  query?: string
  /** The query embedded on the device (the search's `vector`, or the instance's embedder); with `send: 'vector'` or `'both'` only. */
  vector?: number[]
  /** Candidates wanted: the search's `candidates`. More are cut to it. */
  k: number
  /** The search's `filter`, as given: the remote applies it (winnow does not filter remote candidates again). */
  filter?: Filter
  /** Aborted when the search is aborted or `remoteTimeoutMs` runs out: pass it to `fetch`. */
  signal: AbortSignal
}

/** A remote first stage as a plain function (it is sent the query text). */
export type RetrieverFunction = (request: RetrieverRequest) => Promise<readonly RemoteCandidate[]> | readonly RemoteCandidate[]

/** A remote first stage: where candidates come from when they do not come from the device. */
export interface Retriever {
  retrieve: RetrieverFunction
  /**
   * What leaves the device with each request besides `k` and `filter`: `'text'` (default) the query
   * text; `'vector'` only the query's vector, computed on the device (the text never leaves); `'both'`.
   */
  send?: 'text' | 'vector' | 'both'
  /** Default for `remoteTimeoutMs`. */
  timeoutMs?: number
}

/** Options of `winnow.search()`: the pipeline over a remote retriever's candidates, with no collection. */
export interface RemoteSearchOptions extends Omit<SearchOptions, 'mode' | 'fusion' | 'minVectorScore' | 'probes' | 'firstStage' | 'retriever'> {
  retriever: Retriever | RetrieverFunction
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
  /**
   * Drop vector-side candidates whose cosine with the query is below this (a number from -1 to 1),
   * before fusion and everything after it: a query that matches nothing then finds nothing,
   * instead of the `k` nearest passages, however far. `vector` and `hybrid` modes only (keyword
   * hits are unaffected; keyword mode ignores it). Default: none. Unrelated text scores low with
   * MiniLM-class embedders, so about 0.3 is a reasonable start; tune it on your own queries. The
   * cross-encoder's `minScore` is the other tool: it judges each passage after reranking.
   *
   * @example
   * const hits = await docs.search('zzqxv flibbertigibbet', { minVectorScore: 0.3 })
   * hits.length // 0 when no passage is near the query and no keyword matches
   */
  minVectorScore?: number
  /**
   * Lists read and scanned per partitioned segment of the vector index, for this search (see
   * `VectorIndexOptions.probes`, the collection's default). More finds more of the true nearest
   * neighbours and costs more reads; a collection with no partitioned segment ignores it.
   */
  probes?: number
  /** Default: `true` when the instance has a reranker, else `false`. */
  rerank?: RerankOption
  /**
   * Blend the (last) reranker's order with the first stage's instead of replacing it; the hits'
   * `score` is then the fused score (`rerankScore` stays the cross-encoder's). Needs reranking.
   *
   * @example
   * docs.search('ERR_CERT_DATE_INVALID', { rerankFusion: { method: 'rrf', weight: 0.6 } })
   */
  rerankFusion?: RerankFusion
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
  /**
   * Take candidates from a remote first stage (a server's engine) instead of, or fused with, the
   * collection's own. The page calls it; the worker reranks what it returns. See the remote first
   * stage guide for what leaves the device.
   */
  retriever?: Retriever | RetrieverFunction
  /**
   * With a `retriever`: `'remote'` (default) its candidates replace the collection's first stage;
   * `'fuse'` both run and are merged by reciprocal-rank fusion (k 60).
   */
  firstStage?: 'remote' | 'fuse'
  /** With a `retriever`: REMOTE_TIMEOUT after this many ms (the request is aborted). Default: the retriever's `timeoutMs`, else 10,000. */
  remoteTimeoutMs?: number
  signal?: AbortSignal
}

/**
 * One passage of a document, as winnow cuts and stores it: where it sits in the document's text and
 * the headings above it. Declared once: a chunk as cut (`Chunk`, text/chunking.ts), as prepared for
 * a segment (`PreparedChunk`, collection/ingest.ts) and as stored (`ChunkRecord`, store/types.ts)
 * extend it; the pipeline reads it as is (`PassageRecord`, search/types.ts). Internal: not exported
 * by the package (a hit carries the same fields, with `chunkIndex` for `index`).
 */
export interface Passage {
  /** Position among the document's chunks: 0..n-1. */
  index: number
  /** Offset of the first character in the original text (UTF-16 code units, like `String#slice`). */
  start: number
  /** Offset just past the last character: `text.slice(start, end) === passage.text`. */
  end: number
  /** The passage; never starts or ends with whitespace. */
  text: string
  /** The innermost heading above the passage; null before any heading (or with `headings: false`). */
  section: string | null
  /** Heading texts from outermost to innermost; empty before any heading. */
  path: string[]
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
   * 0..1, higher is better: with `rerankFusion` the fused score; else the cross-encoder's score when the passage was reranked, else the
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
  scores: { keyword?: number; vector?: number; remote?: number }
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
  stages: { model: string; dtype: Dtype; reranked: number; kept: number; ms: number; lengthSlope?: number }[]
  /** What `rerankBudgetMs` decided from: the measured throughput and the estimate for `reranked`. */
  budget: { ms: number; tokensPerSecond: number; estimatedMs: number } | null
  /** With a `retriever`: `'remote'` (its candidates only) or `'fused'` (with the collection's). Absent otherwise. */
  firstStage?: 'remote' | 'fused'
  /** Wall-clock ms in the worker; `remoteMs`: the retriever's round trip on the page, with a `retriever`. */
  timings: { firstStageMs: number; rerankMs: number; totalMs: number; remoteMs?: number }
}

/** What `search()` resolves with: hits best first, and the route the search took. */
export type SearchResults = SearchHit[] & { route: SearchRoute }
