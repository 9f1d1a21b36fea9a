/**
 * The ANN index in Chromium, through the public API: the worker's background merges partition a
 * collection past `vectorIndex.minRows` (k-means on the WebAssembly int8 kernel), searches probe
 * its lists in real IndexedDB, and a second page (another worker) reads only the lists it probes.
 * Compared with an exact collection of the same vectors in the same page: probing every list
 * answers exactly as the exact scan, the default probes find ≥ 95 % of the true top 10 on
 * clustered vectors, filters still return k, and the list cache stays under its byte cap.
 */
import { expect, test, type Page } from '@playwright/test'
import { openHarness } from './helpers.js'

const N = 3000
const DIMS = 48

/** Builds `ann` (partitioned from 1,000 rows) and `exact` over the same seeded clustered vectors. */
async function build(page: Page) {
  return page.evaluate(
    async ({ N, DIMS }) => {
      const w = window as any
      let a = 7
      const random = () => {
        a = (a + 0x6d2b79f5) >>> 0
        let t = a
        t = Math.imul(t ^ (t >>> 15), t | 1)
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
      }
      const g = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
      const centres = Array.from({ length: 60 }, () => Array.from({ length: DIMS }, g))
      const row = () => {
        const c = centres[Math.floor(random() * centres.length)]!
        const v = c.map((x) => x + 0.35 * g())
        const n = Math.hypot(...v)
        return v.map((x) => x / n)
      }
      const rows = Array.from({ length: N }, row)
      w.queries = Array.from({ length: 30 }, row)
      w.rows = rows
      w.winnow = await w.winnowApi.createWinnow({ reranker: false })
      const docs = (from: number, to: number) => rows.slice(from, to).map((vector, i) => ({ id: `d${from + i}`, text: `passage ${from + i}`, vector, metadata: { tag: (from + i) % 4 } }))
      w.ann = await w.winnow.collection('ann', { vectorIndex: { minRows: 1000, probes: 6, cacheBytes: 100_000 } })
      w.exact = await w.winnow.collection('exact', { vectorIndex: { minRows: Infinity } })
      for (let i = 0; i < N; i += 250) {
        await w.ann.add(docs(i, i + 250))
        await w.exact.add(docs(i, i + 250))
      }
      const deadline = Date.now() + 60_000
      const seen = new Set<string>()
      for (;;) {
        const info = (await w.ann.info()).vectorIndex
        if (info.building) seen.add(info.building.phase)
        if (info.partitionedPassages >= 1000 && !info.building) return { info, seen: [...seen] }
        if (Date.now() > deadline) throw new Error(`not partitioned: ${JSON.stringify(info)}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
    { N, DIMS },
  )
}

test('a partitioned collection in IndexedDB answers as the exact scan when every list is probed, and finds the true neighbours by default', async ({ page }) => {
  test.setTimeout(120_000)
  await openHarness(page)
  const { info } = await build(page)
  expect(info.lists).toBeGreaterThanOrEqual(31)
  expect(info.partitionedPassages + info.exactPassages).toBe(N)
  // The worker keeps the lists in OPFS (store/listFiles.ts): a data file and an index per
  // partitioned segment, none in IndexedDB.
  const stored = await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory()
    const db = await (await root.getDirectoryHandle('winnow-lists')).getDirectoryHandle(encodeURIComponent('winnow:ann'))
    const files: Record<string, number> = {}
    for await (const [name, incarnation] of (db as any).entries()) for await (const [file, handle] of (incarnation as any).entries()) files[`${name}/${file}`] = (await handle.getFile()).size
    const idb: IDBDatabase = await new Promise((resolve, reject) => {
      const r = indexedDB.open('winnow:ann')
      r.onsuccess = () => resolve(r.result)
      r.onerror = () => reject(r.error)
    })
    const records = await new Promise<number>((resolve) => {
      const r = idb.transaction('listRecords').objectStore('listRecords').count()
      r.onsuccess = () => resolve(r.result)
    })
    idb.close()
    return { files, records }
  })
  const data = Object.entries(stored.files).filter(([name]) => /\/s\d+$/.test(name))
  expect(data.length).toBeGreaterThanOrEqual(1)
  for (const [name, size] of data) expect([name, stored.files[`${name}.idx`]! > 0 && size > DIMS * 1000]).toEqual([name, true])
  expect(stored.records).toBe(0)
  const out = await page.evaluate(async () => {
    const w = window as any
    const ids = (hits: any[]) => hits.map((h) => h.id)
    let found = 0
    let same = 0
    let filtered = 0
    for (const q of w.queries) {
      const truth = await w.exact.search('', { vector: q, mode: 'vector', k: 10 })
      const all = await w.ann.search('', { vector: q, mode: 'vector', k: 10, probes: 100_000 })
      if (JSON.stringify(ids(all)) === JSON.stringify(ids(truth)) && all.every((h: any, i: number) => Math.abs(h.score - truth[i].score) < 1e-6)) same++
      const approx = await w.ann.search('', { vector: q, mode: 'vector', k: 10 })
      found += ids(approx).filter((id: string) => ids(truth).includes(id)).length
      const tagged = await w.ann.search('', { vector: q, mode: 'vector', k: 30, probes: 1, filter: { tag: 2 } })
      if (tagged.length === 30 && tagged.every((h: any) => h.metadata.tag === 2)) filtered++
    }
    return { recall: found / (w.queries.length * 10), same, filtered, queries: w.queries.length, cached: (await w.ann.info()).vectorIndex.cachedBytes }
  })
  expect(out.same).toBe(out.queries)
  expect(out.recall).toBeGreaterThanOrEqual(0.95)
  expect(out.filtered).toBe(out.queries)
  expect(out.cached).toBeGreaterThan(0)
  expect(out.cached).toBeLessThanOrEqual(100_000)

  // Another page, another worker: it answers the same, reading lists as it probes them.
  const second = await page.context().newPage()
  await openHarness(second)
  const queries = await page.evaluate(() => (window as any).queries)
  const expected = await page.evaluate(async () => {
    const w = window as any
    const out = []
    for (const q of w.queries.slice(0, 10)) out.push(await w.ann.search('', { vector: q, mode: 'vector', k: 10 }))
    return out
  })
  const reopened = await second.evaluate(async (queries) => {
    const w = window as any
    w.winnow = await w.winnowApi.createWinnow({ reranker: false })
    const ann = await w.winnow.collection('ann', { vectorIndex: { probes: 6, cacheBytes: 100_000 } })
    const before = (await ann.info()).vectorIndex
    const hits = []
    for (const q of queries.slice(0, 10)) hits.push(await ann.search('', { vector: q, mode: 'vector', k: 10 }))
    return { before, hits, after: (await ann.info()).vectorIndex }
  }, queries)
  expect(reopened.before.cachedBytes).toBe(0)
  expect(reopened.before.lists).toBe(info.lists)
  expect(reopened.hits.map((h: any[]) => h.map((x) => [x.id, x.score.toFixed(6)]))).toEqual(expected.map((h: any[]) => h.map((x) => [x.id, x.score.toFixed(6)])))
  expect(reopened.after.cachedBytes).toBeGreaterThan(0)
  expect(reopened.after.cachedBytes).toBeLessThanOrEqual(100_000)
})
