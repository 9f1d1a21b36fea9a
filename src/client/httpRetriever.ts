/**
 * `httpRetriever()`: a remote first stage over HTTP, speaking the protocol of the Postgres handler
 * (`winnow-rerank/postgres`): POST `{ mode, k, query?, vector?, filter? }` as JSON, answered with
 * `{ candidates: [{ id, text, score, title?, metadata? }] }`, or an error status with
 * `{ error: { code, message } }`.
 */
import { describeValue, invalidInput, WinnowError } from '../errors.js'
import type { Retriever, RetrieverRequest } from '../types.js'

/** Options of {@link httpRetriever}. */
export interface HttpRetrieverOptions {
  /** The endpoint (resolved against the page). */
  url: string | URL
  /**
   * What the server runs, and so what leaves the device: `'keyword'` (default) sends the query
   * text; `'vector'` only the query's vector, embedded on the device (the text never leaves);
   * `'hybrid'` both.
   */
  mode?: 'keyword' | 'vector' | 'hybrid'
  /** Extra request headers (an `Authorization` token), or a function returning them per request. */
  headers?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>)
  /** REMOTE_TIMEOUT after this many ms, unless the search passes `remoteTimeoutMs`. Default 10,000. */
  timeoutMs?: number
  /** `fetch`'s credentials mode (cookies to another origin need `'include'` and CORS allowing them). Default `'same-origin'`. */
  credentials?: RequestCredentials
  /** The fetch to use (tests, instrumentation). Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch
}

const MODES = { keyword: 'text', vector: 'vector', hybrid: 'both' } as const

/**
 * A retriever that asks an HTTP endpoint (such as `winnow-rerank/postgres`'s handler) for
 * candidates; the search's signal cancels the request.
 *
 * @throws WinnowError `INVALID_INPUT` for bad options. Its requests fail with `REMOTE_FAILED`
 * (network, error status: `details.status`, `details.message`), `REMOTE_MALFORMED` (not JSON, no
 * `candidates` list).
 * @example
 * const hits = await docs.search(q, { retriever: httpRetriever({ url: '/api/first-stage', mode: 'keyword' }), k: 10 })
 */
export function httpRetriever(options: HttpRetrieverOptions): Retriever {
  if (options === null || typeof options !== 'object') throw invalidInput(`httpRetriever() options must be an object, got ${describeValue(options)}`)
  const { mode = 'keyword', headers, timeoutMs, credentials = 'same-origin' } = options
  if (typeof options.url !== 'string' && !(options.url instanceof URL)) throw invalidInput(`httpRetriever() url must be a string or URL, got ${describeValue(options.url)}`)
  let url: string
  try {
    url = new URL(String(options.url), globalThis.document?.baseURI ?? globalThis.location?.href).href
  } catch {
    throw invalidInput(`httpRetriever() url ${JSON.stringify(String(options.url))} is not a valid URL`)
  }
  if (!Object.hasOwn(MODES, mode)) throw invalidInput(`httpRetriever() mode must be 'keyword', 'vector' or 'hybrid', got ${describeValue(mode)}`)
  if (headers !== undefined && typeof headers !== 'function' && (headers === null || typeof headers !== 'object')) throw invalidInput('httpRetriever() headers must be an object or a function returning one')
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0))) throw invalidInput(`httpRetriever() timeoutMs must be a number of ms > 0, got ${describeValue(timeoutMs)}`)
  if (options.fetch !== undefined && typeof options.fetch !== 'function') throw invalidInput('httpRetriever() fetch must be a function')
  const retriever: Retriever = {
    send: MODES[mode],
    async retrieve(request: RetrieverRequest) {
      const doFetch = options.fetch ?? globalThis.fetch
      const body: Record<string, unknown> = { mode, k: request.k }
      if (request.query !== undefined) body.query = request.query
      if (request.vector !== undefined) body.vector = request.vector
      if (request.filter !== undefined) body.filter = request.filter
      const extra = typeof headers === 'function' ? await headers() : (headers ?? {})
      let response: Response
      try {
        response = await doFetch(url, {
          method: 'POST',
          headers: { ...extra, 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(body),
          credentials,
          signal: request.signal,
        })
      } catch (error) {
        if (request.signal.aborted) throw error // the search reports ABORTED or REMOTE_TIMEOUT
        throw new WinnowError('REMOTE_FAILED', `the retriever's request to ${url} failed (network, CORS or connect-src?): ${messageOf(error)}`, { url, status: 0, message: messageOf(error) })
      }
      const text = await response.text()
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        if (!response.ok) throw failed(url, response.status, text.slice(0, 200))
        throw new WinnowError('REMOTE_MALFORMED', `${url} answered with something that is not JSON (status ${response.status})`, { url, field: 'body', status: response.status })
      }
      if (!response.ok) {
        const error = (json as { error?: { message?: unknown; code?: unknown } } | null)?.error
        throw failed(url, response.status, typeof error?.message === 'string' ? error.message : text.slice(0, 200), typeof error?.code === 'string' ? error.code : undefined)
      }
      const candidates = (json as { candidates?: unknown } | null)?.candidates
      if (!Array.isArray(candidates)) throw new WinnowError('REMOTE_MALFORMED', `${url} answered without a candidates list`, { url, field: 'candidates' })
      return candidates
    },
  }
  if (timeoutMs !== undefined) retriever.timeoutMs = timeoutMs
  return retriever
}

function failed(url: string, status: number, message: string, code?: string): WinnowError {
  const details: Record<string, unknown> = { url, status, message }
  if (code !== undefined) details.code = code
  return new WinnowError('REMOTE_FAILED', `${url} answered ${status}: ${message}`, details)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
