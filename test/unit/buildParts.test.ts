/**
 * A format-2 snapshot built a part at a time (`buildSnapshot` past `partPassages`,
 * `src/snapshot/lazyWriter.ts`): each part through its own collection, continuing the seqs and
 * segment ids of the one before, written out before the next; postings merged from runs at the end.
 * It answers as the collection built whole; runs kept in files give the same bytes as runs in
 * memory; files go to `onFile` as they are made.
 */
import { existsSync, readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildSnapshot, SMALLEST_PARTITIONED } from '../../src/cli/buildSnapshot.js'
import { fileRuns } from '../../src/cli/fileRuns.js'
import type { CollectionEngine } from '../../src/collection/engine.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { parseManifest } from '../../src/snapshot/format.js'
import { LazySnapshotStore } from '../../src/snapshot/lazyStore.js'
import { mergeRuns, memoryRuns, writeRun } from '../../src/snapshot/postingRuns.js'
import { ShardSource } from '../../src/snapshot/shardSource.js'
import type { SnapshotFile } from '../../src/snapshot/write.js'
import { MemoryShardCache } from '../../src/store/shardCache.js'
import { RECORD_LAYOUT, type PostingRecord } from '../../src/store/types.js'
import { ANALYZER_VERSION } from '../../src/text/analyzer.js'
import type { SearchMode } from '../../src/types.js'
import { buildCollection, corpus, engineOver, hashingEmbedder, snapshotServer } from './snapshotFixtures.js'

const none = async () => {}
const BASE = 'https://docs.example/parts/'
const embedder = hashingEmbedder(32)
const info = { model: embedder.model, dtype: 'q8', dims: embedder.dims, pooling: 'mean' }
const options = { embedder: { port: embedder, info }, format: 2 as const, chunking: { maxTokens: 48 }, vectorIndex: { minRows: 64 }, batchDocuments: 40, createdAt: '2026-01-01T00:00:00.000Z' }

async function open(built: { manifest: Parameters<typeof parseManifest>[0]; files: SnapshotFile[] }) {
  const server = snapshotServer(BASE)
  server.publish(built.manifest as never, built.files)
  const manifest = parseManifest(JSON.parse(JSON.stringify(built.manifest)), { schema: RECORD_LAYOUT, analyzerVersion: ANALYZER_VERSION })
  const cache = new MemoryShardCache()
  const store = await LazySnapshotStore.open('parts', manifest, new ShardSource(BASE + 'manifest.json', { fetch: server.fetch, cache }), cache)
  return { store, engine: await engineOver(store, embedder) }
}

async function answers(engine: CollectionEngine, query: string, mode: SearchMode) {
  const { hits } = await searchCollection(engine, { query, mode, k: 10, probes: 10_000 }, none)
  return hits.map((h) => ({ id: h.chunkId, score: h.score, text: h.snippet.text }))
}

const QUERIES: [string, SearchMode][] = [
  ['snapshot cache unique7', 'keyword'],
  ['offline worker manifest', 'vector'],
  ['rerank shard anchor unique123', 'hybrid'],
  ['unique350 token batch', 'keyword'],
  ['unique390 query search', 'hybrid'],
]

