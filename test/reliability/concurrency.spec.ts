/**
 * Concurrency: two pages of one browser (same origin, one shared collection) each run a seeded
 * program of interleaved adds, deletes, clears, counts and searches. Afterwards:
 * - no operation failed (searches included) and the run finished within a bound (no deadlock);
 * - both pages see the same final state;
 * - some serial order of the writes explains every result each page got and the final state
 *   (linearize.ts: program order, real-time order, results), and replaying that order one
 *   write at a time into a fresh collection gives the same results and the same final state
 *   (count, each document's text and metadata, keyword hits for every term).
 * Replay a run with CONCURRENCY_SEED=<seed>; CONCURRENCY_OPS sets the operations per page.
 */
import { expect, test, type Page } from '@playwright/test'
import { allIds, generateOps, VOCAB, type ConcOp, type LoggedOp, type PageName } from './concurrencyOps.js'
import { writeFigures } from './figures.js'
import { linearize } from './linearize.js'
import { OPS_PER_PAGE, RELIABILITY_PAGE, SCALE, seedFrom } from './scale.js'

const SHARED = 'concurrency-shared'
const REPLAY = 'concurrency-replay'
/** Longest one operation may take; a run stuck past this is a deadlock. */
const OP_BOUND_MS = 30_000
/**
 * Slack for comparing the two pages' clocks (`performance.timeOrigin + performance.now()` in two
 * renderers): an op counts as acknowledged before another was invoked only by more than this.
 */
const CLOCK_MARGIN_MS = 5
/** The whole run's bound (generous: a CI machine of 2 cores shared with others). */
const RUN_BOUND_MS = Math.max(180_000, OPS_PER_PAGE * 600)

interface RunResult {
  log: LoggedOp[]
  stuck: string | null
}

async function openPage(page: Page): Promise<void> {
  await page.goto(RELIABILITY_PAGE)
  await page.waitForFunction(() => (window as unknown as { reliabilityReady?: boolean }).reliabilityReady === true)
}

const r = (page: Page) => ({
  prepare: (name: string) => page.evaluate((name) => (window as any).reliability.prepare(name), name),
  run: (name: string, who: PageName, ops: ConcOp[], bound: number): Promise<RunResult> =>
    page.evaluate(([name, who, ops, bound]) => (window as any).reliability.runProgram(name, who, ops, bound), [name, who, ops, bound] as const),
  snapshot: (name: string) => page.evaluate(([name, ids, terms]) => (window as any).reliability.snapshot(name, ids, terms), [name, allIds(), VOCAB] as const),
  replay: (name: string, ops: ConcOp[]): Promise<unknown[]> => page.evaluate(([name, ops]) => (window as any).reliability.replay(name, ops), [name, ops] as const),
})

