/**
 * Format v2 migration cases (issue 16), framework-free like the collection contract: they run under
 * vitest over fake-indexeddb (test/unit/storageMigration.test.ts) and in Chromium over real
 * IndexedDB (test/browser/storageMigration.spec.ts). The schema-1 databases are real ones, written
 * by schema-1 code (test/fixtures/storage/v1.json, made by tools/storage/exportV1Fixture.ts); each
 * case loads one at version 1, opens it with today's code and compares the answers with the ones
 * schema 1 gave: ids, order, texts and offsets exactly, scores to 1e-6. Each case needs empty storage.
 */
import { openDB } from 'idb'
import { CollectionEngine } from '../../src/collection/engine.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { createCoordination } from '../../src/store/coordination.js'
import { DB_PREFIX, IdbBackend } from '../../src/store/idb.js'
import { MIGRATIONS } from '../../src/store/migrations.js'
import { termBucket } from '../../src/store/postingCodec.js'
import { SCHEMA_VERSION } from '../../src/store/types.js'
import { close, equal, ok } from './assert.js'

export interface Dump {
  version: number
  stores: Record<string, [unknown, unknown][]>
}
export type FixtureName = 'kw' | 'vec'
export interface V1Fixture {
  databases: Record<FixtureName, Dump>
  answers: Record<FixtureName, { count: number; segments: number; searches: { request: Record<string, unknown>; hits: FixtureHit[] }[]; docs: Record<string, unknown> }>
}
interface FixtureHit {
  id: string
  chunkId: string
  text: string
  start: number
  end: number
  score: number
  firstStageScore: number
  scores: Record<string, number>
  title: string | null
  metadata: unknown
}

/** JSON.parse's reviver for the fixture: `{ $typed, values }` back into typed arrays. */
export function reviveTyped(_key: string, value: unknown): unknown {
  const tagged = value as { $typed?: unknown; values?: number[] } | null
  if (tagged && typeof tagged === 'object' && typeof tagged.$typed === 'string') {
    const Typed = (globalThis as unknown as Record<string, new (values: number[]) => unknown>)[tagged.$typed]!
    return new Typed(tagged.values!)
  }
  return value
}

/** Writes a dumped schema-1 database record by record, as schema-1 code left it. */
export async function loadV1(name: string, dump: Dump): Promise<void> {
  equal(dump.version, 1, 'fixture schema')
  const db = await openDB(DB_PREFIX + name, 1, { upgrade: (d, _old, _new, tx) => void MIGRATIONS[0]!(d, tx as never) })
  for (const [store, records] of Object.entries(dump.stores)) {
    const tx = db.transaction(store, 'readwrite')
    const inline = tx.store.keyPath !== null
    await Promise.all(records.map(([key, value]) => (inline ? tx.store.put(value) : tx.store.put(value, key as IDBValidKey))))
    await tx.done
  }
  db.close()
}

/** Every record of a database, by store. */
export async function records(name: string): Promise<Dump> {
  const db = await openDB(DB_PREFIX + name)
  const stores: Record<string, [unknown, unknown][]> = {}
  for (const store of [...db.objectStoreNames]) {
    const tx = db.transaction(store)
    const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()])
    stores[store] = keys.map((k, i) => [k, values[i]])
  }
  const { version } = db
  db.close()
  return { version, stores }
}

/** Opens a collection with today's code and checks it answers as the fixture says schema 1 did. */
export async function expectSameAnswers(fixture: V1Fixture, name: FixtureName): Promise<void> {
  const coordination = createCoordination({})
  const engine = await CollectionEngine.open(name, { store: await new IdbBackend().open(name), coordination, embedder: null }, {})
  try {
    const expected = fixture.answers[name]
    equal(await engine.count(), expected.count, 'count')
    equal(engine.segmentCount(), expected.segments, 'segments')
    for (const [id, doc] of Object.entries(expected.docs)) equal(await engine.get(id), doc, `get('${id}')`)
    for (const { request, hits } of expected.searches) {
      const what = JSON.stringify(request)
      const got = (await searchCollection(engine, request as never, async () => {})).hits
      equal(got.map((h) => [h.id, h.chunkId, h.text, h.start, h.end]), hits.map((h) => [h.id, h.chunkId, h.text, h.start, h.end]), `hits of ${what}`)
      got.forEach((h, j) => {
        const e = hits[j]!
        close(h.score, e.score, 1e-6, `score ${j} of ${what}`)
        close(h.firstStageScore, e.firstStageScore, 1e-6, `first-stage score ${j} of ${what}`)
        for (const [key, value] of Object.entries(e.scores)) close((h.scores as Record<string, number>)[key]!, value, 1e-6, `${key} score ${j} of ${what}`)
        equal(h.title ?? null, e.title, `title ${j} of ${what}`)
        equal(h.metadata ?? null, e.metadata, `metadata ${j} of ${what}`)
      })
    }
  } finally {
    engine.close()
    coordination.close()
  }
}

