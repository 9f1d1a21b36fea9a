/**
 * winnow-rerank/langchain: winnow for LangChain.js (@langchain/core 1).
 *
 * - {@link WinnowDocumentCompressor}: a `BaseDocumentCompressor` that reranks `Document`s by their
 *   `pageContent` with winnow's cross-encoder, for `ContextualCompressionRetriever`.
 * - {@link WinnowRetriever}: a `BaseRetriever` over a winnow collection (`collection.search()`).
 *
 * This module imports @langchain/core and winnow's main entry only.
 *
 * @example
 * import { ContextualCompressionRetriever } from '@langchain/classic/retrievers/contextual_compression'
 * import { WinnowDocumentCompressor } from 'winnow-rerank/langchain'
 *
 * const retriever = new ContextualCompressionRetriever({
 *   baseRetriever: vectorStore.asRetriever(50),
 *   baseCompressor: new WinnowDocumentCompressor({ winnow, topK: 5 }),
 * })
 * const docs = await retriever.invoke('what causes memory leaks?')
 */
import type { CallbackManagerForRetrieverRun, Callbacks } from '@langchain/core/callbacks/manager'
import { Document, type DocumentInterface } from '@langchain/core/documents'
import { BaseRetriever, type BaseRetrieverInput } from '@langchain/core/retrievers'
import { BaseDocumentCompressor } from '@langchain/core/retrievers/document_compressors'
import type { RunnableConfig } from '@langchain/core/runnables'
import type { Collection, RerankOptions, SearchHit, SearchOptions, Winnow } from '../index.js'

/** Options of {@link WinnowDocumentCompressor}. */
export interface WinnowDocumentCompressorFields {
  /** The instance whose reranker scores the documents. */
  winnow: Pick<Winnow, 'rerank'>
  /** Keep the best `topK` documents. Default: all, reordered. */
  topK?: number
  /** Metadata key the score is written to. Default `'relevanceScore'` (as LangChain's own rerankers). */
  scoreKey?: string
  /** As `rerank()`'s `lengthCorrection`. */
  lengthCorrection?: RerankOptions['lengthCorrection']
  /**
   * Aborts the reranking (`ABORTED`). `ContextualCompressionRetriever` passes no signal to its
   * compressor, so give it here.
   */
  signal?: AbortSignal
}

/**
 * Reranks LangChain `Document`s by `pageContent` with `winnow.rerank()` and returns the best
 * `topK`, best first, as new `Document`s (same `id` and `pageContent`) whose metadata is the
 * original's plus `relevanceScore` (winnow's 0..1 `score`; key set by `scoreKey`),
 * `rerankLogit` and, when the passage had to be cut to fit the model, `rerankTruncated: true`.
 * winnow's errors reach the caller as `WinnowError`s.
 */
export class WinnowDocumentCompressor extends BaseDocumentCompressor {
  readonly winnow: Pick<Winnow, 'rerank'>
  readonly topK: number | undefined
  readonly scoreKey: string
  readonly lengthCorrection: RerankOptions['lengthCorrection']
  readonly signal: AbortSignal | undefined

  constructor(fields: WinnowDocumentCompressorFields) {
    super()
    this.winnow = fields.winnow
    this.topK = fields.topK
    this.scoreKey = fields.scoreKey ?? 'relevanceScore'
    this.lengthCorrection = fields.lengthCorrection
    this.signal = fields.signal
  }

  async compressDocuments(documents: DocumentInterface[], query: string, _callbacks?: Callbacks): Promise<DocumentInterface[]> {
    const options: RerankOptions = {}
    if (this.topK !== undefined) options.topK = this.topK
    if (this.lengthCorrection !== undefined) options.lengthCorrection = this.lengthCorrection
    if (this.signal) options.signal = this.signal
    const results = await this.winnow.rerank(
      query,
      documents.map((d) => d.pageContent),
      options,
    )
    return results.map((r) => {
      const original = documents[r.index]!
      const metadata: Record<string, unknown> = { ...original.metadata, [this.scoreKey]: r.score, rerankLogit: r.logit }
      if (r.truncated.document) metadata.rerankTruncated = true
      return new Document({ pageContent: original.pageContent, metadata, ...(original.id !== undefined ? { id: original.id } : {}) })
    })
  }
}

