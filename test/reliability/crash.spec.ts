/**
 * Crash consistency: kill points at random moments (the winnow worker terminated, the page closed
 * or its renderer crashed, the browser SIGKILLed) during add, delete and snapshot import, in real
 * Chromium on a persistent profile. After each kill the test reopens and checks: every
 * acknowledged write is stored; the write in flight is all there or not at all (no partial batch);
 * count() agrees with the documents; a snapshot collection serves the old or the new version
 * entirely and no stray version database is left after the next open/sync; and keyword search over
 * the recovered index agrees with an index rebuilt from the stored documents.
 *
 * A quarter of the kills are sent the moment the test process hears of an acknowledgement (the
 * tightest test of "resolved means durable"); the rest after a random delay, scaled by the measured
 * duration of the interrupted calls so that kills land before, during and after the commit.
 *
 * RELIABILITY_SCALE=full (default): 100 kill points; ci: 12. CRASH_POINTS=<n> overrides;
 * CRASH_SEED=<seed> replays the plan (which kill, during what, when); the writes drawn later depend
 * on what the earlier kills left, and kills race real time, so a replay is close, not identical.
 */
import { expect, test, type BrowserContext } from '@playwright/test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildSnapshot } from '../../dist/cli/buildSnapshot.js'
import { armPageCrash, ensureWorker, kill, launch, newPage, type Profile, type Session } from './crashBrowser.js'
import {
  applyWrite,
  calibrationWrites,
  compareSearch,
  DELAY_SPAN,
  fitCost,
  judgeWrites,
  KILL_KINDS,
  makeQueries,
  makeWrites,
  OP_KINDS,
  PLAIN_IDS,
  planKills,
  sizeOf,
  SNAPSHOT_IDS,
  text,
  type DocState,
  type KillPlan,
  type OpKind,
  type WriteOp,
} from './crashModel.js'
import { seeded } from '../unit/helpers.js'
import { installCrashPage, type Ack, type PlainReadback, type SnapshotReadback } from './crashPage.js'
import { writeFigures } from './figures.js'
import { RELIABILITY_PAGE, SCALE, seedFrom } from './scale.js'

const POINTS = process.env.CRASH_POINTS ? Number.parseInt(process.env.CRASH_POINTS, 10) : SCALE === 'ci' ? 12 : 100
const SNAPSHOT_URL = '/snap/manifest.json'
const SNAPSHOT = 'snap'

interface Version {
  hash: string
  docs: Map<string, string>
  files: Map<string, Uint8Array>
}

/** Four snapshot versions over overlapping ids (texts tagged with the version), many small shards. */
async function buildVersions(rand: () => number): Promise<Version[]> {
  const out: Version[] = []
  for (let v = 0; v < 4; v++) {
    const ids = SNAPSHOT_IDS.filter(() => rand() < 0.6)
    const docs = new Map(ids.map((id) => [id, text(rand, `v${v}`)]))
    const { manifest, files } = await buildSnapshot(
      [...docs].map(([id, t]) => ({ id, text: t })),
      { embedder: null, chunking: false, shardBytes: 1024 },
    )
    const served = new Map(files.map((f: { path: string; bytes: Uint8Array }) => [f.path, f.bytes]))
    served.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)))
    out.push({ hash: manifest.hash, docs, files: served })
  }
  return out
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
const emptyGrid = () => Object.fromEntries(KILL_KINDS.map((k) => [k, Object.fromEntries(OP_KINDS.map((o) => [o, 0]))])) as Record<string, Record<OpKind, number>>

