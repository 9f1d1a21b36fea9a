/**
 * An add's segment id and seqs were never given out, so it writes its posting buckets and the
 * passage blocks past its first seq without reading them first (`WriteBatch.unused`). Over
 * fake-indexeddb: an add reads only the passage blocks it shares with earlier documents (its
 * first, partly filled block, and the blocks of documents it replaces), no posting bucket, and
 * every document, text and search answer is what the in-memory store gives. The in-memory store
 * checks the claim: a batch that claims used records is refused.
 */
import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { createCoordination } from '../../src/store/coordination.js'
import { IdbBackend } from '../../src/store/idb.js'
import { MemoryBackend } from '../../src/store/memory.js'
import type { StoreBackend } from '../../src/store/types.js'
import { codeOf } from '../helpers/errors.js'

const none = async () => {}
const realGet = IDBObjectStore.prototype.get
const reads = new Map<string, number>()
IDBObjectStore.prototype.get = function (this: IDBObjectStore, ...args: Parameters<typeof realGet>) {
  reads.set(this.name, (reads.get(this.name) ?? 0) + 1)
  return realGet.apply(this, args)
} as typeof realGet
afterEach(() => reads.clear())

const docs = (from: number, count: number, tag = '') =>
  Array.from({ length: count }, (_, i) => ({ id: `d${from + i}`, text: `passage ${from + i} ${tag} about word${(from + i) % 5} and more`, metadata: { n: from + i } }))

async function answers(c: CollectionEngine) {
  const ids = Array.from({ length: 80 }, (_, i) => `d${i}`)
  const got = await Promise.all(ids.map((id) => c.get(id)))
  const hits = (await searchCollection(c, { query: 'word2 replaced', mode: 'keyword', k: 30 }, none)).hits.map((h) => [h.id, h.score, h.text])
  return { count: await c.count(), got, hits }
}

async function build(backend: StoreBackend, measure: boolean) {
  const c = await CollectionEngine.open('u', { store: await backend.open('u'), coordination: createCoordination({}), embedder: null }, {})
  reads.clear()
  await c.add(docs(0, 10), none) // seqs 0-9: block 0
  const first = new Map(reads)
  reads.clear()
  await c.add(docs(10, 40), none) // seqs 10-49: block 0 shared, blocks 1 and 2 new, block 3 partly
  const second = new Map(reads)
  reads.clear()
  await c.add([...docs(3, 2, 'replaced'), ...docs(50, 20)], none) // replaces d3, d4 (block 0); seqs 50-71
  const third = new Map(reads)
  const result = await answers(c)
  c.close()
  return { result, reads: measure ? [first, second, third] : [] }
}

describe('an add writes what was never used without reading it first', () => {
  it('reads only the passage blocks it shares, no posting bucket, and answers as the in-memory store does', async () => {
    globalThis.indexedDB = new IDBFactory()
    const idb = await build(new IdbBackend(), true)
    const memory = await build(new MemoryBackend(), false)
    expect(idb.result).toEqual(memory.result)
    expect(idb.result.count).toBe(70)
    expect(idb.result.hits.some(([id, , text]) => id === 'd3' && String(text).includes('replaced'))).toBe(true)
    const [first, second, third] = idb.reads
    // First add: its block 0 starts at seq 0, the first unused seq, so nothing is read.
    expect(first!.get('passages') ?? 0).toBe(0)
    // Second add (seqs from 10): block 0 is shared with the first add and read; blocks 1-3 are not.
    expect(second!.get('passages')).toBe(1)
    // Third: block 0 (the replaced documents) and block 3 (seqs 48-63, shared with the second add).
    expect(third!.get('passages')).toBe(2)
    for (const r of [first, second, third]) expect(r!.get('postingBuckets') ?? 0).toBe(0)
  })

  it('the in-memory store refuses a batch that claims used seqs or a used segment (INTERNAL)', async () => {
    const store = await new MemoryBackend().open('claims')
    const c = await CollectionEngine.open('claims', { store, coordination: createCoordination({}), embedder: null }, {})
    await c.add(docs(0, 5), none)
    const manifest = (await store.readManifest())!
    const lie = (unused: { segment: number; fromSeq: number }) => store.commit({ manifest: { ...manifest, generation: manifest.generation + 1 }, unused })
    expect(await codeOf(lie({ segment: manifest.nextSegment, fromSeq: 4 }))).toBe('INTERNAL')
    expect(await codeOf(lie({ segment: manifest.nextSegment - 1, fromSeq: manifest.nextSeq }))).toBe('INTERNAL')
    await lie({ segment: manifest.nextSegment, fromSeq: manifest.nextSeq })
    expect((await store.readManifest())!.generation).toBe(manifest.generation + 1)
    c.close()
  })
})