describe('a snapshot built in parts', async () => {
  const docs = corpus(400, 11)
  // The reference: the same documents added to one collection, in the same batches.
  const reference = await engineOver(await (await buildCollection(docs, embedder)).open('built'), embedder)
  const whole = await buildSnapshot(docs, { ...options, partPassages: 100_000 })
  const written: SnapshotFile[] = []
  const parts = await buildSnapshot(docs, { ...options, partPassages: 150, onFile: async (f) => void written.push(f) })

  it('holds a segment per part, with seqs and segment ids continuing, and answers as the collection built whole', async () => {
    expect(parts.files).toEqual([])
    const { store, engine } = await open({ manifest: parts.manifest, files: written })
    const segments = await store.readSegments()
    expect(segments.length).toBeGreaterThanOrEqual(3)
    expect(segments.every((s) => s.ivf)).toBe(true)
    // Each part just past its 150 passages (its last adds shrink, by passages per document so far):
    // one segment each, partitioned, no small remainder read whole by every vector query.
    const sizes = segments.map((s) => s.seqs.length)
    for (const size of sizes.slice(0, -1)) expect(size).toBeGreaterThanOrEqual(150)
    for (const size of sizes.slice(0, -1)) expect(size).toBeLessThan(150 + 20)
    const seqs = segments.flatMap((s) => Array.from(s.seqs)).sort((a, b) => a - b)
    expect(seqs).toEqual(Array.from({ length: whole.manifest.collection.chunks }, (_, i) => i))
    expect(new Set(segments.map((s) => s.id)).size).toBe(segments.length)
    expect(parts.manifest.collection).toMatchObject({ documents: 400, chunks: whole.manifest.collection.chunks, totalLength: whole.manifest.collection.totalLength })
    for (const [query, mode] of QUERIES) {
      const got = await answers(engine, query, mode)
      const want = await answers(reference, query, mode)
      expect(got.map((h) => h.id), `${mode} ${query}`).toEqual(want.map((h) => h.id))
      // Keyword exactly; vector within int16 rows' error; hybrid fuses ranks, which a near tie
      // between int16 and fp32 rows may swap deep in the vector list (the ids above are equal).
      got.forEach((h, i) => expect(h.score, `${mode} ${query} #${i}`).toBeCloseTo(want[i]!.score, mode === 'keyword' ? 9 : mode === 'vector' ? 4 : 1))
      expect(got.map((h) => h.text)).toEqual(want.map((h) => h.text))
    }
    // Every file the indexes name was handed out, once.
    expect(new Set(written.map((f) => f.path)).size).toBe(written.length)
  })

  it('runs kept in files write the same snapshot, byte for byte, as runs in memory; the folder is removed after', async () => {
    const written2: SnapshotFile[] = []
    const runs = await fileRuns()
    let inFiles
    let kept: string[] = []
    try {
      inFiles = await buildSnapshot(docs, { ...options, partPassages: 150, postingRuns: runs.create, onFile: async (f) => {
        // While files are made (the postings come last), the runs of the parts so far wait on disk.
        if (f.path.includes('/documents-')) kept = readdirSync(runs.dir)
        written2.push(f)
      } })
    } finally {
      await runs.dispose()
    }
    expect(kept.length).toBeGreaterThanOrEqual(2)
    expect(existsSync(runs.dir)).toBe(false)
    expect(inFiles.manifest.hash).toBe(parts.manifest.hash)
    expect(written2.map((f) => f.path).sort()).toEqual(written.map((f) => f.path).sort())
  })

  it('merges runs by term, a term\'s records in segment order, each posting kept', async () => {
    const posting = (term: string, segment: number, seqs: number[]): PostingRecord => ({ term, segment, seqs: Uint32Array.from(seqs), tfs: Uint16Array.from(seqs, (s) => (s % 3) + 1) })
    const runA = [posting('b', 1, [1, 5]), posting('a', 1, [0]), posting('é', 2, [9]), posting('c', 1, [2])]
    const runB = [posting('c', 3, [20, 21]), posting('a', 3, [30]), posting('d', 3, [31])]
    const create = memoryRuns()
    const stores = [create(), create(), create()]
    await writeRun(runA, stores[0]!)
    await writeRun(runB, stores[1]!)
    await writeRun([], stores[2]!)
    const merged: PostingRecord[][] = []
    for await (const group of mergeRuns(stores)) merged.push(group)
    expect(merged.map((g) => g.map((p) => `${p.term}@${p.segment}:${Array.from(p.seqs)}/${Array.from(p.tfs)}`))).toEqual([
      ['a@1:0/1', 'a@3:30/1'],
      ['b@1:1,5/2,3'],
      ['c@1:2/3', 'c@3:20,21/3,1'],
      ['d@3:31/2'],
      ['é@2:9/1'],
    ])
  })

  it('a last part smaller than minRows is partitioned all the same (else every vector query would read its vectors whole)', async () => {
    const total = whole.manifest.collection.chunks
    // Two parts and a remainder of about 100 passages, under minRows (here 128).
    const built = await buildSnapshot(docs, { ...options, vectorIndex: { minRows: 128 }, partPassages: Math.floor((total - 100) / 2) })
    const { store, engine } = await open(built)
    const segments = (await store.readSegments()).sort((a, b) => a.id - b.id)
    expect(segments.length).toBe(3)
    const last = segments.at(-1)!
    expect(last.seqs.length).toBeGreaterThanOrEqual(SMALLEST_PARTITIONED)
    expect(last.seqs.length).toBeLessThan(128)
    expect(segments.every((s) => s.ivf)).toBe(true)
    expect(built.manifest.shards.some((s) => s.of === 'vectors')).toBe(false)
    for (const [query, mode] of QUERIES.filter(([, m]) => m !== 'keyword')) {
      expect((await answers(engine, query, mode)).map((h) => h.id)).toEqual((await answers(reference, query, mode)).map((h) => h.id))
    }
  })

  it('parts too small to partition are refused before a part is written', async () => {
    await expect(buildSnapshot(docs, { ...options, partPassages: 50 })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('vectorIndex.minRows (64)') })
  })

  it('a part that does not continue the one before is refused', async () => {
    const { LazySnapshotWriter } = await import('../../src/snapshot/lazyWriter.js')
    const backend = await buildCollection(corpus(40, 3), null)
    const records = backend.dump('built')
    const writer = new LazySnapshotWriter({ embedder: null }, async () => {})
    await writer.add(records)
    await expect(writer.add(records)).rejects.toMatchObject({ code: 'INVALID_INPUT' })
  })
})
