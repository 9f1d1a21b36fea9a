/**
 * The page's half of a remote first stage. Workers cannot call page functions, so the page calls
 * the retriever (with the search's signal and a timeout), checks its answer, and hands the
 * candidates to the worker, whose pipeline reranks, diversifies and cuts snippets as for its own.
 */
import { proxy, type Remote } from 'comlink'
import { describeValue, deserializeError, invalidInput, WinnowError } from '../errors.js'
import type { Retriever, RetrieverFunction, RetrieverRequest, SearchHit, SearchMode, SearchResults } from '../types.js'
import type { CollectionRef, Envelope, WorkerApi, PipelineResult } from '../worker/protocol.js'
import { abortError, retryAfterDeviceLoss, type WorkerConnection } from './connection.js'

/** How long a retriever may take when neither the search nor the retriever says. */
export const DEFAULT_REMOTE_TIMEOUT_MS = 10_000
/** Longest `remoteTimeoutMs` (setTimeout's limit is about 24.8 days; ten minutes is plenty). */
const MAX_REMOTE_TIMEOUT_MS = 600_000

/** A retriever as given, made uniform. */
export interface ResolvedRetriever {
  retrieve: RetrieverFunction
  send: 'text' | 'vector' | 'both'
  timeoutMs?: number
}

/** What a search with a retriever needs from the instance. */
export interface RemoteSearchHost {
  connection: WorkerConnection
  nextCallId(): number
  /** Starts the worker (and, for a collection, opens it); resolves once the models are known. */
  ready(signal?: AbortSignal): Promise<void>
  /** Whether the instance has a reranker of its own (decides the default of `rerank`). */
  hasReranker(): boolean
  /** The collection searched, or null for `winnow.search()`. */
  ref(): CollectionRef | null
}

/**
 * Runs a search whose first stage is a remote retriever: checks the options, embeds the query on
 * the device when the retriever is sent a vector, calls the retriever (abortable, with a timeout),
 * checks its answer, then runs the pipeline in the worker.
 *
 * @example
 * const hits = await searchWithRetriever(host, 'memory leaks', { retriever: httpRetriever({ url: '/search' }), k: 5 })
 */
export async function searchWithRetriever(host: RemoteSearchHost, query: unknown, options: Record<string, unknown>): Promise<SearchResults> {
  const { signal, onFirstStage, retriever, firstStage = 'remote', remoteTimeoutMs, ...rest } = options as Record<string, unknown> & {
    signal?: AbortSignal
    onFirstStage?: (hits: SearchHit[]) => void
  }
  if (typeof query !== 'string') throw invalidInput(`query must be a string, got ${describeValue(query)}`)
  const remote = resolveRetriever(retriever)
  const timeoutMs = remoteTimeoutMs ?? remote.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS
  checkTimeout(timeoutMs, 'remoteTimeoutMs')
  const mode: SearchMode = remote.send === 'text' ? 'keyword' : remote.send === 'vector' ? 'vector' : 'hybrid'
  // The worker checks every option (it is the authority) and says how many candidates to ask for.
  const k = await inWorker(host, signal, (api) => api.planRemoteSearch(host.ref(), rest, { firstStage: firstStage as 'remote', mode }))

  const request: Omit<RetrieverRequest, 'signal'> = { k }
  if (remote.send !== 'vector') request.query = query
  if (remote.send !== 'text') request.vector = await queryVector(host, query, rest.vector, signal)
  if (rest.filter !== undefined) request.filter = rest.filter as RetrieverRequest['filter']
  const started = performance.now()
  const candidates = plainCandidates(await callRetriever(remote, request, signal, timeoutMs as number))
  const remoteMs = performance.now() - started

  const { hits, route } = await inWorker(host, signal, (api, callId) => {
    // An aborted search stays silent: its first-stage hits must not overwrite a newer search's.
    const firstStageHits = onFirstStage
      ? proxy((hits: SearchHit[]) => {
          if (!signal?.aborted) onFirstStage(hits)
        })
      : undefined
    return api.searchRemote(callId, host.ref(), query, rest, { candidates, firstStage: firstStage as 'remote', mode }, firstStageHits) as Promise<Envelope<PipelineResult>>
  })
  route.timings.remoteMs = remoteMs
  return Object.assign(hits, { route })
}

/** One worker call of a search: started (and the collection opened) first, abortable, retried once after a lost WebGPU device. */
function inWorker<T>(host: RemoteSearchHost, signal: AbortSignal | undefined, call: (api: Remote<WorkerApi>, callId: number) => Promise<Envelope<T>>): Promise<T> {
  return retryAfterDeviceLoss(signal, async () => {
    await host.ready(signal)
    const callId = host.nextCallId()
    return unwrap(await host.connection.call((api) => call(api, callId), { signal, onAbort: (api) => void api.cancel(callId) }))
  })
}

/**
 * A retriever as given (a function, or `{ retrieve, send?, timeoutMs? }`), checked.
 *
 * @throws WinnowError `INVALID_INPUT`.
 * @example
 * resolveRetriever(async ({ query, k }) => rows) // { retrieve, send: 'text' }
 */
