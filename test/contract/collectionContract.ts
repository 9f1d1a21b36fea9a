/**
 * The collection contract: the same cases run over the in-memory twin and IndexedDB (fake-indexeddb
 * in Node, the real one in Chromium), through the collection engine, so the two stores cannot drift.
 * Each case gets a fresh backend. Framework-free: cases throw on failure.
 */
import { createCoordination, type Coordination } from '../../src/store/coordination.js'
import type { CollectionStore, DocRef, StoreBackend } from '../../src/store/types.js'
import { CollectionEngine } from '../../src/collection/engine.js'
import type { CollectionSettings } from '../../src/collection/ports.js'
import { WinnowError } from '../../src/errors.js'
import { close, equal, ok, rejects } from './assert.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import type { SearchRequest } from '../../src/search/types.js'

export interface ContractEnv {
  backend: StoreBackend
  coordination: Coordination
}

const noCheckpoint = async () => {}
/** A request as a page might send it, wrong types included (the worker checks it). */
const loose = (request: Record<string, unknown>) => request as unknown as SearchRequest

function open(env: ContractEnv, name = 'c', settings: CollectionSettings = {}, wrap?: (s: CollectionStore) => CollectionStore) {
  return env.backend.open(name).then((store) =>
    CollectionEngine.open(name, { store: wrap ? wrap(store) : store, coordination: env.coordination, embedder: null }, settings),
  )
}

const DOCS = [
  { id: 'leaks', title: 'Memory leaks', text: 'A memory leak happens when a program keeps references it no longer needs.', metadata: { lang: 'en', year: 2020 } },
  { id: 'gc', title: 'Garbage collection', text: 'The garbage collector frees memory that is no longer reachable.', metadata: { lang: 'en', year: 2018 } },
  { id: 'fr', title: 'Fuites', text: 'Une fuite de mémoire arrive quand un programme garde des références.', metadata: { lang: 'fr', year: 2021 } },
  { id: 'cache', text: 'Caches trade memory for speed; an unbounded cache behaves like a leak.', metadata: { lang: 'en', year: 2022 } },
]

/** Unit vector along axis `i` of `dims`, with a little of axis `j` mixed in. */
/** Each live document's {@link DocRef}, from the stored segments and tombstones (as a view finds them). */
async function liveRefs(store: CollectionStore): Promise<Map<string, DocRef>> {
  const [segments, tombstones] = await Promise.all([store.readSegments(), store.readTombstones()])
  const dead = new Set(tombstones)
  const out = new Map<string, DocRef>()
  for (const s of segments) {
    s.seqs.forEach((seq, i) => {
      if (dead.has(seq)) return
      const id = s.docs.at(s.docOf[i]!)!.id
      if ((out.get(id)?.seq ?? Infinity) > seq) out.set(id, { id, seq })
    })
  }
  return out
}

function axis(dims: number, i: number, j = -1, mix = 0): number[] {
  const v = new Array<number>(dims).fill(0)
  v[i] = 1
  if (j >= 0) v[j] = mix
  return v
}

