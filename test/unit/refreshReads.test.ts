/**
 * A view brought up to date after another tab's commit reads the segment ids, then only the new
 * segments' records (at a million passages every record is ~200 segments' documents); when segments
 * were removed (a merge) it rebuilds from all of them. Over fake-indexeddb, two engines on one
 * database: the reader answers as the writer after each refresh.
 */
import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { expect, it } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { createCoordination } from '../../src/store/coordination.js'
import { IdbBackend } from '../../src/store/idb.js'

const none = async () => {}
const docs = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: `d${from + i}`, text: `passage ${from + i} about topic${(from + i) % 3}` }))
const ids = async (e: CollectionEngine) => (await searchCollection(e, { query: 'topic1 passage', mode: 'keyword', k: 100 }, none)).hits.map((h) => h.id).sort()

it("a refresh after another tab's add reads only the new segment's record; after a merge, all of them", async () => {
  globalThis.indexedDB = new IDBFactory()
  const backend = new IdbBackend()
  const writer = await CollectionEngine.open('r', { store: await backend.open('r'), coordination: createCoordination({}), embedder: null }, {})
  for (let i = 0; i < 3; i++) await writer.add(docs(i * 10, 10), none)
  await writer.idle()

  const store = await backend.open('r')
  const reads: (number[] | 'all')[] = []
  const read = store.readSegments.bind(store)
  store.readSegments = (wanted) => {
    reads.push(wanted ? [...wanted] : 'all')
    return read(wanted)
  }
  const reader = await CollectionEngine.open('r', { store, coordination: createCoordination({}), embedder: null }, {})
  expect(await ids(reader)).toEqual(await ids(writer))
  reads.length = 0

  await writer.add(docs(100, 10), none)
  const added = writer.segmentCount()
  await reader.refresh()
  expect(reads).toHaveLength(1)
  expect(reads[0]).not.toBe('all')
  expect((reads[0] as number[]).length).toBe(1)
  expect(await ids(reader)).toEqual(await ids(writer))
  expect(reader.segmentCount()).toBe(added)

  // Enough adds for a merge: the reader's segments are gone, so it reads everything again.
  for (let i = 0; i < 12; i++) await writer.add(docs(200 + i * 5, 5), none)
  await writer.idle()
  expect(writer.segmentCount()).toBeLessThan(added + 12)
  reads.length = 0
  await reader.refresh()
  expect(reads).toContain('all')
  expect(await ids(reader)).toEqual(await ids(writer))
  expect(reader.segmentCount()).toBe(writer.segmentCount())
})