export function resolveRetriever(value: unknown): ResolvedRetriever {
  if (typeof value === 'function') return { retrieve: value as RetrieverFunction, send: 'text' }
  if (value === null || typeof value !== 'object' || typeof (value as Retriever).retrieve !== 'function') {
    throw invalidInput(`retriever must be a function or { retrieve(request), send?, timeoutMs? }, got ${describeValue(value)}`)
  }
  const { retrieve, send = 'text', timeoutMs } = value as Retriever
  if (send !== 'text' && send !== 'vector' && send !== 'both') throw invalidInput(`retriever.send must be 'text', 'vector' or 'both', got ${describeValue(send)}`)
  if (timeoutMs !== undefined) checkTimeout(timeoutMs, 'retriever.timeoutMs')
  const out: ResolvedRetriever = { retrieve: (request) => retrieve.call(value, request), send }
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs
  return out
}

/**
 * Calls a retriever with a signal that aborts when the search's does or `timeoutMs` runs out, and
 * settles at that moment whether or not the retriever honours the signal: no call hangs.
 *
 * @throws WinnowError `ABORTED`, `REMOTE_TIMEOUT`, or `REMOTE_FAILED` (anything else it threw).
 * @example
 * const answer = await callRetriever(remote, { query: 'q', k: 50 }, signal, 10_000)
 */
export function callRetriever(retriever: ResolvedRetriever, request: Omit<RetrieverRequest, 'signal'>, signal: AbortSignal | undefined, timeoutMs: number): Promise<unknown> {
  const controller = new AbortController()
  return new Promise((resolve, reject) => {
    let settled = false
    const finish = (settle: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      settle()
    }
    const onAbort = () => {
      const error = abortError(signal!)
      finish(() => reject(error))
      controller.abort(signal!.reason)
    }
    const timer = setTimeout(() => {
      const error = new WinnowError('REMOTE_TIMEOUT', `the retriever did not answer within ${timeoutMs} ms (remoteTimeoutMs); its request was aborted`, { ms: timeoutMs })
      finish(() => reject(error))
      controller.abort(error)
    }, timeoutMs)
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    let pending: Promise<unknown>
    try {
      pending = Promise.resolve(retriever.retrieve({ ...request, signal: controller.signal }))
    } catch (error) {
      pending = Promise.reject(error)
    }
    pending.then(
      (value) => finish(() => resolve(value)),
      (error) => finish(() => reject(remoteFailure(error))),
    )
  })
}

/**
 * The answer as data that can cross to the worker, which checks it (REMOTE_MALFORMED naming the
 * first bad candidate and field): known fields only, metadata as JSON.
 */
function plainCandidates(answer: unknown): unknown[] {
  if (!Array.isArray(answer)) throw new WinnowError('REMOTE_MALFORMED', `the retriever must answer with an array of { id, text } candidates, got ${describeValue(answer)}`, { field: 'candidates' })
  return answer.map((c) => {
    if (c === null || typeof c !== 'object') return c
    const { id, text, score, title, metadata, documentId, vector } = c as Record<string, unknown>
    let meta = metadata
    try {
      meta = metadata === undefined ? undefined : JSON.parse(JSON.stringify(metadata))
    } catch {
      meta = 'not JSON-safe'
    }
    return { id, text, score, title, metadata: meta, documentId, vector: ArrayBuffer.isView(vector) ? Array.from(vector as Float32Array) : vector }
  })
}

/** What a retriever threw, as a WinnowError: typed errors pass, anything else is REMOTE_FAILED. */
function remoteFailure(error: unknown): WinnowError {
  if (error instanceof WinnowError) return error
  const message = error instanceof Error ? error.message : String(error)
  const details: Record<string, unknown> = { message }
  const status = (error as { status?: unknown } | null)?.status
  if (typeof status === 'number') details.status = status
  return new WinnowError('REMOTE_FAILED', `the retriever failed: ${message}`, details, { cause: error })
}

/** The query's vector for the retriever: the caller's, else embedded in the worker. */
async function queryVector(host: RemoteSearchHost, query: string, given: unknown, signal: AbortSignal | undefined): Promise<number[]> {
  if (given !== undefined) {
    if (!(Array.isArray(given) || ArrayBuffer.isView(given))) throw invalidInput('vector must be a Float32Array or an array of numbers')
    return Array.from(given as ArrayLike<number>)
  }
  return Array.from(await inWorker(host, signal, (api, callId) => api.embedQuery(callId, host.ref(), query)))
}

function checkTimeout(value: unknown, name: string): void {
  if (typeof value !== 'number' || !(value > 0 && value <= MAX_REMOTE_TIMEOUT_MS)) throw invalidInput(`${name} must be a number of ms from 1 to ${MAX_REMOTE_TIMEOUT_MS}, got ${describeValue(value)}`)
}

function unwrap<T>(envelope: Envelope<T>): T {
  if (envelope.ok) return envelope.value
  throw deserializeError(envelope.error)
}
