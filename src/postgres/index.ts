/**
 * `winnow-rerank/postgres`: a remote first stage on Postgres, for Node servers. It answers the
 * requests of `httpRetriever()` (POST `{ mode, k, query?, vector?, filter? }`) with candidates from
 * full-text search (`tsvector`, `ts_rank_cd`), pgvector similarity (`<=>`, cosine) or both fused by
 * RRF in SQL; the page reranks them on the device. It depends on no Postgres driver: pass any
 * client with `query(text, params)` (`pg`'s Pool, PGlite, …).
 *
 * @example
 * import pg from 'pg'
 * import { createPostgresHandler } from 'winnow-rerank/postgres'
 * const search = createPostgresHandler({ client: new pg.Pool(), table: 'passages', columns: { tsvector: 'tsv', vector: 'embedding', metadata: 'meta' } })
 * app.post('/api/first-stage', search) // Express; or http.createServer(search)
 */
import { invalidInput } from '../errors.js'
import { buildFirstStageQuery, checkFirstStageRequest, FirstStageRequestError, resolveFirstStage, type PostgresFirstStageOptions, type ResolvedFirstStage } from './sql.js'

export {
  buildFirstStageQuery,
  checkFirstStageRequest,
  FirstStageRequestError,
  resolveFirstStage,
  type FirstStageRequest,
  type PostgresClient,
  type PostgresColumns,
  type PostgresFirstStageOptions,
  type ResolvedFirstStage,
} from './sql.js'

/** Options of {@link createPostgresHandler}. */
export interface PostgresHandlerOptions extends PostgresFirstStageOptions {
  /** Largest request body, in bytes (413 beyond). Default 1,000,000. */
  maxBodyBytes?: number
  /** How long to wait for the body to arrive, in ms (408 beyond). Default 30,000. */
  bodyTimeoutMs?: number
  /**
   * Origins allowed to call from another origin (CORS): `Access-Control-Allow-Origin` is sent to
   * these, and preflight `OPTIONS` requests are answered. Default: none (same origin only).
   */
  allowOrigin?: string | readonly string[]
  /** Called with a failure that is not the caller's (a database error); the caller gets a plain 500. Default `console.error`. */
  onError?: (error: unknown) => void
}

/** An answer as data: for frameworks with their own request and response objects (Hono, Fastify, …). */
export interface FirstStageAnswer {
  status: number
  body: { candidates: FirstStageCandidate[] } | { error: { code: string; message: string } }
}

/** One candidate as the handler answers it (the shape `httpRetriever()` reads). */
export interface FirstStageCandidate {
  id: string
  text: string
  score: number
  title?: string
  metadata?: Record<string, unknown>
}

/** The request as the handler reads it: Node's IncomingMessage, Express's Request (`body` when already parsed). */
export interface HandlerRequest {
  method?: string
  headers: Record<string, string | string[] | undefined>
  body?: unknown
  on(event: 'data', listener: (chunk: Uint8Array | string) => void): unknown
  on(event: 'end' | 'close', listener: () => void): unknown
  on(event: 'error', listener: (error: unknown) => void): unknown
  /** Node's: true once the body stream has ended (read by someone). */
  readonly readableEnded?: boolean
  readonly destroyed?: boolean
}

/** The response as the handler writes it: Node's ServerResponse, Express's Response. */
export interface HandlerResponse {
  statusCode: number
  setHeader(name: string, value: string): unknown
  end(body?: string): unknown
  readonly writableEnded?: boolean
  readonly destroyed?: boolean
}

/** A `(req, res)` handler, with {@link FirstStageAnswer}-returning `handle(body)` for other frameworks. */
export interface PostgresHandler {
  (req: HandlerRequest, res: HandlerResponse, next?: (error?: unknown) => void): Promise<void>
  /** Answers a parsed body; never throws. */
  handle(body: unknown): Promise<FirstStageAnswer>
}

/**
 * A Node `http` handler answering `httpRetriever()`'s requests from Postgres. Requests are checked
 * (400 with `{ error: { code, message } }`), `k` is capped (`maxK`), SQL is parameterised; only
 * POST with a JSON body is accepted (405, 415, 413 otherwise). Table and column names are checked
 * here, at setup (a WinnowError `INVALID_INPUT`).
 *
 * @example
 * http.createServer(createPostgresHandler({ client: pool, table: 'passages', columns: { tsvector: 'tsv' } })).listen(8080)
 */
export function createPostgresHandler(options: PostgresHandlerOptions): PostgresHandler {
  const config = resolveFirstStage(options)
  const maxBodyBytes = options.maxBodyBytes ?? 1_000_000
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) throw invalidInput(`options.maxBodyBytes must be a positive integer, got ${JSON.stringify(maxBodyBytes)}`, { option: 'maxBodyBytes' })
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 30_000
  if (!Number.isInteger(bodyTimeoutMs) || bodyTimeoutMs < 1) throw invalidInput(`options.bodyTimeoutMs must be a positive integer, got ${JSON.stringify(bodyTimeoutMs)}`, { option: 'bodyTimeoutMs' })
  const origins = options.allowOrigin === undefined ? [] : typeof options.allowOrigin === 'string' ? [options.allowOrigin] : [...options.allowOrigin]
  const onError = options.onError ?? ((error: unknown) => console.error('winnow-rerank/postgres:', error))

  const handle = (body: unknown) => answer(body, config, onError)
  const handler = async (req: HandlerRequest, res: HandlerResponse) => {
    const origin = header(req, 'origin')
    if (origin && (origins.includes(origin) || origins.includes('*'))) {
      res.setHeader('Access-Control-Allow-Origin', origins.includes('*') ? '*' : origin)
      res.setHeader('Vary', 'Origin')
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST')
      res.setHeader('Access-Control-Allow-Headers', header(req, 'access-control-request-headers') ?? 'content-type')
      res.setHeader('Access-Control-Max-Age', '600')
      res.statusCode = 204
      res.end()
      return
    }
    let result: FirstStageAnswer
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS')
      result = failure(405, 'method_not_allowed', 'use POST with a JSON body')
    } else if (!/^application\/json\b/i.test(header(req, 'content-type') ?? '')) {
      result = failure(415, 'unsupported_media_type', 'the body must be JSON (content-type: application/json)')
    } else {
      const body = await readBody(req, maxBodyBytes, bodyTimeoutMs)
      result = 'error' in body ? body.error : await handle(body.value)
    }
    // A caller that went away (an aborted search) gets nothing written.
    if (res.writableEnded || res.destroyed) return
    res.statusCode = result.status
    res.setHeader('Content-Type', 'application/json; charset=utf-8')
    res.setHeader('Cache-Control', 'no-store')
    res.end(JSON.stringify(result.body))
  }
  return Object.assign(handler, { handle })
}

