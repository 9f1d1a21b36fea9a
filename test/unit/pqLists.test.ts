/**
 * Product-quantized lists in format 2 (`src/snapshot/pqLists.ts`): by default a snapshot codes its
 * ANN lists in `dims / 4` bytes a passage, with one codebook in the lists index; a browser rebuilds
 * each probed list close to the collection's own vectors and rescores every candidate it keeps;
 * `listCodes: 'int8'` keeps the collection's int8 lists. Both answer as the built collection.
 */
import { describe, expect, it } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { parseManifest } from '../../src/snapshot/format.js'
import { LazySnapshotStore } from '../../src/snapshot/lazyStore.js'
import { ShardSource } from '../../src/snapshot/shardSource.js'
import { writeLazySnapshot } from '../../src/snapshot/writeLazy.js'
import { createCoordination } from '../../src/store/coordination.js'
import { MemoryBackend } from '../../src/store/memory.js'
import { MemoryShardCache } from '../../src/store/shardCache.js'
import { RECORD_LAYOUT, type ListRecord } from '../../src/store/types.js'
import { ANALYZER_VERSION } from '../../src/text/analyzer.js'
import { corpus, engineOver, hashingEmbedder, snapshotServer } from './snapshotFixtures.js'

const none = async () => {}
const BASE = 'https://static.example/pq/'
const DIMS = 32
const embedder = hashingEmbedder(DIMS)
const info = { model: embedder.model, dtype: 'q8', dims: DIMS, pooling: 'mean' }