export const collectionContract: Record<string, (env: ContractEnv) => Promise<void>> = {
  async 'a new collection is empty and searchable'(env) {
    const c = await open(env)
    equal(await c.count(), 0, 'count')
    equal((await searchCollection(c, { query: 'memory', mode: 'keyword' }, noCheckpoint)).hits, [], 'hits')
    equal(await c.get('nothing'), null, 'get')
  },

  async 'add, get and count; hits carry ids, offsets and scores best first'(env) {
    const c = await open(env)
    const result = await c.add(DOCS, noCheckpoint)
    equal(result, { documents: 4, chunks: 4, replaced: 0 }, 'add result')
    equal(await c.count(), 4, 'count')
    const doc = await c.get('gc')
    equal(doc, { id: 'gc', text: DOCS[1]!.text, chunks: 1, title: 'Garbage collection', metadata: { lang: 'en', year: 2018 } }, 'get')
    const hits = (await searchCollection(c, { query: 'memory leak', mode: 'keyword', k: 10 }, noCheckpoint)).hits
    equal(hits[0]!.id, 'leaks', 'best hit')
    equal(hits[0]!.chunkId, 'leaks#0', 'chunk id')
    ok(hits.every((h, i) => i === 0 || h.score <= hits[i - 1]!.score), 'scores descending')
    for (const h of hits) {
      const source = DOCS.find((d) => d.id === h.id)!
      equal(source.text.slice(h.start, h.end), h.text, `offsets of ${h.id}`)
      ok(h.scores.keyword === h.firstStageScore, 'keyword score reported')
      ok(h.score > 0 && h.score <= 1, 'score on 0..1')
    }
    // The French text has no English "memory"; "leak" reaches "cache" through the stemmer ("leak" = "leak").
    ok(!hits.some((h) => h.id === 'fr'), 'French text not matched by English terms')
    equal(hits[0]!.title, 'Memory leaks', 'title')
    equal(hits[0]!.metadata, { lang: 'en', year: 2020 }, 'metadata')
  },

  async 'adding the same id replaces the document'(env) {
    const c = await open(env)
    await c.add(DOCS, noCheckpoint)
    const r = await c.add([{ id: 'gc', text: 'Tracing collectors walk the heap from roots.' }], noCheckpoint)
    equal(r.replaced, 1, 'replaced')
    equal(await c.count(), 4, 'count unchanged')
    equal((await searchCollection(c, { query: 'garbage reachable', mode: 'keyword' }, noCheckpoint)).hits.map((h) => h.id).includes('gc'), false, 'old text gone')
    equal((await searchCollection(c, { query: 'tracing heap roots', mode: 'keyword' }, noCheckpoint)).hits[0]?.id, 'gc', 'new text found')
    equal((await c.get('gc'))?.title, undefined, 'title replaced too')
  },

  async 'delete removes documents from search; clear removes all'(env) {
    const c = await open(env)
    await c.add(DOCS, noCheckpoint)
    equal(await c.delete(['leaks', 'missing', 'leaks']), 1, 'deleted count')
    equal(await c.count(), 3, 'count')
    equal(await c.get('leaks'), null, 'get deleted')
    ok(!(await searchCollection(c, { query: 'memory leak', mode: 'keyword' }, noCheckpoint)).hits.some((h) => h.id === 'leaks'), 'not found')
    await c.clear()
    equal(await c.count(), 0, 'cleared')
    equal((await searchCollection(c, { query: 'memory', mode: 'keyword' }, noCheckpoint)).hits, [], 'no hits after clear')
    await c.add([DOCS[0]!], noCheckpoint)
    equal((await searchCollection(c, { query: 'memory', mode: 'keyword' }, noCheckpoint)).hits.map((h) => h.id), ['leaks'], 'usable after clear')
  },

  async 'a reopened collection answers the same without re-adding'(env) {
    const a = await open(env)
    await a.add(DOCS, noCheckpoint)
    await a.delete(['cache'])
    const before = (await searchCollection(a, { query: 'memory leak references', mode: 'keyword', k: 3 }, noCheckpoint)).hits
    a.close()
    const b = await open(env)
    equal(await b.count(), 3, 'count after reopen')
    const after = (await searchCollection(b, { query: 'memory leak references', mode: 'keyword', k: 3 }, noCheckpoint)).hits
    equal(after, before, 'same hits')
    equal(b.info().analyzer, a.info().analyzer, 'analyzer settings kept')
  },

  async 'caller vectors: exact cosine order, dimension checks, one vector source'(env) {
    const c = await open(env)
    const dims = 8
    await c.add(
      [
        { id: 'x', text: 'alpha', vector: axis(dims, 0) },
        { id: 'y', text: 'beta', vector: axis(dims, 1, 0, 0.5) },
        { id: 'z', text: 'gamma', vector: axis(dims, 2) },
      ],
      noCheckpoint,
    )
    const hits = (await searchCollection(c, { query: '', mode: 'vector', vector: axis(dims, 1), k: 3 }, noCheckpoint)).hits
    equal(hits.map((h) => h.id), ['y', 'x', 'z'], 'order')
    close(hits[0]!.score, 1 / Math.sqrt(1.25), 1e-5, 'cosine of y')
    close(hits[1]!.score, 0, 1e-6, 'orthogonal x')
    await rejects(c.add([{ id: 'w', text: 'delta', vector: axis(4, 0) }], noCheckpoint), 'DIMENSION_MISMATCH', 'wrong length')
    await rejects(searchCollection(c, { query: '', mode: 'vector', vector: axis(4, 0) }, noCheckpoint), 'DIMENSION_MISMATCH', 'wrong query length')
    await rejects(c.add([{ id: 'w', text: 'delta' }], noCheckpoint), 'INVALID_INPUT', 'missing vector in a vector collection')
    equal(await c.count(), 3, 'nothing written by refused adds')
    const hybrid = (await searchCollection(c, { query: 'gamma', vector: axis(dims, 2), k: 2 }, noCheckpoint)).hits
    equal(hybrid[0]!.id, 'z', 'hybrid by default when a vector is given')
    ok(hybrid[0]!.scores.keyword !== undefined && hybrid[0]!.scores.vector !== undefined, 'both scores reported')
  },

  async 'options the first stage does not use are not held against it; null is an option left out'(env) {
    const c = await open(env)
    const hitsOf = async (request: Record<string, unknown>) => (await searchCollection(c, loose({ query: 'memory leak', ...request }), noCheckpoint)).hits.map((h) => h.id)
    // Empty: a vector mode on a collection without passages answers nothing, whatever the vector.
    equal(await hitsOf({ mode: 'vector', vector: [0, 0, 0] }), [], 'vector mode on an empty collection')
    await c.add(DOCS, noCheckpoint)
    const keyword = await hitsOf({ mode: 'keyword' })
    ok(keyword.length > 0, 'keyword hits')
    equal(await hitsOf({}), keyword, 'no vectors: the collection chooses keyword')
    equal(await hitsOf({ mode: null }), keyword, 'mode null is the mode left out')
    equal(await hitsOf({ fusion: 'rrf' }), keyword, 'fusion is not read when the collection chooses keyword')
    equal(await hitsOf({ mode: 'keyword', fusion: { method: 'x' }, vector: 'not a vector' }), keyword, 'keyword mode reads neither fusion nor vector')
    equal(await hitsOf({ vector: [0, 0, 0] }), keyword, 'a vector is not read by a collection without vectors')
    await rejects(searchCollection(c, loose({ query: 'memory', mode: 'hybrid', fusion: 'rrf' }), noCheckpoint), 'INVALID_INPUT', 'hybrid asked for: a bad fusion fails')
    await rejects(searchCollection(c, loose({ query: 'memory', mode: 'sideways' }), noCheckpoint), 'INVALID_INPUT', 'an unknown mode fails')

    const v = await open(env, 'v')
    const dims = 4
    await v.add([{ id: 'x', text: 'alpha', vector: axis(dims, 0) }, { id: 'y', text: 'beta', vector: axis(dims, 1) }], noCheckpoint)
    await rejects(searchCollection(v, loose({ query: 'alpha', vector: axis(dims, 0), fusion: 'rrf' }), noCheckpoint), 'INVALID_INPUT', 'the collection chooses hybrid: a bad fusion fails')
    await rejects(searchCollection(v, { query: 'alpha', mode: 'vector', vector: [0, 0, 0] }, noCheckpoint), 'DIMENSION_MISMATCH', 'the length is checked before the values')
    await rejects(searchCollection(v, { query: 'alpha', mode: 'vector', vector: [0, 0, 0, 0] }, noCheckpoint), 'INVALID_INPUT', 'a zero vector fails where it is read')
    await rejects(searchCollection(v, loose({ query: 'alpha', mode: 'vector', vector: 'no' }), noCheckpoint), 'INVALID_INPUT', 'a vector that is not one fails where it is read')
    equal((await searchCollection(v, { query: 'alpha', mode: 'keyword', vector: [0, 0, 0, 0] }, noCheckpoint)).hits.map((h) => h.id), ['x'], 'keyword mode ignores a zero vector')
  },

  async 'a passage is read by seq with its document; another document, a replaced version or none reads as missing'(env) {
    const c = await open(env)
    await c.add(DOCS, noCheckpoint)
    const store = await env.backend.open('c')
    const oldGc = (await liveRefs(store)).get('gc')!
    await c.add([{ id: 'gc', text: 'Tracing collectors walk the heap from roots.' }], noCheckpoint) // gc replaced: its old chunk is gone
    const refs = await liveRefs(store)
    const leaks = refs.get('leaks')!
    const gc = refs.get('gc')!
    ok(gc.seq !== oldGc.seq, 'the new version has new seqs')
    const [leaksDoc, gcDoc, oldDoc, none] = await store.readDocs([leaks, gc, oldGc, { id: 'leaks', seq: 999_999 }])
    equal([leaksDoc?.text, gcDoc?.text, oldDoc, none], [DOCS[0]!.text, 'Tracing collectors walk the heap from roots.', undefined, undefined], 'documents by ref')
    const seqs = [leaksDoc!.seqs[0]!, gcDoc!.seqs[0]!, 999_999]
    const chunks = await store.readChunks(seqs, [leaks, gc, leaks])
    equal(chunks.map((p) => p?.text ?? null), [DOCS[0]!.text, 'Tracing collectors walk the heap from roots.', null], 'texts by seq')
    const sorted = (o: object | undefined) => (o ? Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))) : o)
    equal(sorted(chunks[0]), sorted({ seq: leaksDoc!.seqs[0], docId: 'leaks', index: 0, start: 0, end: DOCS[0]!.text.length, text: DOCS[0]!.text, section: chunks[0]!.section, path: chunks[0]!.path }), 'a whole passage record')
    equal((await store.readChunks(seqs.slice(0, 2), [gc, leaks])).map((p) => p ?? null), [null, null], 'a document that is not the chunk’s reads as missing')
    equal((await store.readChunks([oldGc.seq], [oldGc])).map((p) => p ?? null), [null], 'a chunk of a replaced version reads as missing')
    await c.delete(['leaks'])
    equal(await store.readDocs([leaks]), [undefined], 'a deleted document is gone from its block')
    equal((await store.readDocs([gc]))[0]?.text, 'Tracing collectors walk the heap from roots.', 'its neighbour stays')
  },

  async 'filters apply before top-k'(env) {
    const c = await open(env)
    const docs = Array.from({ length: 30 }, (_, i) => ({
      id: `d${i}`,
      text: i % 6 === 0 ? `rare word memory ${i}` : `memory memory memory ${i}`,
      metadata: { group: i % 6 === 0 ? 'rare' : 'common', n: i },
    }))
    await c.add(docs, noCheckpoint)
    const hits = (await searchCollection(c, { query: 'memory', mode: 'keyword', k: 3, filter: { group: 'rare' } }, noCheckpoint)).hits
    equal(hits.length, 3, 'k results despite better unfiltered docs')
    ok(hits.every((h) => h.metadata?.group === 'rare'), 'all pass the filter')
    const ranged = (await searchCollection(c, { query: 'memory', mode: 'keyword', k: 30, filter: { n: { gte: 10, lt: 13 } } }, noCheckpoint)).hits
    equal(ranged.map((h) => h.id).sort(), ['d10', 'd11', 'd12'], 'range')
    const inList = (await searchCollection(c, { query: 'memory', mode: 'keyword', k: 30, filter: { n: { in: [1, 29] } } }, noCheckpoint)).hits
    equal(inList.map((h) => h.id).sort(), ['d1', 'd29'], 'in')
    await rejects(searchCollection(c, { query: 'memory', filter: { n: { between: 1 } } }, noCheckpoint), 'INVALID_INPUT', 'bad filter')
  },

  async 'hybrid fusion: rrf default, weighted alpha 0 is keyword order'(env) {
    const c = await open(env)
    const dims = 4
    await c.add(
      [
        { id: 'a', text: 'memory memory leak', vector: axis(dims, 3) },
        { id: 'b', text: 'memory', vector: axis(dims, 0) },
        { id: 'c', text: 'unrelated words', vector: axis(dims, 0, 3, 0.1) },
      ],
      noCheckpoint,
    )
    const keyword = (await searchCollection(c, { query: 'memory leak', mode: 'keyword', k: 3 }, noCheckpoint)).hits
    const alpha0 = (await searchCollection(c, { query: 'memory leak', mode: 'hybrid', vector: axis(dims, 0), fusion: { method: 'weighted', alpha: 0 }, k: 3 }, noCheckpoint)).hits
    equal(alpha0.slice(0, keyword.length).map((h) => h.id), keyword.map((h) => h.id), 'alpha 0 = keyword order')
    const alpha1 = (await searchCollection(c, { query: 'memory leak', mode: 'hybrid', vector: axis(dims, 0), fusion: { method: 'weighted', alpha: 1 }, k: 3 }, noCheckpoint)).hits
    equal(alpha1.map((h) => h.id), ['b', 'c', 'a'], 'alpha 1 = vector order')
    const rrf = (await searchCollection(c, { query: 'memory leak', vector: axis(dims, 0), k: 3 }, noCheckpoint)).hits
    // b: keyword rank 2, vector rank 1; a: keyword rank 1, vector rank 3 → b first.
    equal(rrf[0]!.id, 'b', 'rrf best')
    close(rrf[0]!.firstStageScore, 1 / 61 + 1 / 62, 1e-9, 'rrf score of b')
    close(rrf[0]!.score, (1 / 61 + 1 / 62) / (2 / 61), 1e-9, 'rrf score normalised by its maximum')
  },

  async 'minVectorScore drops far vector candidates before fusion; a query near nothing finds nothing'(env) {
    const c = await open(env)
    const dims = 4
    await c.add(
      [
        { id: 'x', text: 'alpha', vector: axis(dims, 0) },
        { id: 'y', text: 'beta', vector: axis(dims, 1, 0, 0.5) }, // cosine with axis 0: 0.5 / √1.25 ≈ 0.447
        { id: 'z', text: 'gamma', vector: axis(dims, 2) },
      ],
      noCheckpoint,
    )
    const ids = async (request: Record<string, unknown>) =>
      (await searchCollection(c, { query: '', k: 10, ...request } as never, noCheckpoint)).hits.map((h) => h.id)
    const near = axis(dims, 0)
    equal(await ids({ mode: 'vector', vector: near }), ['x', 'y', 'z'], 'without a floor the vector side answers k')
    equal(await ids({ mode: 'vector', vector: near, minVectorScore: 0.5 }), ['x'], 'vector mode at 0.5')
    equal(await ids({ mode: 'vector', vector: near, minVectorScore: 0.4 }), ['x', 'y'], 'vector mode at 0.4')
    equal(await ids({ mode: 'vector', vector: near, minVectorScore: -1 }), ['x', 'y', 'z'], '-1 keeps every candidate')
    // Hybrid: the floor thins the vector list only; a keyword match stays, with no vector score.
    const hybrid = (await searchCollection(c, { query: 'gamma', mode: 'hybrid', vector: near, minVectorScore: 0.5 }, noCheckpoint)).hits
    equal(hybrid.map((h) => h.id).sort(), ['x', 'z'], 'hybrid keeps the keyword match and the near vector')
    equal(hybrid.find((h) => h.id === 'z')!.scores.vector, undefined, 'the far vector score was dropped before fusion')
    equal(await ids({ query: 'gamma', mode: 'keyword', minVectorScore: 0.99 }), ['z'], 'keyword mode ignores it')
    // Nothing near, nothing matching: no hits at all (the first stage reports none either).
    const far = axis(dims, 3)
    for (const fusion of [{ method: 'rrf' }, { method: 'weighted', alpha: 0.5 }] as const) {
      const firstStage: unknown[][] = []
      const none = await searchCollection(c, { query: 'zzqxv flibbertigibbet', mode: 'hybrid', vector: far, fusion, minVectorScore: 0.3 }, noCheckpoint, {
        onFirstStage: (hits) => firstStage.push(hits),
      })
      equal(none.hits, [], `no hits (${fusion.method})`)
      equal(none.route.candidates, 0, `no candidates (${fusion.method})`)
      equal(firstStage, [[]], `onFirstStage gets [] (${fusion.method})`)
      equal((await searchCollection(c, { query: 'zzqxv flibbertigibbet', mode: 'hybrid', vector: far, fusion }, noCheckpoint)).hits.length, 3, `without it, k hits (${fusion.method})`)
    }
    for (const bad of [Number.NaN, Infinity, 1.5, -1.01, '0.3', true]) {
      await rejects(searchCollection(c, { query: 'alpha', mode: 'vector', vector: near, minVectorScore: bad } as never, noCheckpoint), 'INVALID_INPUT', `minVectorScore ${String(bad)}`)
    }
    await rejects(searchCollection(c, { query: 'alpha', mode: 'keyword', minVectorScore: 2 } as never, noCheckpoint), 'INVALID_INPUT', 'checked in keyword mode too')
  },

  async 'bad input is refused with typed errors and writes nothing'(env) {
    const c = await open(env)
    await c.add([DOCS[0]!], noCheckpoint)
    const cases: [unknown, string][] = [
      [[{ id: 'a', text: 'x' }, { id: 'a', text: 'y' }], 'INVALID_INPUT'],
      [[{ id: 'b', text: 42 }], 'INVALID_INPUT'],
      [[{ id: 'b', text: '   ' }], 'INVALID_INPUT'],
      [[{ id: 'b', text: 'x'.repeat(10 * 1024 * 1024) }], 'INVALID_INPUT'],
      [[{ id: '', text: 'x' }], 'INVALID_INPUT'],
      [[{ id: 'b', text: 'x', metadata: { when: new Date() } }], 'INVALID_INPUT'],
      ['not an array', 'INVALID_INPUT'],
      [[{ id: 'ok', text: 'fine' }, { id: 'bad', text: null }], 'INVALID_INPUT'],
    ]
    for (const [input, code] of cases) await rejects(c.add(input, noCheckpoint), code, `add(${JSON.stringify(input).slice(0, 60)})`)
    equal(await c.count(), 1, 'count unchanged')
    equal(await c.get('ok'), null, 'the valid document of a refused call was not written')
    equal((await searchCollection(c, { query: 'memory', mode: 'keyword' }, noCheckpoint)).hits.map((h) => h.id), ['leaks'], 'index intact')
  },

  async 'a failed commit leaves the collection as it was'(env) {
    let fail = false
    const c = await open(env, 'c', {}, (store) => ({
      ...bindAll(store),
      // What a store rejects with when the quota is exhausted (idb.ts translates QuotaExceededError).
      commit: (batch) => (fail ? Promise.reject(new WinnowError('STORAGE_FULL', 'quota')) : store.commit(batch)),
    }))
    await c.add(DOCS.slice(0, 2), noCheckpoint)
    fail = true
    await rejects(c.add([DOCS[2]!, { ...DOCS[0]!, text: 'replacement text' }], noCheckpoint), 'STORAGE_FULL', 'refused write')
    await rejects(c.delete(['gc']), 'STORAGE_FULL', 'refused delete')
    fail = false
    equal(await c.count(), 2, 'count')
    equal((await searchCollection(c, { query: 'memory leak', mode: 'keyword', k: 1 }, noCheckpoint)).hits[0]?.text, DOCS[0]!.text, 'old text still served')
    equal((await searchCollection(c, { query: 'garbage', mode: 'keyword' }, noCheckpoint)).hits.length, 1, 'gc still there')
    const reopened = await open(env)
    equal(await reopened.count(), 2, 'nothing persisted by the failed calls')
  },

  async 'long documents are chunked by headings, hits carry sections'(env) {
    const c = await open(env, 'c', { chunking: { maxTokens: 40, overlapTokens: 8 } })
    const body = (word: string) => Array.from({ length: 60 }, (_, i) => `${word}${i % 7} filler text here.`).join(' ')
    const text = `# Guide\n\nIntro words.\n\n## Install\n\n${body('setup')} npm install winnow\n\n## Usage\n\n${body('usage')} call search`
    const r = await c.add([{ id: 'guide', text }], noCheckpoint)
    ok(r.chunks > 4, `several chunks (${r.chunks})`)
    const hits = (await searchCollection(c, { query: 'npm install', mode: 'keyword', k: 1 }, noCheckpoint)).hits
    equal(hits[0]!.id, 'guide', 'parent id')
    equal(hits[0]!.section, 'Install', 'section')
    equal(hits[0]!.path, ['Guide', 'Install'], 'path')
    equal(text.slice(hits[0]!.start, hits[0]!.end), hits[0]!.text, 'offsets')
    ok(hits[0]!.chunkId.startsWith('guide#'), 'chunk id')
    equal((await c.get('guide'))?.chunks, r.chunks, 'get reports chunk count')
  },

  async 'a second engine on the same collection sees writes (two tabs)'(env) {
    const a = await open(env)
    const b = await open(env)
    await a.add(DOCS.slice(0, 2), noCheckpoint)
    equal(await b.count(), 2, 'b sees a’s add')
    await b.add([DOCS[2]!], noCheckpoint)
    await a.delete(['gc'])
    equal(await b.count(), 2, 'b sees a’s delete')
    equal((await searchCollection(b, { query: 'garbage', mode: 'keyword' }, noCheckpoint)).hits.length, 0, 'deleted doc gone in b')
    equal((await searchCollection(a, { query: 'fuite', mode: 'keyword' }, noCheckpoint)).hits[0]?.id, 'fr', 'a sees b’s add')
  },

  async 'a read after another tab’s commit sees it, even with an older refresh in flight'(env) {
    // Tab A starts catching up (say, on a broadcast) and reads the manifest; tab B commits before
    // that refresh finishes. A read A starts afterwards must not settle for the older refresh.
    let hold: Promise<void> | null = null
    let release = () => {}
    let manifestRead = () => {}
    const a = await open(env, 'c', {}, (store) => ({
      ...bindAll(store),
      readManifest: async () => {
        const manifest = await store.readManifest()
        if (hold) {
          const gate = hold
          hold = null
          manifestRead()
          await gate
        }
        return manifest
      },
    }))
    const b = await open(env)
    await a.add([DOCS[0]!], noCheckpoint)
    await b.add([DOCS[1]!], noCheckpoint)
    hold = new Promise<void>((resolve) => (release = resolve))
    const read = new Promise<void>((resolve) => (manifestRead = resolve))
    const stale = a.refresh()
    await read
    await b.add([DOCS[2]!], noCheckpoint)
    const counted = a.count()
    release()
    await stale
    equal(await counted, 3, 'count sees the commit made while an older refresh was running')
    equal((await searchCollection(a, { query: 'fuite', mode: 'keyword' }, noCheckpoint)).hits[0]?.id, 'fr', 'search sees it too')
  },

  async 'a search racing another tab’s merge still finds every match'(env) {
    const dims = 4
    const b = await open(env)
    // Tab A's reads of postings and vector blocks wait, once, for B's merge to land.
    let waitFor: (() => Promise<void>) | null = null
    let raced = 0
    const hold = async () => {
      if (!waitFor) return
      const wait = waitFor
      waitFor = null
      const before = b.segmentCount()
      await wait()
      if (b.segmentCount() < before) raced++
    }
    const a = await open(env, 'c', {}, (store) => ({
      ...bindAll(store),
      readPostings: async (terms) => {
        await hold()
        return store.readPostings(terms)
      },
      readRows: async (blocks) => {
        await hold()
        return store.readRows(blocks)
      },
    }))
    let n = 0
    const addOne = () => b.add([{ id: `n${n}`, text: `note ${n} about lighthouses`, vector: axis(dims, n++ % dims) }], noCheckpoint)
    const fillTo = async (segments: number) => {
      while (b.segmentCount() < segments) {
        await addOne()
        await b.idle()
      }
    }
    await fillTo(10)
    waitFor = () => b.idle()
    await addOne() // the eleventh segment: B merges in the background
    const keyword = (await searchCollection(a, { query: 'lighthouses', mode: 'keyword', k: 100, rerank: false }, noCheckpoint)).hits
    equal(raced, 1, 'B’s merge landed while A was reading postings')
    equal(keyword.length, n, 'every note found by keyword')
    await fillTo(10)
    equal((await searchCollection(a, { query: 'lighthouses', mode: 'keyword', k: 100 }, noCheckpoint)).hits.length, n, 'A caught up')
    waitFor = () => b.idle()
    await addOne()
    const vector = (await searchCollection(a, { query: '', mode: 'vector', vector: axis(dims, 0), k: 100 }, noCheckpoint)).hits
    equal(raced, 2, 'B’s merge landed while A was reading vector blocks')
    equal(vector.length, n, 'every note found by vector')
  },

  async 'a merge is built without the write lock: adds and deletes land while it reads, and it keeps them'(env) {
    const dims = 4
    // The merge's reads of whole segments' postings wait until released.
    let gate: Promise<void> | null = null
    let release = () => {}
    let merging = () => {}
    const merged = new Promise<void>((resolve) => (merging = resolve))
    const c = await open(env, 'c', {}, (store) => ({
      ...bindAll(store),
      readSegmentPostings: async (segment) => {
        merging()
        if (gate) await gate
        return store.readSegmentPostings(segment)
      },
    }))
    let n = 0
    const addOne = () => c.add([{ id: `n${n}`, text: `note ${n} about lighthouses`, vector: axis(dims, n++ % dims) }], noCheckpoint)
    while (c.segmentCount() < 10) await addOne()
    await c.idle()
    gate = new Promise<void>((resolve) => (release = resolve))
    await addOne() // the eleventh segment: the merge starts and waits in its reads
    await merged
    const during = await Promise.race([
      (async () => {
        await addOne()
        await c.delete(['n0'])
        return 'landed'
      })(),
      new Promise((resolve) => setTimeout(() => resolve('waited for the merge'), 2000)),
    ])
    equal(during, 'landed', 'an add and a delete while the merge is being built')
    const segmentsDuring = c.segmentCount()
    release()
    await c.idle()
    ok(c.segmentCount() < segmentsDuring, `the merge landed after them (${segmentsDuring} -> ${c.segmentCount()} segments)`)
    equal(await c.count(), n - 1, 'count')
    const hits = (await searchCollection(c, { query: 'lighthouses', mode: 'keyword', k: 100 }, noCheckpoint)).hits.map((h) => h.id)
    equal(hits.length, n - 1, 'every note but the deleted one')
    ok(!hits.includes('n0'), 'the note deleted while the merge was built stays deleted')
    ok(hits.includes(`n${n - 1}`), 'the note added while the merge was built is found')
    const fresh = await open(env)
    equal((await searchCollection(fresh, { query: 'lighthouses', mode: 'keyword', k: 100 }, noCheckpoint)).hits.map((h) => h.id).sort(), [...hits].sort(), 'the same after reopening')
    equal((await searchCollection(fresh, { query: '', mode: 'vector', vector: axis(dims, 1), k: 100 }, noCheckpoint)).hits.length, n - 1, 'vectors too')
  },

  async 'many small writes are compacted: fewer segments, same answers, deletes reclaimed'(env) {
    const c = await open(env)
    const dims = 4
    for (let i = 0; i < 24; i++) {
      await c.add([{ id: `n${i}`, text: `note ${i} about ${i % 2 ? 'lighthouses' : 'harbours'}`, metadata: { i }, vector: axis(dims, i % dims, (i + 1) % dims, 0.1) }], noCheckpoint)
    }
    await c.delete(['n3', 'n4'])
    await c.add([{ id: 'n5', text: 'note 5 rewritten about lighthouses', metadata: { i: 5 }, vector: axis(dims, 0) }], noCheckpoint)
    await c.idle()
    const keyword = (await searchCollection(c, { query: 'lighthouses', mode: 'keyword', k: 50 }, noCheckpoint)).hits
    const vector = (await searchCollection(c, { query: '', mode: 'vector', vector: axis(dims, 0), k: 50 }, noCheckpoint)).hits
    ok(c.segmentCount() <= 10, `segments after compaction (${c.segmentCount()})`)
    const fresh = await open(env)
    equal(await fresh.count(), 22, 'count')
    equal((await searchCollection(fresh, { query: 'lighthouses', mode: 'keyword', k: 50 }, noCheckpoint)).hits.map((h) => h.id), keyword.map((h) => h.id), 'same keyword answers after reopen')
    equal((await searchCollection(fresh, { query: '', mode: 'vector', vector: axis(dims, 0), k: 50 }, noCheckpoint)).hits.map((h) => h.id), vector.map((h) => h.id), 'same vector answers')
    equal(keyword.length, 11, 'the 12 odd notes less n3 (n5 rewritten, still about lighthouses)')
    ok(!vector.some((h) => h.id === 'n3' || h.id === 'n4'), 'deleted documents stay deleted')
    equal(vector[0]!.id, 'n5', 'the rewritten vector')
    const store = await env.backend.open('c')
    ok((await store.readTombstones()).length <= 3, 'at most the three replaced or deleted chunks await a merge')
    // A segment that is mostly tombstones is rewritten without them.
    await c.add(Array.from({ length: 100 }, (_, i) => ({ id: `bulk${i}`, text: `bulk note ${i}`, vector: axis(dims, i % dims) })), noCheckpoint)
    await c.delete(Array.from({ length: 60 }, (_, i) => `bulk${i}`))
    await c.idle()
    const left = await store.readTombstones()
    ok(left.length <= 3, `tombstones of the bulk segment reclaimed (left: ${left.length})`)
    equal((await searchCollection(c, { query: 'bulk', mode: 'keyword', k: 100 }, noCheckpoint)).hits.length, 40, 'the 40 kept bulk notes')
  },

  async 'collections are independent and can be deleted'(env) {
    const a = await open(env, 'one')
    const b = await open(env, 'two')
    await a.add([DOCS[0]!], noCheckpoint)
    equal(await b.count(), 0, 'other collection empty')
    ok((await env.backend.list()).includes('one'), 'listed')
    a.close()
    await env.backend.destroy('one')
    const again = await open(env, 'one')
    equal(await again.count(), 0, 'deleted collection starts empty')
  },
}

function bindAll(store: CollectionStore): CollectionStore {
  const out = {} as Record<string, unknown>
  for (const key of ['readManifest', 'readSegments', 'readSegmentIds', 'readTombstones', 'readQuantized', 'readRows', 'readPostings', 'readSegmentPostings', 'readChunks', 'readDocs', 'commit', 'stage', 'close'] as const) {
    out[key] = (store[key] as (...a: unknown[]) => unknown).bind(store)
  }
  return Object.assign(out, { name: store.name }) as unknown as CollectionStore
}

export { createCoordination }
