/**
 * Trusted Types inside winnow's worker. A worker's Content-Security-Policy comes from its own
 * response, so a server that sends `require-trusted-types-for 'script'` with every file enforces it
 * in the worker too, and onnxruntime's glue starts its thread workers with a plain
 * `new Worker(new URL(import.meta.url))`, which such a worker refuses. The glue has no hook for a
 * TrustedScriptURL, so this worker's `Worker` constructor hands it one from winnow's policy
 * (`winnow-rerank`, the name the page's policy allows for winnow's own worker) — for the glue's
 * URL only; every other URL reaches the browser's constructor as it was given.
 */

/** The name of winnow's Trusted Types policy (the page creates one of the same name). */
const POLICY_NAME = 'winnow-rerank'

interface Policy {
  createScriptURL(input: string): unknown
}

interface Scope {
  trustedTypes?: { createPolicy(name: string, rules: { createScriptURL(input: string): string }): Policy }
  Worker?: typeof Worker
}

/** Script URLs this worker may start workers from: onnxruntime's glue. */
const allowed = new Set<string>()
let policy: Policy | null | undefined

/**
 * Lets onnxruntime's glue at `glueUrl` start its thread workers under Trusted Types. Does nothing
 * where the browser has no Trusted Types, or where this worker's `trusted-types` directive does not
 * allow the policy (then the thread workers fail as before, and the violation explains it).
 *
 * @example
 * allowOrtThreadWorkers('https://app.example/ort/ort-wasm-simd-threaded.mjs')
 */
export function allowOrtThreadWorkers(glueUrl: string, scope: Scope = globalThis as Scope): void {
  const factory = scope.trustedTypes
  const Base = scope.Worker
  if (!factory?.createPolicy || !Base) return
  if (policy === undefined) {
    try {
      policy = factory.createPolicy(POLICY_NAME, {
        createScriptURL: (input) => {
          if (!allowed.has(input)) throw new TypeError(`the ${POLICY_NAME} Trusted Types policy only starts onnxruntime's thread workers`)
          return input
        },
      })
    } catch {
      policy = null
    }
    if (policy) {
      const own = policy
      scope.Worker = class OrtThreadWorker extends Base {
        constructor(url: string | URL, options?: WorkerOptions) {
          const href = typeof url === 'string' || url instanceof URL ? String(url) : null
          super((href !== null && allowed.has(href) ? own.createScriptURL(href) : url) as string | URL, options)
        }
      }
    }
  }
  allowed.add(glueUrl)
}
