/**
 * A search over an open collection: resolves the options once, then runs the first stage (the
 * collection's own, a remote retriever's candidates, or both fused) and the pipeline after it.
 */
import type { Checkpoint } from '../core/checkpoint.js'
import type { SearchableCollection } from '../collection/ports.js'
import { WinnowError } from '../errors.js'
import { runPipeline } from './pipeline.js'
import { retrieveCandidates, type QueryContext } from './query.js'
import { checkRemoteFirstStage, fuseRetrieved, remoteRetrieved } from './remote.js'
import { resolvePipeline } from './searchOptions.js'
import type { PipelineResult, SearchExtras, SearchRequest } from './types.js'

/**
 * Searches a collection: the first stage (keyword, vector or hybrid), then what `extras` makes
 * possible — reranking (with `extras.reranker`), routing, diversification, snippets. Without a
 * reranker port, `rerank` defaults to off.
 *
 * @example
 * const { hits, route } = await searchCollection(engine, { query: 'install', mode: 'keyword', k: 5 }, checkpoint)
 */
export async function searchCollection(collection: SearchableCollection, request: SearchRequest, checkpoint: Checkpoint, extras: SearchExtras = {}): Promise<PipelineResult> {
  if (request === null || typeof request !== 'object') throw new WinnowError('INVALID_INPUT', 'search options must be an object')
  const options = resolvePipeline(request as unknown as Record<string, unknown>, { hasReranker: extras.hasReranker ?? false })
  if (options.stages.length > 0 && !extras.reranker) throw new WinnowError('INVALID_INPUT', 'reranking needs a reranker, and none is available here')
  await collection.refresh()
  const context = (): QueryContext => ({ ...collection.view(), checkpoint })
  const { query, mode, filter, fusion, vector, minVectorScore } = request
  const local = (depth: number) => retrieveCandidates({ query, mode, filter, fusion, vector, minVectorScore }, depth, { context, refresh: () => collection.refresh() })
  const remote = extras.remote ? checkRemoteFirstStage(request, extras.remote) : null
  return runPipeline(query, options, {
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
