/**
 * A write that fails part-way commits nothing. IndexedDB reports most failures by aborting the
 * transaction, but a request can also throw as it is made (a DataCloneError, a quota a browser
 * reports synchronously) — including requests made after a read inside the same transaction (the
 * passage blocks and posting buckets are read, then rewritten). Each put of an add and of a delete
 * is failed in turn: the call rejects with the typed error and the store keeps exactly what it held.
 */
import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { createCoordination } from '../../src/store/coordination.js'
import { IdbBackend } from '../../src/store/idb.js'
import { seeded } from './helpers.js'

const DIMS = 8
const none = async () => {}
const realPut = IDBObjectStore.prototype.put
let failAt = Number.POSITIVE_INFINITY
let mode: 'throw' | 'abort' = 'throw'
let puts = 0
const full = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError')
IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof realPut>) {
  if (++puts !== failAt) return realPut.apply(this, args)
  if (mode === 'throw') throw full()
  // As a browser reports a quota reached at commit: the transaction aborts with the error.
  const request = realPut.apply(this, args)
  const tx = this.transaction
  request.addEventListener('success', () => {
    Object.defineProperty(tx, 'error', { value: full(), configurable: true })
    tx.abort()
  })
  return request
} as typeof realPut
afterEach(() => {
  failAt = Number.POSITIVE_INFINITY
})

function docs(from: number, count: number, rand: () => number) {
  return Array.from({ length: count }, (_, i) => ({
    id: `d${from + i}`,
    text: `passage ${from + i} about word${(from + i) % 7} and shared terms`,
    metadata: { n: from + i },
    vector: Array.from({ length: DIMS }, () => rand() - 0.5),
  }))
}

async function state(c: CollectionEngine, ids: string[], probe: number[]) {
  const get = await Promise.all(ids.map((id) => c.get(id)))
  const keyword = (await searchCollection(c, { query: 'word3 shared', mode: 'keyword', k: 20 }, none)).hits.map((h) => [h.id, h.score])
  const vector = (await searchCollection(c, { query: '', vector: probe, mode: 'vector', k: 20 }, none)).hits.map((h) => [h.id, h.score])
  return { count: await c.count(), get, keyword, vector }
}

describe('a put that fails mid-commit fails the whole batch (IndexedDB)', () => {
  for (const [op, how] of [['add', 'throw'], ['delete', 'throw'], ['add', 'abort'], ['delete', 'abort']] as const) {
    it(`${op}, a put that ${how === 'throw' ? 'throws' : 'aborts the transaction'}: each put failed in turn is STORAGE_FULL and leaves the store as it was, reopened too`, async () => {
      globalThis.indexedDB = new IDBFactory()
      const backend = new IdbBackend()
      const coordination = createCoordination({})
      const rand = seeded(op === 'add' ? 3 : 4)
      const c = await CollectionEngine.open('q', { store: await backend.open('q'), coordination, embedder: null }, {})
      await c.add(docs(0, 40, rand), none)
      await c.add(docs(40, 40, rand), none)
      await c.idle()
      const next = docs(60, 50, rand) // replaces 20 and adds 30
      const gone = Array.from({ length: 25 }, (_, i) => `d${i * 3}`)
      const ids = [...next.map((d) => d.id), ...gone, 'd1', 'd79']
      const probe = next[7]!.vector
      const run = () => (op === 'add' ? c.add(next, none) : c.delete(gone))
      const before = await state(c, ids, probe)

      // How many puts the call makes, on a copy of the collection built the same way.
      const seed = seeded(op === 'add' ? 3 : 4)
      const copy = await CollectionEngine.open('copy', { store: await backend.open('copy'), coordination, embedder: null }, {})
      await copy.add(docs(0, 40, seed), none)
      await copy.add(docs(40, 40, seed), none)
      await copy.idle()
      puts = 0
      await (op === 'add' ? copy.add(next, none) : copy.delete(gone))
      const total = puts
      copy.close()
      expect(total).toBeGreaterThan(op === 'add' ? 10 : 3)

      for (let k = 1; k <= total; k++) {
        puts = 0
        failAt = k
        mode = how
        const error = await run().then(
          () => null,
          (e: unknown) => e as { code?: string },
        )
        failAt = Number.POSITIVE_INFINITY
        expect(error?.code, `put ${k} of ${total}`).toBe('STORAGE_FULL')
        expect(await state(c, ids, probe), `put ${k} of ${total}`).toEqual(before)
      }
      c.close()
      const reopened = await CollectionEngine.open('q', { store: await backend.open('q'), coordination, embedder: null }, {})
      expect(await state(reopened, ids, probe)).toEqual(before)
      await (op === 'add' ? reopened.add(next, none) : reopened.delete(gone))
      expect(await reopened.count()).toBe(op === 'add' ? 110 : 55)
      reopened.close()
      coordination.close()
    })
  }
})
