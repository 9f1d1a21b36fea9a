/**
 * Crash consistency of the vector index (issue 17): kills while a background merge trains a
 * partition's centroids, assigns rows to lists, or writes (stages) the lists and the rest of the
 * merged segment, in real Chromium on a persistent profile. The collection partitions from 1,500
 * passages (`vectorIndex.minRows`), so every few adds of 250 start a merge that partitions.
 *
 * Each kill point: adds (each awaited: acknowledged) until a merge runs (`info().merging`), then a
 * kill after a random delay within the measured length of such merges (training, assignment, list
 * writes, the last commit, or just after) — the winnow worker terminated, the page closed or its
 * renderer crashed, or the browser SIGKILLed. After a relaunch or a new page, the collection must
 * hold exactly the acknowledged passages (count), probing every list must answer as an exact
 * fp32 search over them (the top 10 of random queries, computed here), each sampled passage must
 * be found by its own vector, and `info()` must account for every passage as partitioned or exact.
 * A Chromium-reported corrupt LevelDB after a browser kill (google/leveldb#1287, see
 * migrationCrash.spec.ts) is counted apart and the kill point's collection started afresh.
 *
 * RELIABILITY_SCALE=full (default): 24 kill points; ci: 6. INDEX_CRASH_SEED=<seed> replays the plan.
 */
import { chromium, expect, test, type Page } from '@playwright/test'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CHROMIUM, CHROMIUM_ARGS } from '../../playwright.config.js'
import { seeded } from '../unit/helpers.js'
import { armPageCrash, browserPid, ensureWorker, kill, newPage, type Profile, type Session } from './crashBrowser.js'
import { writeFigures } from './figures.js'
import { RELIABILITY_PAGE, SCALE, seedFrom } from './scale.js'

