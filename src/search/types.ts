/**
 * The read side's own types: a search request as the worker receives it, its resolved form, the
 * first stage's candidates, and the ports the pipeline runs on. Declared here once, so the modules
 * that produce and consume them import each other's types from one place.
 */
import type { WinnowError } from '../errors.js'
import type { CompiledFilter } from '../rank/filter.js'
import type { ResolvedFusion } from '../rank/fusion.js'
import type { LengthCorrection } from '../rank/lengthTrend.js'
import type { ResolvedRerankFusion } from '../rank/rerankFusion.js'
import type { ThroughputMeter } from '../rank/throughput.js'
import type { Analyzer } from '../text/analyzer.js'
import type { Dtype, DtypeChoice, Passage, RemoteCandidate, SearchHit, SearchMode, SearchOptions, SearchRoute } from '../types.js'

/**
 * The collection's own first stage, resolved once by `resolveSearch` (search/searchOptions.ts): the
 * ranking code trusts it and checks nothing again.
 */
export interface ResolvedFirstStage {
  query: string
  /** As asked; undefined: the collection decides (hybrid when it has vectors and a way to embed the query, else keyword). */
  mode: SearchMode | undefined
  /**
   * How hybrid fuses; null when the mode asked for is keyword or vector. With the mode left to the
   * collection, a bad `fusion` is kept as its error, thrown only if the collection chooses hybrid.
   */
  fusion: ResolvedFusion | WinnowError | null
  /** The compiled `filter`; null: none. */
  filter: CompiledFilter | null
  /** The caller's query vector; null: embed the query (or none given, or keyword mode). */
  vector: QueryVector | null
  /** Cosine floor of the vector side; null: none. */
  minVectorScore: number | null
  /** Lists probed per partitioned segment; null: the collection's default. */
  probes: number | null
}

/**
 * A caller's query vector, checked. Its error counts only when the collection ranks by vector and
 * holds passages; its length is compared with the collection's first (DIMENSION_MISMATCH).
 */
export interface QueryVector {
  /** Its length; null when it is not an array of numbers at all. */
  length: number | null
  /** A unit-length copy; null when `error` is set. */
  unit: Float32Array | null
  error: WinnowError | null
}

/** A first-stage candidate, best first. */
export interface Candidate {
  docId: string
  /** Raw first-stage score. */
  score: number
  /** The same on 0..1 (see `SearchHit.score`). */
  normalized: number
  scores: { keyword?: number; vector?: number; remote?: number }
  title?: string
  metadata?: Record<string, unknown>
  /** The hit's chunkId when it is not `<docId>#<index>` (remote candidates: their own id). */
  chunkId?: string
}

/** A candidate's passage as stored. */
export type PassageRecord = Passage

/** The first stage's answer, with readers bound to the view it ranked. */
export interface Retrieved {
  mode: SearchMode
  /** Where the candidates came from, when not (only) the collection: see `SearchRoute.firstStage`. */
  source?: 'remote' | 'fused'
  candidates: Candidate[]
  /** Each candidate's passage, by position; null where it was deleted since the ranking. */
  passages: (PassageRecord | null)[]
  /** Stored unit vectors by position, or null when the collection has none. */
  vectors(indices: readonly number[]): Promise<(Float32Array | null)[] | null>
}

/** A loaded cross-encoder as the pipeline uses it. */
export interface RerankerPort {
  model: string
  dtype: Dtype
  /** Tokens per pair the model keeps (for the budget's estimates). */
  maxLength: number
  /** Its measured speed; `score` refreshes it. */
  meter: ThroughputMeter
  /** Raw logits, one per passage, in input order, and the passage tokens the model read of each. */
  score(query: string, passages: readonly string[]): Promise<StageScores>
}

/** What one reranker run returns to the pipeline. */
export interface StageScores {
  logits: Float32Array
  /** Passage tokens read per pair (after truncation), for `lengthCorrection`. */
  documentTokens: ArrayLike<number>
}

/** What the pipeline needs from the collection, the models and the caller. */
export interface PipelinePorts {
  retrieve(depth: number): Promise<Retrieved>
  /** The reranker of a stage, loaded on first use. */
  reranker(stage: StageSpec): Promise<RerankerPort>
  analyzer: Analyzer
  /** Between steps: yields, and throws ABORTED once the call is cancelled. */
  checkpoint(): Promise<void>
  onFirstStage?(hits: SearchHit[]): void
  now?(): number
}

/** What a search resolves with, before the page attaches `route` to the array. */
export interface PipelineResult {
  hits: SearchHit[]
  route: SearchRoute
}

/** What `search()` takes, unchecked (resolveSearch checks it once: the worker is the authority). */
export interface SearchRequest extends Omit<SearchOptions, 'signal' | 'onFirstStage'> {
  query: string
}

/**
 * A search's options, validated and resolved once by `resolveSearch`; everything downstream (the
 * first stage, fusion, the pipeline, snippets, diversification) takes these values as they are.
 */
export interface ResolvedSearch {
  query: string
  /** The collection's own first stage; null when a remote retriever's candidates replace it. */
  firstStage: ResolvedFirstStage | null
  /** Everything after the first stage (with the snippet options). */
  pipeline: ResolvedPipeline
  /** A remote first stage, its candidates checked; null: none. */
  remote: CheckedRemoteFirstStage | null
}

/** A checked candidate: plain data, vector as a Float32Array. */
export type CheckedCandidate = Omit<RemoteCandidate, 'vector'> & { vector?: Float32Array }

/** A remote first stage after resolveSearch checked it. */
export interface CheckedRemoteFirstStage {
  candidates: CheckedCandidate[]
  firstStage: 'remote' | 'fuse'
  mode: SearchMode
}

/** What a search may use beyond the collection: rerankers, the first-stage callback, a clock. */
export interface SearchExtras {
  /** Whether a default reranker exists (then `rerank` defaults to on). */
  hasReranker?: boolean
  /** Loads (once) and returns the reranker of a stage. */
  reranker?: (stage: StageSpec) => Promise<RerankerPort>
  onFirstStage?: (hits: SearchHit[]) => void
  now?: () => number
  /** Candidates a remote retriever returned (checked again here), and how they join the collection's. */
  remote?: RemoteFirstStage
}

/** A remote first stage as it reaches the worker: the page called the retriever. */
export interface RemoteFirstStage {
  /** The retriever's answer (checked with checkRemoteCandidates). */
  candidates: unknown
  /** 'remote': instead of the collection's first stage; 'fuse': merged with it by RRF. */
  firstStage: 'remote' | 'fuse'
  /** What the request carried, for `route.mode`: text 'keyword', vector 'vector', both 'hybrid'. */
  mode: SearchMode
}

/** One reranker of the cascade; `model` null is the instance's own reranker. */
export interface StageSpec {
  model: string | null
  dtype?: DtypeChoice
  /** How many of what it read go on (best first); null: all. */
  keep: number | null
  /** Remove this stage's length trend from its logits (see core/lengthTrend.ts); absent: none. */
  lengthCorrection?: LengthCorrection
}

/** Everything after the first stage, resolved. */
export interface ResolvedPipeline {
  k: number
  candidates: number
  /** Empty: no reranking. */
  stages: StageSpec[]
  mmr: { lambda: number } | null
  maxPerDocument: number | null
  minScore: number | null
  skipRerankAbove: number | null
  rerankBudgetMs: number | null
  /** Blend the (last) reranker's order with the first stage's; null: the reranker's order. */
  rerankFusion: ResolvedRerankFusion | null
  snippet: { length: number; windows: number } | null
}
