import { WinnowError } from '../../src/errors.js'

/** The WinnowError code a promise rejects with, 'resolved' if it resolves, or a marker for other errors. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'resolved'
  } catch (e) {
    return e instanceof WinnowError ? e.code : `not a WinnowError: ${String(e)}`
  }
}