/** Checks, queries and shapes one request. */
async function answer(body: unknown, config: ResolvedFirstStage, onError: (error: unknown) => void): Promise<FirstStageAnswer> {
  let query: { text: string; params: unknown[] }
  try {
    query = buildFirstStageQuery(checkFirstStageRequest(body, config), config)
  } catch (error) {
    if (error instanceof FirstStageRequestError) return failure(error.status, error.code, error.message)
    onError(error)
    return failure(500, 'internal', 'the first stage failed')
  }
  try {
    const { rows } = await config.client.query(query.text, query.params)
    return { status: 200, body: { candidates: rows.map(toCandidate) } }
  } catch (error) {
    onError(error)
    return failure(500, 'internal', 'the first stage failed; the server logged why')
  }
}

function toCandidate(row: Record<string, unknown>): FirstStageCandidate {
  const candidate: FirstStageCandidate = { id: String(row.id), text: typeof row.text === 'string' ? row.text : String(row.text ?? ''), score: Number(row.score) }
  if (!Number.isFinite(candidate.score)) candidate.score = 0
  if (typeof row.title === 'string') candidate.title = row.title
  const metadata = typeof row.metadata === 'string' ? safeParse(row.metadata) : row.metadata
  if (metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata)) candidate.metadata = metadata as Record<string, unknown>
  return candidate
}

/**
 * The body as JSON. Middleware may have read it already: a parsed object is used as is; a Buffer or
 * string (`express.raw()`, `express.text()`) is parsed here. Otherwise it is read from the stream, at
 * most `limit` bytes within `timeoutMs`; a stream that has already ended with nothing left here is a
 * 400 at once, never a wait for data that will not come.
 */
function readBody(req: HandlerRequest, limit: number, timeoutMs: number): Promise<{ value: unknown } | { error: FirstStageAnswer }> {
  const given = req.body
  if (typeof given === 'string' || isBytes(given)) {
    const bytes = typeof given === 'string' ? new TextEncoder().encode(given) : given instanceof ArrayBuffer ? new Uint8Array(given) : (given as Uint8Array)
    return Promise.resolve(bytes.length > limit ? tooLarge(limit) : parseJson(bytes))
  }
  const streamUnread = req.readableEnded === false && !req.destroyed
  // body-parser 1 (Express 4) sets `req.body = {}` before deciding whether to parse, and leaves the
  // stream unread when it does not: that placeholder is not the body.
  const placeholder = given !== null && typeof given === 'object' && Object.keys(given).length === 0 && Object.getPrototypeOf(given) === Object.prototype && streamUnread
  if (given !== undefined && given !== null && typeof given === 'object' && !placeholder) return Promise.resolve({ value: given })
  if (req.readableEnded || req.destroyed) {
    return Promise.resolve({ error: failure(400, 'body_unavailable', 'the request body was already read (by middleware?) and req.body holds nothing usable; mount the handler before body parsers, or after express.json() or express.raw()') })
  }
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = []
    let size = 0
    let done = false
    const finish = (result: { value: unknown } | { error: FirstStageAnswer }) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve(result)
    }
    const timer = setTimeout(() => finish({ error: failure(408, 'body_timeout', `the body did not arrive within ${timeoutMs} ms`) }), timeoutMs)
    req.on('data', (chunk) => {
      const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk
      size += bytes.length
      if (size > limit) finish(tooLarge(limit))
      else if (!done) chunks.push(bytes)
    })
    req.on('end', () => {
      const all = new Uint8Array(size)
      let at = 0
      for (const c of chunks) {
        all.set(c, at)
        at += c.length
      }
      finish(parseJson(all))
    })
    req.on('error', () => finish({ error: failure(400, 'invalid_request', 'the request failed while reading its body') }))
    req.on('close', () => finish({ error: failure(400, 'invalid_request', 'the request closed before its body ended') }))
  })
}

function parseJson(bytes: Uint8Array): { value: unknown } | { error: FirstStageAnswer } {
  try {
    return { value: JSON.parse(new TextDecoder().decode(bytes)) }
  } catch {
    return { error: failure(400, 'invalid_json', 'the body is not valid JSON') }
  }
}

function tooLarge(limit: number): { error: FirstStageAnswer } {
  return { error: failure(413, 'payload_too_large', `the body is over ${limit} bytes`) }
}

function isBytes(value: unknown): boolean {
  return value instanceof Uint8Array || value instanceof ArrayBuffer
}

function header(req: HandlerRequest, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

function failure(status: number, code: string, message: string): FirstStageAnswer {
  return { status, body: { error: { code, message } } }
}
