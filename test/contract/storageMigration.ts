/**
 * Storage migration cases (issue 16), framework-free like the collection contract: they run under
 * vitest over fake-indexeddb (test/unit/storageMigration.test.ts) and in Chromium over real
 * IndexedDB (test/browser/storageMigration.spec.ts). The old databases are real ones, written by
 * the code of their schema (test/fixtures/storage/v1.json … v6.json, made by
 * tools/storage/exportFixture.ts); each case loads one at its version, opens it with today's code
 * and compares the answers with the ones that code gave: ids, order, texts and offsets exactly,
 * scores to 1e-6. Each case needs empty storage.
 */
import { openDB } from 'idb'
import { CollectionEngine } from '../../src/collection/engine.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { createCoordination } from '../../src/store/coordination.js'
import { DB_PREFIX, IdbBackend } from '../../src/store/idb.js'
import { MIGRATIONS } from '../../src/store/migrations.js'
import { blockOf, docSeq, type PassageBlock } from '../../src/store/passageBlocks.js'
import { termBucket } from '../../src/store/postingCodec.js'
import { fromStoredSegment, type StoredSegment } from '../../src/store/segmentColumns.js'
import { docList, rowBlockRows, SCHEMA_VERSION, type ChunkRecord, type DocRecord, type Manifest, type RowBlockRecord, type SegmentRecord } from '../../src/store/types.js'
import { close, equal, ok } from './assert.js'

