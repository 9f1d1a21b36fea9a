/**
 * The ANN index (collection/ivfBuild.ts, search/ivfProbe.ts): k-means primitives held to their
 * definitions, partitioning that recovers planted clusters, and collections whose merges partition
 * their segments — over the in-memory store and fake-indexeddb — searched against the same
 * vectors in an exact collection: probing every list answers exactly as the exact scan, the
 * default probes find the true neighbours of clustered data, filters and deletes never cost hits,
 * adds after partitioning are found at once, a reopen reads only the lists it probes and keeps the
 * cache under its byte cap, and a snapshot of a partitioned collection imports as an exact one.
 */
import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { describe, expect, it } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import { listCount, partitionRows, permuteRows } from '../../src/collection/ivfBuild.js'
import { probesFor } from '../../src/collection/ivfRecall.js'
import { maxMergeRows, planMerge } from '../../src/collection/compaction.js'
import { groupByList, NearestCentroid, sampleIndices } from '../../src/core/kmeans.js'
import { seededRandom } from '../../src/core/random.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { fetchManifest, importShards } from '../../src/snapshot/importer.js'
import { writeSnapshot } from '../../src/snapshot/write.js'
import { createCoordination } from '../../src/store/coordination.js'
import { IdbBackend } from '../../src/store/idb.js'
import { MemoryBackend } from '../../src/store/memory.js'
import type { CollectionStore, StoreBackend } from '../../src/store/types.js'
import type { VectorIndexOptions } from '../../src/types.js'
import { corpus, hashingEmbedder, snapshotServer } from './snapshotFixtures.js'
import { codeOf, seeded } from './helpers.js'

const none = async () => {}
const DIMS = 32

function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
}

/** `n` unit rows around `clusters` random centres (noise per dimension `spread`), with each row's cluster. */
function clustered(n: number, clusters: number, spread: number, seed: number, dims = DIMS) {
  const g = gaussian(seeded(seed))
  const pick = seeded(seed + 1)
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dims }, g))
  const of: number[] = []
  const rows = Array.from({ length: n }, () => {
    const c = Math.floor(pick() * clusters)
    of.push(c)
    const v = centres[c]!.map((x) => x + spread * g())
    const norm = Math.hypot(...v)
    return v.map((x) => x / norm)
  })
  return { rows, of }
}

const flat = (rows: number[][]) => Float32Array.from(rows.flat())