const POINTS = SCALE === 'ci' ? 6 : 24
const DIMS = 64
const BATCH = 250
const KILLS = [
  ['worker', '-'],
  ['page', 'close'],
  ['page', 'crash'],
  ['browser', '-'],
] as const

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test(`index crash: ${POINTS} kills while merges train, assign and write lists keep every acknowledged passage, and the index answers as exact search`, async ({}, testInfo) => {
  test.setTimeout(SCALE === 'ci' ? 300_000 : 1_800_000)
  const seed = seedFrom('INDEX_CRASH_SEED')
  console.log(`[index-crash] seed ${seed} (replay: INDEX_CRASH_SEED=${seed}), ${POINTS} kill points, scale ${SCALE}`)
  const rand = seeded(seed)
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  const centres = Array.from({ length: 12 }, () => Array.from({ length: DIMS }, gaussian))
  const unit = (v: number[]) => {
    const n = Math.hypot(...v)
    return v.map((x) => x / n)
  }
  const vectorOf = () => unit(centres[Math.floor(rand() * centres.length)]!.map((x) => x + 0.4 * gaussian()))
  const baseURL = String(testInfo.project.use.baseURL ?? `http://127.0.0.1:${process.env.WINNOW_TEST_PORT ?? 4173}`)
  const root = mkdtempSync(join(tmpdir(), 'winnow-index-crash-'))
  const dir = join(root, 'profile')
  let launches = 0
  let log = ''

  const launch = async (): Promise<Session> => {
    log = join(root, `chromium-${++launches}.log`)
    const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--enable-logging=file', `--log-file=${log}`], baseURL })
    const session: Session = { dir, context, pid: browserPid(dir), page: null as never, workers: [], cdp: null }
    for (const p of context.pages()) await p.close()
    await openPage(session)
    return session
  }
  const openPage = async (session: Session): Promise<Page> => {
    const page = await newPage(session, { pagePath: RELIABILITY_PAGE, onPageError: () => {} } as unknown as Profile)
    await page.evaluate(async (name) => {
      const w = window as any
      w.winnow = await w.winnowApi.createWinnow({ reranker: false })
      w.ix = await w.winnow.collection(name, { chunking: false, vectorIndex: { minRows: 1500, probes: 4 } })
    }, collectionName())
    await ensureWorker(session)
    await armPageCrash(session)
    return page
  }
  const corruption = (): string | null => {
    if (!existsSync(log)) return null
    return readFileSync(log, 'utf8').split('\n').find((l) => /Got corruption for|recovering from a corrupted/.test(l)) ?? null
  }

  // What was acknowledged: passage id → vector.
  let generation = 0
  const collectionName = () => `ix-${generation}`
  let stored = new Map<string, number[]>()
  let nextId = 0
  const failures: string[] = []
  const phases: Record<string, number> = {}
  const kinds: Record<string, number> = {}
  let corruptions = 0
  let checks = 0
  let survived = 0
  const started = Date.now()

  const check = async (page: Page, label: string) => {
    checks++
    const ids = [...stored.keys()]
    const queries = Array.from({ length: 4 }, vectorOf)
    const expected = queries.map((q) =>
      ids
        .map((id) => [id, stored.get(id)!.reduce((s, x, d) => s + x * q[d]!, 0)] as const)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, 10),
    )
    const sample = ids.filter(() => rand() < 12 / Math.max(12, ids.length))
    const got = await page.evaluate(
      async ({ queries, sample }) => {
        const w = window as any
        const exact = []
        for (const q of queries) exact.push((await w.ix.search('', { vector: q, mode: 'vector', k: 10, probes: 100_000 })).map((h: any) => [h.id, h.score]))
        const own = []
        for (const [id, v] of sample) own.push([id, (await w.ix.search('', { vector: v, mode: 'vector', k: 1, probes: 100_000 }))[0]?.id ?? null])
        const info = await w.ix.info()
        return { count: await w.ix.count(), exact, own, info }
      },
      { queries, sample: sample.map((id) => [id, stored.get(id)!] as const) },
    )
    if (got.count !== stored.size) failures.push(`${label}: count ${got.count}, acknowledged ${stored.size}`)
    const vi = got.info.vectorIndex
    if (vi.partitionedPassages + vi.exactPassages < got.count) failures.push(`${label}: info accounts for ${vi.partitionedPassages} + ${vi.exactPassages} of ${got.count} passages`)
    got.exact.forEach((hits: [string, number][], j: number) => {
      const want = expected[j]!
      // Ties aside (equal cosines may swap), ids and scores must be the exact ones.
      const same = hits.length === want.length && hits.every(([id, score], i) => Math.abs(score - want[i]![1]) < 1e-5 && (id === want[i]![0] || Math.abs(want[i]![1] - score) < 1e-6))
      if (!same) failures.push(`${label}: probing every list gave ${JSON.stringify(hits.slice(0, 3))}…, exact is ${JSON.stringify(want.slice(0, 3))}…`)
    })
    for (const [id, found] of got.own) if (found !== id) failures.push(`${label}: passage ${id} not found by its own vector (got ${found})`)
  }

  /** Adds (each acknowledged) until a background merge runs; false if none starts. */
  const addUntilMerging = async (): Promise<boolean> => {
    for (let round = 0; round < 40; round++) {
      const docs = Array.from({ length: BATCH }, () => ({ id: `p${nextId++}`, vector: vectorOf() }))
      const merging = await session.page.evaluate(async (docs) => {
        const w = window as any
        await w.ix.add(docs.map((d: any) => ({ id: d.id, text: `passage ${d.id}`, vector: d.vector })))
        await new Promise((r) => setTimeout(r, 0))
        return (await w.ix.info()).merging
      }, docs)
      for (const d of docs) stored.set(d.id, d.vector)
      if (merging) return true
    }
    return false
  }
  const settle = () =>
    session.page.evaluate(async () => {
      const w = window as any
      const t0 = performance.now()
      let partitioned = false
      for (let t = 0; t < 2000; t++) {
        const info = await w.ix.info()
        if (info.vectorIndex.building) partitioned = true
        if (!info.merging && !info.vectorIndex.building) return { ms: performance.now() - t0, partitioned }
        await new Promise((r) => setTimeout(r, 5))
      }
      return { ms: performance.now() - t0, partitioned }
    })

  let session = await launch()
  // Calibration: how long merges take here (the kills are spread over that), and that they partition.
  let mergeMs = 0
  let calibrated = 0
  for (let round = 0; round < 12 && calibrated < 3; round++) {
    if (!(await addUntilMerging())) break
    const { ms, partitioned } = await settle()
    if (partitioned) {
      mergeMs = Math.max(mergeMs, ms)
      calibrated++
    }
  }
  console.log(`[index-crash] partitioning merges take up to ${Math.round(mergeMs)} ms here (${calibrated} measured); ${stored.size} passages`)
  expect(calibrated).toBeGreaterThan(0)
  try {
    for (let n = 0; n < POINTS; n++) {
      const [kind, how] = KILLS[Math.floor(rand() * KILLS.length)]!
      const delay = Math.floor(rand() * mergeMs * 1.2)
      const label = `kill point ${n} (${kind}${how !== '-' ? `/${how}` : ''}, ${delay} ms into a merge)`
      if (!(await addUntilMerging())) {
        failures.push(`${label}: no merge started after 40 adds`)
        break
      }
      await sleep(delay)
      const phase = await session.page
        .evaluate(async () => {
          const info = await (window as any).ix.info()
          return info.vectorIndex.building?.phase ?? (info.merging ? 'writing' : 'after')
        })
        .catch(() => 'unknown')
      phases[phase] = (phases[phase] ?? 0) + 1
      kinds[`${kind}/${how}`] = (kinds[`${kind}/${how}`] ?? 0) + 1
      await kill(session, kind, how)
      if (kind === 'browser') {
        session = await launch()
        if (corruption()) {
          // Chromium dropped the origin's IndexedDB at launch: nothing of winnow's to check.
          corruptions++
          generation++
          stored = new Map()
          await session.context.close()
          session = await launch()
          continue
        }
      } else if (kind === 'page') {
        await openPage(session)
      } else {
        await session.page.close().catch(() => {})
        await openPage(session)
      }
      await check(session.page, `${label} [killed during ${phase}], right after`)
      // The next merges (and the clean-up of a merge the kill cut short) leave it answering the same.
      await settle()
      await check(session.page, `${label} [killed during ${phase}], after its merges`)
      if (failures.length > 0) break
      survived++
    }
  } finally {
    await session.context.close().catch(() => {})
    rmSync(root, { recursive: true, force: true })
  }
  writeFigures('index-crash', {
    summary: { seed, 'kill points survived': survived, 'index checks': checks, 'partitioning merge ms (calibrated)': Math.round(mergeMs), 'killed while training / assigning / writing / after': `${phases.training ?? 0} / ${phases.assigning ?? 0} / ${phases.writing ?? 0} / ${phases.after ?? 0}`, 'index corruptions by Chromium (apart)': corruptions },
    failures: failures.length,
    seed,
    kinds,
    phases,
    seconds: Math.round((Date.now() - started) / 1000),
    details: failures,
  })
  expect(failures).toEqual([])
})