test(`crash consistency: ${POINTS} kill points (worker, page, browser × add, delete, import) lose no acknowledged write and leave no partial batch`, async ({}, testInfo) => {
  test.setTimeout(Math.max(600_000, POINTS * 30_000))
  const seed = seedFrom('CRASH_SEED')
  console.log(`[crash] seed ${seed} (replay: CRASH_SEED=${seed}), ${POINTS} kill points, scale ${SCALE}`)
  const started = Date.now()
  const rand = seeded(seed)
  const plans = planKills(POINTS, rand)
  const versions = await buildVersions(rand)
  const { singles, multis } = makeQueries(rand)
  const queries = [...singles, ...multis]
  const versionOf = (hash: string | null) => versions.findIndex((v) => v.hash === hash)

  const served = { version: 0 }
  let ackListener: ((ack: Ack) => void) | null = null
  /** Resolves when write `i` of kill point `n` is acknowledged (or fails: then nothing more will come). */
  const waitForAck = (n: number, i: number) =>
    new Promise<void>((resolve) => {
      ackListener = (ack) => {
        if (ack.n === n && (ack.i >= i || !ack.ok)) resolve()
      }
    })
  const acks: Ack[] = []
  const pageErrors: string[] = []
  const dir = mkdtempSync(join(tmpdir(), 'winnow-crash-'))
  const profile: Profile = {
    dir,
    baseURL: String(testInfo.project.use.baseURL ?? `http://127.0.0.1:${process.env.WINNOW_TEST_PORT ?? 4173}`),
    pagePath: RELIABILITY_PAGE,
    routes: (context: BrowserContext) =>
      context.route('**/snap/**', async (route) => {
        const path = new URL(route.request().url()).pathname.replace(/^\/snap\//, '')
        const body = versions[served.version]!.files.get(path)
        if (!body) return route.fulfill({ status: 404, body: 'missing' })
        await route.fulfill({ status: 200, body: Buffer.from(body), headers: { 'content-type': path.endsWith('.json') ? 'application/json' : 'application/octet-stream' } })
      }),
    onAck: (ack) => {
      acks.push(ack)
      ackListener?.(ack)
    },
    onPageError: (error) => pageErrors.push(error),
  }

  // Figures.
  const byKind = emptyGrid()
  const triggers = { time: 0, ack: 0 }
  const landed = { beforeCommit: 0, committedNotAcknowledged: 0, afterAcknowledgement: 0 }
  let killPointsSurvived = 0
  let acknowledgedWrites = 0
  let survived = 0
  let partialBatches = 0
  let searchMismatches = 0
  let searchComparisons = 0
  let strayDatabases = 0
  let hangs = 0
  const failures: string[] = []
  const log: Record<string, unknown>[] = []
  const calibration: Record<string, number> = {}

  let session: Session | null = null
  const crash = <T>(fn: string, ...args: unknown[]): Promise<T> =>
    session!.page.evaluate(([fn, args]) => (window as any).__crash[fn as string](...(args as unknown[])), [fn, args] as const) as Promise<T>
  const ready = async () => {
    await session!.page.evaluate(installCrashPage)
    await crash('open')
  }

  try {
    session = await launch(profile)
    await ready()

    // Set-up (no kills): documents in the plain collection, version 0 of the snapshot imported.
    let plain: DocState = new Map()
    const seedOps = makeWrites('add', -1, plain, rand).concat(makeWrites('add', -2, plain, rand))
    for (const op of seedOps) plain = applyWrite(plain, op)
    await crash('timeWrites', seedOps)
    expect(await crash('importSnapshot', SNAPSHOT, SNAPSHOT_URL)).toBe(versions[0]!.hash)
    let current = 0

    // Calibration: how long the operations take here, so the kill window covers before, during and after the commit.
    const cost: Record<'add' | 'delete', { fixed: number; perDoc: number }> = { add: { fixed: 0, perDoc: 0 }, delete: { fixed: 0, perDoc: 0 } }
    for (const kind of ['add', 'delete'] as const) {
      const ops = calibrationWrites(kind, plain, rand)
      const ms = await crash<number[]>('timeWrites', ops)
      for (const op of ops) plain = applyWrite(plain, op)
      cost[kind] = fitCost(ops.map(sizeOf), ms)
    }
    const importMs: number[] = []
    for (const v of [1, 0]) {
      served.version = v
      const { outcome, ms } = await crash<{ outcome: string; ms: number }>('timeSync', SNAPSHOT)
      expect(outcome).toBe('imported')
      importMs.push(ms)
    }
    const round = (x: number) => Math.round(x * 100) / 100
    Object.assign(calibration, {
      addFixedMs: round(cost.add.fixed),
      addPerDocMs: round(cost.add.perDoc),
      deleteFixedMs: round(cost.delete.fixed),
      deletePerIdMs: round(cost.delete.perDoc),
      importMs: round(median(importMs)),
    })
    console.log(`[crash] calibration: ${JSON.stringify(calibration)}`)

    for (const plan of plans) {
      const t0 = Date.now()
      const failuresBefore = failures.length
      const entry: Record<string, unknown> = { n: plan.n, kind: plan.kind, op: plan.op, how: plan.how, importBy: plan.importBy }
      byKind[plan.kind]![plan.op]++
      triggers[plan.trigger]++
      const fail = (what: string) => {
        failures.push(`kill point ${plan.n} (${plan.kind}${plan.how !== '-' ? `/${plan.how}` : ''} during ${plan.op}${plan.importBy ? `/${plan.importBy}` : ''}): ${what}`)
      }
      const name = plan.importBy === 'first' ? `first-${plan.n}` : SNAPSHOT

      // The operation, then the kill after a random delay.
      let ops: WriteOp[] = []
      let next = current
      let expectedMs: number
      await crash('prepare', plan.importBy, name)
      if (plan.op === 'import') {
        next = plan.importBy === 'first' ? Math.floor(rand() * versions.length) : (current + 1 + Math.floor(rand() * (versions.length - 1))) % versions.length
        served.version = next
        // The machine's load changes: the window follows the latest imports' durations (as measured in the page).
        expectedMs = median(importMs.slice(-5))
      } else {
        ops = makeWrites(plan.op, plan.n, plain, rand)
        const c = cost[plan.op]
        expectedMs = ops.reduce((ms, op) => ms + c.fixed + c.perDoc * sizeOf(op), 0)
      }
      if (plan.kind === 'worker') await ensureWorker(session)
      if (plan.kind === 'page' && plan.how === 'crash') await armPageCrash(session)
      const delay = Math.round(expectedMs * killAt(plan))
      const ackIndex = Math.min(Math.floor(plan.delayFraction * ops.length), Math.max(0, ops.length - 1))
      const heard = plan.trigger === 'ack' ? waitForAck(plan.n, ackIndex) : null
      if (plan.trigger === 'ack') entry.killOnAck = ackIndex
      else entry.delayMs = delay
      await crash('start', plan.n, plan.op === 'import' ? { importBy: plan.importBy, name, url: SNAPSHOT_URL } : { ops })
      // On `ack`, a write that fails (or never answers) is killed after the window instead.
      await (heard ? Promise.race([heard, sleep(expectedMs * DELAY_SPAN * 3)]) : sleep(delay))
      ackListener = null
      await kill(session, plan.kind, plan.how)

      // Reopen.
      if (plan.kind === 'worker') {
        // The page lives on: its pending calls must settle (WORKER_CRASHED), none may hang.
        const settled = await session.page.waitForFunction(() => (window as any).__crash.settled(), null, { timeout: 20_000 }).then(
          () => true,
          () => false,
        )
        if (!settled) {
          hangs++
          fail('a call pending when the worker died never settled')
        }
      } else if (plan.kind === 'page') {
        await newPage(session, profile)
        await ready()
      } else {
        session = await launch(profile)
        await ready()
      }
      const mine = acks.filter((a) => a.n === plan.n)

      if (plan.op !== 'import') {
        // Acknowledged: the leading writes whose promise resolved before the kill.
        let acked = 0
        while (mine.some((a) => a.i === acked && a.ok)) acked++
        acknowledgedWrites += acked
        const back = await crash<PlainReadback>('verifyPlain', PLAIN_IDS, queries, `rebuilt-${plan.n}`)
        const recovered: DocState = new Map(Object.entries(back.stored).filter((e): e is [string, string] => e[1] !== null))
        const verdict = judgeWrites(plain, ops, acked, recovered)
        survived += verdict.survived
        partialBatches += verdict.partial
        for (const p of verdict.problems) fail(p)
        if (back.count !== recovered.size) fail(`count() is ${back.count}, but ${recovered.size} documents are stored`)
        const search = compareSearch(singles, multis, back.recovered, back.rebuilt, false)
        searchComparisons += search.compared
        searchMismatches += search.mismatches
        for (const p of search.problems) fail(`search: ${p}`)
        if (verdict.applied !== null) {
          if (acked === ops.length) landed.afterAcknowledgement++
          else if (verdict.applied > acked) landed.committedNotAcknowledged++
          else landed.beforeCommit++
        }
        Object.assign(entry, { writes: ops.length, acked, applied: verdict.applied, documents: recovered.size, exactTerms: search.exactTerms, crashedCalls: back.crashedCalls })
        plain = recovered
      } else {
        const acked = mine.some((a) => a.ok)
        if (acked) acknowledgedWrites++
        const took = mine.find((a) => a.ok)?.ms
        if (took !== undefined) importMs.push(took)
        const back = await crash<SnapshotReadback>('verifySnapshot', name, SNAPSHOT_URL, SNAPSHOT_IDS, queries, `rebuilt-${plan.n}`)
        if (back.outcome === 'imported') importMs.push(back.syncMs)
        const allowed = plan.importBy === 'first' ? [next] : [current, next]
        let found: number | null = null
        if (!back.listed || !back.before) {
          if (plan.importBy !== 'first') fail(`the snapshot collection is gone after the kill`)
          if (acked) fail('the acknowledged first import is not there')
        } else {
          found = versionOf(back.before.version)
          if (!allowed.includes(found)) fail(`serves version ${found} (${back.before.version}), expected one of ${allowed}`)
          if (acked && found !== next) fail(`the acknowledged import of version ${next} is not serving (version ${found} is)`)
          if (acked && found === next) survived++
          // The stored documents must be exactly the serving version's.
          const expected = versions[found]?.docs ?? new Map()
          const wrong = SNAPSHOT_IDS.filter((id) => (back.before!.stored[id] ?? undefined) !== expected.get(id))
          if (wrong.length > 0) {
            partialBatches++
            const other = versions[found === current ? next : current]!.docs
            fail(`version ${found} is served with ${wrong.length} documents that are not its own (${wrong.filter((id) => back.before!.stored[id] === other.get(id) && other.has(id)).length} from the other version)`)
          }
          if (back.before.count !== expected.size) fail(`count() is ${back.before.count}, version ${found} has ${expected.size} documents`)
          const search = compareSearch(singles, multis, back.before.recovered, back.before.rebuilt, true)
          searchComparisons += search.compared
          searchMismatches += search.mismatches
          for (const p of search.problems) fail(`search: ${p}`)
          entry.exactTerms = search.exactTerms
        }
        if (found === next) landed[acked ? 'afterAcknowledgement' : 'committedNotAcknowledged']++
        else landed.beforeCommit++
        // The next open/sync must land on the new version and leave only its database.
        if (versionOf(back.after.version) !== next || back.after.count !== versions[next]!.docs.size) {
          fail(`after the next open/sync: version ${versionOf(back.after.version)} with ${back.after.count} documents, expected version ${next} (${versions[next]!.docs.size})`)
        }
        const only = [`winnow-snapshot:${name}:${versions[next]!.hash.slice(0, 16)}`]
        if (JSON.stringify(back.databases) !== JSON.stringify(only)) {
          strayDatabases += back.databases.filter((d) => d !== only[0]).length
          fail(`stray snapshot databases after the next open/sync (${back.outcome}): ${back.databases.join(', ')}`)
        }
        Object.assign(entry, { from: current, to: next, acked, found, outcome: back.outcome, databasesBefore: back.databasesBefore.length, crashedCalls: back.before?.crashedCalls })
        if (plan.importBy === 'first') {
          const left = await crash<string[]>('drop', name)
          if (left.length > 0) fail(`deleteCollection left ${left.join(', ')}`)
        } else current = next
      }
      entry.failures = failures.length - failuresBefore
      if (entry.failures === 0) killPointsSurvived++
      entry.ms = Date.now() - t0
      log.push(entry)
      console.log(`[crash] ${JSON.stringify(entry)}`)
    }
  } finally {
    await session?.context.close().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
    const wallSeconds = Math.round((Date.now() - started) / 100) / 10
    const figures = {
      killPoints: log.length,
      killPointsSurvived,
      byKind,
      acknowledgedWrites,
      survived,
      partialBatches,
      searchMismatches,
      searchComparisons,
      strayDatabases,
      hangs,
      landed,
      triggers,
      pageErrors: pageErrors.length,
      seed,
      wallSeconds,
    }
    writeFigures('crash', {
      summary: {
        'kill points': log.length,
        'kill points survived': killPointsSurvived,
        'kill points by kind': KILL_KINDS.map((k) => `${k} ${sum(byKind[k]!)} (${OP_KINDS.map((o) => `${o} ${byKind[k]![o]}`).join(', ')})`).join('; '),
        'acknowledged writes survived': `${survived} / ${acknowledgedWrites}`,
        'partial batches': partialBatches,
        'search mismatches': `${searchMismatches} / ${searchComparisons} queries compared`,
        'stray snapshot databases': strayDatabases,
        failures: failures.length,
        seed,
        'wall (s)': wallSeconds,
      },
      ...figures,
      failures: failures.length,
      failureDetails: failures,
      calibration,
      pageErrorDetails: pageErrors,
      iterations: log,
    })
    console.log(
      `[figure] crash: ${log.length} kill points (seed ${seed}) ${JSON.stringify(byKind)}; ${survived}/${acknowledgedWrites} acknowledged writes survived; ` +
        `${partialBatches} partial batches; ${searchMismatches}/${searchComparisons} search mismatches; ${strayDatabases} stray databases; ${hangs} hangs; ` +
        `landed ${JSON.stringify(landed)}; ${failures.length} failures; ${wallSeconds} s`,
    )
  }
  expect(failures).toEqual([])
  expect(log).toHaveLength(POINTS)
  expect(survived).toBe(acknowledgedWrites)
  expect(partialBatches).toBe(0)
  expect(searchMismatches).toBe(0)
  expect(pageErrors).toEqual([])
})

/**
 * When the kill is sent, as a multiple of the operation's expected duration: uniform over
 * [0, DELAY_SPAN]. Imports are long (fetching shards) and their commit is at the end: half of
 * them uniform over [0, 1.2], half over [0.6, 1.05], towards the end, where the pointer moves and
 * the old version is deleted (a window of a few milliseconds).
 */
function killAt(plan: KillPlan): number {
  const f = plan.delayFraction
  if (plan.op !== 'import') return f * DELAY_SPAN
  return f < 0.5 ? 2 * f * 1.2 : 0.6 + (f - 0.5) * 0.9
}

function sum(row: Record<string, number>): number {
  return Object.values(row).reduce((a, b) => a + b, 0)
}