/** Checks the migrated records: postings packed by bucket, chunks without text, the rest unchanged. */
export async function expectV2Records(fixture: V1Fixture, name: FixtureName): Promise<void> {
  const after = await records(name)
  const v1 = fixture.databases[name].stores
  equal(after.version, SCHEMA_VERSION, 'version')
  ok(!Object.keys(after.stores).includes('postings'), 'the schema-1 postings store is gone')
  const expectedKeys = [
    ...new Set(
      v1.postings!.map(([, p]) => {
        const { term, segment } = p as { term: string; segment: number }
        return `${termBucket(term)}/${segment}`
      }),
    ),
  ].sort()
  equal(after.stores.postingBuckets!.map(([key]) => (key as number[]).join('/')).sort(), expectedKeys, 'one packed record per (bucket, segment) with a term')
  equal(after.stores.chunks!.length, v1.chunks!.length, 'chunks')
  equal(after.stores.chunks!.filter(([, c]) => (c as { text?: string }).text !== undefined).length, 0, 'chunks stored without text')
  equal((after.stores.meta!.find(([k]) => k === 'manifest')![1] as { schema: number }).schema, SCHEMA_VERSION, 'manifest schema')
  equal(after.stores.meta!.find(([k]) => k === 'incarnation'), v1.meta!.find(([k]) => k === 'incarnation'), 'incarnation kept')
  for (const store of ['docs', 'segments', 'quantized', 'vectors', 'tombstones']) equal(after.stores[store], v1[store], `${store} unchanged`)
}

/**
 * Makes the `kill`-th IndexedDB request from now throw (put, get, getAll), as a crash at that
 * point would stop the upgrade; returns the function that restores them.
 */
function failRequest(kill: number): () => void {
  const proto = globalThis.IDBObjectStore.prototype
  const original = { put: proto.put, get: proto.get, getAll: proto.getAll }
  let n = 0
  const wrap = <F extends (...args: never[]) => unknown>(fn: F) =>
    function (this: IDBObjectStore, ...args: Parameters<F>) {
      if (++n === kill) throw new DOMException(`killed at request ${kill}`, 'UnknownError')
      return fn.apply(this, args)
    } as unknown as F
  proto.put = wrap(original.put)
  proto.get = wrap(original.get)
  proto.getAll = wrap(original.getAll)
  return () => Object.assign(proto, original)
}

/**
 * Fails the migration of `kw` at every one of its requests in turn: each time the open rejects with
 * STORAGE_UNAVAILABLE and the schema-1 database is exactly as it was; then an open without
 * failures migrates it. Returns how many kill points it tried.
 */
export async function expectEveryKillPointSafe(fixture: V1Fixture): Promise<number> {
  await loadV1('kw', fixture.databases.kw)
  const before = await records('kw')
  // Count the open's requests on a copy (never fails: the count runs past the end).
  await loadV1('probe', fixture.databases.kw)
  let total = 0
  const counting = failRequest(Number.MAX_SAFE_INTEGER)
  const proto = globalThis.IDBObjectStore.prototype
  const counted = { put: proto.put, get: proto.get, getAll: proto.getAll }
  for (const key of ['put', 'get', 'getAll'] as const) {
    const inner = counted[key] as (...args: unknown[]) => unknown
    ;(proto as unknown as Record<string, unknown>)[key] = function (this: IDBObjectStore, ...args: unknown[]) {
      total++
      return inner.apply(this, args)
    }
  }
  try {
    ;(await new IdbBackend().open('probe')).close()
  } finally {
    counting()
  }
  ok(total > 50, `the migration makes many requests (${total})`)
  // Every request but the open's last (reading the incarnation, after the upgrade committed).
  for (let kill = 1; kill < total; kill++) {
    const restore = failRequest(kill)
    let error: unknown = null
    try {
      ;(await new IdbBackend().open('kw')).close()
    } catch (e) {
      error = e
    } finally {
      restore()
    }
    equal((error as { code?: string } | null)?.code, 'STORAGE_UNAVAILABLE', `kill at request ${kill} of ${total}`)
    equal(await records('kw'), before, `schema 1 intact after a kill at request ${kill}`)
  }
  await expectSameAnswers(fixture, 'kw')
  equal((await records('kw')).version, SCHEMA_VERSION, 'migrated after the kills')
  return total - 1
}
