// The page behind bench/scale.mjs: winnow through its public API (its worker and IndexedDB) and
// MeMemo (HNSW in IndexedDB) on the same seeded vectors (bench/lib/vectorSets.mjs), generated here
// batch by batch. Node calls one step per page.evaluate and computes the exact ground truth
// itself from the same generator. Every time is measured here with performance.now().
import * as winnow from '../../src/index.ts'
import { HNSW } from 'mememo'
import { passageText, vectorSet } from '../lib/vectorSets.mjs'

const state = { winnow: null, collections: new Map() }
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? null
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function collection(name, vectorIndex) {
  state.winnow ??= await winnow.createWinnow({ reranker: false })
  let docs = state.collections.get(name)
  if (!docs) state.collections.set(name, (docs = await state.winnow.collection(name, { chunking: false, ...(vectorIndex ? { vectorIndex } : {}) })))
  return docs
}

/** The query rows of a set: rows n … n + count − 1. */
function queryRows(set, count) {
  return Array.from({ length: count }, (_, j) => {
    const q = new Float32Array(set.dims)
    set.row(set.n + j, q, 0)
    return q
  })
}

window.bench = {
  /**
   * Adds rows [0, n) in batches (vectors supplied), then waits until no merge runs; times both, and
   * the part of them this page spent generating the rows and texts (an app would load them instead).
   */
  async ingest({ name, kind, n, dims, seed, batch, vectorIndex }) {
    const docs = await collection(name, vectorIndex)
    const set = vectorSet(kind, { n, dims, seed })
    const adds = []
    let generating = 0
    const t0 = performance.now()
    for (let from = 0; from < n; from += batch) {
      const g = performance.now()
      const items = []
      for (let i = from; i < Math.min(n, from + batch); i++) {
        const vector = new Float32Array(dims)
        set.row(i, vector, 0)
        items.push({ id: `p${i}`, text: passageText(seed, i), vector, metadata: { shard: i % 10 } })
      }
      const t = performance.now()
      generating += t - g
      await docs.add(items)
      adds.push(performance.now() - t)
    }
    const added = performance.now()
    const phases = {}
    let quiet = 0
    while (quiet < 3) {
      const info = await docs.info()
      if (info.vectorIndex.building) phases[info.vectorIndex.building.phase] = (phases[info.vectorIndex.building.phase] ?? 0) + 1
      quiet = info.merging || info.vectorIndex.building ? 0 : quiet + 1
      await sleep(250)
    }
    const info = await docs.info()
    return { addSeconds: (added - t0) / 1000, totalSeconds: (performance.now() - t0 - 750) / 1000, generateSeconds: generating / 1000, addMedianMs: median(adds), info: info.vectorIndex, count: info.chunks, sawPhases: Object.keys(phases) }
  },

  /** Vector searches of the set's queries: ids and times (a first pass, then the same again). */
  async vectorQueries({ name, kind, n, dims, seed, count, probes, k = 10, passes = 2 }) {
    const docs = await collection(name)
    const set = vectorSet(kind, { n, dims, seed })
    const queries = queryRows(set, count)
    const out = { ids: [], times: [] }
    for (let pass = 0; pass < passes; pass++) {
      const times = []
      for (const q of queries) {
        const t = performance.now()
        const hits = await docs.search('', { vector: q, mode: 'vector', k, ...(probes ? { probes } : {}) })
        times.push(performance.now() - t)
        if (pass === 0) out.ids.push(hits.map((h) => h.id))
      }
      out.times.push(times)
    }
    return { ids: out.ids, p50: out.times.map(median), p95: out.times.map((ts) => [...ts].sort((a, b) => a - b)[Math.floor(ts.length * 0.95)]), cachedBytes: (await docs.info()).vectorIndex.cachedBytes }
  },

  /** BM25: queries of three words of the passages' vocabulary (the first with snippets off). */
  async keywordQueries({ name, seed, count }) {
    const docs = await collection(name)
    const times = []
    let hits = 0
    for (let j = 0; j < count; j++) {
      const words = passageText(seed + 1, j).split(' ').slice(0, 3).join(' ')
      const t = performance.now()
      const found = await docs.search(words, { mode: 'keyword', k: 10 })
      times.push(performance.now() - t)
      hits += found.length
    }
    return { p50: median(times), hits }
  },

  /**
   * Reopen: a fresh page (new worker) times collection() and the first search, then the next
   * `count` − 1 queries (each reading its lists for the first time in this worker), then all of
   * them again (lists cached), and a keyword search.
   */
  async reopen({ name, kind, n, dims, seed, vectorIndex, count = 50 }) {
    const set = vectorSet(kind, { n, dims, seed })
    const queries = queryRows(set, count)
    const t0 = performance.now()
    state.winnow = await winnow.createWinnow({ reranker: false })
    const docs = await state.winnow.collection(name, { chunking: false, ...(vectorIndex ? { vectorIndex } : {}) })
    const t1 = performance.now()
    await docs.search('', { vector: queries[0], mode: 'vector', k: 10 })
    const t2 = performance.now()
    const timed = async (qs) => {
      const times = []
      for (const q of qs) {
        const t = performance.now()
        await docs.search('', { vector: q, mode: 'vector', k: 10 })
        times.push(performance.now() - t)
      }
      return times
    }
    const next = await timed(queries.slice(1))
    const again = await timed(queries)
    const tk = performance.now()
    await docs.search(passageText(seed + 1, 0).split(' ').slice(0, 3).join(' '), { mode: 'keyword', k: 10 })
    return { createMs: t1 - t0, firstSearchMs: t2 - t1, toFirstResultMs: t2 - t0, nextP50Ms: median(next), nextP95Ms: [...next].sort((a, b) => a - b)[Math.floor(next.length * 0.95)], repeatedP50Ms: median(again), firstKeywordMs: performance.now() - tk }
  },

  /** The page's and its worker's memory, as the browser measures it (cross-origin isolated). */
  async memory() {
    if (!self.crossOriginIsolated || !performance.measureUserAgentSpecificMemory) return null
    const m = await performance.measureUserAgentSpecificMemory()
    const worker = m.breakdown.filter((b) => b.attribution.some((a) => a.scope === 'DedicatedWorkerGlobalScope')).reduce((s, b) => s + b.bytes, 0)
    return { totalBytes: m.bytes, workerBytes: worker }
  },

  /** MeMemo at its defaults (HNSW, cosine, in IndexedDB): build in batches until done or out of time. */
  async mememo({ kind, n, dims, seed, count, budgetMs, batch = 1000 }) {
    const set = vectorSet(kind, { n, dims, seed })
    const index = new HNSW({ distanceFunction: 'cosine-normalized', useIndexedDB: true, seed: 1 })
    const t0 = performance.now()
    let inserted = 0
    while (inserted < n && performance.now() - t0 < budgetMs) {
      const keys = []
      const values = []
      for (let i = inserted; i < Math.min(n, inserted + batch); i++) {
        const v = new Float32Array(dims)
        set.row(i, v, 0)
        keys.push(`p${i}`)
        values.push(Array.from(v))
      }
      await index.bulkInsert(keys, values)
      inserted += keys.length
    }
    const buildMs = performance.now() - t0
    if (inserted < n) return { inserted, buildMs, finished: false }
    const queries = queryRows(set, count)
    const ids = []
    const times = []
    for (const q of queries) {
      const t = performance.now()
      const found = await index.query(Array.from(q), 10)
      times.push(performance.now() - t)
      ids.push(found.keys)
    }
    return { inserted, buildMs, finished: true, ids, p50: median(times) }
  },
}
window.benchReady = true