export interface Dump {
  version: number
  stores: Record<string, [unknown, unknown][]>
}
export type FixtureName = 'kw' | 'vec'
/** A fixture file: databases of one schema and the answers that schema's code gave. */
export interface StorageFixture {
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

/** Writes a dumped database record by record at its version, as the code of that schema left it. */
export async function loadDump(name: string, dump: Dump): Promise<void> {
  ok(dump.version >= 1 && dump.version < SCHEMA_VERSION, `fixture schema ${dump.version} is older than today's`)
  const db = await openDB(DB_PREFIX + name, dump.version, {
    upgrade: async (d, _old, _new, tx) => {
      for (const step of MIGRATIONS.slice(0, dump.version)) await step(d, tx as never)
    },
  })
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
export async function expectSameAnswers(fixture: StorageFixture, name: FixtureName): Promise<void> {
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

/**
 * Checks the migrated records against the fixture's: postings packed by bucket (schema 2), every
 * document with its chunks' positions in the passage block of its smallest seq, each text once
 * (schema 3); segments, vectors, tombstones and the incarnation unchanged.
 */
export async function expectCurrentRecords(fixture: StorageFixture, name: FixtureName): Promise<void> {
  const after = await records(name)
  const old = fixture.databases[name].stores
  equal(after.version, SCHEMA_VERSION, 'version')
  equal(Object.keys(after.stores).sort(), ['listRecords', 'meta', 'passages', 'postingBuckets', 'quantized', 'rows', 'segmentColumns', 'tombstones'], 'stores')
  equal(after.stores.listRecords, old.lists ?? [], 'inverted lists kept, in listRecords (none before schema 4: nothing was partitioned)')
  if (old.segments) expectSegmentsAsColumns(after.stores.segmentColumns!, old.segments)
  else {
    // Schema 5: the records stay, without the fp32 block size they no longer need.
    const without = old.segmentColumns!.map(([key, value]) => {
      const { vectorRows: _rows, ...rest } = value as StoredSegment & { vectorRows?: number }
      return [key, rest]
    })
    equal(after.stores.segmentColumns, without, 'segment records kept, without vectorRows')
  }
  if (old.rows) equal(after.stores.rows, old.rows, 'row blocks unchanged (schema 6 stored them by seq)')
  else expectRowsBySeq(after.stores.rows!, old)
  const bucketKeys = old.postingBuckets
    ? old.postingBuckets.map(([key]) => (key as number[]).join('/'))
    : old.postings!.map(([, p]) => `${termBucket((p as { term: string }).term)}/${(p as { segment: number }).segment}`)
  equal(after.stores.postingBuckets!.map(([key]) => (key as number[]).join('/')).sort(), [...new Set(bucketKeys)].sort(), 'one packed record per (bucket, segment) with a term')
  if (old.postingBuckets) equal(after.stores.postingBuckets, old.postingBuckets, 'packed postings unchanged')

  if (old.passages) {
    // Schema 3 and 4: the passage blocks were already there.
    equal(after.stores.passages, old.passages, 'passage blocks unchanged')
    equal(after.stores.meta!.find(([k]) => k === 'incarnation'), old.meta!.find(([k]) => k === 'incarnation'), 'incarnation kept')
    for (const store of ['quantized', 'tombstones']) equal(after.stores[store], old[store], `${store} unchanged`)
    equal((after.stores.meta!.find(([k]) => k === 'manifest')![1] as { schema: number }).schema, SCHEMA_VERSION, 'manifest schema')
    return
  }
  const blocks = after.stores.passages!.map(([key, value]) => [key as number, value as PassageBlock] as const)
  const stored = blocks.flatMap(([key, block]) => {
    equal(block.block, key, 'a block is keyed by its number')
    return block.docs.map((d) => [key, d] as const)
  })
  const docs = old.docs!.map(([, d]) => d as DocRecord)
  const chunks = new Map(old.chunks!.map(([, c]) => [(c as ChunkRecord).seq, c as Omit<ChunkRecord, 'text'> & { text?: string }]))
  equal(stored.length, docs.length, 'every document in one block')
  for (const doc of docs) {
    const found = stored.filter(([, d]) => d.id === doc.id)
    equal(found.length, 1, `document ${doc.id} stored once`)
    const [key, entry] = found[0]!
    equal(key, blockOf({ id: doc.id, seq: docSeq(doc) }), `document ${doc.id} in the block of its smallest seq`)
    equal([entry.text, entry.title, entry.metadata, entry.seqs], [doc.text, doc.title, doc.metadata, doc.seqs], `document ${doc.id}`)
    const expected = doc.seqs
      .map((seq) => chunks.get(seq)!)
      .sort((a, b) => a.seq - b.seq)
      .map(({ seq, index, start, end, section, path }) => ({ seq, index, start, end, section, path }))
    equal(entry.chunks, expected, `chunks of ${doc.id}: positions only, the text is the document's`)
  }
  equal((after.stores.meta!.find(([k]) => k === 'manifest')![1] as { schema: number }).schema, SCHEMA_VERSION, 'manifest schema')
  equal(after.stores.meta!.find(([k]) => k === 'incarnation'), old.meta!.find(([k]) => k === 'incarnation'), 'incarnation kept')
  for (const store of ['quantized', 'tombstones']) equal(after.stores[store], old[store], `${store} unchanged`)
}

/**
 * Schema 6: each live chunk's fp32 row in the row block of its seq, equal to the row the old
 * `vectors` blocks held (found through its segment's seqs); none for a tombstoned chunk.
 */
function expectRowsBySeq(after: [unknown, unknown][], old: Dump['stores']): void {
  const dims = (old.meta!.find(([k]) => k === 'manifest')![1] as Manifest).dims
  const dead = new Set((old.tombstones ?? []).map(([k]) => k as number))
  const expected = new Map<number, number[]>()
  for (const [, value] of old.segments ?? old.segmentColumns ?? []) {
    const s = value as { id: number; seqs: Uint32Array; vectorBlocks: number; vectorRows?: number }
    if (dims === null || s.vectorBlocks === 0) continue
    const per = s.vectorRows ?? 64
    for (const [key, v] of old.vectors ?? []) {
      if ((key as number[])[0] !== s.id) continue
      const { block, vectors } = v as { block: number; vectors: Float32Array }
      for (let r = 0; r * dims < vectors.length; r++) {
        const seq = s.seqs[block * per + r]
        if (seq !== undefined && !dead.has(seq)) expected.set(seq, Array.from(vectors.subarray(r * dims, (r + 1) * dims)))
      }
    }
  }
  const got = new Map<number, number[]>()
  for (const [key, value] of after) {
    const r = value as RowBlockRecord
    equal(r.block, key, 'a row block is keyed by its number')
    r.seqs.forEach((seq, i) => {
      equal(Math.floor(seq / rowBlockRows(dims!)), r.block, `seq ${seq} in the row block of its seq`)
      got.set(seq, Array.from(r.vectors.subarray(i * dims!, (i + 1) * dims!)))
    })
  }
  const ascending = (m: Map<number, unknown>) => [...m.keys()].sort((a, b) => a - b)
  equal(ascending(got), ascending(expected), 'a row for each live chunk with a vector, none for a deleted one')
  for (const [seq, row] of expected) equal(got.get(seq), row, `row of seq ${seq}`)
  if (dims !== null) ok(expected.size > 0, 'the vector fixture has rows to carry')
}

/**
 * Schema 5: every segment record under its id in `segmentColumns`, its documents as columns that
 * read back as the old record's (documents with equal metadata now share one stored value).
 */
function expectSegmentsAsColumns(after: [unknown, unknown][], old: [unknown, unknown][]): void {
  equal(after.map(([key]) => key), old.map(([key]) => key), 'segment ids')
  after.forEach(([key, value], i) => {
    const stored = value as StoredSegment
    ok(typeof stored.docIds === 'string' && !('docs' in stored), `segment ${String(key)} stores its documents as columns`)
    const metadata = docList((old[i]![1] as SegmentRecord).docs).map((d) => d.metadata).filter((m) => m !== undefined)
    if (stored.metadataValues !== undefined) equal((JSON.parse(stored.metadataValues) as unknown[]).length, new Set(metadata.map((m) => JSON.stringify(m))).size, `segment ${String(key)}: each distinct metadata stored once`)
    // Schema 6 drops the fp32 block size (`vectorRows`): rows are stored by seq.
    const { vectorRows: _rows, ...was } = old[i]![1] as SegmentRecord & { vectorRows?: number }
    ok(!('vectorRows' in stored), `segment ${String(key)} no longer names an fp32 block size`)
    equal(sortKeys(fromStoredSegment(stored)), sortKeys(was), `segment ${String(key)} reads back as it was`)
  })
}

// A value with every object's keys in order, for comparing records whose keys were set in another order.
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return ArrayBuffer.isView(value) ? Array.from(value as unknown as ArrayLike<number>) : value
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sortKeys(v)]))
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
 * STORAGE_UNAVAILABLE and the old database is exactly as it was; then an open without failures
 * migrates it. Returns how many kill points it tried.
 */
export async function expectEveryKillPointSafe(fixture: StorageFixture, name: FixtureName = 'kw'): Promise<number> {
  await loadDump(name, fixture.databases[name])
  const before = await records(name)
  // Count the open's requests on a copy (never fails: the count runs past the end).
  await loadDump('probe', fixture.databases[name])
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
  ok(total > 2, `the migration makes requests (${total})`)
  // Every request but the open's last (reading the incarnation, after the upgrade committed).
  for (let kill = 1; kill < total; kill++) {
    const restore = failRequest(kill)
    let error: unknown = null
    try {
      ;(await new IdbBackend().open(name)).close()
    } catch (e) {
      error = e
    } finally {
      restore()
    }
    equal((error as { code?: string } | null)?.code, 'STORAGE_UNAVAILABLE', `kill at request ${kill} of ${total}`)
    equal(await records(name), before, `schema ${before.version} intact after a kill at request ${kill}`)
  }
  await expectSameAnswers(fixture, name)
  equal((await records(name)).version, SCHEMA_VERSION, 'migrated after the kills')
  return total - 1
}
