/**
 * A snapshot imported into IndexedDB (fake-indexeddb) over many small shards: format v2 packs each
 * segment's postings into buckets, and a segment's postings arrive over several commits, so buckets
 * are merged on write. The imported collection must answer exactly as the in-memory one.
 */
import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { beforeEach, describe, expect, it } from 'vitest'
import { importShards } from '../../src/snapshot/importer.js'
import { writeSnapshot } from '../../src/snapshot/write.js'
import { IdbBackend } from '../../src/store/idb.js'
import { MemoryBackend } from '../../src/store/memory.js'
import { RECORD_LAYOUT, SCHEMA_VERSION } from '../../src/store/types.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { buildCollection, corpus, engineOver, snapshotServer } from './snapshotFixtures.js'

const BASE = 'https://docs.example/winnow-index/'
const none = async () => {}

beforeEach(() => {
  globalThis.indexedDB = new IDBFactory()
})

describe('snapshot import into IndexedDB (format v2)', () => {
  it('over 1 KiB shards, a segment’s postings merged over many commits answer exactly as the in-memory import', async () => {
    const docs = corpus(60)
    const built = await buildCollection(docs, null)
    const { manifest, files } = await writeSnapshot(built.dump('built'), { embedder: null, shardBytes: 1024, createdAt: '2026-01-01T00:00:00.000Z' })
    const postingShards = manifest.shards.filter((s) => s.kind === 'postings').length
    expect(postingShards).toBeGreaterThan(5)
    const server = snapshotServer(BASE)
    server.publish(manifest, files)
    const memory = await new MemoryBackend().open('target')
    const idb = await new IdbBackend().open('target')
    for (const store of [memory, idb]) await importShards(manifest, BASE + 'manifest.json', store, { fetch: server.fetch, checkpoint: none })
    // Snapshots carry records, not the IndexedDB layout: they say record layout 1, as every snapshot
    // written before format v2 did (it wrote the collection's schema, then 1), so those still import.
    expect(manifest.collection.schema).toBe(RECORD_LAYOUT)
    expect(RECORD_LAYOUT).toBe(1)
    expect((await idb.readManifest())!.schema).toBe(SCHEMA_VERSION)
    const [a, b] = await Promise.all([engineOver(memory, null), engineOver(idb, null)])
    for (const query of ['index snapshot', 'worker cache shard', 'unique7', 'ünïcode manifest query', 'rerank offline token batch model search anchor']) {
      const x = await searchCollection(a, { query, mode: 'keyword', k: 30 }, none)
      const y = await searchCollection(b, { query, mode: 'keyword', k: 30 }, none)
      expect(y.hits.map((h) => [h.chunkId, h.text, h.firstStageScore]), query).toEqual(x.hits.map((h) => [h.chunkId, h.text, h.firstStageScore]))
      expect(x.hits.length).toBeGreaterThan(0)
    }
  })
})