describe('product-quantized lists (format 2)', async () => {
  const backend = new MemoryBackend()
  const coordination = createCoordination({})
  const built = await CollectionEngine.open('built', { store: await backend.open('built'), coordination, embedder }, { chunking: { maxTokens: 48 }, vectorIndex: { minRows: 64 } })
  const docs = corpus(500, 21)
  for (let i = 0; i < docs.length; i += 25) {
    await built.add(docs.slice(i, i + 25), none)
    await built.idle()
  }
  built.close()
  const records = backend.dump('built')
  const pq = await writeLazySnapshot(records, { embedder: info, createdAt: '2026-01-01T00:00:00.000Z', vectorBytes: 2048 })
  const int8 = await writeLazySnapshot(records, { embedder: info, createdAt: '2026-01-01T00:00:00.000Z', vectorBytes: 2048, listCodes: 'int8' })

  async function open(snapshot: typeof pq, mutate?: (files: Map<string, Uint8Array>) => void) {
    const server = snapshotServer(BASE)
    server.publish(snapshot.manifest, snapshot.files)
    mutate?.(server.files)
    const manifest = parseManifest(JSON.parse(new TextDecoder().decode(server.files.get(BASE + 'manifest.json')!)), { schema: RECORD_LAYOUT, analyzerVersion: ANALYZER_VERSION })
    const cache = new MemoryShardCache()
    const store = await LazySnapshotStore.open('pq', manifest, new ShardSource(BASE + 'manifest.json', { fetch: server.fetch, cache }), cache)
    return { store, server, engine: await engineOver(store, embedder) }
  }

  const listBytes = (snapshot: typeof pq) => snapshot.files.filter((f) => /\/lists-/.test(f.path)).reduce((n, f) => n + f.bytes.length, 0)
  const partitioned = records.segments.filter((s) => s.ivf)

  it('codes every list in dims / 4 bytes a passage: under half the bytes of int8 lists', async () => {
    expect(partitioned.length).toBeGreaterThan(0)
    const { store } = await open(pq)
    const index = (await store.index('lists'))!
    expect(index.codebook!.codes.length).toBe(256 * DIMS)
    expect((await open(int8)).store.index('lists').then((i) => i!.codebook)).resolves.toBeUndefined()
    expect(listBytes(pq)).toBeLessThan(listBytes(int8) / 2)
  })

  it('rebuilds each list close to the collection\'s own vectors, marked approximate, rows as the segment says', async () => {
    const { store } = await open(pq)
    const keys = partitioned.flatMap((s) => Array.from({ length: s.ivf!.starts.length - 1 }, (_, l) => [s.id, l] as const))
    const [coded, exact] = [await store.readLists(keys), records.lists!]
    let cosines = 0
    let rows = 0
    keys.forEach(([segment, list], i) => {
      const got = coded[i]!
      const want = exact.find((l) => l.segment === segment && l.list === list)!
      expect(got.approximate).toBe(true)
      expect(got.scales.length).toBe(want.scales.length)
      for (let r = 0; r < want.scales.length; r++) {
        const a = vectorOf(got, r)
        const b = vectorOf(want, r)
        cosines += dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b))
        rows++
      }
    })
    expect(rows).toBe(partitioned.reduce((n, s) => n + s.seqs.length, 0))
    expect(cosines / rows).toBeGreaterThan(0.97)
  })

  it('answers vector and hybrid queries as the built collection (every list probed), with int8 lists too; at the default probes a vector query rescores every candidate it kept', async () => {
    const reference = await engineOver(await backend.open('built'), embedder)
    for (const snapshot of [pq, int8]) {
      const { engine } = await open(snapshot)
      for (const [query, mode] of [['offline worker manifest', 'vector'], ['rerank shard anchor unique123', 'hybrid'], ['token batch model', 'vector']] as const) {
        const got = (await searchCollection(engine, { query, mode, k: 10, probes: 10_000 }, none)).hits
        const want = (await searchCollection(reference, { query, mode, k: 10, probes: 10_000 }, none)).hits
        expect(got.map((h) => h.chunkId)).toEqual(want.map((h) => h.chunkId))
        got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]!.score, 4))
      }
    }
    const rowsRead = async (snapshot: typeof pq) => {
      const { engine, store } = await open(snapshot)
      const read = store.readRows.bind(store)
      let seqs = 0
      store.readRows = async (blocks, wanted) => ((seqs += wanted?.length ?? 0), read(blocks, wanted))
      await searchCollection(engine, { query: 'offline worker manifest', mode: 'vector', k: 5 }, none)
      return seqs
    }
    // k 5 → 45 candidates; int8 rescores only those within its error bound of the 5th.
    expect(await rowsRead(pq)).toBe(45)
    expect(await rowsRead(int8)).toBeLessThan(45)
  })

  it('a coded list that disagrees with its segment is SNAPSHOT_INVALID (corrupt) for that query; keyword queries answer; a mended one answers', async () => {
    const { engine, store } = await open(pq)
    const get = store.source.get.bind(store.source)
    let damaged = true
    // Well-formed shards (their hashes hold) whose lists claim one row more than the segment has.
    store.source.get = async (ref) => {
      const payload = (await get(ref)) as { pq?: { rows: number }[] }
      return damaged && /\/lists-/.test(ref.file) ? { pq: payload.pq!.map((l) => ({ ...l, rows: l.rows + 1 })) } : payload
    }
    await expect(searchCollection(engine, { query: 'offline worker manifest', mode: 'vector', k: 10, probes: 10_000 }, none)).rejects.toMatchObject({ code: 'SNAPSHOT_INVALID', details: { reason: 'corrupt', kind: 'lists' } })
    expect((await searchCollection(engine, { query: 'token batch model', mode: 'keyword', k: 3 }, none)).hits.length).toBe(3)
    damaged = false
    expect((await searchCollection(engine, { query: 'offline worker manifest', mode: 'vector', k: 10 }, none)).hits.length).toBe(10)
  })
})

function vectorOf(l: ListRecord, r: number): Float64Array {
  return Float64Array.from(l.codes.subarray(r * l.dims, (r + 1) * l.dims), (c) => c * l.scales[r]!)
}

function dot(a: Float64Array, b: Float64Array): number {
  return a.reduce((s, x, i) => s + x * b[i]!, 0)
}
