/**
 * fp32 rows in blocks sized by dims (`fp32BlockRows`): 384-d vectors go in 32-row blocks when added
 * and 8-row ones when merged, while segments written before keep 64-row ones. Adds, deletes and the merges they cause must rescore
 * with exactly the caller's vectors whatever blocks hold them, in memory and over IndexedDB.
 */
import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { describe, expect, it } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { createCoordination } from '../../src/store/coordination.js'
import { IdbBackend } from '../../src/store/idb.js'
import { MemoryBackend } from '../../src/store/memory.js'
import { fp32BlockRows, VECTOR_BLOCK_ROWS, type CollectionStore, type StoreBackend, type VectorBlockRecord } from '../../src/store/types.js'
import { seeded } from './helpers.js'

const DIMS = 384
const none = async () => {}

function unit(rand: () => number): number[] {
  const v = Array.from({ length: DIMS }, () => rand() - 0.5)
  const n = Math.hypot(...v)
  return v.map((x) => x / n)
}

/** Rewrites segment `id`'s fp32 rows as 64-row blocks without `vectorRows`: how schema 1-2 code stored them. */
async function asOldLayout(store: CollectionStore, id: number): Promise<void> {
  const [segment] = await store.readSegments([id])
  const rows = segment!.vectorRows!
  const blocks = await store.readVectors(Array.from({ length: segment!.vectorBlocks }, (_, b) => [id, b] as const))
  const all = new Float32Array(segment!.seqs.length * DIMS)
  for (const b of blocks) all.set(b.vectors, b.block * rows * DIMS)
  const putVectors: VectorBlockRecord[] = []
  for (let b = 0; b * VECTOR_BLOCK_ROWS < segment!.seqs.length; b++) putVectors.push({ segment: id, block: b, vectors: all.slice(b * VECTOR_BLOCK_ROWS * DIMS, Math.min(segment!.seqs.length, (b + 1) * VECTOR_BLOCK_ROWS) * DIMS) })
  const { vectorRows: _rows, ...old } = segment!
  const manifest = (await store.readManifest())!
  const [postings, quantized] = await Promise.all([store.readSegmentPostings(id), store.readQuantized([id])])
  await store.commit({ manifest: { ...manifest, generation: manifest.generation + 1 }, deleteSegments: [id], putSegments: [{ ...old, vectorBlocks: putVectors.length }], putPostings: postings, putQuantized: quantized, putVectors })
}