/** Options of {@link WinnowRetriever}. */
export interface WinnowRetrieverFields extends BaseRetrieverInput {
  /** The collection to search (from `winnow.collection(name)`). */
  collection: Pick<Collection, 'search'>
  /** Passed to every `collection.search()`: `k`, `mode`, `filter`, `rerank`, … Default: the collection's defaults. */
  searchOptions?: Omit<SearchOptions, 'signal'>
  /** Aborts every search of this retriever; `invoke(query, { signal })` aborts one. */
  signal?: AbortSignal
}

/** The metadata a {@link WinnowRetriever} `Document` carries, on top of the document's own metadata. */
export interface WinnowHitMetadata {
  /** The winnow document's id (the `Document`'s own `id` is the passage's `chunkId`). */
  id: string
  chunkId: string
  chunkIndex: number
  /** The hit's 0..1 score (the cross-encoder's when reranked). */
  score: number
  /** The cross-encoder's score; absent when the hit was not reranked. */
  rerankScore?: number
  firstStageScore: number
  rankBefore: number
  section: string | null
  path: string[]
  title?: string
  /** Where the passage sits in the document's text. */
  start: number
  end: number
}

/** A search hit as a LangChain `Document`. */
export function hitToDocument(hit: SearchHit): DocumentInterface<Record<string, unknown> & WinnowHitMetadata> {
  const metadata: Record<string, unknown> & WinnowHitMetadata = {
    ...hit.metadata,
    id: hit.id,
    chunkId: hit.chunkId,
    chunkIndex: hit.chunkIndex,
    score: hit.score,
    firstStageScore: hit.firstStageScore,
    rankBefore: hit.rankBefore,
    section: hit.section,
    path: hit.path,
    start: hit.start,
    end: hit.end,
  }
  if (hit.rerankScore !== undefined) metadata.rerankScore = hit.rerankScore
  if (hit.title !== undefined) metadata.title = hit.title
  return new Document({ pageContent: hit.text, metadata, id: hit.chunkId })
}

/**
 * A LangChain retriever over a winnow collection: `invoke(query)` runs `collection.search(query,
 * searchOptions)` (first stage, reranking, snippets as configured) and returns one `Document` per
 * hit, best first: `pageContent` is the passage, `id` its `chunkId`, and `metadata` the document's
 * metadata overlaid with {@link WinnowHitMetadata} (winnow's fields win a clash).
 */
export class WinnowRetriever extends BaseRetriever<Record<string, unknown> & WinnowHitMetadata> {
  static override lc_name(): string {
    return 'WinnowRetriever'
  }
  override lc_namespace = ['winnow-rerank', 'retrievers']
  readonly collection: Pick<Collection, 'search'>
  readonly searchOptions: Omit<SearchOptions, 'signal'>
  readonly signal: AbortSignal | undefined
  private readonly fields: WinnowRetrieverFields

  constructor(fields: WinnowRetrieverFields) {
    super(fields)
    this.fields = fields
    this.collection = fields.collection
    this.searchOptions = fields.searchOptions ?? {}
    this.signal = fields.signal
  }

  /** As `BaseRetriever.invoke`, and `options.signal` aborts the search (with winnow's `ABORTED`). */
  override async invoke(input: string, options?: RunnableConfig): Promise<DocumentInterface<Record<string, unknown> & WinnowHitMetadata>[]> {
    const signal = options?.signal
    if (!signal) return super.invoke(input, options)
    const both = this.signal ? AbortSignal.any([this.signal, signal]) : signal
    return new WinnowRetriever({ ...this.fields, signal: both }).invokeOnce(input, options)
  }

  private invokeOnce(input: string, options?: RunnableConfig): Promise<DocumentInterface<Record<string, unknown> & WinnowHitMetadata>[]> {
    return super.invoke(input, options)
  }

  override async _getRelevantDocuments(query: string, _runManager?: CallbackManagerForRetrieverRun): Promise<DocumentInterface<Record<string, unknown> & WinnowHitMetadata>[]> {
    const hits = await this.collection.search(query, this.signal ? { ...this.searchOptions, signal: this.signal } : this.searchOptions)
    return hits.map(hitToDocument)
  }
}
