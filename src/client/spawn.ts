import type { TrustedScriptURLLike } from '../types.js'
import { startWorker, trustedWorkerClass } from './trustedTypes.js'

/**
 * The default worker. The `new Worker(new URL(..., import.meta.url))` shape is what bundlers (Vite,
 * webpack 5, Rollup plugins) recognise to bundle the worker with its dependencies; keep it literal.
 * (The build rewrites the `.ts` below to `.js` in dist/.) `Worker` here is a local: the browser's,
 * or, where the browser has Trusted Types, one that hands it the URL as a TrustedScriptURL from
 * winnow's policy (a page with `require-trusted-types-for 'script'` accepts nothing else).
 *
 * @example
 * const worker = spawnDefaultWorker('winnow-worker-1')
 */
export function spawnDefaultWorker(name: string): Worker {
  const Worker = trustedWorkerClass()
  return new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name })
}

/**
 * The worker of `createWinnow({ workerUrl })`: a URL (passed through winnow's Trusted Types policy
 * where the browser has them) or a TrustedScriptURL of the app's own policy.
 *
 * @example
 * const worker = spawnWorkerFrom(policy.createScriptURL('/assets/winnow-worker.js'), 'winnow-worker-1')
 */
export function spawnWorkerFrom(url: string | URL | TrustedScriptURLLike, name: string): Worker {
  return startWorker(url, name)
}
