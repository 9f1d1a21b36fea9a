import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import { WinnowError } from '../../src/errors.js'
import { DB_PREFIX, IdbBackend } from '../../src/store/idb.js'
import { MemoryBackend } from '../../src/store/memory.js'
import { MemorySnapshotStorage } from '../../src/store/snapshots.js'
import type { StoreBackend } from '../../src/store/types.js'
import { workerHost, type WorkerHost } from './workerHost.js'

const hosts: WorkerHost[] = []

/** One worker (a tab), through its RPC surface, over a backend other hosts may share. */
function host(backend: StoreBackend): WorkerHost {
  const h = workerHost({ backend, snapshots: new MemorySnapshotStorage(), fetch: () => Promise.reject(new Error('offline')) })
  hosts.push(h)
  return h
}

afterEach(() => {
  for (const h of hosts.splice(0)) h.closeAll()
})

/** The code and reason a call rejects with, or 'resolved'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'resolved'
  } catch (e) {
    return e instanceof WinnowError ? `${e.code}${e.details.reason ? `/${e.details.reason}` : ''}` : `not a WinnowError: ${String(e)}`
  }
}

const docs = [
  { id: 'a', text: 'memory leaks in long running pages' },
  { id: 'b', text: 'garbage collection of detached nodes' },
]

const backends: Record<string, () => StoreBackend> = {
  memory: () => new MemoryBackend(),
  'IndexedDB (fake-indexeddb)': () => {
    globalThis.indexedDB = new IDBFactory()
    return new IdbBackend()
  },
}

for (const [kind, make] of Object.entries(backends)) {
  describe(`a handle whose collection was deleted (${kind})`, () => {
    it('deleted in the same worker: every call is COLLECTION_DELETED and nothing is recreated; a new open starts empty, and the old handle stays refused', async () => {
      const backend = make()
      const tab = host(backend)
      const { incarnation } = await tab.openForHandle('docs', {})
      const ref = { name: 'docs', incarnation }
      await tab.add(1, ref, docs)
      expect(await tab.count(ref)).toBe(2)
      await tab.destroy('docs')

      for (const call of [tab.count(ref), tab.get(ref, 'a'), tab.info(ref), tab.add(2, ref, docs), tab.remove(ref, ['a']), tab.clear(ref), tab.search(3, ref, 'memory', { mode: 'keyword', k: 5, rerank: false })]) {
        expect(await outcome(call)).toBe('COLLECTION_DELETED/deleted')
      }
      expect(await tab.list()).toEqual([]) // not silently recreated empty

      const fresh = await tab.openForHandle('docs', {})
      expect(fresh.incarnation).not.toBe(incarnation)
      expect(fresh.info.documents).toBe(0)
      expect(await outcome(tab.count(ref))).toBe('COLLECTION_DELETED/replaced')
      expect(await tab.count({ name: 'docs', incarnation: fresh.incarnation })).toBe(0)
    })

    it('deleted by another tab: the handle gets COLLECTION_DELETED, nothing is recreated, and a reopen is clean', async () => {
      const backend = make()
      const a = host(backend)
      const b = host(backend)
      const { incarnation } = await a.openForHandle('docs', {})
      const ref = { name: 'docs', incarnation }
      await a.add(1, ref, docs)
      await b.open('docs', {})
      await b.destroy('docs')

      expect(await outcome(a.count(ref))).toBe('COLLECTION_DELETED/deleted')
      expect(await outcome(a.add(2, ref, docs))).toBe('COLLECTION_DELETED/deleted')
      expect(await b.list()).toEqual([])
      const again = await a.openForHandle('docs', {})
      expect(again.info.documents).toBe(0)
      await a.add(3, { name: 'docs', incarnation: again.incarnation }, docs.slice(0, 1))
      expect(await b.count('docs')).toBe(1)
    })

    it('a handle reopening on a new worker (after a restart) gets COLLECTION_DELETED when its collection was deleted, or deleted and created again, meanwhile', async () => {
      const backend = make()
      const first = host(backend)
      const { incarnation } = await first.openForHandle('docs', {})
      await first.add(1, { name: 'docs', incarnation }, docs)
      first.closeAll() // the worker is gone

      // The same collection: the reopen works and sees the documents.
      const second = host(backend)
      expect((await second.openForHandle('docs', {}, undefined, incarnation)).info.documents).toBe(2)
      await second.destroy('docs')

      const third = host(backend)
      expect(await outcome(third.openForHandle('docs', {}, undefined, incarnation))).toBe('COLLECTION_DELETED/deleted')
      expect(await outcome(third.count({ name: 'docs', incarnation }))).toBe('COLLECTION_DELETED/deleted')
      expect(await third.list()).toEqual([])
      // Another tab creates a collection of that name: still not the handle's.
      await host(backend).add(4, 'docs', docs.slice(0, 1))
      expect(await outcome(third.openForHandle('docs', {}, undefined, incarnation))).toBe('COLLECTION_DELETED/replaced')
      expect(await outcome(third.count({ name: 'docs', incarnation }))).toBe('COLLECTION_DELETED/replaced')
      expect(await third.count('docs')).toBe(1)
    })
  })
}

describe('IndexedDB deleted underneath (the browser clearing storage, another tool)', () => {
  it('a database deleted behind an open collection: calls are COLLECTION_DELETED, not INTERNAL; the next open is clean', async () => {
    const backend = backends['IndexedDB (fake-indexeddb)']!()
    const tab = host(backend)
    const { incarnation } = await tab.openForHandle('docs', {})
    const ref = { name: 'docs', incarnation }
    await tab.add(1, ref, docs)
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.deleteDatabase(`${DB_PREFIX}docs`)
      request.onsuccess = () => resolve()
      request.onerror = () => reject(request.error)
    })
    expect(await outcome(tab.search(2, ref, 'memory', { mode: 'keyword', k: 5, rerank: false }))).toBe('COLLECTION_DELETED/deleted')
    expect(await outcome(tab.info(ref))).toBe('COLLECTION_DELETED/deleted')
    const fresh = await tab.openForHandle('docs', {})
    expect(fresh.info.documents).toBe(0)
    await tab.add(3, { name: 'docs', incarnation: fresh.incarnation }, docs)
    expect(await tab.count({ name: 'docs', incarnation: fresh.incarnation })).toBe(2)
  })

  it('a collection created before incarnations were written ("" ) reopens as itself', async () => {
    globalThis.indexedDB = new IDBFactory()
    const backend = new IdbBackend()
    const store = await backend.open('old')
    expect(store.incarnation).toMatch(/.{8,}/)
    store.close()
    // Remove the incarnation, as a database written by an earlier winnow has none.
    await new Promise<void>((resolve, reject) => {
      const open = indexedDB.open(`${DB_PREFIX}old`)
      open.onsuccess = () => {
        const db = open.result
        const tx = db.transaction('meta', 'readwrite')
        tx.objectStore('meta').delete('incarnation')
        tx.oncomplete = () => (db.close(), resolve())
        tx.onerror = () => reject(tx.error)
      }
    })
    const tab = host(backend)
    const opened = await tab.openForHandle('old', {})
    expect(opened.incarnation).toBe('')
    tab.closeAll()
    expect((await host(backend).openForHandle('old', {}, undefined, '')).info.documents).toBe(0)
  })
})
