/**
 * Random programs of adds and deletes over IndexedDB (fake-indexeddb), with the background merges
 * they cause: afterwards every live document is found by a term all documents share and by its own
 * term, and no deleted one is. Tiered merges join segments whose seqs interleave (a merged segment
 * takes the newest id but holds old seqs), which the packed postings of format v2 must store in
 * order; the suite checks that its programs do produce such layouts. Documents carry small caller
 * vectors, so merges re-block and re-quantize them too; the view a merge leaves in memory (built
 * from the old view, without reading the store) must equal the one a reopen reads.
 */
import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { describe, expect, it } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { createCoordination } from '../../src/store/coordination.js'
import { IdbBackend } from '../../src/store/idb.js'
import type { ChunkView } from '../../src/collection/ports.js'
import { seeded } from './helpers.js'

/** Everything a view holds per chunk, by seq: what search reads of it. */
function canonical(table: ChunkView) {
  const rows: { seq: number; live: boolean; doc: unknown; title: unknown; metadata: unknown; segment: number; row: number }[] = []
  for (let slot = 0; slot < table.size; slot++) {
    rows.push({ seq: table.seq(slot), live: table.isLive(slot), doc: table.docRef(slot), title: table.title(slot), metadata: table.metadata(slot), segment: table.segment(slot), row: table.vectorRow(slot) })
  }
  const codes: [number, number[], number][] = []
  for (const b of table.blocks) b.slots.forEach((slot, r) => codes.push([table.seq(slot), Array.from(b.codes.subarray(r * b.dims, (r + 1) * b.dims)), b.scales[r]!]))
  const live = rows.filter((r) => r.live).map((r) => ({ ...r, docId: table.docId(rows.indexOf(r)) }))
  return { rows: rows.sort((a, b) => a.seq - b.seq), codes: codes.sort((a, b) => a[0] - b[0]), live: live.length, segments: [...table.segments] }
}

const SEEDS = Array.from({ length: 12 }, (_, i) => 1000 + i)
const none = async () => {}

/** Whether some segment holds a seq below another segment's with a smaller id. */
function interleaved(segments: { id: number; seqs: Uint32Array }[]): boolean {
  const byId = [...segments].sort((a, b) => a.id - b.id)
  let highest = -1
  for (const s of byId) {
    if (s.seqs.length === 0) continue
    if (Math.min(...s.seqs) < highest) return true
    highest = Math.max(highest, ...s.seqs)
  }
  return false
}

describe('random adds and deletes with background merges (IndexedDB, format v2)', () => {
  let sawInterleaving = 0
  for (const seed of SEEDS) {
    it(`seed ${seed}: every live document found, no deleted one`, async () => {
      globalThis.indexedDB = new IDBFactory()
      const rand = seeded(seed)
      const backend = new IdbBackend()
      const store = await backend.open('c')
      const coordination = createCoordination({})
      const c = await CollectionEngine.open('c', { store, coordination, embedder: null }, {})
      const live = new Set<string>()
      let n = 0
      for (let step = 0; step < 60; step++) {
        if (live.size > 0 && rand() < 0.3) {
          const ids = [...live].filter(() => rand() < 0.4)
          await c.delete(ids)
          for (const id of ids) live.delete(id)
        } else {
          const count = [1, 1, 2, 5, 20, 70][Math.floor(rand() * 6)]!
          const docs = Array.from({ length: count }, () => {
            // Sometimes a replacement of a live document.
            const id = live.size > 0 && rand() < 0.15 ? [...live][Math.floor(rand() * live.size)]! : `d${n}`
            return { id, text: `common item${n++} ${rand() < 0.5 ? 'fizz' : 'buzz'}`, vector: [rand() - 0.5, rand() - 0.5, rand() - 0.5, 0.1] }
          })
          const unique = new Map(docs.map((d) => [d.id, d]))
          await c.add([...unique.values()], none)
          for (const id of unique.keys()) live.add(id)
        }
        if (rand() < 0.5) await c.idle()
        if (interleaved(await store.readSegments())) sawInterleaving++
      }
      await c.idle()
      const common = (await searchCollection(c, { query: 'common', mode: 'keyword', k: 10_000 }, none)).hits.map((h) => h.id)
      expect(common.sort()).toEqual([...live].sort())
      const reopened = await CollectionEngine.open('c', { store: await backend.open('c'), coordination, embedder: null }, {})
      // A reopen answers before the int8 blocks are read (in the background, right after).
      expect(reopened.view().table.vectorsPending).toBe(true)
      const lazy = canonical(reopened.view().table)
      for (const id of [...live].filter(() => rand() < 0.2)) {
        const own = (await c.get(id))!.text.split(' ')[1]!
        expect((await searchCollection(reopened, { query: own, mode: 'keyword', k: 5 }, none)).hits.map((h) => h.id)).toEqual([id])
      }
      expect(await reopened.count()).toBe(live.size)
      expect(lazy.codes).toEqual([])
      expect({ ...lazy, codes: [] }).toEqual({ ...canonical(c.view().table), codes: [] })
      await reopened.loadVectors()
      expect(reopened.view().table.vectorsPending).toBe(false)
      expect(canonical(c.view().table)).toEqual(canonical(reopened.view().table))
      const q = [0.3, -0.2, 0.1, 0.1]
      const byVector = async (e: CollectionEngine) => (await searchCollection(e, { query: '', vector: q, mode: 'vector', k: 20 }, none)).hits.map((h) => [h.id, h.score])
      expect(await byVector(c)).toEqual(await byVector(reopened))
      c.close()
      reopened.close()
      coordination.close()
    })
  }

  it('the programs above produced segments whose seqs interleave (the case merges must order)', () => {
    expect(sawInterleaving).toBeGreaterThan(0)
  })
})
