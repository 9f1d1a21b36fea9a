/**
 * Kills while a format-2 snapshot's shards are being cached: during a `snapshotFetch: 'all'`
 * download (before the pointer moves), and during a burst of lazy queries that fetch and cache
 * shards. Kills are the winnow worker's `close()`, the page closed, or Chromium SIGKILLed, at a
 * random moment within the calibrated length of the step. After each, a relaunched page opens the
 * collection and every query (keyword, and vector: rows read by HTTP Range and cached a row at a
 * time) answers as the built documents say; every cached shard's bytes match the hash it is kept
 * under, and every cached row the bytes of its file; at most the serving version's cache is left.
 */
import { expect, test } from '@playwright/test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildSnapshot } from '../../dist/cli/buildSnapshot.js'
import { stubEmbedder, unitVector } from '../browser/stubEmbedder.js'
import { seeded } from '../unit/helpers.js'
import { kill, launch, newPage, type Profile, type Session } from './crashBrowser.js'
import { writeFigures } from './figures.js'
import { RELIABILITY_PAGE, SCALE, seedFrom } from './scale.js'

const POINTS = Number(process.env.LAZY_CRASH_POINTS ?? (SCALE === 'ci' ? 6 : 24))
const PAGES = 800
const KINDS = ['worker', 'page', 'browser'] as const
const STEPS = ['download', 'queries'] as const

const docs = Array.from({ length: PAGES }, (_, i) => ({
  id: `page-${i}`,
  title: `Page ${i}`,
  text: `Page ${i} explains item${i} and topic${i % 17}. ${'Shared words about caches, shards and offline search. '.repeat(2 + (i % 5))}`,
}))

const DIMS = 16

/** A vector query with page i's vector finds page i first. */
const vectorOf = (i: number) => unitVector(i, DIMS)
const embedder = stubEmbedder('crash-test-embedder', DIMS, /item(\d+)/)

