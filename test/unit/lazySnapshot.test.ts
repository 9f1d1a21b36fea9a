/**
 * Snapshot format 2: a collection written as lazily fetched shards and searched through
 * LazySnapshotStore answers as the same snapshot imported whole (format 1), fetching only the shards
 * a query needs; shards are cached, so a second visit works offline; a shard that 404s, arrives cut
 * short or fails its hash is a typed error for that query, the rest keeps serving, and the next
 * query tries again.
 */
import { describe, expect, it } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import type { EmbedderPort } from '../../src/models/embedderPort.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { parseManifest } from '../../src/snapshot/format.js'
import { importShards } from '../../src/snapshot/importer.js'
import { LazySnapshotStore } from '../../src/snapshot/lazyStore.js'
import { ShardSource } from '../../src/snapshot/shardSource.js'
import { writeSnapshot } from '../../src/snapshot/write.js'
import { writeLazySnapshot } from '../../src/snapshot/writeLazy.js'
import { createCoordination } from '../../src/store/coordination.js'
import { MemoryBackend } from '../../src/store/memory.js'
import { MemoryShardCache } from '../../src/store/shardCache.js'
import { RECORD_LAYOUT } from '../../src/store/types.js'
import { ANALYZER_VERSION } from '../../src/text/analyzer.js'
import type { SearchMode } from '../../src/types.js'
import { corpus, engineOver, hashingEmbedder, snapshotServer } from './snapshotFixtures.js'

const none = async () => {}
const BASE = 'https://docs.example/big-index/'
const embedder = hashingEmbedder(32)
const info = { model: embedder.model, dtype: 'q8', dims: embedder.dims, pooling: 'mean' }

/** A collection built in batches, so merges partition its vectors (lists, as the ANN index has them). */
async function built(docs = corpus(400, 11), port: EmbedderPort | null = embedder) {
  const backend = new MemoryBackend()
  const coordination = createCoordination({})
  const engine = await CollectionEngine.open('built', { store: await backend.open('built'), coordination, embedder: port }, { chunking: { maxTokens: 48 }, vectorIndex: { minRows: 64 } })
  for (let i = 0; i < docs.length; i += 16) {
    await engine.add(docs.slice(i, i + 16), none)
    await engine.idle()
  }
  engine.close()
  coordination.close()
  return backend.dump('built')
}

async function lazyOver(server: ReturnType<typeof snapshotServer>, cache = new MemoryShardCache()) {
  const json = JSON.parse(new TextDecoder().decode(server.files.get(BASE + 'manifest.json')!))
  const manifest = parseManifest(json, { schema: RECORD_LAYOUT, analyzerVersion: ANALYZER_VERSION })
  const source = new ShardSource(BASE + 'manifest.json', { fetch: server.fetch, cache })
  const store = await LazySnapshotStore.open('lazy', manifest, source, cache)
  return { store, source, cache, engine: await engineOver(store, embedder) }
}

const QUERIES: [string, SearchMode][] = [
  ['snapshot cache unique7', 'keyword'],
  ['offline worker manifest', 'vector'],
  ['rerank shard anchor unique123', 'hybrid'],
  ['token batch model', 'keyword'],
  ['unique250 query search', 'hybrid'],
]

async function answers(engine: CollectionEngine, query: string, mode: SearchMode) {
  const { hits } = await searchCollection(engine, { query, mode, k: 10, probes: 10_000 }, none)
  return hits.map((h) => ({ id: h.chunkId, score: h.score, text: h.snippet.text, title: h.title }))
}

