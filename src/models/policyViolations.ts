import { cspBlockedError, type PolicyViolation, type WinnowError } from '../errors.js'

/**
 * The Content-Security-Policy violations of this global scope (winnow's worker), as its
 * `securitypolicyviolation` events report them. A blocked import, fetch, worker or WebAssembly
 * compilation fails with an error that names neither CSP nor the directive ("Failed to fetch
 * dynamically imported module", "no available backend found"); the event says both, so a failed
 * load asks here before it explains itself. Report-only violations block nothing and are ignored.
 *
 * @example
 * const violations = new PolicyViolations(self)
 * const mark = violations.mark()
 * try { await load() } catch (e) { throw (await violations.blockedSince(mark)) ?? e }
 */
export class PolicyViolations {
  private readonly seen: PolicyViolation[] = []
  /** False where the scope has no such events (Node): nothing is ever reported, so nothing is waited for. */
  private readonly listening: boolean

  constructor(scope: { addEventListener?: (type: string, listener: (event: Event) => void) => void } | undefined = globalThis as never) {
    this.listening = typeof scope?.addEventListener === 'function'
    scope?.addEventListener?.('securitypolicyviolation', (event) => {
      const e = event as SecurityPolicyViolationEvent
      if (e.disposition === 'report') return
      this.seen.push({
        blockedURI: String(e.blockedURI ?? ''),
        effectiveDirective: String(e.effectiveDirective || e.violatedDirective || ''),
        documentURI: e.documentURI || undefined,
        sourceFile: e.sourceFile || undefined,
        sample: e.sample || undefined,
      })
    })
  }

  /** A position to ask {@link blockedSince} about later. */
  mark(): number {
    return this.seen.length
  }

  /** The violations seen since `mark`, oldest first. */
  since(mark: number): PolicyViolation[] {
    return this.seen.slice(mark)
  }

  /**
   * CSP_BLOCKED for the first violation since `mark`, or null. A violation is reported in a task of
   * its own, which may run just after the failure it caused, so this yields to the event loop first
   * (at most `graceMs`) when none has arrived yet.
   */
  async blockedSince(mark: number, context = '', graceMs = 50): Promise<WinnowError | null> {
    if (this.seen.length === mark && this.listening) {
      const deadline = Date.now() + graceMs
      while (this.seen.length === mark && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const first = this.seen[mark]
    return first ? cspBlockedError(first, context) : null
  }
}

let shared: PolicyViolations | null = null

/**
 * The one watcher of this global scope, started on first use (the worker's load starts it before
 * loading anything, so it sees every violation of the load).
 *
 * @example
 * const mark = policyViolations().mark()
 */
export function policyViolations(): PolicyViolations {
  shared ??= new PolicyViolations()
  return shared
}
