/**
 * `winnow.search()` in the worker: the search pipeline over a remote retriever's candidates, with
 * no collection (candidates carry their own text). Snippets, term-overlap MMR and highlights use
 * the default English analyzer.
 */
import { invalidInput } from '../errors.js'
import { createAnalyzer } from '../text/analyzer.js'
import type { Checkpoint } from '../core/checkpoint.js'
import { runPipeline } from './pipeline.js'
import { checkRemoteFirstStage, remoteRetrieved } from './remote.js'
import { checkRequest, resolvePipeline, resolveSearch } from './searchOptions.js'
import type { PipelineResult, SearchExtras } from './types.js'

let analyzer: ReturnType<typeof createAnalyzer> | null = null

const NO_COLLECTION_TO_FUSE = "firstStage: 'fuse' merges a collection's first stage with the retriever's; winnow.search() has no collection: use collection.search()"

/**
 * Checks a search with a retriever before the page calls it, and says how many candidates to ask
 * for (the search's resolved `candidates`): the worker is the authority on every option. The
 * collection's own first stage (with `firstStage: 'fuse'`) is checked when the search runs.
 *
 * @throws WinnowError `INVALID_INPUT` naming the option (a request that is not an object included).
 * @example
 * planRemoteSearch({ k: 5 }, { firstStage: 'remote', mode: 'keyword' }, { hasReranker: true, standalone: true }) // 50
 */
export function planRemoteSearch(request: unknown, remote: { firstStage: unknown; mode: unknown }, context: { hasReranker: boolean; standalone: boolean }): number {
  const options = checkRequest(request)
  if (context.standalone && remote.firstStage === 'fuse') throw invalidInput(NO_COLLECTION_TO_FUSE)
  checkRemoteFirstStage(options, { ...remote, candidates: [] })
  return resolvePipeline(options, context).candidates
}

/**
 * Runs the pipeline over remote candidates only.
 *
 * @throws WinnowError `INVALID_INPUT` for the options (a request that is not an object, and
 *   `firstStage: 'fuse'`: there is no collection to fuse with), `REMOTE_MALFORMED` for the candidates.
 * @example
 * const { hits, route } = await searchRemote({ query: 'install', k: 5 }, checkpoint, { remote, hasReranker: true, reranker })
 */
export async function searchRemote(request: { query: string } & Record<string, unknown>, checkpoint: Checkpoint, extras: SearchExtras): Promise<PipelineResult> {
  const options = checkRequest(request)
  if (typeof options.query !== 'string') throw invalidInput(`query must be a string, got ${typeof options.query}`)
  if (!extras.remote) throw invalidInput('winnow.search() needs a retriever: pass options.retriever')
  if (extras.remote.firstStage === 'fuse') throw invalidInput(NO_COLLECTION_TO_FUSE)
  const search = resolveSearch(options, { hasReranker: extras.hasReranker ?? false, canRerank: Boolean(extras.reranker), remote: extras.remote })
  const remote = search.remote!
  analyzer ??= createAnalyzer()
  return runPipeline(search.query, search.pipeline, {
    analyzer,
    checkpoint,
    onFirstStage: extras.onFirstStage,
    now: extras.now,
    reranker: (stage) => extras.reranker!(stage),
    retrieve: async (depth) => remoteRetrieved(remote.candidates, remote.mode, depth),
  })
}
