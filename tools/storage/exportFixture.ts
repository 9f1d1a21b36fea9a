/**
 * Exports a storage fixture (test/fixtures/storage/v<schema>.json): two real collections written by
 * the code of the commit it runs at, over fake-indexeddb, dumped record by record, with the answers
 * that code gave (searches, get, count). The migration tests load the dump into a fresh IndexedDB at
 * its version, open it with today's code and compare.
 *
 * v1.json was made at b2dc0ec (schema 1), v2.json at 2af547d (schema 2), v3.json at ec8c0bb (schema 3), v4.json
 * at 5a29566 (schema 4, a partitioned segment in `vec`), v5.json at a650796 (schema 5), v6.json at c688178 (schema 6): check out that
 * commit, then (with its node_modules; run the bundle from the checkout so it finds them)
 *   npx rolldown tools/storage/exportFixture.ts --platform node --format esm -o /tmp/export.mjs \
 *     --external fake-indexeddb --external idb && node /tmp/export.mjs test/fixtures/storage/v2.json <commit>
 */
import 'fake-indexeddb/auto'
import { writeFileSync } from 'node:fs'
import { openDB } from 'idb'
import { IdbBackend, DB_PREFIX } from '../../src/store/idb.js'
import { createCoordination } from '../../src/store/coordination.js'
import { CollectionEngine } from '../../src/collection/engine.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { SCHEMA_VERSION } from '../../src/store/types.js'
import { STORES } from '../../src/store/migrations.js'

const WORDS = 'memory leak garbage collector heap reference cache worker index search rerank passage vector query token offline browser storage segment posting merge'.split(' ')

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const random = prng(20261206)
const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!
function sentence(words: number): string {
  const out: string[] = []
  for (let i = 0; i < words; i++) out.push(pick(WORDS))
  out[0] = out[0]!.charAt(0).toUpperCase() + out[0]!.slice(1)
  return `${out.join(' ')}.`
}
function text(sentences: number): string {
  return Array.from({ length: sentences }, () => sentence(6 + Math.floor(random() * 10))).join(' ')
}
function unit(dims: number): number[] {
  const v = Array.from({ length: dims }, () => random() * 2 - 1)
  const n = Math.hypot(...v)
  return v.map((x) => x / n)
}

const noCheckpoint = async () => {}
const coordination = createCoordination({})
const backend = new IdbBackend()
const QUERIES = ['memory leak', 'garbage collector heap', 'offline browser storage', 'rerank passage vector', 'merge segment posting token']

async function build() {
  // A keyword collection, chunked into overlapping windows: several segments, replaced and deleted documents.
  const kw = await CollectionEngine.open('kw', { store: await backend.open('kw'), coordination, embedder: null }, { chunking: { maxTokens: 40, overlapTokens: 8 } })
  const kwIds: string[] = []
  for (let batch = 0; batch < 4; batch++) {
    const docs = Array.from({ length: 6 }, (_, i) => {
      const id = `k${batch}-${i}`
      kwIds.push(id)
      return { id, title: `Doc ${batch}/${i}`, text: text(2 + Math.floor(random() * 8)), metadata: { batch, even: i % 2 === 0, tags: [pick(WORDS)] } }
    })
    await kw.add(docs, noCheckpoint)
    await kw.idle()
  }
  await kw.delete(['k0-1', 'k2-3'])
  await kw.add([{ id: 'k1-2', text: `Replaced: ${text(3)}`, metadata: { replaced: true } }, { id: 'k9-0', text: 'A document with 💾 emoji, ünïcödé and a\u0000NUL.' }], noCheckpoint)
  await kw.idle()
  kwIds.push('k9-0')

  // Caller vectors (8 dims), one chunk per document; from schema 4 on, merges of 64 rows or more are
  // partitioned (the ANN index), so the fixture carries a partitioned segment.
  const vec = await CollectionEngine.open('vec', { store: await backend.open('vec'), coordination, embedder: null }, SCHEMA_VERSION >= 4 ? { vectorIndex: { minRows: 64 } } : {})
  const vecIds: string[] = []
  const queryVectors = QUERIES.map(() => unit(8))
  for (let batch = 0; batch < 3; batch++) {
    const docs = Array.from({ length: 30 }, (_, i) => {
      const id = `v${batch}-${i}`
      vecIds.push(id)
      return { id, text: text(1 + Math.floor(random() * 3)), vector: unit(8), metadata: { batch } }
    })
    await vec.add(docs, noCheckpoint)
    await vec.idle()
  }
  // From schema 4 on, ten more small adds: past MAX_SEGMENTS the merges run, and one of 64 rows or
  // more is partitioned.
  for (let batch = 3; SCHEMA_VERSION >= 4 && batch < 13; batch++) {
    const docs = Array.from({ length: 8 }, (_, i) => {
      const id = `v${batch}-${i}`
      vecIds.push(id)
      return { id, text: text(1 + Math.floor(random() * 3)), vector: unit(8), metadata: { batch } }
    })
    await vec.add(docs, noCheckpoint)
    await vec.idle()
  }
  await vec.delete(['v0-3', 'v1-7', 'v2-29'])
  await vec.add([{ id: 'v0-4', text: `Replaced ${text(2)}`, vector: unit(8) }], noCheckpoint)
  await vec.idle()

  const answers = async (engine: CollectionEngine, ids: string[], vectors: number[][] | null) => {
    const searches: unknown[] = []
    for (const [i, query] of QUERIES.entries()) {
      const modes = vectors ? (['keyword', 'vector', 'hybrid'] as const) : (['keyword'] as const)
      for (const mode of modes) {
        const request = { query, mode, k: 20, ...(vectors ? { vector: vectors[i]! } : {}) }
        const { hits } = await searchCollection(engine, request, noCheckpoint)
        searches.push({ request, hits: hits.map((h) => ({ id: h.id, chunkId: h.chunkId, text: h.text, start: h.start, end: h.end, score: h.score, firstStageScore: h.firstStageScore, scores: h.scores, title: h.title ?? null, metadata: h.metadata ?? null })) })
      }
    }
    const docs: Record<string, unknown> = {}
    for (const id of ids) docs[id] = await engine.get(id)
    return { count: await engine.count(), segments: engine.segmentCount(), searches, docs }
  }
  return { kw: await answers(kw, kwIds, null), vec: await answers(vec, vecIds, queryVectors) }
}

/** Every record of a collection database, typed arrays tagged. */
async function dump(name: string) {
  const db = await openDB(DB_PREFIX + name)
  const stores: Record<string, [unknown, unknown][]> = {}
  for (const store of STORES) {
    const tx = db.transaction(store)
    const keys = await tx.store.getAllKeys()
    const values = await tx.store.getAll()
    stores[store] = keys.map((k, i) => [k, values[i]])
  }
  const version = db.version
  db.close()
  return { version, stores }
}

function tag(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return { $typed: value.constructor.name, values: Array.from(value as unknown as ArrayLike<number>) }
  return value
}

const answers = await build()
const out = { schema: SCHEMA_VERSION, madeBy: `tools/storage/exportFixture.ts at ${process.argv[3] ?? '?'} (schema ${SCHEMA_VERSION})`, databases: { kw: await dump('kw'), vec: await dump('vec') }, answers }
writeFileSync(process.argv[2] ?? 'v1.json', JSON.stringify(out, tag))
console.log(`wrote ${process.argv[2]}: kw ${answers.kw.count} docs in ${answers.kw.segments} segments, vec ${answers.vec.count} docs in ${answers.vec.segments} segments`)
process.exit(0)
