/**
 * Inverted lists in OPFS (storage schema 7, src/store/listFiles.ts), in Chromium through the public
 * API: the worker writes a partitioned segment's lists to files; the files follow the segments
 * (a merge's commit removes those of the segments it replaced, a store's first connect sweeps files
 * no segment owns, deleting the collection removes its folder); and a collection whose lists are in
 * IndexedDB (written by schema-6 code) is migrated and read by the worker with the old answers.
 */
import { expect, test, type Page } from '@playwright/test'
import { seeded } from '../unit/helpers.js'
import { openHarness } from './helpers.js'

const DIMS = 32

/** The collection's list files (`s<id>` → size) and its stored segments, read beside winnow. */
async function onDisk(page: Page, name: string) {
  return page.evaluate(async (name) => {
    const files: Record<string, number> = {}
    const incarnations: string[] = []
    const root = await navigator.storage.getDirectory()
    let folder = false
    try {
      const db = await (await root.getDirectoryHandle('winnow-lists')).getDirectoryHandle(encodeURIComponent(`winnow:${name}`))
      folder = true
      for await (const [key, incarnation] of (db as any).entries()) {
        incarnations.push(key)
        if (key !== 'istale') for await (const [file, handle] of (incarnation as any).entries()) files[file] = (await handle.getFile()).size
      }
    } catch (error) {
      if ((error as Error).name !== 'NotFoundError') throw error
    }
    const idb: IDBDatabase = await new Promise((resolve, reject) => {
      const r = indexedDB.open(`winnow:${name}`)
      r.onsuccess = () => resolve(r.result)
      r.onerror = () => reject(r.error)
    })
    const all = <T>(store: string, key?: IDBValidKey) =>
      new Promise<T>((resolve, reject) => {
        const r = key === undefined ? idb.transaction(store).objectStore(store).getAll() : idb.transaction(store).objectStore(store).get(key)
        r.onsuccess = () => resolve(r.result as T)
        r.onerror = () => reject(r.error)
      })
    const stores = [...idb.objectStoreNames]
    const segments = stores.includes('segmentColumns') ? await all<{ id: number; ivf?: unknown }[]>('segmentColumns') : []
    const manifest = stores.includes('meta') ? await all<{ nextSegment: number } | undefined>('meta', 'manifest') : undefined
    const listRecords = stores.includes('listRecords') ? (await all<{ segment: number }[]>('listRecords')).map((l) => l.segment) : []
    idb.close()
    return { folder, files, incarnations, partitioned: segments.filter((s) => s.ivf).map((s) => s.id).sort((a, b) => a - b), nextSegment: manifest?.nextSegment ?? 0, listRecords: [...new Set(listRecords)] }
  }, name)
}
const dataFiles = (files: Record<string, number>) =>
  Object.keys(files)
    .filter((f) => /^s\d+$/.test(f))
    .map((f) => Number(f.slice(1)))
    .sort((a, b) => a - b)

