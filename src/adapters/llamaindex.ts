/**
 * winnow-rerank/llamaindex: winnow for LlamaIndex.TS (@llamaindex/core 0.6, which `llamaindex`
 * re-exports).
 *
 * - {@link WinnowNodePostprocessor}: a node postprocessor that reranks `NodeWithScore[]` by node
 *   text with winnow's cross-encoder, e.g. in a `RetrieverQueryEngine`'s `nodePostprocessors`.
 * - {@link WinnowRetriever}: a `BaseRetriever` over a winnow collection (`collection.search()`).
 *
 * This module imports @llamaindex/core and winnow's main entry only.
 *
 * @example
 * import { RetrieverQueryEngine } from '@llamaindex/core/query-engine'
 * import { WinnowNodePostprocessor, WinnowRetriever } from 'winnow-rerank/llamaindex'
 *
 * const engine = new RetrieverQueryEngine(new WinnowRetriever({ collection, searchOptions: { k: 50, rerank: false } }), undefined, [
 *   new WinnowNodePostprocessor({ winnow, topN: 5 }),
 * ])
 * const nodes = await engine.retrieve('what causes memory leaks?')
 */
import type { MessageContent } from '@llamaindex/core/llms'
import type { BaseNodePostprocessor } from '@llamaindex/core/postprocessor'
import type { QueryBundle } from '@llamaindex/core/query-engine'
import { BaseRetriever } from '@llamaindex/core/retriever'
import { MetadataMode, TextNode, type NodeWithScore } from '@llamaindex/core/schema'
import { extractText } from '@llamaindex/core/utils'
import { WinnowError, type Collection, type RerankOptions, type SearchHit, type SearchOptions, type Winnow } from '../index.js'

/** Options of {@link WinnowNodePostprocessor}. */
export interface WinnowNodePostprocessorOptions {
  /** The instance whose reranker scores the nodes. */
  winnow: Pick<Winnow, 'rerank'>
  /** Keep the best `topN` nodes. Default: all, reordered. */
  topN?: number
  /**
   * Which text of a node the cross-encoder reads: `node.getContent(metadataMode)`. Default
   * `MetadataMode.NONE`, the node's text alone; `EMBED` or `ALL` prepend its metadata.
   */
  metadataMode?: MetadataMode
  /** As `rerank()`'s `lengthCorrection`. */
  lengthCorrection?: RerankOptions['lengthCorrection']
  /** Aborts the reranking (`ABORTED`); LlamaIndex passes no signal to postprocessors. */
  signal?: AbortSignal
}

/**
 * Reranks nodes with `winnow.rerank()`: returns the best `topN`, best first, each `{ node, score }`
 * with the same node object and `score` = winnow's 0..1 `score` (the first stage's score is
 * replaced). Without a query it rejects with `INVALID_INPUT` (a cross-encoder needs one); winnow's
 * other errors reach the caller as `WinnowError`s.
 */
export class WinnowNodePostprocessor implements BaseNodePostprocessor {
  readonly winnow: Pick<Winnow, 'rerank'>
  readonly topN: number | undefined
  readonly metadataMode: MetadataMode
  readonly lengthCorrection: RerankOptions['lengthCorrection']
  readonly signal: AbortSignal | undefined

  constructor(options: WinnowNodePostprocessorOptions) {
    this.winnow = options.winnow
    this.topN = options.topN
    this.metadataMode = options.metadataMode ?? MetadataMode.NONE
    this.lengthCorrection = options.lengthCorrection
    this.signal = options.signal
  }

  async postprocessNodes(nodes: NodeWithScore[], query?: MessageContent): Promise<NodeWithScore[]> {
    if (query === undefined) throw new WinnowError('INVALID_INPUT', 'WinnowNodePostprocessor needs the query to rerank against; postprocessNodes was called without one', { field: 'query' })
    const options: RerankOptions = {}
    if (this.topN !== undefined) options.topK = this.topN
    if (this.lengthCorrection !== undefined) options.lengthCorrection = this.lengthCorrection
    if (this.signal) options.signal = this.signal
    const results = await this.winnow.rerank(
      extractText(query),
      nodes.map((n) => n.node.getContent(this.metadataMode)),
      options,
    )
    return results.map((r) => ({ node: nodes[r.index]!.node, score: r.score }))
  }
}

/** Options of {@link WinnowRetriever}. */
export interface WinnowRetrieverOptions {
  /** The collection to search (from `winnow.collection(name)`). */
  collection: Pick<Collection, 'search'>
  /** Passed to every `collection.search()`: `k`, `mode`, `filter`, `rerank`, … Default: the collection's defaults. */
  searchOptions?: Omit<SearchOptions, 'signal'>
  /** Aborts every search of this retriever (`ABORTED`). */
  signal?: AbortSignal
}

/** A search hit as a LlamaIndex `TextNode` with its score. */
export function hitToNode(hit: SearchHit): NodeWithScore {
  const metadata: Record<string, unknown> = {
    ...hit.metadata,
    id: hit.id,
    chunkId: hit.chunkId,
    chunkIndex: hit.chunkIndex,
    firstStageScore: hit.firstStageScore,
    rankBefore: hit.rankBefore,
    section: hit.section,
    path: hit.path,
  }
  if (hit.rerankScore !== undefined) metadata.rerankScore = hit.rerankScore
  if (hit.title !== undefined) metadata.title = hit.title
  const node = new TextNode({ id_: hit.chunkId, text: hit.text, metadata })
  // Set here, not in the constructor, which drops a start of 0.
  node.startCharIdx = hit.start
  node.endCharIdx = hit.end
  return { node, score: hit.score }
}

/**
 * A LlamaIndex retriever over a winnow collection: `retrieve(query)` runs `collection.search(query,
 * searchOptions)` and returns one `{ node, score }` per hit, best first. The node is a `TextNode`
 * whose `id_` is the hit's `chunkId`, `text` the passage, `startCharIdx`/`endCharIdx` its place in
 * the document, and `metadata` the document's metadata overlaid with `id` (the document id),
 * `chunkId`, `chunkIndex`, `firstStageScore`, `rankBefore`, `section`, `path`, `title` and
 * `rerankScore` (when reranked). `score` is the hit's `score`.
 */
export class WinnowRetriever extends BaseRetriever {
  readonly collection: Pick<Collection, 'search'>
  readonly searchOptions: Omit<SearchOptions, 'signal'>
  readonly signal: AbortSignal | undefined

  constructor(options: WinnowRetrieverOptions) {
    super()
    this.collection = options.collection
    this.searchOptions = options.searchOptions ?? {}
    this.signal = options.signal
  }

  async _retrieve(params: QueryBundle): Promise<NodeWithScore[]> {
    const query = extractText(params.query)
    const hits = await this.collection.search(query, this.signal ? { ...this.searchOptions, signal: this.signal } : this.searchOptions)
    return hits.map(hitToNode)
  }
}
