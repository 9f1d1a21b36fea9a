/** A tiny assertion kit the contract suite uses both under vitest and inside a Chromium page. */
export function equal(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`)
}

export function ok(condition: unknown, what: string): void {
  if (!condition) throw new Error(`${what}: expected a truthy value`)
}

export function close(actual: number, expected: number, tolerance: number, what: string): void {
  if (!(Math.abs(actual - expected) <= tolerance)) throw new Error(`${what}: expected ${expected} ± ${tolerance}, got ${actual}`)
}

/** Awaits a promise that must reject with a WinnowError of `code`. */
export async function rejects(promise: Promise<unknown>, code: string, what: string): Promise<void> {
  const outcome = await promise.then(
    () => ({ resolved: true as const }),
    (error: unknown) => ({ resolved: false as const, error }),
  )
  if (outcome.resolved) throw new Error(`${what}: expected rejection with ${code}, but it resolved`)
  const got = (outcome.error as { code?: string })?.code
  if (got !== code) throw new Error(`${what}: expected ${code}, got ${got ?? String(outcome.error)}`)
}