test(`lazy snapshot crash: ${POINTS} kills while shards are cached leave a collection that opens and answers`, async ({}, testInfo) => {
  test.setTimeout(Math.max(300_000, POINTS * 40_000))
  const seed = seedFrom('LAZY_CRASH_SEED')
  console.log(`[lazy-crash] seed ${seed} (replay: LAZY_CRASH_SEED=${seed}), ${POINTS} kill points, scale ${SCALE}`)
  const rand = seeded(seed)
  const { manifest, files } = await buildSnapshot(docs, {
    embedder: { port: embedder as never, info: { model: embedder.model, dtype: 'fp32', dims: DIMS, pooling: 'mean' } },
    format: 2,
    chunking: false,
    vectorIndex: { minRows: 200 },
    lazy: { postingsBytes: 2048, documentBytes: 2048, rowFileBytes: 100 * (DIMS * 2 + 8) },
  })
  const served = new Map<string, Uint8Array>(files.map((f: { path: string; bytes: Uint8Array }) => [f.path, f.bytes]))
  served.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)))
  const dir = mkdtempSync(join(tmpdir(), 'winnow-lazy-crash-'))
  const pageErrors: string[] = []
  const profile: Profile = {
    dir,
    baseURL: String(testInfo.project.use.baseURL ?? `http://127.0.0.1:${process.env.WINNOW_TEST_PORT ?? 4173}`),
    pagePath: RELIABILITY_PAGE,
    routes: (context) =>
      context.route('**/lazy/**', async (route) => {
        const body = served.get(new URL(route.request().url()).pathname.replace(/^\/lazy\//, ''))
        if (!body) return route.fulfill({ status: 404, body: 'missing' })
        const range = /^bytes=(\d+)-(\d+)$/.exec(route.request().headers()['range'] ?? '')
        if (range) {
          const [from, to] = [Number(range[1]), Math.min(Number(range[2]), body.length - 1)]
          return route.fulfill({ status: 206, body: Buffer.from(body.subarray(from, to + 1)), headers: { 'content-range': `bytes ${from}-${to}/${body.length}` } })
        }
        await route.fulfill({ status: 200, body: Buffer.from(body) })
      }),
    onAck: () => {},
    onPageError: (error) => pageErrors.push(error),
  }
  const queries = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * PAGES))
  const failures: string[] = []
  const figures = { killed: { download: 0, queries: 0 }, survived: 0, cachedShardsVerified: 0, cachedRowsVerified: 0, queriesChecked: 0 }

  /** Opens collection `name` (mode) in the page and runs `items` queries, keyword and vector in turn; returns the ids found. */
  const run = (session: Session, name: string, mode: string, items: number[]) =>
    session.page.evaluate(
      async ({ name, mode, items }) => {
        const w = ((window as any).__lazyWinnow ??= await (window as any).winnowApi.createWinnow({ reranker: false }))
        const t0 = performance.now()
        const c = await w.collection(name, { snapshot: '/lazy/manifest.json', snapshotFetch: mode })
        const openMs = performance.now() - t0
        const found: string[] = []
        for (const [j, [i, vector]] of items.entries()) {
          const options = j % 2 === 0 ? { mode: 'keyword', k: 1 } : { mode: 'vector', vector: new Float32Array(vector), k: 1, probes: 10_000 }
          found.push(((await c.search(`item${i}`, options)) as { id: string }[])[0]?.id ?? 'none')
        }
        return { found, openMs, ms: performance.now() - t0 }
      },
      { name, mode, items: items.map((i) => [i, vectorOf(i)] as const) },
    )
  /**
   * Every cached shard of `name`'s versions: [database, shards, shards whose bytes do not match
   * their key, cached rows (`<hash>#<row>`) with their bytes].
   */
  const audit = (session: Session, name: string) =>
    session.page.evaluate(async (name) => {
      const out: [string, number, number, [string, number[]][]][] = []
      for (const { name: db } of await indexedDB.databases()) {
        if (!db?.startsWith(`winnow-snapshot:${name}:`)) continue
        const handle = await new Promise<IDBDatabase>((resolve, reject) => {
          const r = indexedDB.open(db)
          r.onsuccess = () => resolve(r.result)
          r.onerror = () => reject(r.error)
        })
        let shards = 0
        let bad = 0
        const rows: [string, number[]][] = []
        if (handle.objectStoreNames.contains('shards')) {
          const tx = handle.transaction('shards')
          const [keys, values] = (await Promise.all(['getAllKeys', 'getAll'].map((m) => new Promise<any[]>((resolve) => ((tx.objectStore('shards') as any)[m]().onsuccess = (e: any) => resolve(e.target.result)))))) as [any[], any[]]
          for (let i = 0; i < keys.length; i++) {
            if (String(keys[i]).includes('#')) {
              rows.push([String(keys[i]), Array.from(values[i] as Uint8Array)])
              continue
            }
            const hex = [...new Uint8Array(await crypto.subtle.digest('SHA-256', values[i]))].map((b) => b.toString(16).padStart(2, '0')).join('')
            shards++
            if (!hex.startsWith(String(keys[i]))) bad++
          }
        }
        handle.close()
        out.push([db, shards, bad, rows])
      }
      return out
    }, name)

  let session = await launch(profile)
  try {
    // Calibration: how long a whole download and a burst of queries take here.
    const calibrationItems = queries(40)
    const full = await run(session, 'calibrate-all', 'all', [])
    const burst = await run(session, 'calibrate-lazy', 'lazy', calibrationItems)
    console.log(`[lazy-crash] download ${Math.round(full.ms)} ms; open + 40 lazy queries ${Math.round(burst.ms)} ms`)

    for (let n = 0; n < POINTS; n++) {
      const kind = KINDS[Math.floor(rand() * KINDS.length)]!
      const step = STEPS[n % STEPS.length]!
      const name = `lazy-${n}`
      const items = queries(40)
      if (step === 'queries') await run(session, name, 'lazy', []) // adopted before the kill
      const window = step === 'download' ? full.ms : burst.ms
      const started = run(session, name, step === 'download' ? 'all' : 'lazy', items).catch(() => null)
      await new Promise((r) => setTimeout(r, rand() * window))
      await kill(session, kind, kind === 'page' ? 'close' : '-')
      figures.killed[step]++
      await started
      // After a worker kill the same page goes on: its instance starts a fresh worker.
      if (kind === 'browser') session = await launch(profile)
      else if (kind === 'page') await newPage(session, profile)

      const check = queries(12)
      const before = failures.length
      const back = await run(session, name, 'lazy', check).catch((e) => ({ error: String(e) }) as const)
      if ('error' in back) failures.push(`point ${n} (${kind} during ${step}): reopening failed: ${back.error}`)
      else {
        figures.queriesChecked += check.length
        const wrong = check.filter((i, j) => back.found[j] !== `page-${i}`)
        if (wrong.length > 0) failures.push(`point ${n} (${kind} during ${step}): item${wrong[0]} answered ${back.found[check.indexOf(wrong[0]!)]}`)
      }
      const caches = await audit(session, name)
      for (const [db, shards, bad, rows] of caches) {
        figures.cachedShardsVerified += shards - bad
        if (bad > 0) failures.push(`point ${n} (${kind} during ${step}): ${bad} of ${shards} cached shards in ${db} do not match their hash`)
        for (const [key, bytes] of rows) {
          const [hash, row] = key.split('#') as [string, string]
          const file = [...served.keys()].find((p) => p.startsWith('shards/rows-') && p.includes(`-${hash.slice(0, 12)}.`))
          const want = file && served.get(file)!.subarray(Number(row) * (DIMS * 2 + 8), (Number(row) + 1) * (DIMS * 2 + 8))
          if (!want || want.length !== bytes.length || want.some((b, k) => b !== bytes[k])) failures.push(`point ${n} (${kind} during ${step}): cached row ${key} does not match its file`)
          else figures.cachedRowsVerified++
        }
      }
      if (caches.length !== 1 || !caches[0]![0].endsWith(`${manifest.hash.slice(0, 16)}.shards`)) failures.push(`point ${n} (${kind} during ${step}): version databases ${JSON.stringify(caches.map((c) => c[0]))}`)
      if (failures.length === before) figures.survived++
    }
  } finally {
    await session.context.close().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
  writeFigures('lazy-crash', {
    summary: {
      seed,
      'kill points survived': figures.survived,
      'killed while downloading / during lazy queries': `${figures.killed.download} / ${figures.killed.queries}`,
      'cached shards verified after the kills': figures.cachedShardsVerified,
      'cached rows verified after the kills': figures.cachedRowsVerified,
      'queries checked after the kills': figures.queriesChecked,
    },
    failures: failures.length,
    failureDetails: failures,
  })
  expect(failures).toEqual([])
  expect(pageErrors).toEqual([])
})
