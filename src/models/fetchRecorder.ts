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
}

import { policyViolations } from './policyViolations.js'

const MODEL_FILE = /\.(onnx|json|txt|model|onnx_data|wasm|mjs)(\?|$)/i

/**
 * Wraps `fetch`. An HTML answer for a model file is recorded and turned into a 404 response, so
 * the loader neither parses nor caches it.
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
      if (MODEL_FILE.test(new URL(url, 'http://x/').pathname) && /text\/html/i.test(type)) {
        this.failures.push({ url, status: response.status, html: true })
        void response.body?.cancel()
        return new Response(null, { status: 404, statusText: 'HTML page instead of a model file' })
      }
      return response
    }
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
