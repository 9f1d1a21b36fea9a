/**
 * `winnow.search()` in the worker: the search pipeline over a remote retriever's candidates, with
 * no collection (candidates carry their own text). Snippets, term-overlap MMR and highlights use
 * the default English analyzer.
 */
import { WinnowError } from '../errors.js'
import { createAnalyzer } from '../text/analyzer.js'
import type { Checkpoint } from '../core/checkpoint.js'
import { runPipeline } from './pipeline.js'
import { checkRemoteFirstStage, remoteRetrieved } from './remote.js'
import { resolvePipeline } from './searchOptions.js'
import type { PipelineResult, SearchExtras } from './types.js'

let analyzer: ReturnType<typeof createAnalyzer> | null = null

/**
 * Checks a search with a retriever before the page calls it, and says how many candidates to ask
 * for (the search's resolved `candidates`): the worker is the authority on every option.
 *
 * @throws WinnowError `INVALID_INPUT` naming the option.
 * @example
 * planRemoteSearch({ k: 5 }, { firstStage: 'remote', mode: 'keyword' }, { hasReranker: true, standalone: true }) // 50
 */
export function planRemoteSearch(request: Record<string, unknown>, remote: { firstStage: unknown; mode: unknown }, context: { hasReranker: boolean; standalone: boolean }): number {
  if (request === null || typeof request !== 'object') throw new WinnowError('INVALID_INPUT', 'search options must be an object')
  if (context.standalone && remote.firstStage === 'fuse') throw new WinnowError('INVALID_INPUT', "firstStage: 'fuse' merges a collection's first stage with the retriever's; winnow.search() has no collection: use collection.search()")
  checkRemoteFirstStage(request, { ...remote, candidates: [] })
  return resolvePipeline(request, context).candidates
}

/**
 * Runs the pipeline over remote candidates only.
 *
 * @throws WinnowError `INVALID_INPUT` for the options (and `firstStage: 'fuse'`: there is no collection to fuse with), `REMOTE_MALFORMED` for the candidates.
 * @example
 * const { hits, route } = await searchRemote({ query: 'install', k: 5 }, checkpoint, { remote, hasReranker: true, reranker })
 */
export async function searchRemote(request: { query: string } & Record<string, unknown>, checkpoint: Checkpoint, extras: SearchExtras): Promise<PipelineResult> {
  if (request === null || typeof request !== 'object') throw new WinnowError('INVALID_INPUT', 'search options must be an object')
  if (typeof request.query !== 'string') throw new WinnowError('INVALID_INPUT', `query must be a string, got ${typeof request.query}`)
  if (!extras.remote) throw new WinnowError('INVALID_INPUT', 'winnow.search() needs a retriever: pass options.retriever')
  if (extras.remote.firstStage === 'fuse') throw new WinnowError('INVALID_INPUT', "firstStage: 'fuse' merges a collection's first stage with the retriever's; winnow.search() has no collection: use collection.search()")
  const options = resolvePipeline(request, { hasReranker: extras.hasReranker ?? false })
  if (options.stages.length > 0 && !extras.reranker) throw new WinnowError('INVALID_INPUT', 'reranking needs a reranker, and none is available here')
  const remote = checkRemoteFirstStage(request, extras.remote)
  analyzer ??= createAnalyzer()
  return runPipeline(request.query, options, {
    analyzer,
    checkpoint,
    onFirstStage: extras.onFirstStage,
    now: extras.now,
    reranker: (stage) => extras.reranker!(stage),
    retrieve: async (depth) => remoteRetrieved(remote.candidates, remote.mode, depth),
  })
}
