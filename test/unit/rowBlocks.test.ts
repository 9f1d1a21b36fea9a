/**
 * fp32 rows by seq (schema 6, `store/rowBlocks.ts`): an add writes each row once into the block of
 * its seq (a block may hold the end of the add before it), a delete removes its rows in the same
 * commit, and merges — partitioning included — read the int8 codes and never move a row. Searches
 * must rescore with exactly the caller's vectors throughout, in memory and over IndexedDB.
 */
import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { describe, expect, it } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { createCoordination } from '../../src/store/coordination.js'
import { IdbBackend } from '../../src/store/idb.js'
import { MemoryBackend } from '../../src/store/memory.js'
import { applyRowChanges, rowChanges, rowOf } from '../../src/store/rowBlocks.js'
import { rowBlockRows, VECTOR_BLOCK_ROWS, type CollectionStore, type RowBlockRecord, type StoreBackend } from '../../src/store/types.js'
import { seeded } from './helpers.js'

const DIMS = 384
const none = async () => {}

function unit(rand: () => number, dims = DIMS): number[] {
  const v = Array.from({ length: dims }, () => rand() - 0.5)
  const n = Math.hypot(...v)
  return v.map((x) => x / n)
}

/** Every stored row block, by reading block numbers up to the highest seq. */
async function storedRows(store: CollectionStore, upToSeq: number, dims: number): Promise<RowBlockRecord[]> {
  const per = rowBlockRows(dims)
  return store.readRows(Array.from({ length: Math.floor(upToSeq / per) + 1 }, (_, b) => b))
}