test('list files follow the segments: merges remove the files they replace, a new store sweeps orphans, deleting the collection removes the folder', async ({ page }) => {
  test.setTimeout(120_000)
  await openHarness(page)
  // Adds of 200 seeded clustered rows until 4,000, partitioning from 600 rows: merges partition
  // segments. Every 20 ms the page notes which segments had list files, to show that some were
  // removed.
  const random = seeded(11)
  const g = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
  const centres = Array.from({ length: 40 }, () => Array.from({ length: DIMS }, g))
  const row = () => {
    const v = centres[Math.floor(random() * centres.length)]!.map((x) => x + 0.4 * g())
    const n = Math.hypot(...v)
    return v.map((x) => x / n)
  }
  const built = await page.evaluate(
    async ({ rows, queries }) => {
      const w = window as any
      let next = 0
      const row = () => rows[next++]!
      w.queries = queries
      w.winnow = await w.winnowApi.createWinnow({ reranker: false })
      w.life = await w.winnow.collection('life', { vectorIndex: { minRows: 600 } })
      const seen = new Set<number>()
      let watching = true
      const watch = (async () => {
        const root = await navigator.storage.getDirectory()
        while (watching) {
          try {
            const db = await (await root.getDirectoryHandle('winnow-lists')).getDirectoryHandle(encodeURIComponent('winnow:life'))
            for await (const [, incarnation] of (db as any).entries()) for await (const file of (incarnation as any).keys()) if (/^s\d+$/.test(file)) seen.add(Number(file.slice(1)))
          } catch {}
          await new Promise((r) => setTimeout(r, 20))
        }
      })()
      const settle = async () => {
        for (let quiet = 0; quiet < 3; ) {
          const info = await w.life.info()
          quiet = info.merging || info.vectorIndex.building ? 0 : quiet + 1
          await new Promise((r) => setTimeout(r, 100))
        }
      }
      const add = (from: number, to: number) => w.life.add(Array.from({ length: to - from }, (_, j) => ({ id: `d${from + j}`, text: `passage ${from + j}`, vector: row() })))
      for (let i = 0; i < 4000; i += 200) await add(i, i + 200)
      await settle()
      // 60 % of every segment deleted, then an add: a merge rewrites the segments that are mostly
      // tombstones into one (1,600 live rows: partitioned again) under a new id.
      await w.life.delete(Array.from({ length: 4000 }, (_, i) => `d${i}`).filter((_, i) => i % 5 < 3))
      await add(4000, 4400)
      await settle()
      watching = false
      await watch
      const answers = []
      for (const q of w.queries) answers.push((await w.life.search('', { vector: q, mode: 'vector', k: 10, probes: 100_000 })).map((h: any) => [h.id, h.score.toFixed(6)]))
      return { seen: [...seen].sort((x, y) => x - y), queries: w.queries, answers, info: (await w.life.info()).vectorIndex }
    },
    { rows: Array.from({ length: 4400 }, row), queries: Array.from({ length: 12 }, row) },
  )
  expect(built.info.partitionedPassages).toBeGreaterThanOrEqual(600)
  const after = await onDisk(page, 'life')
  // Exactly the stored partitioned segments have files (data and index), none has list records.
  expect(after.partitioned.length).toBeGreaterThanOrEqual(1)
  expect(dataFiles(after.files)).toEqual(after.partitioned)
  for (const id of after.partitioned) expect([id, after.files[`s${id}`]! > 0, after.files[`s${id}.idx`]! > 0]).toEqual([id, true, true])
  expect(after.listRecords).toEqual([])
  // Some segment had files and was merged away: its files went with it.
  const gone = built.seen.filter((id) => !after.partitioned.includes(id))
  expect(gone.length).toBeGreaterThanOrEqual(1)

  // Files no segment owns (a tab closed between writing a merge's lists and a clean-up): one below
  // nextSegment (swept when a store next connects) and one at or past it (a merge not yet
  // reserved could not have written it, but the sweep never touches ids it has not handed out);
  // and the folder of an earlier incarnation of the database (swept).
  const orphan = gone[0]!
  const future = after.nextSegment + 3
  await page.evaluate(
    async ({ ids }) => {
      const root = await navigator.storage.getDirectory()
      const db = await (await root.getDirectoryHandle('winnow-lists')).getDirectoryHandle(encodeURIComponent('winnow:life'))
      const stale = await (await db.getDirectoryHandle('istale', { create: true })).getFileHandle('s1', { create: true })
      const writable = await stale.createWritable()
      await writable.write(new Uint8Array(64))
      await writable.close()
      for await (const [key, incarnation] of (db as any).entries()) {
        if (key !== 'istale') for (const id of ids)
          for (const name of [`s${id}`, `s${id}.idx`]) {
            const writable = await (await (incarnation as any).getFileHandle(name, { create: true })).createWritable()
            await writable.write(new Uint8Array(64))
            await writable.close()
          }
      }
    },
    { ids: [orphan, future] },
  )
  const planted = await onDisk(page, 'life')
  expect(dataFiles(planted.files)).toEqual([...after.partitioned, orphan, future].sort((a, b) => a - b))
  expect(planted.incarnations.length).toBe(2)
  await page.close()

  // A new page (a new worker and store): its first connect sweeps the orphan; answers are the same.
  const second = await page.context().newPage()
  await openHarness(second)
  const answers = await second.evaluate(async (queries) => {
    const w = window as any
    w.winnow = await w.winnowApi.createWinnow({ reranker: false })
    const life = await w.winnow.collection('life')
    const out = []
    for (const q of queries) out.push((await life.search('', { vector: q, mode: 'vector', k: 10, probes: 100_000 })).map((h: any) => [h.id, h.score.toFixed(6)]))
    return out
  }, built.queries)
  expect(answers).toEqual(built.answers)
  // The sweep runs beside the open (it never delays a search): wait for it.
  await expect.poll(async () => Object.keys((await onDisk(second, 'life')).files).sort()).toEqual([...after.partitioned, future].flatMap((id) => [`s${id}`, `s${id}.idx`]).sort())
  await expect.poll(async () => (await onDisk(second, 'life')).incarnations.length).toBe(1)

  // Deleting the collection removes its folder (no reader holds a file: the first page is closed).
  await second.evaluate(async () => {
    const w = window as any
    await w.winnow.deleteCollection('life')
  })
  expect((await onDisk(second, 'life')).folder).toBe(false)
})

test('a schema-6 collection keeps its lists in IndexedDB: the worker migrates it and answers as the old code did', async ({ page }) => {
  await page.goto('/test/browser/pages/contract.html')
  await page.waitForFunction(() => (window as any).contractReady === true)
  const searches: { request: { query: string; mode: string; k: number; vector?: number[] }; hits: { id: string; score: number }[] }[] = await page.evaluate(() => (window as any).loadV6Fixture('vec'))
  expect(searches.filter((s) => s.request.vector).length).toBeGreaterThanOrEqual(2)
  const before = await onDisk(page, 'vec')
  expect(before.partitioned.length).toBeGreaterThanOrEqual(1)
  expect(before.folder).toBe(false)

  const harness = await page.context().newPage()
  await openHarness(harness)
  const got = await harness.evaluate(async (searches) => {
    const w = window as any
    w.winnow = await w.winnowApi.createWinnow({ reranker: false })
    const vec = await w.winnow.collection('vec')
    const out: { id: string; score: number }[][] = []
    for (const { request } of searches) {
      const { query, ...options } = request
      out.push((await vec.search(query, options)).map((h: any) => ({ id: h.id, score: h.score })))
    }
    return out
  }, searches)
  searches.forEach(({ request, hits }, i) => {
    expect([request.query, request.mode, got[i]!.map((h) => h.id)]).toEqual([request.query, request.mode, hits.map((h) => h.id)])
    got[i]!.forEach((h, j) => expect(Math.abs(h.score - hits[j]!.score)).toBeLessThan(1e-6))
  })
  // Migrated to schema 7 in the worker; its partitioned segments' lists are still records, no files.
  const after = await onDisk(harness, 'vec')
  expect(after.partitioned).toEqual(before.partitioned)
  expect(after.listRecords.sort((a, b) => a - b)).toEqual(before.partitioned)
  expect(after.folder && dataFiles(after.files).length > 0).toBe(false)
})
