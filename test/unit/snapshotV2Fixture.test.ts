/**
 * Format 2 from real old output (export-v2.mjs): test/fixtures/snapshot/v2-early.json was written
 * by winnow at 25e4f03, the first format-2 writer — fp32 centroids, document ids as JSON and
 * columns in row order in its segment tables, int8 lists, rows in shards of whole row blocks;
 * v2-stop35.json at 2b2b6e7 — ids front-coded without restarts (the rests a JSON array), int8
 * centroids, columns by list, product-quantized lists, rows files read by range. Today's lazy
 * store reads each, fetching as queries need, and answers as a collection built today from the
 * same corpus with the same settings.
 */
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import type { EmbedderPort } from '../../src/models/embedderPort.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { decodeRecords, gunzip } from '../../src/snapshot/codec.js'
import { parseManifest, type SnapshotManifest } from '../../src/snapshot/format.js'
import { LazySnapshotStore } from '../../src/snapshot/lazyStore.js'
import { ShardSource } from '../../src/snapshot/shardSource.js'
import { createCoordination } from '../../src/store/coordination.js'
import { MemoryBackend } from '../../src/store/memory.js'
import { MemoryShardCache } from '../../src/store/shardCache.js'
import { RECORD_LAYOUT } from '../../src/store/types.js'
import { ANALYZER_VERSION } from '../../src/text/analyzer.js'
// @ts-expect-error: a plain .mjs module shared with the exporter
import { documents, embedder, info } from '../fixtures/snapshot/corpus.mjs'
// @ts-expect-error: a plain .mjs module (the exporter; importing it writes nothing)
import { V2_BUILD } from '../fixtures/snapshot/export-v2.mjs'
import { engineOver, snapshotServer } from './snapshotFixtures.js'

const none = async () => {}
const BASE = 'https://old.example/lazy/'
const port = embedder as EmbedderPort

function load(name: string) {
  const fixture = JSON.parse(readFileSync(`test/fixtures/snapshot/${name}`, 'utf8')) as { exportedAt: string; manifest: SnapshotManifest; files: Record<string, string> }
  const files = Object.entries(fixture.files).map(([path, b64]) => ({ path, bytes: new Uint8Array(Buffer.from(b64, 'base64')) }))
  const payload = async (kind: string) => decodeRecords(await gunzip(files.find((f) => f.path.startsWith(`shards/${kind}-`))!.bytes)) as any
  return { fixture, files, payload }
}

it('v2-early.json holds the first format-2 layouts', async () => {
  const { fixture, payload } = load('v2-early.json')
  expect(fixture.exportedAt).toBe('25e4f03')
  expect(fixture.manifest.version).toBe(2)
  const table = (await payload('segments')).packed[0]
  expect(typeof table.docIds).toBe('string')
  expect(table.idPrefixes).toBeUndefined()
  expect(table.listOf).toBeUndefined()
  expect(table.ivf.centroids).toBeInstanceOf(Float32Array)
  expect((await payload('lists')).lists[0].codes).toBeInstanceOf(Int8Array)
  expect((await payload('rows')).blocks[0].codes).toBeInstanceOf(Uint16Array)
  expect((await payload('index-rows')).rowBytes).toBeUndefined()
  expect((await payload('index-lists')).codebook).toBeUndefined()
})

it('v2-stop35.json holds the layouts of 2b2b6e7: ids front-coded without restarts, PQ lists, rows files', async () => {
  const { fixture, payload } = load('v2-stop35.json')
  expect(fixture.exportedAt).toBe('2b2b6e7')
  const table = (await payload('segments')).packed[0]
  expect(table.idPrefixes).toBeInstanceOf(Uint8Array)
  expect(typeof table.idSuffixes).toBe('string')
  expect(table.idTail).toBeUndefined()
  // Front-coded: ids share their predecessors' leading characters.
  expect(Array.from(table.idPrefixes as Uint8Array).some((p) => p > 0)).toBe(true)
  expect(table.listOf).toBeDefined()
  expect(table.ivf.centroidCodes).toBeInstanceOf(Int8Array)
  expect((await payload('lists')).pq[0].codes).toBeInstanceOf(Uint8Array)
  expect((await payload('index-lists')).codebook).toBeDefined()
  expect((await payload('index-rows')).rowBytes).toBeGreaterThan(0)
})

it.each([
  ['v2-early.json', false],
  ['v2-stop35.json', true],
])('today\'s lazy store answers from %s as a collection built today from the same corpus', async (name, rowsByRange) => {
  const { fixture, files } = load(name)
  const server = snapshotServer(BASE)
  server.publish(fixture.manifest, files)
  const manifest = parseManifest(JSON.parse(new TextDecoder().decode(server.files.get(BASE + 'manifest.json')!)), { schema: RECORD_LAYOUT, analyzerVersion: ANALYZER_VERSION })
  const cache = new MemoryShardCache()
  const store = await LazySnapshotStore.open('old', manifest, new ShardSource(BASE + 'manifest.json', { fetch: server.fetch, cache }), cache)
  const old = await engineOver(store, port)

  // The reference, built as the exporter's buildSnapshot did: adds of 10, then optimize.
  const backend = new MemoryBackend()
  const built = await CollectionEngine.open('built', { store: await backend.open('built'), coordination: createCoordination({}), embedder: port }, { chunking: V2_BUILD.chunking, vectorIndex: V2_BUILD.vectorIndex })
  for (let i = 0; i < documents.length; i += V2_BUILD.batchDocuments) {
    await built.add(documents.slice(i, i + V2_BUILD.batchDocuments), none)
    await built.idle()
  }
  await built.optimize()
  expect(backend.dump('built').segments.some((s) => s.ivf)).toBe(true)
  expect(old.info()).toMatchObject({ documents: 40, chunks: built.info().chunks, dims: 16, embedder: info.model })

  for (const query of ['unique7 shard', 'offline cache token', 'item33 anchor']) {
    const keyword = async (e: CollectionEngine) => (await searchCollection(e, { query, mode: 'keyword', k: 10 }, none)).hits.map((h) => [h.chunkId, h.score.toFixed(9), h.title, h.snippet.text])
    expect(await keyword(old)).toEqual(await keyword(built))
  }
  // Vectors, every list probed: the old rows are int16 (within 1/65534 of fp32), so scores agree
  // to 1e-4, and every hit the built collection ranks clearly (1e-3) above the old fifth is there.
  server.log.length = 0
  for (const query of ['shard cache offline', 'manifest worker rerank', 'unique21 anchor snapshot']) {
    const vector = async (e: CollectionEngine) => new Map((await searchCollection(e, { query, mode: 'vector', k: 5, probes: 10_000 }, none)).hits.map((h) => [h.chunkId, h.score]))
    const [got, want] = [await vector(old), await vector(built)]
    const fifth = Math.min(...got.values())
    const clear = [...want].filter(([, score]) => score > fifth + 1e-3)
    expect(clear.length).toBeGreaterThan(0)
    for (const [id, score] of clear) expect(Math.abs(got.get(id)! - score), `${query}: ${id}`).toBeLessThan(1e-4)
  }
  // Read through the old lists and rows: 16-row row shards whole (v2-early), rows files by range (stop 35).
  expect(server.log.some((u) => /\/lists-/.test(u))).toBe(true)
  expect(server.log.filter((u) => /\/rows-/.test(u)).every((u) => u.includes('#') === rowsByRange)).toBe(true)
  expect(server.log.some((u) => /\/rows-/.test(u))).toBe(true)
})