describe('row blocks', () => {
  it('hold 16 rows at 384 dims (24 KiB), 8 at 768, 4 at 1,024; small vectors 64, huge ones 1', () => {
    expect([384, 768, 1024, 8, 100_000].map(rowBlockRows)).toEqual([16, 8, 4, 64, 1])
  })

  it('a commit adds rows to the block of their seq, keeps what another commit stored there, and removes tombstoned rows', () => {
    const dims = 4
    const row = (seq: number) => Float32Array.from({ length: dims }, (_, d) => seq + d / 10)
    const group = (seqs: number[]) => ({ seqs: Uint32Array.from(seqs), vectors: Float32Array.from(seqs.flatMap((s) => [...row(s)])) })
    const stored = new Map<number, RowBlockRecord>()
    const commit = (batch: Parameters<typeof rowChanges>[0]) => {
      for (const [b, change] of rowChanges(batch, dims)) {
        const next = applyRowChanges(b, stored.get(b), change, dims)
        if (next) stored.set(b, next)
        else stored.delete(b)
      }
    }
    // 64 rows a block at 4 dims: the first add ends inside block 0, the second fills it and spills.
    commit({ putRows: [group([0, 1, 2, 3, 4])] })
    commit({ putRows: [group(Array.from({ length: 70 }, (_, i) => 5 + i))] })
    expect([...stored.keys()]).toEqual([0, 1])
    expect(Array.from(stored.get(0)!.seqs)).toEqual(Array.from({ length: 64 }, (_, i) => i))
    expect(Array.from(stored.get(1)!.seqs)).toEqual(Array.from({ length: 11 }, (_, i) => 64 + i))
    for (const seq of [0, 4, 5, 63, 64, 74]) expect(Array.from(rowOf(stored.get(Math.floor(seq / 64))!, seq, dims)!)).toEqual(Array.from(row(seq)))
    // A delete removes its rows; a block left empty goes; a seq without a row changes nothing.
    commit({ addTombstones: [3, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 500] })
    expect([...stored.keys()]).toEqual([0])
    expect(rowOf(stored.get(0)!, 3, dims)).toBeNull()
    expect(Array.from(rowOf(stored.get(0)!, 4, dims)!)).toEqual(Array.from(row(4)))
    expect(stored.get(0)!.seqs.length).toBe(63)
    // Rows of the wrong length are refused before anything is planned.
    expect(() => rowChanges({ putRows: [{ seqs: Uint32Array.of(1, 2), vectors: new Float32Array(7) }] }, dims)).toThrow(/7 values for 2 rows of 4 dimensions/)
    // A collection without vectors has no row blocks to change.
    expect(rowChanges({ addTombstones: [1, 2] }, null).size).toBe(0)
  })

  for (const [kind, makeBackend] of [
    ['memory', () => new MemoryBackend()],
    ['IndexedDB', () => ((globalThis.indexedDB = new IDBFactory()), new IdbBackend())],
  ] as [string, () => StoreBackend][]) {
    it(`${kind}: adds, deletes, replacements and merges that partition keep each live row once, exact, and no deleted one`, async () => {
      const backend = makeBackend()
      const coordination = createCoordination({})
      const rand = seeded(77)
      const vectors = new Map<string, number[]>()
      const settings = { vectorIndex: { minRows: 300 } }
      const c = await CollectionEngine.open('v', { store: await backend.open('v'), coordination, embedder: null }, settings)
      let next = 0
      const add = async (count: number) => {
        const docs = Array.from({ length: count }, () => ({ id: `d${next}`, text: `passage ${next++}`, vector: unit(rand) }))
        for (const d of docs) vectors.set(d.id, d.vector)
        await c.add(docs, none)
      }
      // Adds of odd sizes, so that blocks straddle adds.
      for (let i = 0; i < 14; i++) {
        await add(37 + Math.floor(rand() * 30))
        if (i === 5 || i === 9) {
          const gone = [...vectors.keys()].filter(() => rand() < 0.15)
          await c.delete(gone)
          for (const id of gone) vectors.delete(id)
        }
        if (i === 11) {
          // Replacing documents tombstones their old rows and writes new ones.
          const replaced = [...vectors.keys()].filter(() => rand() < 0.1).map((id) => ({ id, text: `new ${id}`, vector: unit(rand) }))
          for (const d of replaced) vectors.set(d.id, d.vector)
          await c.add(replaced, none)
        }
      }
      await c.idle()
      const store = await backend.open('v')
      const segments = await store.readSegments()
      expect(segments.length).toBeLessThan(16) // merges ran
      expect(segments.some((s) => s.ivf)).toBe(true) // and one partitioned
      // The stored rows are exactly the live chunks' vectors, each once.
      const manifest = (await store.readManifest())!
      const rows = await storedRows(store, manifest.nextSeq, DIMS)
      const liveSeqs = segments.flatMap((s) => Array.from(s.seqs))
      const tombstones = new Set(await store.readTombstones())
      const live = liveSeqs.filter((seq) => !tombstones.has(seq)).sort((a, b) => a - b)
      expect(rows.flatMap((r) => Array.from(r.seqs))).toEqual(live)
      expect(live.length).toBe(vectors.size)
      for (const r of rows) expect(r.seqs.every((seq) => Math.floor(seq / rowBlockRows(DIMS)) === r.block)).toBe(true)
      const reopened = await CollectionEngine.open('v', { store: await backend.open('v'), coordination, embedder: null }, settings)
      for (const engine of [c, reopened]) {
        for (let q = 0; q < 5; q++) {
          const query = unit(rand)
          const exact = [...vectors].map(([id, v]) => [id, v.reduce((s, x, i) => s + x * query[i]!, 0)] as const).sort((a, b) => b[1] - a[1])
          const hits = (await searchCollection(engine, { query: '', vector: query, mode: 'vector', k: 5, probes: 1000 }, none)).hits
          expect(hits.map((h) => h.id)).toEqual(exact.slice(0, 5).map(([id]) => id))
          hits.forEach((h, j) => expect(Math.abs(h.score - exact[j]![1])).toBeLessThan(1e-6))
        }
        // A document's own vector finds it with a score of 1 (its exact fp32 row, not int8).
        const [id, own] = [...vectors][Math.floor(vectors.size / 2)]!
        const top = (await searchCollection(engine, { query: '', vector: own, mode: 'vector', k: 1 }, none)).hits[0]!
        expect([top.id, Math.abs(top.score - 1) < 1e-6]).toEqual([id, true])
      }
      c.close()
      reopened.close()
      coordination.close()
    })

    it(`${kind}: a merge keeps every row's int8 codes as the add quantized them`, async () => {
      const backend = makeBackend()
      const coordination = createCoordination({})
      const rand = seeded(12)
      const c = await CollectionEngine.open('m', { store: await backend.open('m'), coordination, embedder: null }, { vectorIndex: { minRows: 200 } })
      let next = 0
      const codesBySeq = new Map<number, string>()
      const snapshot = async () => {
        const store = await backend.open('m')
        const out = new Map<number, string>()
        for (const s of await store.readSegments()) {
          if (s.ivf) {
            const lists = await store.readLists(Array.from({ length: s.ivf.starts.length - 1 }, (_, l) => [s.id, l] as const))
            lists.forEach((l, i) => {
              for (let r = 0; r < l!.scales.length; r++) out.set(s.seqs[s.ivf!.starts[i]! + r]!, `${Array.from(l!.codes.subarray(r * DIMS, (r + 1) * DIMS))}|${l!.scales[r]}`)
            })
          } else {
            for (const b of await store.readQuantized([s.id])) {
              for (let r = 0; r < b.seqs.length; r++) out.set(b.seqs[r]!, `${Array.from(b.codes.subarray(r * DIMS, (r + 1) * DIMS))}|${b.scales[r]}`)
            }
          }
        }
        return out
      }
      for (let i = 0; i < 12; i++) {
        await c.add(Array.from({ length: 40 }, () => ({ id: `m${next}`, text: `m ${next++}`, vector: unit(rand) })), none)
        for (const [seq, codes] of await snapshot()) if (!codesBySeq.has(seq)) codesBySeq.set(seq, codes)
      }
      await c.idle()
      const after = await snapshot()
      expect((await (await backend.open('m')).readSegments()).length).toBeLessThan(12)
      expect(after.size).toBe(480)
      let same = 0
      for (const [seq, codes] of after) same += codes === codesBySeq.get(seq) ? 1 : 0
      expect(same).toBe(480)
      c.close()
      coordination.close()
    })
  }
})

