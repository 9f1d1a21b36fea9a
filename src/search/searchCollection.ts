/**
 * A search over an open collection: resolves the options once, then runs the first stage (the
 * collection's own, a remote retriever's candidates, or both fused) and the pipeline after it.
 */
import type { Checkpoint } from '../core/checkpoint.js'
import type { SearchableCollection } from '../collection/ports.js'
import { runPipeline } from './pipeline.js'
import { retrieveCandidates, type QueryContext } from './query.js'
import { fuseRetrieved, remoteRetrieved } from './remote.js'
import { resolveSearch } from './searchOptions.js'
import type { PipelineResult, SearchExtras, SearchRequest } from './types.js'

/**
 * Searches a collection: the first stage (keyword, vector or hybrid), then what `extras` makes
 * possible — reranking (with `extras.reranker`), routing, diversification, snippets. Without a
 * reranker port, `rerank` defaults to off. The options are checked once, here (see
 * `resolveSearch`): a request that is not an object is INVALID_INPUT.
 *
 * @example
 * const { hits, route } = await searchCollection(engine, { query: 'install', mode: 'keyword', k: 5 }, checkpoint)
 */
export async function searchCollection(collection: SearchableCollection, request: SearchRequest, checkpoint: Checkpoint, extras: SearchExtras = {}): Promise<PipelineResult> {
  const search = resolveSearch(request, { hasReranker: extras.hasReranker ?? false, canRerank: Boolean(extras.reranker), remote: extras.remote ?? null })
  await collection.refresh()
  const context = (): QueryContext => ({ ...collection.view(), checkpoint })
  const { firstStage, remote } = search
  const local = (depth: number) => retrieveCandidates(firstStage!, depth, { context, refresh: () => collection.refresh(), loadVectors: collection.loadVectors && (() => collection.loadVectors!()) })
  return runPipeline(search.query, search.pipeline, {
    analyzer: collection.view().analyzer,
    checkpoint,
    onFirstStage: extras.onFirstStage,
    now: extras.now,
    reranker: (stage) => extras.reranker!(stage),
    retrieve: !remote
      ? local
      : remote.firstStage === 'remote'
        ? async (depth) => remoteRetrieved(remote.candidates, remote.mode, depth)
        : async (depth) => fuseRetrieved(await local(depth), remote.candidates, depth),
  })
}
