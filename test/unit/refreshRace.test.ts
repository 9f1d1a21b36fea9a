/**
 * A read's refresh that runs while this engine's own commit is landing (the transaction is done,
 * the store still removes the files of merged segments) must not apply that commit a second time,
 * nor put back an older manifest. Over fake-indexeddb, the store's commits are held after their
 * transaction until the test lets them go, while searches and counts run.
 */
import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { expect, it } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { createCoordination } from '../../src/store/coordination.js'
import { IdbBackend } from '../../src/store/idb.js'
import type { WriteBatch } from '../../src/store/types.js'

const none = async () => {}
const docs = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: `d${from + i}`, text: `passage ${from + i} about topic${(from + i) % 3}` }))
/** The view's segments and live chunks: a commit applied twice shows here (hits are per document). */
const view = (e: CollectionEngine) => {
  const table = (e as unknown as { table: { segments: number[]; liveCount: number } }).table
  return { segments: new Set(table.segments).size === table.segments.length, live: table.liveCount }
}
const hits = async (e: CollectionEngine) => (await searchCollection(e, { query: 'passage', mode: 'keyword', k: 1000 }, none)).hits.map((h) => h.id).sort()

async function heldEngine(hold: (batch: WriteBatch) => boolean) {
  globalThis.indexedDB = new IDBFactory()
  const store = await new IdbBackend().open('race')
  const commit = store.commit.bind(store)
  let release: (() => void) | null = null
  let held = 0
  store.commit = async (batch) => {
    await commit(batch)
    if (!hold(batch)) return
    held++
    await new Promise<void>((resolve) => (release = resolve))
  }
  const engine = await CollectionEngine.open('race', { store, coordination: createCoordination({}), embedder: null }, {})
  const waitHeld = async (n: number) => {
    while (held < n) await new Promise((r) => setTimeout(r, 1))
  }
  return { engine, store, waitHeld, release: () => release!() }
}

it("a search while this engine's add is landing neither doubles the add's segment nor loses it", async () => {
  const { engine, waitHeld, release } = await heldEngine((b) => (b.putSegments?.length ?? 0) > 0 && !b.deleteSegments?.length)
  const adding = engine.add(docs(0, 5), none)
  await waitHeld(1)
  // The search's refresh reads the stored add while it is still landing, then waits for it.
  const during = hits(engine)
  await new Promise((r) => setTimeout(r, 20))
  release()
  await adding
  expect((await during).length === 0 || (await during).length === 5).toBe(true)
  const after = await hits(engine)
  expect(after).toEqual(docs(0, 5).map((d) => d.id).sort())
  expect(await engine.count()).toBe(5)
  expect(view(engine)).toEqual({ segments: true, live: 5 })
})

it("a search while this engine's merge is landing does not put the merged segment in twice", async () => {
  let merging = false
  const { engine, waitHeld, release } = await heldEngine((b) => merging && (b.deleteSegments?.length ?? 0) > 0 && (b.putSegments?.length ?? 0) + (b.manifest ? 1 : 0) > 0)
  const want: string[] = []
  merging = false
  for (let i = 0; i < 14; i++) {
    await engine.add(docs(i * 5, 5), none)
    want.push(...docs(i * 5, 5).map((d) => d.id))
    if (i === 12) merging = true
  }
  await waitHeld(1)
  const during = hits(engine)
  await new Promise((r) => setTimeout(r, 20))
  release()
  await engine.idle()
  expect(await during).toEqual(want.sort())
  expect(await hits(engine)).toEqual(want.sort())
  expect(await engine.count()).toBe(want.length)
  expect(view(engine)).toEqual({ segments: true, live: want.length })
})
