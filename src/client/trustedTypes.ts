import { cspBlockedError, WinnowError } from '../errors.js'
import type { TrustedScriptURLLike } from '../types.js'
import { rememberWorkerUrl } from './workerRefusals.js'

/** The name of winnow's Trusted Types policy: allow it with `trusted-types winnow-rerank`. */
export const TRUSTED_TYPES_POLICY = 'winnow-rerank'

interface Policy {
  createScriptURL(input: string): TrustedScriptURLLike
}

interface TrustedTypesFactory {
  createPolicy(name: string, rules: { createScriptURL(input: string): string }): Policy
}

/** The URL the policy is blessing right now; it blesses nothing else (see {@link trustedWorkerUrl}). */
let blessing: string | null = null
let policy: Policy | null = null
/** Why the policy could not be created (the page's `trusted-types` directive refused the name). */
let refused: unknown = null

function trustedTypes(): TrustedTypesFactory | undefined {
  return (globalThis as { trustedTypes?: TrustedTypesFactory }).trustedTypes
}

/**
 * winnow's policy, created on first use where the browser has Trusted Types. It turns exactly one
 * kind of string into a TrustedScriptURL: the URL of the worker winnow is starting right then (its
 * own, or the `workerUrl` the app passed), so holding it grants nothing else.
 */
function winnowPolicy(): Policy | null {
  if (policy || refused) return policy
  const factory = trustedTypes()
  if (!factory?.createPolicy) return null
  try {
    policy = factory.createPolicy(TRUSTED_TYPES_POLICY, {
      createScriptURL: (input) => {
        if (input !== blessing) throw new TypeError(`the ${TRUSTED_TYPES_POLICY} Trusted Types policy only starts winnow's worker`)
        return input
      },
    })
  } catch (error) {
    // The page's trusted-types directive does not list the name (or it exists already without
    // 'allow-duplicates'): a plain URL still works where Trusted Types are not required.
    refused = error
  }
  return policy
}

/**
 * The worker script URL as the Worker constructor should get it: a TrustedScriptURL from winnow's
 * policy where the browser has Trusted Types (a page that requires them accepts nothing else), else
 * the URL itself. A TrustedScriptURL the app made with its own policy passes through unchanged.
 *
 * @example
 * new Worker(trustedWorkerUrl(new URL('./worker.js', import.meta.url)) as string, { type: 'module' })
 */
export function trustedWorkerUrl(url: string | URL | TrustedScriptURLLike): string | URL | TrustedScriptURLLike {
  if (typeof url !== 'string' && !(url instanceof URL)) return url // the app's own TrustedScriptURL
  const own = winnowPolicy()
  if (!own) return url
  blessing = String(url)
  try {
    return own.createScriptURL(blessing)
  } finally {
    blessing = null
  }
}

/**
 * Starts a module worker from `url` under the page's Trusted Types (see {@link trustedWorkerUrl}).
 * When the page refuses the URL anyway, rejects with CSP_BLOCKED naming the directive to change,
 * instead of the browser's "This document requires 'TrustedScriptURL' assignment".
 *
 * @example
 * const worker = startWorker(options.workerUrl, 'winnow-worker-1-1-x')
 */
export function startWorker(url: string | URL | TrustedScriptURLLike, name: string, construct: typeof Worker = globalThis.Worker): Worker {
  rememberWorkerUrl(String(url))
  const trusted = trustedWorkerUrl(url)
  try {
    return new construct(trusted as string | URL, { type: 'module', name })
  } catch (error) {
    throw explainWorkerRefusal(error, String(url))
  }
}

/**
 * A worker constructor that passes its URL through {@link trustedWorkerUrl} (and notes it, see
 * {@link rememberWorkerUrl}): for code that must keep the literal
 * `new Worker(new URL('…', import.meta.url), …)` shape bundlers look for.
 *
 * @example
 * const Worker = trustedWorkerClass()
 * new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
 */
export function trustedWorkerClass(): typeof Worker {
  const Base = globalThis.Worker
  return class TrustedWorker extends Base {
    constructor(url: string | URL, options?: WorkerOptions) {
      rememberWorkerUrl(url)
      try {
        super(trustedWorkerUrl(url) as string | URL, options)
      } catch (error) {
        throw explainWorkerRefusal(error, String(url))
      }
    }
  } as typeof Worker
}

/** CSP_BLOCKED for the Worker constructor refusing a URL under Trusted Types; anything else as it was. */
function explainWorkerRefusal(error: unknown, url: string): unknown {
  const message = error instanceof Error ? error.message : String(error)
  if (!/TrustedScriptURL|Trusted Type/i.test(message)) return error
  if (refused) {
    return cspBlockedError(
      { blockedURI: 'trusted-types-policy', effectiveDirective: 'trusted-types', sample: TRUSTED_TYPES_POLICY, documentURI: globalThis.location?.href },
      `could not start winnow's worker ${url}`,
    )
  }
  return new WinnowError(
    'CSP_BLOCKED',
    `could not start winnow's worker ${url}: this page requires Trusted Types (require-trusted-types-for 'script') and refused the worker URL (${message}). ` +
      `Allow winnow's policy (trusted-types ${TRUSTED_TYPES_POLICY}) or pass createWinnow a TrustedScriptURL of your own policy as workerUrl.`,
    { blockedUri: 'trusted-types-sink', directive: 'require-trusted-types-for', policyOf: globalThis.location?.href, cause: message },
  )
}
