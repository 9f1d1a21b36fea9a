/**
 * How Node tests look at failures: the WinnowError code of a call, or the WinnowError itself. (The
 * browser pages have their own, test/reliability/pages/settle.ts: they are bundled for the page.)
 */
import { WinnowError } from '../../src/errors.js'

/**
 * The WinnowError code a call throws (or a promise rejects with); 'returned' when the call returns,
 * 'resolved' when the promise resolves; a marker naming anything else that is thrown.
 *
 * @example
 * expect(codeOf(() => createAnalyzer({ stemmer: 'x' } as never))).toBe('INVALID_INPUT')
 * expect(await codeOf(collection.add(null))).toBe('INVALID_INPUT')
 */
export function codeOf(p: Promise<unknown>): Promise<string>
export function codeOf(run: () => unknown): string
export function codeOf(call: Promise<unknown> | (() => unknown)): string | Promise<string> {
  if (typeof call !== 'function') return call.then(() => 'resolved', codeOrMarker)
  try {
    call()
    return 'returned'
  } catch (e) {
    return codeOrMarker(e)
  }
}

/**
 * The WinnowError a promise rejects with; fails the test when it resolves or rejects with anything else.
 *
 * @example
 * const e = await failure(loadEmbedder({ model: 'nope', dtype: 'q8', device: 'cpu' }))
 * expect(e.code).toBe('MODEL_LOAD_FAILED')
 */
export async function failure(p: Promise<unknown>): Promise<WinnowError> {
  const e = await p.then(
    () => new Error('resolved'),
    (err: unknown) => err,
  )
  if (!(e instanceof WinnowError)) throw new Error(`expected a WinnowError, got ${String(e)}`)
  return e
}

function codeOrMarker(e: unknown): string {
  return e instanceof WinnowError ? e.code : `not a WinnowError: ${String(e)}`
}
