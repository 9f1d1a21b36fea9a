/**
 * A fetch wrapper that remembers why model files failed, so a load error can name the URL and the
 * HTTP status, and recognise the classic misconfiguration of a server answering a missing file
 * with its HTML index page (status 200, text/html).
 */

/** One failed request. */
export interface FetchFailure {
  url: string
  /** HTTP status, or 0 when the request itself failed (offline, CORS, DNS). */
  status: number
  /** The server sent an HTML page where a model file was expected. */
  html: boolean
  message?: string
  /** The body stopped short: the connection closed early, or fewer bytes came than Content-Length said. */
  cut?: true
  /** Bytes of the body that arrived before the cut. */
  received?: number
  /** Bytes the server announced (Content-Length), when it did. */
  expected?: number
}

import { policyViolations } from './policyViolations.js'

const MODEL_FILE = /\.(onnx|json|txt|model|onnx_data|wasm|mjs)(\?|$)/i
/**
 * Model files whose bodies are watched for a cut. Not the WASM runtime: `instantiateStreaming`
 * wants its response as the network gave it.
 */
const WATCHED_BODY = /\.(onnx|onnx_data|json|txt|model)(\?|$)/i

/**
 * Wraps `fetch`. An HTML answer for a model file is recorded and turned into a 404 response, so
 * the loader neither parses nor caches it. The body of a model file is watched as it streams: one
 * that breaks off (the browser reports a connection closed early, or a length mismatch) or, where
 * its length can be trusted, ends before its Content-Length is recorded as `cut` and errors the
 * stream, so the loader neither parses nor caches the part (transformers.js would otherwise pad a
 * short body with zeros to Content-Length, and cache that).
 *
 * @example
 * const recorder = new FetchRecorder(fetch)
 * env.fetch = recorder.fetch
 * // after a failed load:
 * recorder.failures // [{ url, status: 404, html: false }]
 */
export class FetchRecorder {
  readonly failures: FetchFailure[] = []
  /** Every URL requested, in order (to name the file a parse error came from). */
  readonly requested: string[] = []
  /** Where this load's Content-Security-Policy violations start (see {@link policyViolations}). */
  violationMark = policyViolations().mark()
  readonly fetch: typeof fetch

  constructor(inner: typeof fetch) {
    this.fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
      this.requested.push(url)
      let response: Response
      try {
        response = await inner(input, init)
      } catch (e) {
        this.failures.push({ url, status: 0, html: false, message: e instanceof Error ? e.message : String(e) })
        throw e
      }
      if (!response.ok) {
        this.failures.push({ url, status: response.status, html: false })
        return response
      }
      const type = response.headers.get('content-type') ?? ''
      const path = new URL(url, 'http://x/').pathname
      if (MODEL_FILE.test(path) && /text\/html/i.test(type)) {
        this.failures.push({ url, status: response.status, html: true })
        void response.body?.cancel()
        return new Response(null, { status: 404, statusText: 'HTML page instead of a model file' })
      }
      // Whole files only: a range request (a size probe) answers with part of a file on purpose.
      if (WATCHED_BODY.test(path) && response.status === 200 && response.body && !hasRange(input, init)) return this.watchBody(url, response)
      return response
    }
  }

  /** The response with its body passed through a watch that records (and fails) a cut. */
  private watchBody(url: string, response: Response): Response {
    const declared = Number.parseInt(response.headers.get('content-length') ?? '', 10)
    const expected = Number.isFinite(declared) && declared >= 0 ? declared : undefined
    // Content-Length counts the bytes sent: it is the body's length only without a content
    // encoding, which a cross-origin response does not show (a decoded body is longer, except for
    // incompressible files, where it can be shorter without anything missing).
    const measurable = expected !== undefined && (response.type === 'basic' || response.type === 'default') && !response.headers.get('content-encoding')
    const reader = response.body!.getReader()
    let received = 0
    let cancelled = false
    const cut = (controller: ReadableStreamDefaultController<Uint8Array>, why: string) => {
      this.failures.push({ url, status: response.status, html: false, cut: true, received, ...(expected !== undefined ? { expected } : {}), message: why })
      controller.error(new TypeError(`${url}: the download was cut short after ${received}${expected !== undefined ? ` of ${expected}` : ''} bytes (${why})`))
    }
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        let chunk: ReadableStreamReadResult<Uint8Array>
        try {
          chunk = await reader.read()
        } catch (error) {
          if (!cancelled) cut(controller, error instanceof Error ? error.message : String(error))
          return
        }
        if (chunk.done) {
          if (!cancelled && measurable && received < expected!) cut(controller, 'the body ended before its Content-Length')
          else controller.close()
          return
        }
        received += chunk.value.byteLength
        controller.enqueue(chunk.value)
      },
      cancel: (reason) => {
        cancelled = true
        return reader.cancel(reason)
      },
    })
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
  }

  /** The first recorded failure of a URL matching `predicate`. */
  find(predicate: (f: FetchFailure) => boolean): FetchFailure | undefined {
    return this.failures.find(predicate)
  }

  clear(): void {
    this.failures.length = 0
    this.requested.length = 0
    this.violationMark = policyViolations().mark()
  }
}

/** Whether the request asks for part of a file (`Range`). */
function hasRange(input: RequestInfo | URL, init?: RequestInit): boolean {
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
  return headers.has('range')
}
