/**
 * Passage blocks cached by the IndexedDB store: a block read once is served from memory while the
 * collection's manifest generation stays; this store's commits drop only the blocks they change,
 * and a commit made through another store object (another tab) drops them all. Over
 * fake-indexeddb, counting the `passages` gets; the LRU budget and the stale-read guard directly.
 */
import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import { createCoordination } from '../../src/store/coordination.js'
import { IdbBackend } from '../../src/store/idb.js'
import { PassageCache } from '../../src/store/passageCache.js'
import type { PassageBlock } from '../../src/store/passageBlocks.js'
import type { CollectionStore, DocRef } from '../../src/store/types.js'

const none = async () => {}
const realGet = IDBObjectStore.prototype.get
let gets = 0
IDBObjectStore.prototype.get = function (this: IDBObjectStore, ...args: Parameters<typeof realGet>) {
  if (this.name === 'passages') gets++
  return realGet.apply(this, args)
} as typeof realGet
afterEach(() => {
  gets = 0
})

const docs = (from: number, count: number, tag = 'first') => Array.from({ length: count }, (_, i) => ({ id: `d${from + i}`, text: `${tag} text of d${from + i}` }))

async function refsOf(store: CollectionStore, ids: string[]): Promise<DocRef[]> {
  const [segments, tombstones] = await Promise.all([store.readSegments(), store.readTombstones()])
  const dead = new Set(tombstones)
  const refs = new Map<string, DocRef>()
  for (const s of segments) {
    s.docOf.forEach((d, i) => {
      const id = s.docs.at(d)!.id
      if (!dead.has(s.seqs[i]!)) refs.set(id, { id, seq: Math.min(refs.get(id)?.seq ?? Infinity, s.seqs[i]!) })
    })
  }
  return ids.map((id) => refs.get(id)!)
}

describe('passage blocks cached by the IndexedDB store', () => {
  it('a block read again is not read from IndexedDB; own commits drop the blocks they change, another store’s commit drops all', async () => {
    globalThis.indexedDB = new IDBFactory()
    const backend = new IdbBackend()
    const coordination = createCoordination({})
    const store = await backend.open('p')
    const engine = await CollectionEngine.open('p', { store, coordination, embedder: null }, {})
    await engine.add(docs(0, 40), none) // blocks 0, 1, 2
    const ids = ['d1', 'd5', 'd20', 'd35']
    const texts = async () => (await store.readDocs(await refsOf(store, ids))).map((d) => d?.text)

    gets = 0
    expect(await texts()).toEqual(['first text of d1', 'first text of d5', 'first text of d20', 'first text of d35'])
    expect(gets).toBe(3)
    gets = 0
    expect(await texts()).toEqual(['first text of d1', 'first text of d5', 'first text of d20', 'first text of d35'])
    expect(gets).toBe(0)

    // This store replaces d20 (its old entry leaves block 1; the new version lands in block 2).
    await engine.add(docs(20, 1, 'second'), none)
    gets = 0
    expect(await texts()).toEqual(['first text of d1', 'first text of d5', 'second text of d20', 'first text of d35'])
    expect(gets).toBe(1) // d20's new version is in block 2, which the add changed; block 0 (d1) is cached
    gets = 0
    await texts()
    expect(gets).toBe(0)

    // Another store object (another tab) replaces d1 (into block 2): every block is read again.
    const other = await CollectionEngine.open('p', { store: await backend.open('p'), coordination: createCoordination({}), embedder: null }, {})
    await other.add(docs(1, 1, 'third'), none)
    gets = 0
    expect(await texts()).toEqual(['third text of d1', 'first text of d5', 'second text of d20', 'first text of d35'])
    expect(gets).toBe(2) // block 0 (d5) too, though the other store did not change it
    other.close()
    engine.close()
    coordination.close()
  })

  it('evicts the least recently used blocks past its budget, and drops a read that began before an invalidation', () => {
    const block = (n: number, chars: number): PassageBlock => ({ block: n, docs: [{ id: `b${n}`, text: 'x'.repeat(chars), seqs: [n * 16], chunks: [] }] })
    const cache = new PassageCache(3 * (64 + 160 + 1000))
    for (const n of [0, 1, 2]) cache.set(n, block(n, 1000), cache.epoch)
    expect(cache.get(0)?.block?.docs[0]!.id).toBe('b0') // 0 is now the most recent
    cache.set(3, block(3, 1000), cache.epoch)
    expect([0, 1, 2, 3].map((n) => cache.get(n) !== null)).toEqual([true, false, true, true])
    const epoch = cache.epoch
    cache.committed(cache.generation + 1, [2])
    cache.set(4, block(4, 10), epoch) // read before the commit: not kept
    expect([cache.get(2), cache.get(4)]).toEqual([null, null])
    expect(cache.get(3)).not.toBeNull()
    cache.committed(cache.generation + 2, [])  // a commit between: the cache cannot know what changed
    expect(cache.get(3)).toBeNull()
  })
})
