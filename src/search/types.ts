/**
 * The read side's own types: a search request as the worker receives it, its resolved form, the
 * first stage's candidates, and the ports the pipeline runs on. Declared here once, so the modules
 * that produce and consume them import each other's types from one place.
 */
import type { LengthCorrection } from '../rank/lengthTrend.js'
import type { ResolvedRerankFusion } from '../rank/rerankFusion.js'
import type { ThroughputMeter } from '../rank/throughput.js'
import type { ChunkRecord } from '../store/types.js'
import type { Analyzer } from '../text/analyzer.js'
import type { Dtype, DtypeChoice, SearchHit, SearchMode, SearchOptions, SearchRoute } from '../types.js'

/** What the first stage takes (validated here: the worker is the authority). */
export interface RetrieveRequest {
  query: string
  mode?: SearchMode
  filter?: SearchOptions['filter']
  fusion?: SearchOptions['fusion']
  vector?: SearchOptions['vector']
  minVectorScore?: SearchOptions['minVectorScore']
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
export type PassageRecord = Pick<ChunkRecord, 'index' | 'start' | 'end' | 'text' | 'section' | 'path'>

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

/** What `search()` takes (validated here: the worker is the authority). */
export interface SearchRequest extends RetrieveRequest, Omit<SearchOptions, 'signal' | 'onFirstStage' | keyof RetrieveRequest> {}

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