describe('k-means primitives', () => {
  it('seededRandom and sampleIndices are deterministic; samples are distinct, sorted, in range', () => {
    expect(Array.from({ length: 5 }, seededRandom(3))).toEqual(Array.from({ length: 5 }, seededRandom(3)))
    const a = sampleIndices(1000, 200, seededRandom(9))
    expect(a).toEqual(sampleIndices(1000, 200, seededRandom(9)))
    expect(new Set(a).size).toBe(200)
    expect([...a].every((x, i) => x < 1000 && (i === 0 || x > a[i - 1]!))).toBe(true)
    expect(sampleIndices(10, 50, seededRandom(1))).toEqual(Uint32Array.from({ length: 10 }, (_, i) => i))
  })

  it('groupByList is a stable permutation grouping rows by list', () => {
    const random = seeded(4)
    const assigned = Uint32Array.from({ length: 500 }, () => Math.floor(random() * 7))
    const { order, starts } = groupByList(assigned, 7)
    expect([...order].sort((x, y) => x - y)).toEqual(Array.from({ length: 500 }, (_, i) => i))
    expect(starts[7]).toBe(500)
    for (let l = 0; l < 7; l++) {
      const rows = [...order.subarray(starts[l]!, starts[l + 1]!)]
      expect(rows.every((r) => assigned[r] === l)).toBe(true)
      expect(rows).toEqual([...rows].sort((x, y) => x - y))
      expect(rows.length).toBe(assigned.filter((x) => x === l).length)
    }
  })

  it('NearestCentroid picks the centroid of largest cosine, on the int8 kernel as in fp32 JavaScript', () => {
    const { rows } = clustered(300, 12, 0.05, 5)
    const centroids = flat(clustered(12, 12, 0, 5).rows) // not the planted centres: any 12 unit rows
    const all = flat(rows)
    const kernel = new Uint32Array(300)
    const js = new Uint32Array(300)
    new NearestCentroid(centroids, 12, DIMS).assign(all, 0, 300, kernel)
    new NearestCentroid(centroids, 12, DIMS, null).assign(all, 0, 300, js)
    const exact = rows.map((row) => {
      let best = -1
      let score = -Infinity
      for (let c = 0; c < 12; c++) {
        const s = row.reduce((acc, x, d) => acc + x * centroids[c * DIMS + d]!, 0)
        if (s > score) [best, score] = [c, s]
      }
      return best
    })
    expect([...js]).toEqual(exact)
    // int8 may pick another centroid only at a near-tie: here the clusters are far apart.
    expect([...kernel].filter((c, i) => c !== exact[i]).length).toBeLessThanOrEqual(3)
  })

  it('permuteRows moves row order[i] to row i, in place', () => {
    const n = 50
    const all = Float32Array.from({ length: n * 3 }, (_, i) => i)
    const order = Uint32Array.from(sampleIndices(n, n, seededRandom(2))).sort(() => 0)
    const shuffled = Uint32Array.from([...Array(n).keys()].sort((a, b) => ((a * 37) % n) - ((b * 37) % n)))
    for (const o of [order, shuffled]) {
      const copy = all.slice()
      permuteRows(copy, 3, o)
      for (let i = 0; i < n; i++) expect([...copy.subarray(i * 3, i * 3 + 3)]).toEqual([...all.subarray(o[i]! * 3, o[i]! * 3 + 3)])
    }
  })

  it('partitionRows recovers planted clusters and is the same for the same seed', async () => {
    const { rows, of } = clustered(800, 8, 0.08, 11)
    const all = flat(rows)
    const progress: { phase: string; done: number; total: number }[] = []
    const a = await partitionRows(all, 800, DIMS, { seed: 3, lists: 8, onProgress: (p) => progress.push(p) })
    // Progress: training first, then assignment, which ends with every row done.
    expect(progress[0]!.phase).toBe('training')
    expect(progress.at(-1)).toEqual({ phase: 'assigning', done: 800, total: 800 })
    const firstAssigning = progress.findIndex((p) => p.phase === 'assigning')
    expect(firstAssigning).toBeGreaterThan(0)
    expect(progress.slice(firstAssigning).every((p) => p.phase === 'assigning')).toBe(true)
    const b = await partitionRows(all, 800, DIMS, { seed: 3, lists: 8 })
    expect(a.order).toEqual(b.order)
    expect(a.layout.starts).toEqual(b.layout.starts)
    // Every list holds one planted cluster whole.
    for (let l = 0; l < 8; l++) {
      const members = [...a.order.subarray(a.layout.starts[l]!, a.layout.starts[l + 1]!)].map((r) => of[r]!)
      expect(new Set(members).size).toBe(1)
    }
    for (let c = 0; c < 8; c++) {
      const norm = Math.hypot(...a.layout.centroids.subarray(c * DIMS, (c + 1) * DIMS))
      expect(norm).toBeCloseTo(1, 5)
    }
    expect(listCount(100)).toBe(10)
    expect(listCount(262_144)).toBe(512)
    expect(listCount(20_000_000)).toBe(4096)
    expect(listCount(10)).toBe(8)
  })

  it('past 256 lists partitionRows trains and assigns through a coarse level, and still recovers planted clusters', async () => {
    const { rows, of } = clustered(6000, 300, 0.05, 12)
    const all = flat(rows)
    const progress: { phase: string; done: number; total: number }[] = []
    const { layout, order } = await partitionRows(all, 6000, DIMS, { seed: 5, lists: 300, onProgress: (p) => progress.push(p) })
    expect(layout.starts).toHaveLength(301)
    expect(layout.starts[300]).toBe(6000)
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 6000 }, (_, i) => i))
    // Training reports both levels within one total; assignment ends with every row.
    const training = progress.filter((p) => p.phase === 'training')
    expect(training.every((p, i) => p.done <= p.total && (i === 0 || p.done >= training[i - 1]!.done))).toBe(true)
    expect(progress.at(-1)).toEqual({ phase: 'assigning', done: 6000, total: 6000 })
    // Planted clusters land whole in one list each, all but some (k-means from random starts
    // merges two clusters here and splits one there: 268 of 300 for this seed; a wrong coarse
    // routing would scatter most of them).
    let whole = 0
    const listOf = new Uint32Array(6000)
    for (let l = 0; l < 300; l++) for (let p = layout.starts[l]!; p < layout.starts[l + 1]!; p++) listOf[order[p]!] = l
    for (let c = 0; c < 300; c++) {
      const members = of.flatMap((x, r) => (x === c ? [listOf[r]!] : []))
      if (members.length > 0 && new Set(members).size === 1) whole++
    }
    expect(whole).toBeGreaterThanOrEqual(250)
    // Each list's centroid is the unit mean of its rows.
    for (const l of [0, 150, 299]) {
      const mean = new Float64Array(DIMS)
      for (let p = layout.starts[l]!; p < layout.starts[l + 1]!; p++) for (let d = 0; d < DIMS; d++) mean[d] = mean[d]! + all[order[p]! * DIMS + d]!
      const norm = Math.hypot(...mean)
      if (norm === 0) continue
      for (let d = 0; d < DIMS; d++) expect(layout.centroids[l * DIMS + d]).toBeCloseTo(mean[d]! / norm, 4)
    }
  })

  it("a partition's recall curve predicts what probing p lists finds for queries it never saw", async () => {
    // Overlapping clusters: neighbours spill into nearby lists, so the curve climbs over many probes.
    const data = clustered(4200, 60, 0.9, 31)
    const rows = data.rows.slice(0, 4000)
    const queries = data.rows.slice(4000)
    const all = flat(rows)
    const { layout, order } = await partitionRows(all, 4000, DIMS, { seed: 2, lists: 64 })
    const curve = layout.recall!
    expect(curve.length).toBeGreaterThan(2)
    expect(curve.every((r, i) => r > 0 && r <= 1 && (i === 0 || r >= curve[i - 1]!))).toBe(true)
    expect(curve.at(-1)).toBe(1)
    expect(curve.slice(0, -1).every((r) => r < 1)).toBe(true)
    // Measured directly, in fp32: the share of each query's exact top 10 in its p nearest lists.
    const listOf = new Uint32Array(4000)
    for (let l = 0; l < 64; l++) for (let p = layout.starts[l]!; p < layout.starts[l + 1]!; p++) listOf[order[p]!] = l
    const dot = (a: number[], b: ArrayLike<number>, at = 0) => a.reduce((s, x, d) => s + x * b[at + d]!, 0)
    for (const p of [1, 2, 4, 8]) {
      let found = 0
      for (const q of queries) {
        const top = rows.map((r, i) => [dot(q, r), i] as const).sort((a, b) => b[0] - a[0]).slice(0, 10)
        const near = Array.from({ length: 64 }, (_, l) => [dot(q, layout.centroids, l * DIMS), l] as const).sort((a, b) => b[0] - a[0]).slice(0, p).map(([, l]) => l)
        found += top.filter(([, i]) => near.includes(listOf[i]!)).length
      }
      expect(Math.abs(found / (queries.length * 10) - curve[Math.min(p, curve.length) - 1]!)).toBeLessThan(0.08)
    }
    // probesFor: the fewest probes whose estimate reaches the target; 4 without an estimate.
    expect(probesFor(layout, 1)).toBe(curve.length)
    const at = curve.findIndex((r) => r >= 0.9)
    expect(probesFor(layout, 0.9)).toBe(at + 1)
    expect(probesFor(layout, curve[0]!)).toBe(1)
    expect(probesFor({ centroids: layout.centroids, starts: layout.starts }, 0.9)).toBe(4)
  })
})

