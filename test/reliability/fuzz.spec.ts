/**
 * Fuzz: thousands of random calls through the public API in Chromium (fast-check, seeded), with
 * hostile strings, wrong types, bad vectors and duplicate ids. Every call must resolve as the
 * model says or reject with a WinnowError of the code it says, settle within a bound, and the
 * store must agree with the model (count, every document's text and metadata, search by a unique
 * token). Replay a run with FUZZ_SEED=<seed> (and FUZZ_CALLS=<n> to stop early).
 */
import { expect, test } from '@playwright/test'
import { writeFigures } from './figures.js'
import { FUZZ_CALLS, RELIABILITY_PAGE, SCALE, seedFrom } from './scale.js'

const BOUND_MS = 10_000

test(`fuzz: ${FUZZ_CALLS} random API calls settle within ${BOUND_MS / 1000} s, reject only with typed WinnowErrors, and keep the store consistent`, async ({ page }) => {
  const seed = seedFrom('FUZZ_SEED')
  console.log(`[fuzz] seed ${seed} (replay: FUZZ_SEED=${seed}), ${FUZZ_CALLS} calls, scale ${SCALE}`)
  test.setTimeout(Math.max(600_000, FUZZ_CALLS * 300))
  const pageErrors: string[] = []
  const dialogs: string[] = []
  page.on('pageerror', (error) => pageErrors.push(String(error)))
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message())
    void dialog.dismiss()
  })
  page.on('console', (message) => {
    if (message.text().startsWith('[fuzz]')) console.log(message.text())
  })
  await page.goto(RELIABILITY_PAGE)
  await page.waitForFunction(() => (window as unknown as { reliabilityReady?: boolean }).reliabilityReady === true)

  const figures = await page.evaluate(
    (options) => (window as any).reliability.runFuzz(options),
    { seed, calls: FUZZ_CALLS, boundMs: BOUND_MS, checkEvery: 250 },
  )
  const pwned = await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)
  const failures = figures.failures + pageErrors.length + dialogs.length + (pwned === undefined ? 0 : 1)
  writeFigures('fuzz', {
    summary: {
      'calls fuzzed': figures.calls,
      resolved: figures.resolved,
      'typed errors': figures.typedErrors,
      'aborted mid-call (allowed)': figures.abortedMidCall,
      'errors by code': Object.entries(figures.byCode as Record<string, number>).map(([code, n]) => `${code} ${n}`).join(', '),
      'documents written': figures.documentsWritten,
      'longest text written': figures.longestTextWritten,
      'consistency checks': figures.consistencyChecks,
      'max settle (ms)': figures.maxSettleMs,
      'p99 settle (ms)': figures.p99SettleMs,
      failures,
      seed,
    },
    failures,
    ...figures,
    pageErrors,
    dialogs,
  })
  console.log(
    `[figure] fuzz: ${figures.calls} calls (seed ${seed}): ${figures.resolved} resolved, ${figures.typedErrors} typed errors ${JSON.stringify(figures.byCode)}, ` +
      `max settle ${figures.maxSettleMs} ms (${figures.maxSettleCall}), p99 ${figures.p99SettleMs} ms, ${figures.consistencyChecks} consistency checks, ${failures} failures, ${Math.round(figures.wallMs / 1000)} s`,
  )
  expect(figures.calls).toBe(FUZZ_CALLS)
  expect(figures.failureDetails).toEqual([])
  expect(pageErrors).toEqual([])
  expect(dialogs).toEqual([])
  expect(pwned).toBeUndefined()
  expect(figures.maxSettleMs).toBeLessThan(BOUND_MS)
})