test(`concurrency: two pages × ${OPS_PER_PAGE} interleaved operations on one collection equal a serial replay, without deadlock`, async ({ context }) => {
  test.setTimeout(RUN_BOUND_MS + 300_000)
  const seed = seedFrom('CONCURRENCY_SEED')
  console.log(`[concurrency] seed ${seed} (replay: CONCURRENCY_SEED=${seed}), ${OPS_PER_PAGE} operations per page, scale ${SCALE}`)
  const programs = { A: generateOps('A', OPS_PER_PAGE, seed), B: generateOps('B', OPS_PER_PAGE, seed) }
  const pageA = await context.newPage()
  const pageB = await context.newPage()
  const pageErrors: string[] = []
  for (const p of [pageA, pageB]) p.on('pageerror', (error) => pageErrors.push(String(error)))
  await openPage(pageA)
  await openPage(pageB)
  const a = r(pageA)
  const b = r(pageB)
  await Promise.all([a.prepare(SHARED), b.prepare(SHARED)])

  const started = Date.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<'deadlock'>((resolve) => (timer = setTimeout(() => resolve('deadlock'), RUN_BOUND_MS)))
  const outcome = await Promise.race([Promise.all([a.run(SHARED, 'A', programs.A, OP_BOUND_MS), b.run(SHARED, 'B', programs.B, OP_BOUND_MS)]), deadline])
  clearTimeout(timer)
  const wallMs = Date.now() - started
  expect(outcome, `the run did not finish within ${RUN_BOUND_MS} ms`).not.toBe('deadlock')
  const [runA, runB] = outcome as [RunResult, RunResult]
  expect(runA.stuck).toBeNull()
  expect(runB.stuck).toBeNull()
  const log = [...runA.log, ...runB.log]
  const errors = log.filter((op) => op.error).map((op) => `${op.page}#${op.n} ${op.op.kind}: ${op.error}`)

  // Both pages see the same final state.
  const finalA = await a.snapshot(SHARED)
  const finalB = await b.snapshot(SHARED)

  // The serial order, and its replay into a fresh collection.
  const texts = Object.fromEntries(Object.entries(finalA.docs).map(([id, d]) => [id, d ? (d as { text: string }).text : null]))
  const found = linearize(runA.log, runB.log, texts, allIds(), CLOCK_MARGIN_MS)
  const order = found.order ?? []
  const replayed = found.order ? await a.replay(REPLAY, order.map((op) => op.op)) : []
  const replayFinal = found.order ? await a.snapshot(REPLAY) : null

  // The checker can fail: the same log with one add replacing more documents than it had has no serial order.
  const tampered = runA.log.map((op) => ({ ...op }))
  const firstAdd = tampered.find((op) => op.op.kind === 'add')
  if (firstAdd?.op.kind === 'add') firstAdd.result = firstAdd.op.docs.length + 1
  const tamperedLogRejected = linearize(tampered, runB.log, texts, allIds(), CLOCK_MARGIN_MS).order === null

  const count = (kind: string) => log.filter((op) => op.op.kind === kind).length
  const opMs = log.map((op) => op.ackedAt - op.invokedAt).sort((x, y) => x - y)
  const mismatchedReplay = order.filter((op, i) => JSON.stringify(replayed[i]) !== JSON.stringify(op.result)).length
  const sameAsReplay = replayFinal !== null && JSON.stringify(replayFinal) === JSON.stringify(finalA)
  const failures = errors.length + pageErrors.length + (tamperedLogRejected ? 0 : 1) + (found.order ? 0 : 1) + mismatchedReplay + (sameAsReplay ? 0 : 1) + (JSON.stringify(finalA) === JSON.stringify(finalB) ? 0 : 1)
  const figures = {
    seed,
    opsPerPage: OPS_PER_PAGE,
    operations: log.length,
    byKind: { add: count('add'), delete: count('delete'), clear: count('clear'), count: count('count'), search: count('search') },
    searchErrors: log.filter((op) => op.op.kind === 'search' && op.error).length,
    errors,
    wallMs,
    p50OpMs: Math.round(opMs[Math.floor(opMs.length / 2)] ?? 0),
    maxOpMs: Math.round(opMs[opMs.length - 1] ?? 0),
    linearization: { found: found.order !== null, placed: order.length, visited: found.visited, reorderedVsAck: found.reorderedVsAck, overlappingWrites: found.overlapping, reason: found.reason ?? null },
    tamperedLogRejected,
    replayResultMismatches: mismatchedReplay,
    finalDocuments: finalA.count,
    finalSameInBothPages: JSON.stringify(finalA) === JSON.stringify(finalB),
    finalSameAsReplay: sameAsReplay,
  }
  writeFigures('concurrency', {
    summary: {
      'operations (2 pages)': log.length,
      'adds / deletes / clears / counts / searches': `${figures.byKind.add} / ${figures.byKind.delete} / ${figures.byKind.clear} / ${figures.byKind.count} / ${figures.byKind.search}`,
      'writes and counts placed in a serial order': order.length,
      'writes overlapping one of the other page': found.overlapping,
      'placed out of acknowledgement order': found.reorderedVsAck,
      'final state = serial replay': sameAsReplay ? 'yes' : 'NO',
      'run wall time (s)': Math.round(wallMs / 100) / 10,
      'max operation (ms)': figures.maxOpMs,
      failures,
      seed,
    },
    failures,
    ...figures,
    pageErrors,
  })
  console.log(
    `[figure] concurrency: ${log.length} operations on 2 pages in ${(wallMs / 1000).toFixed(1)} s (seed ${seed}): ${order.length} writes and counts in a serial order ` +
      `(${found.visited} nodes searched; ${found.overlapping} writes overlapped one of the other page; ${found.reorderedVsAck} placed out of acknowledgement order), ${figures.finalDocuments} documents at the end, max op ${figures.maxOpMs} ms, ${failures} failures`,
  )
  expect(errors).toEqual([])
  expect(pageErrors).toEqual([])
  expect(finalB).toEqual(finalA)
  expect(tamperedLogRejected).toBe(true)
  expect(found.reason ?? null).toBeNull()
  expect(found.order).not.toBeNull()
  expect(replayed).toEqual(order.map((op) => op.result))
  expect(replayFinal).toEqual(finalA)
})