type Opened = { engine: CollectionEngine; store: CollectionStore }

async function openOn(backend: StoreBackend, name: string, coordination: ReturnType<typeof createCoordination>, vectorIndex: VectorIndexOptions): Promise<Opened> {
  const store = await backend.open(name)
  return { engine: await CollectionEngine.open(name, { store, coordination, embedder: null }, { vectorIndex }), store }
}

const docsOf = (rows: number[][], from = 0, tag = (i: number) => i % 3) => rows.map((v, i) => ({ id: `d${from + i}`, text: `passage ${from + i}`, vector: v, metadata: { tag: tag(from + i) } }))

async function filled(backend: StoreBackend, name: string, rows: number[][], vectorIndex: VectorIndexOptions, batch = 100) {
  const coordination = createCoordination({})
  const { engine, store } = await openOn(backend, name, coordination, vectorIndex)
  for (let i = 0; i < rows.length; i += batch) await engine.add(docsOf(rows.slice(i, i + batch), i), none)
  await engine.idle()
  return { engine, store, coordination }
}

const search = async (engine: CollectionEngine, vector: number[], options: Record<string, unknown> = {}) =>
  (await searchCollection(engine, { query: '', vector, mode: 'vector', k: 10, ...options }, none)).hits.map((h) => ({ id: h.id, score: h.score }))

