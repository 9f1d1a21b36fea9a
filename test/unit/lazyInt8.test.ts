/**
 * A reopened collection answers before its int8 blocks are read (most of a reopen's bytes): they
 * are read in the background 300 ms after the open, or by the first vector or hybrid search if it
 * comes sooner (one read, shared; a failed one is not kept); keyword searches never wait for them. Over
 * fake-indexeddb, with the int8 reads held at a gate: keyword searches answer while the read is in
 * flight, vector searches wait and then answer as the engine that wrote the collection; adds,
 * deletes and merges (here and in another tab) while the read is held keep every vector; a failed
 * read fails only the search that made it.
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
const byVector = async (e: CollectionEngine, mode: 'vector' | 'hybrid' = 'vector', k = 15) =>
  (await searchCollection(e, { query: 'topic2', vector: probe, mode, k }, none)).hits.map((h) => [h.id, h.score])
const settledWithin = <T>(p: Promise<T>, ms: number) => Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))])

/** A store whose int8 reads are counted and can be made to fail; the first is held until `release()`. */
function gated(store: CollectionStore) {
  let open!: () => void
  const gate = new Promise<void>((r) => (open = r))
  const spy = { reads: 0, fail: 0, release: () => open() }
  // The whole read through readQuantized (the read in parts has its own test below).
  store.readQuantizedPart = undefined
  const read = store.readQuantized.bind(store)
  store.readQuantized = async (ids) => {
    if (++spy.reads === 1) await gate
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
    const spy = gated(store)
    return { engine: await CollectionEngine.open(name, { store, coordination, embedder: null }, {}), spy }
  }
  return { writer, reopen, rand, close: () => coordination.close() }
}

describe('int8 blocks are read after a reopen, by the first vector search or in the background', () => {
  it('keyword searches read none; vector searches wait for one read, then answer as the writer does', async () => {
    const { writer, reopen, close } = await setup('lazy')
    const { engine, spy } = await reopen()
    expect(engine.view().table.vectorsPending).toBe(true)
    const keyword = await searchCollection(engine, { query: 'topic1 passage', mode: 'keyword', k: 10 }, none)
    expect(keyword.hits.map((h) => h.id)).toEqual((await searchCollection(writer, { query: 'topic1 passage', mode: 'keyword', k: 10 }, none)).hits.map((h) => h.id))
    expect(spy.reads).toBe(0) // a keyword search reads none
    const vector = byVector(engine)
    const hybrid = byVector(engine, 'hybrid')
    expect(await settledWithin(vector, 50)).toBe(false)
    expect(spy.reads).toBe(1) // the vector search's read, held; the hybrid one waits on it too
    spy.release()
    expect(await vector).toEqual(await byVector(writer))
    expect(await hybrid).toEqual(await byVector(writer, 'hybrid'))
    expect((await vector).length).toBe(15)
    expect(spy.reads).toBe(1)
    expect(engine.view().table.vectorsPending).toBe(false)
    await new Promise((r) => setTimeout(r, 400)) // the background read finds nothing left to read
    expect(spy.reads).toBe(1)
    engine.close()
    writer.close()
    close()
  })

  it('a failed read fails the searches waiting on it, and is not kept: the next search reads again', async () => {
    const { writer, reopen, close } = await setup('fails')
    const { engine, spy } = await reopen()
    spy.fail = 1
    const waiting = byVector(engine)
    spy.release()
    expect(await codeOf(waiting)).toBe('STORAGE_UNAVAILABLE')
    expect(await byVector(engine)).toEqual(await byVector(writer))
    expect(spy.reads).toBe(2)
    engine.close()
    writer.close()
    close()
  })

  it('adds, deletes and merges while the read is held, here and in another tab, keep every vector', async () => {
    const { writer, reopen, rand, close } = await setup('writes')
    const { engine, spy } = await reopen()
    const loading = engine.loadVectors() // held while the writes below land
    await engine.add(docs(200, 25, rand), none)
    await engine.delete(['d10', 'd201'])
    await writer.add(docs(300, 25, rand), none)
    for (let i = 0; i < 5; i++) await engine.add(docs(400 + i * 8, 8, rand), none)
    await engine.idle()
    await writer.idle()
    await engine.refresh()
    spy.release()
    await loading
    expect(await byVector(engine)).toEqual(await byVector(writer))
    const everything = await byVector(engine, 'vector', 1000)
    expect(everything.length).toBe(120 - 3 + 25 - 2 + 25 + 40)
    expect(everything).toEqual(await byVector(writer, 'vector', 1000))
    expect(engine.view().table.vectorsPending).toBe(false)
    engine.close()
    writer.close()
    close()
  })

  it('over IndexedDB the blocks are read a few runs at a time, and a keyword search answers between the parts', async () => {
    const { writer, close } = await setup('parts')
    const backend = new IdbBackend()
    const store = await backend.open('parts')
    const part = store.readQuantizedPart!.bind(store)
    let calls = 0
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    store.readQuantizedPart = async (segment, from, runs) => {
      if (++calls === 2) await held // the second part waits
      return part(segment, from, runs)
    }
    const engine = await CollectionEngine.open('parts', { store, coordination: createCoordination({}), embedder: null }, {})
    const segments = engine.segmentCount()
    expect(segments).toBeGreaterThan(1)
    const vector = byVector(engine)
    for (let i = 0; i < 20 && calls < 2; i++) await new Promise((r) => setTimeout(r, 5))
    expect(calls).toBe(2)
    const keyword = await searchCollection(engine, { query: 'topic3', mode: 'keyword', k: 5 }, none)
    expect(keyword.hits.length).toBe(5)
    expect(await settledWithin(vector, 20)).toBe(false)
    release()
    expect(await vector).toEqual(await byVector(writer))
    expect(calls).toBeGreaterThanOrEqual(segments) // at least one part per segment
    engine.close()
    writer.close()
    close()
  })

  it('the background read needs no search: the view is whole once it lands', async () => {
    const { writer, reopen, close } = await setup('prefetch')
    const { engine, spy } = await reopen()
    spy.release()
    for (let i = 0; i < 100 && engine.view().table.vectorsPending; i++) await new Promise((r) => setTimeout(r, 10))
    expect(engine.view().table.vectorsPending).toBe(false)
    expect(await byVector(engine)).toEqual(await byVector(writer))
    expect(spy.reads).toBe(1)
    engine.close()
    writer.close()
    close()
  })
})