describe('fp32 blocks sized by dims', () => {
  it('merged: 384 dims 8 rows a block (12 KiB), 768: 4, 1,024: 2; added: 32, 16, 8; small vectors keep 64', () => {
    expect([fp32BlockRows(1024), fp32BlockRows(384), fp32BlockRows(768), fp32BlockRows(8), fp32BlockRows(100_000)]).toEqual([2, 8, 4, 64, 1])
    expect([fp32BlockRows(1024, 'add'), fp32BlockRows(384, 'add'), fp32BlockRows(768, 'add'), fp32BlockRows(8, 'add'), fp32BlockRows(100_000, 'add')]).toEqual([8, 32, 16, 64, 1])
  })

  for (const [kind, makeBackend] of [
    ['memory', () => new MemoryBackend()],
    ['IndexedDB', () => ((globalThis.indexedDB = new IDBFactory()), new IdbBackend())],
  ] as [string, () => StoreBackend][]) {
    it(`${kind}: old 64-row, added 32-row and merged 8-row segments, reopened, rescore with the exact vectors`, async () => {
      const backend = makeBackend()
      const coordination = createCoordination({})
      const rand = seeded(77)
      const vectors = new Map<string, number[]>()
      let c = await CollectionEngine.open('v', { store: await backend.open('v'), coordination, embedder: null }, {})
      let next = 0
      const add = async (count: number) => {
        const docs = Array.from({ length: count }, () => ({ id: `d${next}`, text: `passage ${next++}`, vector: unit(rand) }))
        for (const d of docs) vectors.set(d.id, d.vector)
        await c.add(docs, none)
      }
      await add(70) // two old 64-row blocks once rewritten; the smallest segment, so merged first
      await c.idle()
      expect((await (await backend.open('v')).readSegments())[0]!.vectorRows).toBe(32) // an add writes blocks sized for the write
      await asOldLayout(await backend.open('v'), 0)
      c.close()
      c = await CollectionEngine.open('v', { store: await backend.open('v'), coordination, embedder: null }, {})
      for (let i = 0; i < 12; i++) {
        await add(80 + Math.floor(rand() * 20))
        if (i === 5) {
          const gone = [...vectors.keys()].filter(() => rand() < 0.2)
          await c.delete(gone)
          for (const id of gone) vectors.delete(id)
        }
      }
      await c.idle()
      const segments = await (await backend.open('v')).readSegments()
      expect(segments.length).toBeLessThan(13) // merges ran
      // Merged segments (the old one among them) are in read-sized blocks; later adds' in write-sized ones.
      expect(segments.every((s) => s.vectorRows === 8 || s.vectorRows === 32)).toBe(true)
      expect(segments.filter((s) => s.vectorRows === 8).length).toBeGreaterThan(0)
      const reopened = await CollectionEngine.open('v', { store: await backend.open('v'), coordination, embedder: null }, {})
      for (const engine of [c, reopened]) {
        for (let q = 0; q < 5; q++) {
          const query = unit(rand)
          const exact = [...vectors].map(([id, v]) => [id, v.reduce((s, x, i) => s + x * query[i]!, 0)] as const).sort((a, b) => b[1] - a[1])
          const hits = (await searchCollection(engine, { query: '', vector: query, mode: 'vector', k: 10 }, none)).hits
          expect(hits.map((h) => h.id)).toEqual(exact.slice(0, 10).map(([id]) => id))
          hits.forEach((h, j) => expect(Math.abs(h.score - exact[j]![1])).toBeLessThan(1e-6))
        }
      }
      c.close()
      reopened.close()
      coordination.close()
    })

    it(`${kind}: an old 64-row segment is read exactly before any merge`, async () => {
      const backend = makeBackend()
      const coordination = createCoordination({})
      const rand = seeded(78)
      const docs = Array.from({ length: 130 }, (_, i) => ({ id: `o${i}`, text: `old ${i}`, vector: unit(rand) }))
      const c = await CollectionEngine.open('o', { store: await backend.open('o'), coordination, embedder: null }, {})
      await c.add(docs, none)
      c.close()
      await asOldLayout(await backend.open('o'), 0)
      const reopened = await CollectionEngine.open('o', { store: await backend.open('o'), coordination, embedder: null }, {})
      for (const probe of [0, 63, 64, 129]) {
        const hits = (await searchCollection(reopened, { query: '', vector: docs[probe]!.vector, mode: 'vector', k: 1 }, none)).hits
        expect(hits[0]!.id).toBe(`o${probe}`)
        expect(Math.abs(hits[0]!.score - 1)).toBeLessThan(1e-6)
      }
      reopened.close()
      coordination.close()
    })
  }
})

describe('snapshot import rebuilds fp32 rows in blocks of the store size', () => {
  it('a 64-row int8 block at 384 dims becomes eight 8-row fp32 blocks of code × scale; its segment says so', async () => {
    const { shardRecords } = await import('../../src/snapshot/read.js')
    const manifest = { collection: { dims: DIMS } } as never
    const rand = seeded(5)
    const rows = 70
    const seqs = Uint32Array.from({ length: rows }, (_, i) => i)
    const segment = { id: 0, seqs, lengths: new Uint32Array(rows).fill(1), docOf: Uint32Array.from(seqs), docs: Array.from({ length: rows }, (_, i) => ({ id: `s${i}` })), vectorBlocks: 2 }
    const [read] = shardRecords('segments', { segments: [segment] }, manifest).segments
    expect([read!.vectorBlocks, read!.vectorRows]).toEqual([9, 8])
    const blocks = [0, 1].map((b) => {
      const n = Math.min(VECTOR_BLOCK_ROWS, rows - b * VECTOR_BLOCK_ROWS)
      return { segment: 0, block: b, dims: DIMS, seqs: seqs.slice(b * 64, b * 64 + n), codes: Int8Array.from({ length: n * DIMS }, () => Math.floor(rand() * 255) - 127), scales: Float32Array.from({ length: n }, () => rand() / 100) }
    })
    const vectors = shardRecords('vectors', { blocks }, manifest).vectors
    expect(vectors.map((v) => [v.block, v.vectors.length / DIMS])).toEqual([...Array.from({ length: 8 }, (_, j) => [j, 8]), [8, 6]])
    for (const row of [0, 7, 8, 63, 64, 69]) {
      const q = blocks[Math.floor(row / 64)]!
      const r = row % 64
      const v = vectors.find((x) => x.block === Math.floor(row / 8))!.vectors.subarray((row % 8) * DIMS, (row % 8 + 1) * DIMS)
      expect(Array.from(v)).toEqual(Array.from(q.codes.subarray(r * DIMS, (r + 1) * DIMS), (c) => Math.fround(c * q.scales[r]!)))
    }
  })
})