for (const kind of ['memory', 'indexeddb'] as const) {
  const backendOf = (): StoreBackend => {
    if (kind === 'memory') return new MemoryBackend()
    globalThis.indexedDB = new IDBFactory()
    return new IdbBackend()
  }

  describe(`collections with partitioned segments (${kind})`, () => {
    const data = clustered(1650, 40, 0.35, 21)
    const rows = data.rows.slice(0, 1600)
    const queries = data.rows.slice(1600)

    it('merges partition large segments; probing every list answers as the exact scan; default probes find the true neighbours', async () => {
      // Clusters that overlap a little: one probe misses some neighbours, four find nearly all.
      const looser = clustered(1650, 60, 0.6, 21)
      const rows = looser.rows.slice(0, 1600)
      const queries = looser.rows.slice(1600)
      const backend = backendOf()
      const ann = await filled(backend, 'ann', rows, { minRows: 500, probes: 4 })
      const exact = await filled(backend, 'exact', rows, { minRows: Infinity })
      expect(ann.engine.info().merging).toBe(false) // idle
      const info = ann.engine.info().vectorIndex
      expect(info.partitionedPassages).toBeGreaterThanOrEqual(500)
      expect(info.lists).toBeGreaterThanOrEqual(listCount(500))
      expect(info.partitionedPassages + info.exactPassages).toBe(1600)
      expect(info.building).toBeNull()
      expect(exact.engine.info().vectorIndex).toMatchObject({ partitionedPassages: 0, lists: 0, exactPassages: 1600 })
      let found = 0
      for (const q of queries) {
        const truth = await search(exact.engine, q)
        const all = await search(ann.engine, q, { probes: 10_000 })
        expect(all.map((h) => h.id)).toEqual(truth.map((h) => h.id))
        all.forEach((h, i) => expect(h.score).toBeCloseTo(truth[i]!.score, 6))
        const approx = await search(ann.engine, q)
        found += approx.filter((h) => truth.some((t) => t.id === h.id)).length
      }
      expect(found / (queries.length * 10)).toBeGreaterThanOrEqual(0.95)
      // Hybrid search ranks with the same vector side: every list probed, it fuses as the exact one.
      for (const q of queries.slice(0, 5)) {
        const hybrid = async (e: CollectionEngine, probes?: number) =>
          (await searchCollection(e, { query: 'passage', vector: q, mode: 'hybrid', k: 10, ...(probes ? { probes } : {}) }, none)).hits.map((h) => [h.id, h.score.toFixed(6), h.scores.vector?.toFixed(6)])
        expect(await hybrid(ann.engine, 10_000)).toEqual(await hybrid(exact.engine))
      }
      // One probe per segment finds fewer: the setting is what decides.
      let few = 0
      for (const q of queries) {
        const truth = (await search(exact.engine, q)).map((h) => h.id)
        few += (await search(ann.engine, q, { probes: 1 })).filter((h) => truth.includes(h.id)).length
      }
      expect(few).toBeLessThan(found)
    })

    it('without probes, each partitioned segment probes as many lists as its measured recall needs for targetRecall', async () => {
      // Overlapping clusters: neighbours spill into nearby lists, so one probe would not do.
      const spread = clustered(1650, 60, 0.9, 41)
      const rows = spread.rows.slice(0, 1600)
      const queries = spread.rows.slice(1600)
      const backend = backendOf()
      const exact = await filled(backend, 'exact', rows, { minRows: Infinity })
      const truths = await Promise.all(queries.map(async (q) => (await search(exact.engine, q)).map((h) => h.id)))
      const recallOf = async (engine: CollectionEngine, options: Record<string, unknown> = {}) => {
        let found = 0
        for (const [i, q] of queries.entries()) found += (await search(engine, q, options)).filter((h) => truths[i]!.includes(h.id)).length
        return found / (queries.length * 10)
      }
      const auto = await filled(backend, 'auto', rows, { minRows: 500 })
      const info = auto.engine.info().vectorIndex
      expect(info.partitionedPassages).toBeGreaterThan(0)
      expect(info.estimatedRecall).toBeGreaterThanOrEqual(0.95)
      const segments = auto.engine.view().table.partitioned
      expect(info.probedLists).toBe(segments.reduce((sum, part) => sum + probesFor(part.ivf, 0.95), 0))
      expect(info.probedLists).toBeGreaterThan(segments.length) // one list each would not do here
      expect(await recallOf(auto.engine)).toBeGreaterThanOrEqual(0.93)
      // A lower target probes fewer lists and finds fewer; a collection-wide probes overrides both.
      const low = await CollectionEngine.open('auto', { store: await backend.open('auto'), coordination: auto.coordination, embedder: null }, { vectorIndex: { minRows: 500, targetRecall: 0.5 } })
      const lowInfo = low.info().vectorIndex
      expect(lowInfo.probedLists).toBeLessThan(info.probedLists)
      expect(lowInfo.estimatedRecall!).toBeGreaterThanOrEqual(0.5)
      expect(lowInfo.estimatedRecall!).toBeLessThan(info.estimatedRecall!)
      expect(await recallOf(low)).toBeLessThan(await recallOf(auto.engine))
      const one = await CollectionEngine.open('auto', { store: await backend.open('auto'), coordination: auto.coordination, embedder: null }, { vectorIndex: { minRows: 500, probes: 1 } })
      expect(one.info().vectorIndex.probedLists).toBe(segments.length)
      expect(await recallOf(one)).toBeLessThanOrEqual(await recallOf(low))
    })

    it('filters and deletes never cost hits: k come back whenever k passages match', async () => {
      const backend = backendOf()
      const ann = await filled(backend, 'f', rows, { minRows: 500, probes: 1 })
      const deleted = rows.map((_, i) => `d${i}`).filter((_, i) => i % 5 === 0)
      await ann.engine.delete(deleted)
      // A tag that 7 passages carry, spread over the clusters: the nearest lists hold few of them.
      const rare = [3, 250, 511, 777, 1002, 1333, 1599]
      await ann.engine.add(rare.map((i) => ({ id: `d${i}`, text: `passage ${i}`, vector: rows[i]!, metadata: { tag: 'rare' } })), none)
      for (const q of queries.slice(0, 10)) {
        const hits = await search(ann.engine, q, { filter: { tag: 'rare' } })
        expect(hits.map((h) => h.id).sort()).toEqual(rare.map((i) => `d${i}`).sort())
        const many = await search(ann.engine, q, { k: 40, filter: { tag: 1 } })
        expect(many).toHaveLength(40)
        expect(many.some((h) => deleted.includes(h.id))).toBe(false)
      }
    })

    it('adds after partitioning are found at once; merges that rewrite partitioned segments keep every passage', async () => {
      const backend = backendOf()
      const ann = await filled(backend, 'grow', rows.slice(0, 900), { minRows: 300, probes: 8 }, 50)
      expect(ann.engine.info().vectorIndex.partitionedPassages).toBeGreaterThan(0)
      const more = rows.slice(900)
      let sawMerging = false
      for (let i = 0; i < more.length; i += 50) {
        await ann.engine.add(docsOf(more.slice(i, i + 50), 900 + i), none)
        await Promise.resolve()
        sawMerging ||= ann.engine.info().merging
      }
      expect(sawMerging).toBe(true) // info().merging while background merges run
      await ann.engine.idle()
      expect(ann.engine.info().merging).toBe(false)
      for (let i = 0; i < rows.length; i += 37) {
        const [top] = await search(ann.engine, rows[i]!)
        expect(top!.id).toBe(`d${i}`)
        expect(top!.score).toBeCloseTo(1, 5)
      }
      expect(await ann.engine.count()).toBe(1600)
    })

    it('a reopen reads only the lists it probes, and keeps the cache under its byte cap', async () => {
      const backend = backendOf()
      const writer = await filled(backend, 'reopen', rows, { minRows: 500, probes: 4 })
      const before = await Promise.all(queries.slice(0, 8).map((q) => search(writer.engine, q)))
      const store = await backend.open('reopen')
      const read = store.readLists.bind(store)
      let listsRead = 0
      store.readLists = async (keys) => {
        listsRead += keys.length
        return read(keys)
      }
      const cap = 20_000
      const engine = await CollectionEngine.open('reopen', { store, coordination: writer.coordination, embedder: null }, { vectorIndex: { probes: 4, cacheBytes: cap } })
      const partitions = engine.view().table.partitioned.length
      expect(partitions).toBeGreaterThan(0)
      expect(listsRead).toBe(0)
      expect(await search(engine, queries[0]!)).toEqual(before[0])
      expect(listsRead).toBeLessThanOrEqual(4 * partitions)
      for (let i = 0; i < 8; i++) expect(await search(engine, queries[i]!)).toEqual(before[i])
      expect(engine.info().vectorIndex.cachedBytes).toBeGreaterThan(0)
      expect(engine.info().vectorIndex.cachedBytes).toBeLessThanOrEqual(cap)
      // The same query again: its lists are cached (if they fit) — never read more than once more.
      const afterAll = listsRead
      await search(engine, queries[7]!)
      expect(listsRead - afterAll).toBeLessThanOrEqual(4 * partitions)
    })
  })
}