describe('snapshot import rebuilds fp32 rows by seq', () => {
  it('an int8 block becomes rows of code × scale under its seqs, sorted when the block was in list order', async () => {
    const { shardRecords } = await import('../../src/snapshot/read.js')
    const manifest = { collection: { dims: DIMS } } as never
    const rand = seeded(5)
    const rows = 70
    const seqs = Uint32Array.from({ length: rows }, (_, i) => (i * 37) % rows) // not ascending
    const blocks = [0, 1].map((b) => {
      const n = Math.min(VECTOR_BLOCK_ROWS, rows - b * VECTOR_BLOCK_ROWS)
      return { segment: 0, block: b, dims: DIMS, seqs: seqs.slice(b * 64, b * 64 + n), codes: Int8Array.from({ length: n * DIMS }, () => Math.floor(rand() * 255) - 127), scales: Float32Array.from({ length: n }, () => rand() / 100) }
    })
    const read = shardRecords('vectors', { blocks }, manifest)
    expect(read.quantized).toHaveLength(2)
    expect(read.rows.map((g) => g.seqs.length)).toEqual([64, 6])
    for (const g of read.rows) expect(Array.from(g.seqs)).toEqual(Array.from(g.seqs).sort((a, b) => a - b))
    for (const row of [0, 7, 8, 63, 64, 69]) {
      const q = blocks[Math.floor(row / 64)]!
      const r = row % 64
      const g = read.rows[Math.floor(row / 64)]!
      const at = Array.from(g.seqs).indexOf(q.seqs[r]!)
      expect(Array.from(g.vectors.subarray(at * DIMS, (at + 1) * DIMS))).toEqual(Array.from(q.codes.subarray(r * DIMS, (r + 1) * DIMS), (c) => Math.fround(c * q.scales[r]!)))
    }
  })
})
