/** Calls with a time bound, and what they settled with, as data. */
import { ERROR_CODES, WinnowError } from '../../../src/index.ts'

/** How a call ended: resolved, rejected (typed or not), threw synchronously, or did not settle in time. */
export type Settled =
  | { kind: 'resolved'; value: unknown; ms: number }
  | { kind: 'rejected'; code: string | null; error: string; ms: number }
  | { kind: 'sync-throw'; code: string | null; error: string; ms: number }
  | { kind: 'timeout'; ms: number; late: Promise<Settled> }

/** The code of a WinnowError with a known code; null for anything else. */
export function codeOf(error: unknown): string | null {
  return error instanceof WinnowError && Object.prototype.hasOwnProperty.call(ERROR_CODES, error.code) ? error.code : null
}

/** A short description of a thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.constructor.name}${error instanceof WinnowError ? `(${error.code})` : ''}: ${error.message.slice(0, 300)}`
  return `${typeof error}: ${String(error).slice(0, 300)}`
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Runs `fn` (an API call that must return a Promise) and waits at most `boundMs` for it. A call
 * still pending then is reported as `timeout`, with `late` to wait for its end.
 *
 * @example
 * const settled = await settle(() => docs.count(), 10_000)
 */
export async function settle(fn: () => unknown, boundMs: number): Promise<Settled> {
  const started = performance.now()
  let promise: unknown
  try {
    promise = fn()
  } catch (error) {
    return { kind: 'sync-throw', code: codeOf(error), error: describeError(error), ms: performance.now() - started }
  }
  if (!(promise instanceof Promise)) return { kind: 'sync-throw', code: null, error: `returned ${typeof promise}, not a Promise`, ms: 0 }
  const outcome = (promise as Promise<unknown>).then(
    (value): Settled => ({ kind: 'resolved', value, ms: performance.now() - started }),
    (error): Settled => ({ kind: 'rejected', code: codeOf(error), error: describeError(error), ms: performance.now() - started }),
  )
  const timeout = sleep(boundMs).then((): Settled => ({ kind: 'timeout', ms: performance.now() - started, late: outcome }))
  return Promise.race([outcome, timeout])
}