describe('snapshot format 2 (lazily fetched shards)', async () => {
  const records = await built()
  // Small shards, so that a corpus of 400 documents has many of each kind.
  const lazy = await writeLazySnapshot(records, { embedder: info, createdAt: '2026-01-01T00:00:00.000Z', postingsBytes: 4096, documentBytes: 4096, vectorBytes: 8192, rowBytes: 2048 })
  const whole = await writeSnapshot(records, { embedder: info, createdAt: '2026-01-01T00:00:00.000Z' })

  it('is built with partitioned segments, and its manifest lists only the segment tables and indexes', async () => {
    expect(records.segments.some((s) => s.ivf)).toBe(true)
    expect(lazy.manifest.version).toBe(2)
    expect(new Set(lazy.manifest.shards.map((s) => s.kind))).toEqual(new Set(['segments', 'index']))
    expect(lazy.manifest.shards.filter((s) => s.kind === 'index').map((s) => s.of).sort()).toEqual(['documents', 'lists', 'postings', 'rows', 'vectors'].filter((k) => k !== 'vectors' || records.quantized.length > 0).sort())
    expect(lazy.files.length).toBeGreaterThan(20)
  })

  it('answers keyword, vector and hybrid queries as the snapshot imported whole; at the default probes a query fetches a fraction of it', async () => {
    const server = snapshotServer(BASE)
    server.publish(lazy.manifest, lazy.files)
    const { engine, source } = await lazyOver(server)
    const target = await new MemoryBackend().open('whole')
    const wholeServer = snapshotServer(BASE)
    wholeServer.publish(whole.manifest, whole.files)
    await importShards(whole.manifest, BASE + 'manifest.json', target, { fetch: wholeServer.fetch, checkpoint: none })
    const reference = await engineOver(target, embedder)
    for (const [query, mode] of QUERIES) {
      const got = await answers(engine, query, mode)
      const want = await answers(reference, query, mode)
      expect(got.map((h) => h.id), `${mode} ${query}`).toEqual(want.map((h) => h.id))
      got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]!.score, 5))
      expect(got.map((h) => h.text)).toEqual(want.map((h) => h.text))
      // Titles come from the documents shards (the segment tables leave them out).
      expect(got.map((h) => h.title)).toEqual(want.map((h) => h.title))
      expect(got.every((h) => typeof h.title === 'string')).toBe(true)
    }
    // Probing every list reads all of them; at the default probes a hybrid query reads a fraction.
    const total = lazy.files.reduce((n, f) => n + f.bytes.length, 0)
    expect(source.traffic.fetchedBytes).toBeGreaterThan(total / 2)
    const fresh = await lazyOver(server)
    const { hits } = await searchCollection(fresh.engine, { query: 'offline worker manifest', mode: 'hybrid', k: 10 }, none)
    expect(hits.length).toBe(10)
    expect(fresh.source.traffic.fetchedBytes).toBeLessThan(total / 2)
  })

  it('a keyword query fetches postings and the hits\' documents only; a repeat fetches nothing', async () => {
    const server = snapshotServer(BASE)
    server.publish(lazy.manifest, lazy.files)
    const { engine } = await lazyOver(server)
    server.log.length = 0
    await answers(engine, 'snapshot unique42', 'keyword')
    const kinds = new Set(server.log.map((u) => /shards\/([a-z-]+?)-\d{4}-/.exec(u)?.[1]))
    expect(kinds).toEqual(new Set(['index-postings', 'postings', 'index-documents', 'documents']))
    expect(server.log.filter((u) => /\/postings-/.test(u)).length).toBeLessThanOrEqual(2)
    server.log.length = 0
    await answers(engine, 'snapshot unique42', 'keyword')
    expect(server.log).toEqual([])
  })

  it('a second visit answers from the cache, offline', async () => {
    const server = snapshotServer(BASE)
    server.publish(lazy.manifest, lazy.files)
    const first = await lazyOver(server)
    const want = await answers(first.engine, 'rerank shard anchor unique123', 'hybrid')
    server.setOffline(true)
    const second = await lazyOver(server, first.cache)
    expect(await answers(second.engine, 'rerank shard anchor unique123', 'hybrid')).toEqual(want)
    expect(second.source.traffic.fetched).toBe(0)
    expect(second.source.traffic.cached).toBeGreaterThan(3)
    // A query whose shards were never fetched is a network error, typed, and the engine keeps going.
    const missed = await answers(second.engine, 'unique399', 'keyword').catch((e) => e)
    expect([missed.code, missed.details?.reason]).toEqual(['SNAPSHOT_INVALID', 'network'])
    expect(await answers(second.engine, 'rerank shard anchor unique123', 'hybrid')).toEqual(want)
  })

  for (const fault of ['404', 'truncated', 'hash'] as const) {
    it(`a postings shard that ${fault === '404' ? '404s' : fault === 'truncated' ? 'arrives cut short' : 'fails its hash'}: a typed error for that query, other queries served, the next one retried`, async () => {
      const server = snapshotServer(BASE)
      server.publish(lazy.manifest, lazy.files)
      const { engine } = await lazyOver(server)
      // Break the shard holding "unique300"'s postings; "index" lies in another one.
      server.log.length = 0
      const want = await answers(engine, 'unique300', 'keyword')
      const shard = server.log.find((u) => /\/postings-/.test(u))!
      server.log.length = 0
      await answers(engine, 'index', 'keyword')
      expect(server.log.find((u) => /\/postings-/.test(u))).not.toBe(shard)
      const good = server.files.get(shard)!
      const fresh = await lazyOver(server)
      if (fault === '404') server.files.delete(shard)
      else if (fault === 'truncated') server.files.set(shard, good.slice(0, good.length - 9))
      else {
        const bad = good.slice()
        bad[bad.length >> 1]! ^= 0xff
        server.files.set(shard, bad)
      }
      const error = await answers(fresh.engine, 'unique300', 'keyword').catch((e) => e)
      expect([error.code, error.details?.reason]).toEqual(['SNAPSHOT_INVALID', fault === '404' ? 'http' : 'corrupt'])
      if (fault === '404') expect(error.details.status).toBe(404)
      const other = await answers(fresh.engine, 'index', 'keyword')
      expect(other.length).toBe(10)
      server.files.set(shard, good)
      expect(await answers(fresh.engine, 'unique300', 'keyword')).toEqual(want)
    })
  }
})
