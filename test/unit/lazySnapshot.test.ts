/**
 * Snapshot format 2: a collection written as lazily fetched shards and searched through
 * LazySnapshotStore answers as the same snapshot imported whole (format 1), fetching only the shards
 * a query needs; shards are cached, so a second visit works offline; a shard that 404s, arrives cut
 * short or fails its hash is a typed error for that query, the rest keeps serving, and the next
 * query tries again.
 */
import { describe, expect, it, vi } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import type { EmbedderPort } from '../../src/models/embedderPort.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { parseManifest } from '../../src/snapshot/format.js'
import { importShards } from '../../src/snapshot/importer.js'
import { FrontCodedIds } from '../../src/snapshot/docColumns.js'
import { LazySnapshotStore } from '../../src/snapshot/lazyStore.js'
import { ShardSource } from '../../src/snapshot/shardSource.js'
import { writeSnapshot } from '../../src/snapshot/write.js'
import { packSegment, writeLazySnapshot, type PackedIvf } from '../../src/snapshot/writeLazy.js'
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
  return { records: backend.dump('built'), backend }
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
  const { records, backend } = await built()
  // Small shards, so that a corpus of 400 documents has many of each kind.
  const lazy = await writeLazySnapshot(records, { embedder: info, createdAt: '2026-01-01T00:00:00.000Z', postingsBytes: 4096, documentBytes: 4096, vectorBytes: 1024, rowFileBytes: 8192 })
  const whole = await writeSnapshot(records, { embedder: info, createdAt: '2026-01-01T00:00:00.000Z' })

  it('imports whole (format 1) to the same answers, as a check of the reference', async () => {
    const target = await new MemoryBackend().open('whole')
    const wholeServer = snapshotServer(BASE)
    wholeServer.publish(whole.manifest, whole.files)
    await importShards(whole.manifest, BASE + 'manifest.json', target, { fetch: wholeServer.fetch, checkpoint: none })
    const imported = await engineOver(target, embedder)
    const reference = await engineOver(await backend.open('built'), embedder)
    for (const [query] of QUERIES) expect(await answers(imported, query, 'keyword')).toEqual(await answers(reference, query, 'keyword'))
  })

  it('is built with partitioned segments, and its manifest lists only the segment tables and indexes', async () => {
    expect(records.segments.some((s) => s.ivf)).toBe(true)
    expect(lazy.manifest.version).toBe(2)
    expect(new Set(lazy.manifest.shards.map((s) => s.kind))).toEqual(new Set(['segments', 'index']))
    expect(lazy.manifest.shards.filter((s) => s.kind === 'index').map((s) => s.of).sort()).toEqual(['documents', 'lists', 'postings', 'rows', 'vectors'].filter((k) => k !== 'vectors' || records.quantized.length > 0).sort())
    expect(lazy.files.length).toBeGreaterThan(20)
  })

  it('keeps centroids as int8 (a quarter of fp32, each within half a step); tables with fp32 centroids (earlier builds) open unchanged', async () => {
    const partitioned = records.segments.filter((s) => s.ivf)
    const tables = (packed: unknown[]) => ({ get: async () => ({ packed }) }) as unknown as ShardSource
    const segmentsEntry = lazy.manifest.shards.find((s) => s.kind === 'segments')!
    const manifest = { ...lazy.manifest, shards: [{ ...segmentsEntry, records: records.segments.length }] }
    const fresh = await LazySnapshotStore.open('int8', manifest, tables(records.segments.map(packSegment)))
    const earlier = await LazySnapshotStore.open('fp32', manifest, tables(records.segments.map((s) => ({ ...packSegment(s), ivf: s.ivf }))))
    for (const segment of partitioned) {
      const ivf = segment.ivf!
      const lists = ivf.starts.length - 1
      const packed = packSegment(segment).ivf as PackedIvf
      expect(packed.centroidCodes).toBeInstanceOf(Int8Array)
      expect(packed.centroidCodes.byteLength + packed.centroidScales.byteLength).toBe(ivf.centroids.byteLength / 4 + lists * 4)
      const decoded = (await fresh.readSegments([segment.id]))[0]!.ivf!
      expect(decoded.starts).toEqual(ivf.starts)
      expect(decoded.recall).toEqual(ivf.recall)
      const dims = ivf.centroids.length / lists
      let worst = 0
      for (let i = 0; i < ivf.centroids.length; i++) worst = Math.max(worst, Math.abs(decoded.centroids[i]! - ivf.centroids[i]!) / packed.centroidScales[Math.floor(i / dims)]!)
      expect(worst).toBeGreaterThan(0)
      expect(worst).toBeLessThanOrEqual(0.5 + 1e-3)
      expect((await earlier.readSegments([segment.id]))[0]!.ivf!.centroids).toEqual(ivf.centroids)
    }
    const bad = tables(records.segments.map((s) => ({ ...packSegment(s), ...(s.ivf && { ivf: { ...packSegment(s).ivf, centroidScales: new Float32Array(1) } }) })))
    await expect(LazySnapshotStore.open('bad', manifest, bad)).rejects.toMatchObject({ code: 'SNAPSHOT_INVALID', details: { reason: 'corrupt' } })
  })

  it('answers keyword, vector and hybrid queries as the collection it was built from; at the default probes a query fetches under half of the lists', async () => {
    const server = snapshotServer(BASE)
    server.publish(lazy.manifest, lazy.files)
    const { engine, source } = await lazyOver(server)
    // The reference: the built collection itself (fp32 rows; the snapshot's rows are int16).
    const reference = await engineOver(await backend.open('built'), embedder)
    for (const [query, mode] of QUERIES) {
      const got = await answers(engine, query, mode)
      const want = await answers(reference, query, mode)
      expect(got.map((h) => h.id), `${mode} ${query}`).toEqual(want.map((h) => h.id))
      got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]!.score, mode === 'keyword' ? 9 : 4))
      expect(got.map((h) => h.text)).toEqual(want.map((h) => h.text))
      // Titles come from the documents shards (the segment tables leave them out).
      expect(got.map((h) => h.title)).toEqual(want.map((h) => h.title))
      expect(got.every((h) => typeof h.title === 'string')).toBe(true)
    }
    // Probing every list reads all of them; at the default probes a hybrid query reads a fraction.
    const lists = (urls: string[]) => urls.filter((u) => /\/lists-/.test(u)).length
    expect(lists(server.log)).toBe(lists(lazy.files.map((f) => f.path)))
    // Rows are read a few at a time by range, never a whole rows file.
    const rowReads = server.log.filter((u) => /\/rows-/.test(u))
    expect(rowReads.length).toBeGreaterThan(0)
    expect(rowReads.every((u) => /#\d+-\d+$/.test(u))).toBe(true)
    expect(source.traffic.fetchedBytes).toBeGreaterThan(0)
    const fresh = await lazyOver(server)
    server.log.length = 0
    const { hits } = await searchCollection(fresh.engine, { query: 'offline worker manifest', mode: 'hybrid', k: 10 }, none)
    expect(hits.length).toBe(10)
    expect(lists(server.log)).toBeGreaterThan(0)
    expect(lists(server.log)).toBeLessThan(lists(lazy.files.map((f) => f.path)) / 2)
  })

  it('opens without making its documents: a search reads its hits\' ids only (from the restart before each), a lookup by id reads them all once, and answers stay exact', async () => {
    const server = snapshotServer(BASE)
    server.publish(lazy.manifest, lazy.files)
    const reads = vi.spyOn(FrontCodedIds.prototype, 'at')
    try {
      const { engine } = await lazyOver(server)
      expect(reads).not.toHaveBeenCalled()
      const reference = await engineOver(await backend.open('built'), embedder)
      for (const [query, mode] of QUERIES) {
        reads.mockClear()
        const got = await answers(engine, query, mode)
        expect(got.map((h) => h.id)).toEqual((await answers(reference, query, mode)).map((h) => h.id))
        // 10 hits, each read a few times (its id, its reference); never the segment's thousands.
        expect(reads.mock.calls.length).toBeGreaterThan(0)
        expect(reads.mock.calls.length).toBeLessThanOrEqual(60)
      }
      reads.mockClear()
      const doc = corpus(400, 11)[123]!
      expect((await engine.get(doc.id))?.text).toBe(doc.text)
      const documents = records.segments.reduce((n, s) => n + s.docs.length, 0)
      expect(reads.mock.calls.length).toBeGreaterThanOrEqual(documents)
      reads.mockClear()
      expect((await engine.get(corpus(400, 11)[7]!.id))?.text).toBe(corpus(400, 11)[7]!.text)
      expect(await engine.get('no-such-document')).toBeNull()
      expect(reads.mock.calls.length).toBeLessThan(documents / 4)
    } finally {
      reads.mockRestore()
    }
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

  it('a query does not wait for the cache to keep what it fetched: a cache whose writes never finish still answers every kind of query', async () => {
    const server = snapshotServer(BASE)
    server.publish(lazy.manifest, lazy.files)
    const stuck = new (class extends MemoryShardCache {
      writes = 0
      override put(): Promise<void> {
        this.writes++
        return new Promise(() => {})
      }
    })()
    const { engine } = await lazyOver(server, stuck)
    const reference = await engineOver(await backend.open('built'), embedder)
    for (const [query, mode] of QUERIES) {
      const got = await Promise.race([answers(engine, query, mode), new Promise<'waited'>((r) => setTimeout(() => r('waited'), 3000))])
      expect(got, `${mode} ${query}`).not.toBe('waited')
      expect((got as Awaited<ReturnType<typeof answers>>).map((h) => h.id)).toEqual((await answers(reference, query, mode)).map((h) => h.id))
    }
    // Shards and rows were handed to the cache (rows one by one), and nothing waited for them.
    expect(stuck.writes).toBeGreaterThan(QUERIES.length)
  })

  it('reranking costs no more network than the candidates\' texts: a reranked query fetches what its first stage does, plus the documents shards of its candidates', async () => {
    const reranker = {
      model: 'fake-cross-encoder',
      maxTokens: 512,
      async score(_query: string, passages: string[]) {
        return { logits: Float32Array.from(passages, (p) => (p.match(/unique\d*5\b/g) ?? []).length - p.length / 1e4), documentTokens: passages.map((p) => p.split(/\s+/).length) }
      },
    }
    const extras = { hasReranker: true, reranker: async () => reranker as never }
    const visit = async (request: { k: number; rerank: boolean }) => {
      const server = snapshotServer(BASE)
      server.publish(lazy.manifest, lazy.files)
      const { engine } = await lazyOver(server)
      server.log.length = 0
      const result = await searchCollection(engine, { query: 'offline worker manifest unique15', mode: 'hybrid', ...request }, none, request.rerank ? extras : {})
      return { result, files: new Set(server.log) }
    }
    const reranked = await visit({ k: 10, rerank: true })
    expect(reranked.result.route).toMatchObject({ path: 'reranked' })
    const candidates = reranked.result.route.candidates!
    expect(candidates).toBeGreaterThan(10)
    const firstStage = await visit({ k: candidates, rerank: false })
    expect(firstStage.result.hits.length).toBe(candidates)
    const top10 = await visit({ k: 10, rerank: false })
    const minus = (a: Set<string>, b: Set<string>) => [...a].filter((f) => !b.has(f)).map((f) => f.replace(/^.*shards\//, '').replace(/-[0-9a-f]{12}\.bin/, ''))
    // The same files as its first stage read at the candidates' depth, which returns their texts…
    expect(minus(reranked.files, firstStage.files)).toEqual([])
    expect(minus(firstStage.files, reranked.files)).toEqual([])
    // …and beyond a first stage of 10, only documents shards: the other candidates' texts.
    expect(minus(top10.files, reranked.files)).toEqual([])
    const extra = minus(reranked.files, top10.files)
    expect(extra.length).toBeGreaterThan(0)
    expect(extra.length).toBeLessThanOrEqual(candidates - 10)
    expect(extra.every((f) => f.startsWith('documents-'))).toBe(true)
    // The reranker reordered them (the fake cross-encoder favours other passages than the first stage).
    expect(reranked.result.hits.map((h) => h.id)).not.toEqual(top10.result.hits.map((h) => h.id))
  })

  it('buildSnapshot adds a large corpus in batches, then merges and partitions its segments: it answers as one add', async () => {
    const { buildSnapshot } = await import('../../src/cli/buildSnapshot.js')
    const docs = corpus(300, 5)
    const options = { embedder: { port: embedder, info }, format: 2 as const, chunking: { maxTokens: 48 }, vectorIndex: { minRows: 64 } }
    const batched = await buildSnapshot(docs, { ...options, batchDocuments: 20 })
    const single = await buildSnapshot(docs, { ...options, batchDocuments: 1000 })
    const kinds = (m: typeof batched.manifest) => m.shards.filter((s) => s.kind === 'index').map((s) => s.of).sort()
    // Optimized: one segment either way (300 passages fit a merge), partitioned past minRows.
    for (const built of [batched, single]) {
      expect(kinds(built.manifest)).toContain('lists')
      expect(built.manifest.shards.filter((s) => s.kind === 'segments').reduce((n, s) => n + s.records, 0)).toBe(1)
    }
    expect(batched.manifest.collection).toMatchObject({ documents: 300, chunks: single.manifest.collection.chunks })
    const open = async (built: typeof batched) => {
      const server = snapshotServer(BASE)
      server.publish(built.manifest, built.files)
      return (await lazyOver(server)).engine
    }
    const [a, b] = [await open(batched), await open(single)]
    for (const query of ['unique42 snapshot', 'offline cache token']) {
      const ranked = async (e: CollectionEngine) => (await searchCollection(e, { query, mode: 'keyword', k: 10 }, none)).hits.map((h) => ({ id: h.id, score: h.score.toFixed(6) }))
      const [x, y] = [await ranked(a), await ranked(b)]
      // The same scores; equal ones may come in another order (ties follow the segments' layout),
      // so the ids are compared above the last score only.
      expect(x.map((h) => h.score)).toEqual(y.map((h) => h.score))
      const above = (hits: typeof x) => hits.filter((h) => h.score !== x.at(-1)!.score).map((h) => `${h.id} ${h.score}`).sort()
      expect(above(x)).toEqual(above(y))
    }
  })

  it('a JSONL corpus with its own vectors builds (winnow-rerank index --vectors-model) and a browser-side embedder finds each passage by its text', async () => {
    const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const { main } = await import('../../src/cli/main.js')
    const dir = mkdtempSync(join(tmpdir(), 'winnow-vectors-'))
    const docs = corpus(60, 9)
    const vectors = await embedder.embed(docs.map((d) => d.text), none)
    writeFileSync(join(dir, 'corpus.jsonl'), docs.map((d, i) => JSON.stringify({ id: d.id, text: d.text, title: d.title, vector: Array.from(vectors.subarray(i * 32, (i + 1) * 32)) })).join('\n'))
    const out = join(dir, 'out')
    expect(await main(['index', join(dir, 'corpus.jsonl'), '--out', out, '--vectors-model', embedder.model, '--format', '2', '--quiet'])).toBe(0)
    const server = snapshotServer(BASE)
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))
    expect(manifest.collection).toMatchObject({ vectorSource: 'embedder', dims: 32, documents: 60, chunks: 60, embedder: { model: embedder.model, dims: 32, pooling: 'mean', queryPrefix: '', documentPrefix: '' } })
    const { readdirSync } = await import('node:fs')
    server.publish(manifest, readdirSync(join(out, 'shards')).map((f) => ({ path: `shards/${f}`, bytes: new Uint8Array(readFileSync(join(out, 'shards', f))) })))
    const { engine } = await lazyOver(server)
    for (const i of [0, 17, 59]) {
      const { hits } = await searchCollection(engine, { query: docs[i]!.text, mode: 'vector', k: 1, probes: 10_000 }, none)
      expect(hits[0]!.id).toBe(docs[i]!.id)
      expect(hits[0]!.score).toBeCloseTo(1, 3)
    }
    // A line without its vector is refused, naming what is missing.
    writeFileSync(join(dir, 'mixed.jsonl'), [JSON.stringify({ id: 'a', text: 'x', vector: [1, 0] }), JSON.stringify({ id: 'b', text: 'y' })].join('\n'))
    expect(await main(['index', join(dir, 'mixed.jsonl'), '--out', join(dir, 'mixed'), '--vectors-model', 'm', '--quiet'])).toBe(1)
    writeFileSync(join(dir, 'badvec.jsonl'), JSON.stringify({ id: 'a', text: 'x', vector: [1, 'two'] }))
    expect(await main(['index', join(dir, 'badvec.jsonl'), '--out', join(dir, 'badvec'), '--vectors-model', 'm', '--quiet'])).toBe(1)
    expect(await main(['index', join(dir, 'corpus.jsonl'), '--out', join(dir, 'novec'), '--quiet'])).toBe(1)
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

describe('snapshot options', () => {
  it('snapshotFetch is lazy, prefetch or all; anything else is INVALID_INPUT before anything is fetched', async () => {
    const { checkSnapshotOptions } = await import('../../src/snapshot/sync.js')
    const url = 'https://example.com/idx/manifest.json'
    for (const mode of ['lazy', 'prefetch', 'all'] as const) expect(() => checkSnapshotOptions({ snapshot: url, snapshotFetch: mode })).not.toThrow()
    for (const bad of ['eager', '', 1, null]) {
      expect(() => checkSnapshotOptions({ snapshot: url, snapshotFetch: bad as never })).toThrowError(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/snapshotFetch must be/) }))
    }
  })
})
