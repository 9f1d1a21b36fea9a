import { cspBlockedError, WinnowError, type PolicyViolation } from '../errors.js'

/**
 * A page whose Content-Security-Policy refuses winnow's worker script (`worker-src`, or
 * `script-src` where worker-src is not set) does not throw from `new Worker()`: the worker fires a
 * bare `error` event, which reads as WORKER_CRASHED with no reason. The page's
 * `securitypolicyviolation` event names the URL and the directive; this module remembers the worker
 * URLs winnow started and the violations that name them, so a failed start can say CSP_BLOCKED.
 */

/** Worker script URLs winnow started on this page (absolute). */
const started = new Set<string>()
const refusals: PolicyViolation[] = []
let watching = false

/**
 * Notes a worker script URL winnow is starting, and starts watching the page's violations.
 *
 * @example
 * rememberWorkerUrl(new URL('./worker.js', import.meta.url))
 */
export function rememberWorkerUrl(url: string | URL): void {
  try {
    started.add(new URL(String(url), globalThis.location?.href).href)
  } catch {
    return // not a URL winnow can name
  }
  const scope = globalThis as { addEventListener?: (type: string, listener: (event: Event) => void) => void }
  if (watching || typeof scope.addEventListener !== 'function') return
  watching = true
  scope.addEventListener('securitypolicyviolation', (event) => {
    const e = event as SecurityPolicyViolationEvent
    if (e.disposition === 'report' || !names(String(e.blockedURI ?? ''))) return
    refusals.push({ blockedURI: e.blockedURI, effectiveDirective: e.effectiveDirective || e.violatedDirective, documentURI: e.documentURI || undefined, sourceFile: e.sourceFile || undefined })
  })
}

/** Whether a violation's blocked URI is a worker winnow started (a cross-origin one may be cut to its origin). */
function names(blocked: string): boolean {
  if (started.has(blocked)) return true
  for (const url of started) if (new URL(url).origin === blocked) return true
  return false
}

/**
 * CSP_BLOCKED when `error` is the WORKER_CRASHED of a worker start that the page's policy refused,
 * else null. The violation is reported in a task of its own, so this waits for it a moment (at most
 * `graceMs`) when none has arrived yet.
 *
 * @example
 * catch (error) { throw (await workerRefusalError(error)) ?? error }
 */
export async function workerRefusalError(error: unknown, graceMs = 50): Promise<WinnowError | null> {
  if (!(error instanceof WinnowError) || error.code !== 'WORKER_CRASHED' || started.size === 0 || !watching) return null
  const deadline = Date.now() + graceMs
  while (refusals.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
  const refusal = refusals.shift()
  return refusal ? cspBlockedError(refusal, "could not start winnow's worker") : null
}
