/**
 * Fuzz: thousands of random calls through the public API in Chromium (fast-check, seeded), with
 * hostile strings, wrong types, bad vectors and duplicate ids. Every call must resolve as the
 * model says or reject with a WinnowError of the code it says, settle within a bound, and the
 * store must agree with the model (count, every document's text and metadata, search by a unique
 * token).
 *
 * A full run fuzzes several fresh seeds, each on a fresh page with fresh collections (a CI run,
 * one); every seed is printed before it runs, and a failing one prints the one line that replays
 * it: `FUZZ_SEED=<seed> FUZZ_CALLS=<up to the failing call> npm run test:reliability -- fuzz`.
 * FUZZ_SEED takes a comma-separated list; FUZZ_SEEDS sets how many fresh seeds.
 */
import { expect, test, type Page } from '@playwright/test'
import { writeFigures } from './figures.js'
import { FUZZ_CALLS, FUZZ_SEEDS, RELIABILITY_PAGE, SCALE, seedsFrom } from './scale.js'

const BOUND_MS = 10_000
const SEEDS = seedsFrom('FUZZ_SEED', FUZZ_SEEDS)

interface SeedRun {
  seed: number
  /** The page's figures (FuzzFigures), or null when the run itself stopped. */
  figures: any
  /** Why the run stopped (a call that never settled), if it did. */
  stopped: string | null
  failures: number
  replay: string | null
}

/** The one line that replays a seed up to (and including) call `index`. */
function replayCommand(seed: number, index: number | null): string {
  const calls = index === null ? FUZZ_CALLS : Math.min(FUZZ_CALLS, index + 1)
  return `FUZZ_SEED=${seed} FUZZ_CALLS=${calls} npm run test:reliability -- fuzz`
}

async function fuzzOneSeed(page: Page, seed: number, pageErrors: string[], dialogs: string[]): Promise<SeedRun> {
  const errorsBefore = pageErrors.length + dialogs.length
  await page.goto(RELIABILITY_PAGE)
  await page.waitForFunction(() => (window as unknown as { reliabilityReady?: boolean }).reliabilityReady === true)
  let figures: any = null
  let stopped: string | null = null
  try {
    figures = await page.evaluate((options) => (window as any).reliability.runFuzz(options), { seed, calls: FUZZ_CALLS, boundMs: BOUND_MS, checkEvery: 250 })
  } catch (error) {
    stopped = String(error instanceof Error ? error.message : error).split('\n')[0]!
  }
  const pwned = await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned).catch(() => undefined)
  const failures = (figures?.failures ?? 0) + (stopped ? 1 : 0) + (pageErrors.length + dialogs.length - errorsBefore) + (pwned === undefined ? 0 : 1)
  const firstIndex: number | null = figures?.failureDetails?.[0]?.index ?? (stopped ? Number(/call #(\d+)/.exec(stopped)?.[1] ?? NaN) : null)
  const replay = failures > 0 ? replayCommand(seed, Number.isFinite(firstIndex) ? firstIndex : null) : null
  return { seed, figures, stopped, failures, replay }
}

test(`fuzz: ${SEEDS.length} seed${SEEDS.length === 1 ? '' : 's'} × ${FUZZ_CALLS} random API calls settle within ${BOUND_MS / 1000} s, reject only with typed WinnowErrors, and keep the store consistent`, async ({ page }) => {
  console.log(`[fuzz] seeds ${SEEDS.join(', ')} (${FUZZ_CALLS} calls each, scale ${SCALE}; replay one: FUZZ_SEED=<seed> npm run test:reliability -- fuzz)`)
  test.setTimeout(SEEDS.length * Math.max(600_000, FUZZ_CALLS * 300))
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

  const runs: SeedRun[] = []
  for (const [i, seed] of SEEDS.entries()) {
    console.log(`[fuzz] seed ${i + 1} of ${SEEDS.length}: ${seed}`)
    const run = await fuzzOneSeed(page, seed, pageErrors, dialogs)
    runs.push(run)
    const f = run.figures
    if (f) {
      console.log(
        `[figure] fuzz seed ${seed}: ${f.calls} calls: ${f.resolved} resolved, ${f.typedErrors} typed errors ${JSON.stringify(f.byCode)}, ` +
          `max settle ${f.maxSettleMs} ms (${f.maxSettleCall}), p99 ${f.p99SettleMs} ms, ${f.consistencyChecks} consistency checks, ${run.failures} failures, ${Math.round(f.wallMs / 1000)} s`,
      )
    }
    if (run.stopped) console.log(`[fuzz] seed ${seed} STOPPED: ${run.stopped}`)
    if (run.replay) console.log(`[fuzz] seed ${seed} FAILED (${run.failures} failure${run.failures === 1 ? '' : 's'}); replay: ${run.replay}`)
  }

  const done = runs.filter((r) => r.figures).map((r) => r.figures)
  const sum = (key: string) => done.reduce((total, f) => total + (f[key] ?? 0), 0)
  const byCode: Record<string, number> = {}
  for (const f of done) for (const [code, n] of Object.entries(f.byCode as Record<string, number>)) byCode[code] = (byCode[code] ?? 0) + n
  const failures = runs.reduce((total, r) => total + r.failures, 0)
  const maxSettle = Math.max(0, ...done.map((f) => f.maxSettleMs))
  writeFigures('fuzz', {
    summary: {
      'calls fuzzed': sum('calls'),
      resolved: sum('resolved'),
      'typed errors': sum('typedErrors'),
      'aborted mid-call (allowed)': sum('abortedMidCall'),
      'errors by code': Object.entries(byCode).sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`).join(', '),
      'documents written': sum('documentsWritten'),
      'longest text written': Math.max(0, ...done.map((f) => f.longestTextWritten)),
      'consistency checks': sum('consistencyChecks'),
      'max settle (ms)': maxSettle,
      'p99 settle (ms)': Math.max(0, ...done.map((f) => f.p99SettleMs)),
      failures,
      seeds: SEEDS.join(', '),
    },
    failures,
    seeds: SEEDS,
    callsPerSeed: FUZZ_CALLS,
    replays: runs.filter((r) => r.replay).map((r) => r.replay),
    runs: runs.map((r) => ({ seed: r.seed, failures: r.failures, stopped: r.stopped, replay: r.replay, ...r.figures })),
    pageErrors,
    dialogs,
  })
  console.log(`[fuzz] ${runs.length} seeds: ${runs.map((r) => `${r.seed} ${r.failures === 0 ? 'clean' : `FAILED (replay: ${r.replay})`}`).join('; ')}`)
  expect(runs.filter((r) => r.failures > 0).map((r) => ({ seed: r.seed, replay: r.replay, stopped: r.stopped, first: r.figures?.failureDetails?.slice(0, 3) }))).toEqual([])
  expect(done.map((f) => f.calls)).toEqual(SEEDS.map(() => FUZZ_CALLS))
  expect(pageErrors).toEqual([])
  expect(dialogs).toEqual([])
  expect(maxSettle).toBeLessThan(BOUND_MS)
})