describe('merges stay within the merge size', () => {
  it('planMerge merges the smallest segments of like size up to maxRows live rows, and still rewrites a mostly deleted big one', () => {
    const big = (id: number, live = 250_000) => ({ id, size: 250_000, live, vectors: true })
    const small = (id: number, size = 5_000) => ({ id, size, live: size, vectors: true })
    const segments = [big(1), big(2), big(3), big(4), ...[5, 6, 7, 8, 9, 10, 11].map((id) => small(id))]
    expect(planMerge(segments, maxMergeRows(384))).toEqual({ segments: [5, 6, 7, 8, 9, 10, 11] })
    // A big segment is not rewritten for a few small ones, even without a cap; a tight cap takes fewer.
    expect(planMerge(segments, Infinity)).toEqual({ segments: [5, 6, 7, 8, 9, 10, 11] })
    expect(planMerge(segments, 12_000)).toEqual({ segments: [5, 6] })
    // The run stops where the next segment is more than twice the rows taken: 5k + 5k + 20k, not 70k.
    const tiers = [small(1, 70_000), small(2, 20_000), small(3, 5_000), small(4, 5_000), ...[5, 6, 7, 8, 9, 10, 11].map((id) => big(id))]
    expect(planMerge(tiers, maxMergeRows(384))).toEqual({ segments: [2, 3, 4] })
    // At least two merge, however unequal (the count must come down).
    expect(planMerge([small(1, 1_000), ...[2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((id) => small(id, 200_000))], maxMergeRows(384))).toEqual({ segments: [1, 2] })
    expect(planMerge([big(1), big(2, 100_000), small(3)], maxMergeRows(384))).toEqual({ segments: [2] })
    expect(maxMergeRows(384)).toBe(262_144)
    expect(maxMergeRows(768)).toBe(131_072)
  })
})

describe('options and snapshots', () => {
  it('refuses bad vectorIndex settings and probes with INVALID_INPUT', async () => {
    const backend = new MemoryBackend()
    const coordination = createCoordination({})
    for (const vectorIndex of [{ minRows: 10 }, { minRows: 1.5 }, { probes: 0 }, { probes: 2.5 }, { cacheBytes: -1 }, { targetRecall: 0 }, { targetRecall: 1.5 }, { targetRecall: NaN }, { targetRecall: '0.9' }, 'big']) {
      expect(await codeOf(openOn(backend, 'bad', coordination, vectorIndex as VectorIndexOptions))).toBe('INVALID_INPUT')
    }
    const { engine } = await openOn(backend, 'ok', coordination, { minRows: Infinity, probes: 3, cacheBytes: 0 })
    await engine.add([{ id: 'a', text: 'a', vector: [1, 0, 0] }], none)
    for (const probes of [0, -1, 1.5, '4', Infinity]) {
      expect(await codeOf(searchCollection(engine, { query: '', vector: [1, 0, 0], mode: 'vector', probes } as never, none))).toBe('INVALID_INPUT')
    }
    expect((await search(engine, [1, 0, 0], { probes: 2 })).map((h) => h.id)).toEqual(['a'])
  })

  it('a snapshot of a partitioned collection imports as exact segments and answers as the exact scan', async () => {
    const embedder = hashingEmbedder(24)
    const docs = corpus(700, 3)
    const build = async (backend: MemoryBackend, name: string, minRows: number) => {
      const engine = await CollectionEngine.open(name, { store: await backend.open(name), coordination: createCoordination({}), embedder }, { chunking: false, vectorIndex: { minRows } })
      for (let i = 0; i < docs.length; i += 50) await engine.add(docs.slice(i, i + 50), none)
      await engine.idle()
      return engine
    }
    // Snapshots carry int8 codes and the importer rebuilds fp32 rows from them, so the reference
    // is the snapshot of an exact collection: both must import to the same answers.
    const imported = async (minRows: number) => {
      const backend = new MemoryBackend()
      const built = await build(backend, 'built', minRows)
      const info = built.info().vectorIndex
      const { manifest, files } = await writeSnapshot(backend.dump('built'), { embedder: { model: embedder.model, dtype: 'q8', dims: 24, pooling: 'mean' }, shardBytes: 8192, createdAt: '2026-01-01T00:00:00.000Z' })
      const server = snapshotServer('https://x.example/')
      server.publish(manifest, files)
      const target = await new MemoryBackend().open('target')
      await importShards(await fetchManifest('https://x.example/manifest.json', { fetch: server.fetch }), 'https://x.example/manifest.json', target, { fetch: server.fetch, checkpoint: none })
      return { info, engine: await CollectionEngine.open('target', { store: target, coordination: createCoordination({}), embedder }, { vectorIndex: { minRows: Infinity } }) }
    }
    const ann = await imported(300)
    const exact = await imported(Infinity)
    expect(ann.info.partitionedPassages).toBeGreaterThan(0)
    expect(exact.info.partitionedPassages).toBe(0)
    expect(ann.engine.info().vectorIndex).toMatchObject({ partitionedPassages: 0, exactPassages: 700 })
    for (const query of ['snapshot worker cache', 'unique17 rerank', 'manifest shard offline', 'token batch model']) {
      const ask = async (e: CollectionEngine) => (await searchCollection(e, { query, mode: 'vector', k: 10 }, none)).hits.map((h) => [h.id, h.score.toFixed(6)])
      expect(await ask(ann.engine)).toEqual(await ask(exact.engine))
    }
  })
})
