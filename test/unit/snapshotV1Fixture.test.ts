/**
 * Format 1 from real old output: test/fixtures/snapshot/v1.json was written by winnow at 0a27c47,
 * before format 2 and the writer's refactor (export-v1.mjs). Today's writer makes the same files
 * from the same corpus, and today's importer reads the old ones into a collection that answers as
 * the collection it was built from.
 */
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { buildSnapshot } from '../../src/cli/buildSnapshot.js'
import type { EmbedderPort } from '../../src/models/embedderPort.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import type { SnapshotManifest } from '../../src/snapshot/format.js'
import { fetchManifest, importShards } from '../../src/snapshot/importer.js'
import { MemoryBackend } from '../../src/store/memory.js'
// @ts-expect-error: a plain .mjs module shared with the exporter
import { documents, embedder, info } from '../fixtures/snapshot/corpus.mjs'
import { buildCollection, engineOver, snapshotServer } from './snapshotFixtures.js'

const none = async () => {}
const BASE = 'https://old.example/idx/'
const fixture = JSON.parse(readFileSync('test/fixtures/snapshot/v1.json', 'utf8')) as { exportedAt: string; manifest: SnapshotManifest; files: Record<string, string> }
const files = Object.entries(fixture.files).map(([path, b64]) => ({ path, bytes: new Uint8Array(Buffer.from(b64, 'base64')) }))
const port = embedder as EmbedderPort

it('today\'s writer makes the old format-1 files byte for byte', async () => {
  expect(fixture.exportedAt).toBe('0a27c47')
  const today = await buildSnapshot(documents, { embedder: { port, info }, shardBytes: 4096, chunking: { maxTokens: 48 }, format: 1 })
  expect(today.manifest.hash).toBe(fixture.manifest.hash)
  expect(today.manifest.shards).toEqual(fixture.manifest.shards)
  expect(today.files.map((f) => [f.path, Buffer.from(f.bytes).toString('base64')])).toEqual(Object.entries(fixture.files))
})

it('today\'s importer reads the old snapshot into a collection that answers as the one it was built from', async () => {
  const server = snapshotServer(BASE)
  server.publish(fixture.manifest, files)
  const manifest = await fetchManifest(BASE + 'manifest.json', { fetch: server.fetch })
  const target = await new MemoryBackend().open('old')
  await importShards(manifest, BASE + 'manifest.json', target, { fetch: server.fetch, checkpoint: none })
  const imported = await engineOver(target, port)
  const built = await engineOver(await (await buildCollection(documents, port)).open('built'), port)
  expect(imported.info()).toMatchObject({ documents: 40, chunks: built.info().chunks, dims: 16, embedder: info.model })
  for (const query of ['unique7 shard', 'offline cache token', 'item33 anchor']) {
    const keyword = async (e: typeof built) => (await searchCollection(e, { query, mode: 'keyword', k: 10 }, none)).hits.map((h) => [h.chunkId, h.score.toFixed(9), h.title, h.snippet.text])
    expect(await keyword(imported)).toEqual(await keyword(built))
  }
  // Vectors: the import rebuilds rows from int8 codes, so scores agree to the codes' precision and
  // near-ties (this embedder makes many) may swap places: every hit the built collection ranks
  // clearly (0.02) above the imported fifth is among the imported five, with its score within 0.02.
  for (const query of ['shard cache offline', 'manifest worker rerank', 'unique21 anchor snapshot']) {
    const vector = async (e: typeof built) => new Map((await searchCollection(e, { query, mode: 'vector', k: 5 }, none)).hits.map((h) => [h.chunkId, h.score]))
    const [got, want] = [await vector(imported), await vector(built)]
    const fifth = Math.min(...got.values())
    const clear = [...want].filter(([, score]) => score > fifth + 0.02)
    expect(clear.length).toBeGreaterThan(0)
    for (const [id, score] of clear) expect(Math.abs(got.get(id)! - score), `${query}: ${id}`).toBeLessThan(0.02)
  }
})
