/**
 * A reopened collection leaves its int8 blocks unread (most of a reopen's bytes) until a vector
 * or hybrid search needs them, or the prefetch half a second after the open reads them. Over
 * fake-indexeddb: keyword searches read none; the first vector search reads them once (concurrent
 * searches share the read), and its answers equal those of the engine that wrote the collection;
 * a failed read fails that search only; adds, deletes and merges before the read keep the view
 * whole.
 */
import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { describe, expect, it } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import { WinnowError } from '../../src/errors.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { createCoordination } from '../../src/store/coordination.js'
import { IdbBackend } from '../../src/store/idb.js'
import type { CollectionStore } from '../../src/store/types.js'
import { codeOf } from '../helpers/errors.js'
import { seeded } from './helpers.js'

const DIMS = 6
const none = async () => {}
const docs = (from: number, count: number, rand: () => number) =>
  Array.from({ length: count }, (_, i) => ({ id: `d${from + i}`, text: `passage ${from + i} about topic${(from + i) % 4}`, vector: Array.from({ length: DIMS }, () => rand() - 0.5) }))
const probe = [0.4, -0.1, 0.2, 0.3, -0.3, 0.1]
const byVector = async (e: CollectionEngine, mode: 'vector' | 'hybrid' = 'vector') =>
  (await searchCollection(e, { query: 'topic2', vector: probe, mode, k: 15 }, none)).hits.map((h) => [h.id, h.score])

/** A store whose int8 reads are counted, and can be made to fail. */
function counted(store: CollectionStore) {
  const spy = { reads: 0, fail: 0 }
  const read = store.readQuantized.bind(store)
  store.readQuantized = async (ids) => {
    spy.reads++
    if (spy.fail > 0) {
      spy.fail--
      throw new WinnowError('STORAGE_UNAVAILABLE', 'the read failed (test)')
    }
    return read(ids)
  }
  return spy
}

async function setup(name: string) {
  globalThis.indexedDB = new IDBFactory()
  const backend = new IdbBackend()
  const coordination = createCoordination({})
  const rand = seeded(name.length * 7)
  const writer = await CollectionEngine.open(name, { store: await backend.open(name), coordination, embedder: null }, {})
  for (let i = 0; i < 4; i++) await writer.add(docs(i * 30, 30, rand), none)
  await writer.delete(['d3', 'd40', 'd77'])
  await writer.idle()
  const reopen = async () => {
    const store = await backend.open(name)
    const spy = counted(store)
    return { engine: await CollectionEngine.open(name, { store, coordination, embedder: null }, {}), spy }
  }
  return { writer, reopen, rand, close: () => coordination.close() }
}

describe('int8 blocks are read at the first vector search after a reopen', () => {
  it('keyword searches read none; one vector search reads them once, answering as the writer does', async () => {
    const { writer, reopen, close } = await setup('lazy')
    const { engine, spy } = await reopen()
    expect(engine.view().table.vectorsPending).toBe(true)
    const keyword = await searchCollection(engine, { query: 'topic1 passage', mode: 'keyword', k: 10 }, none)
    expect(keyword.hits.map((h) => h.id)).toEqual((await searchCollection(writer, { query: 'topic1 passage', mode: 'keyword', k: 10 }, none)).hits.map((h) => h.id))
    expect(spy.reads).toBe(0)
    expect(engine.view().table.vectorsPending).toBe(true)
    const [a, b] = await Promise.all([byVector(engine), byVector(engine, 'hybrid')])
    expect(spy.reads).toBe(1)
    expect(engine.view().table.vectorsPending).toBe(false)
    expect(a).toEqual(await byVector(writer))
    expect(b).toEqual(await byVector(writer, 'hybrid'))
    expect(a.length).toBe(15)
    engine.close()
    writer.close()
    close()
  })

  it('a failed read fails that search only: the next one reads again and answers', async () => {
    const { writer, reopen, close } = await setup('fails')
    const { engine, spy } = await reopen()
    spy.fail = 1
    expect(await codeOf(byVector(engine))).toBe('STORAGE_UNAVAILABLE')
    expect(await byVector(engine)).toEqual(await byVector(writer))
    expect(spy.reads).toBe(2)
    engine.close()
    writer.close()
    close()
  })

  it('adds, deletes and merges before the read, here and in another tab, keep every vector', async () => {
    const { writer, reopen, rand, close } = await setup('writes')
    const { engine } = await reopen()
    await engine.add(docs(200, 25, rand), none)
    await engine.delete(['d10', 'd201'])
    await writer.add(docs(300, 25, rand), none)
    for (let i = 0; i < 5; i++) await engine.add(docs(400 + i * 8, 8, rand), none)
    await engine.idle()
    await writer.idle()
    await engine.refresh()
    expect(engine.view().table.vectorsPending).toBe(true)
    expect(await byVector(engine)).toEqual(await byVector(writer))
    const everything = await searchCollection(engine, { query: '', vector: probe, mode: 'vector', k: 1000 }, none)
    expect(everything.hits.length).toBe(120 - 3 + 25 - 2 + 25 + 40)
    engine.close()
    writer.close()
    close()
  })

  it('the prefetch reads them half a second after the open without a search', async () => {
    const { writer, reopen, close } = await setup('prefetch')
    const { engine, spy } = await reopen()
    await new Promise((r) => setTimeout(r, 800))
    expect(spy.reads).toBe(1)
    expect(engine.view().table.vectorsPending).toBe(false)
    expect(await byVector(engine)).toEqual(await byVector(writer))
    expect(spy.reads).toBe(1)
    engine.close()
    writer.close()
    close()
  })
})
