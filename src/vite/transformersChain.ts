/**
 * transformers.js (4.3.x) runs every web session creation and every web inference on one
 * module-level promise chain (`webInitChain = webInitChain.then(load)`,
 * `webInferenceChain = webInferenceChain.then(run)`), so one rejected load or run rejects every
 * later one in that worker, although onnxruntime itself would run them fine. Wherever winnow
 * bundles transformers.js (scripts/build-lib.mjs for the published worker, and the Vite plugin for
 * a worker bundled from source) this rewrite makes each link wait for the previous one but ignore
 * its failure, which its own caller has already received. The caller of the failing link still
 * gets the rejection.
 */
import { WinnowError } from '../errors.js'

/** The two chain links, as transformers.js writes them, and their recovering form. */
export const TRANSFORMERS_CHAINS = [
  { from: 'webInitChain = webInitChain.then(load)', to: 'webInitChain = webInitChain.catch(() => {}).then(load)' },
  { from: 'webInferenceChain = webInferenceChain.then(run)', to: 'webInferenceChain = webInferenceChain.catch(() => {}).then(run)' },
] as const

/** transformers.js's bundled builds (the web build is the one browsers resolve). */
const TRANSFORMERS_DIST = /[\\/]@huggingface[\\/]transformers[\\/]dist[\\/]transformers(\.web)?(\.min)?\.m?js$/

/**
 * Whether a module id is one of transformers.js's browser builds, whose chains must be rewritten.
 *
 * @example
 * isTransformersBuild('/app/node_modules/@huggingface/transformers/dist/transformers.web.js') // true
 */
export function isTransformersBuild(id: string): boolean {
  return TRANSFORMERS_DIST.test(id.split('?')[0]!)
}

/**
 * Rewrites both chains of a transformers.js build to recover after a failure. Throws when either
 * is not found exactly once, so an upgrade that changes them fails the build instead of shipping
 * a worker that one failed run breaks for good.
 *
 * @example
 * recoverTransformersChains(code, 'node_modules/@huggingface/transformers/dist/transformers.web.js')
 */
export function recoverTransformersChains(code: string, id = 'transformers.js'): string {
  let out = code
  for (const { from, to } of TRANSFORMERS_CHAINS) {
    const at = out.indexOf(from)
    if (at < 0 || out.indexOf(from, at + 1) >= 0) {
      throw new WinnowError(
        'INTERNAL',
        `winnow: expected exactly one "${from}" in ${id} (${at < 0 ? 'none found' : 'several found'}). ` +
          'transformers.js changed how it chains web sessions and runs: check whether one failed run still breaks every later one, ' +
          'then update TRANSFORMERS_CHAINS in src/vite/transformersChain.ts.',
      )
    }
    out = out.slice(0, at) + to + out.slice(at + from.length)
  }
  return out
}
