/**
 * Migration of real schema-1 and schema-2 databases over fake-indexeddb; the cases are shared with
 * Chromium (test/contract/storageMigration.ts).
 */
import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { readFileSync } from 'node:fs'
import { beforeEach, describe, expect, it } from 'vitest'
import { openDB } from 'idb'
import { DB_PREFIX, IdbBackend } from '../../src/store/idb.js'
import { BLOCKED_TIMEOUT_MS } from '../../src/store/idbOpen.js'
import { SCHEMA_VERSION } from '../../src/store/types.js'
import { expectCurrentRecords, expectEveryKillPointSafe, expectSameAnswers, loadDump, reviveTyped, type StorageFixture } from '../contract/storageMigration.js'

const fixtures = {
  v1: JSON.parse(readFileSync(new URL('../fixtures/storage/v1.json', import.meta.url), 'utf8'), reviveTyped) as StorageFixture,
  v2: JSON.parse(readFileSync(new URL('../fixtures/storage/v2.json', import.meta.url), 'utf8'), reviveTyped) as StorageFixture,
  v3: JSON.parse(readFileSync(new URL('../fixtures/storage/v3.json', import.meta.url), 'utf8'), reviveTyped) as StorageFixture,
  v4: JSON.parse(readFileSync(new URL('../fixtures/storage/v4.json', import.meta.url), 'utf8'), reviveTyped) as StorageFixture,
  v5: JSON.parse(readFileSync(new URL('../fixtures/storage/v5.json', import.meta.url), 'utf8'), reviveTyped) as StorageFixture,
  v6: JSON.parse(readFileSync(new URL('../fixtures/storage/v6.json', import.meta.url), 'utf8'), reviveTyped) as StorageFixture,
}

beforeEach(() => {
  globalThis.indexedDB = new IDBFactory()
})

describe('storage migration of real older collections (fake-indexeddb)', () => {
  it('the fixtures hold what a migration must carry: several segments, tombstones, chunked and vector collections', () => {
    for (const [schema, fixture] of Object.entries(fixtures)) {
      const { kw, vec } = fixture.databases
      expect(kw.version, schema).toBe(Number(schema.slice(1)))
      expect((kw.stores.segments ?? kw.stores.segmentColumns)!.length).toBeGreaterThanOrEqual(4)
      expect(kw.stores.tombstones!.length).toBeGreaterThan(0)
      if (kw.stores.chunks) expect(kw.stores.chunks.length).toBeGreaterThan(kw.stores.docs!.length)
      else expect(kw.stores.passages!.flatMap(([, b]) => (b as { docs: { seqs: number[] }[] }).docs).some((d) => d.seqs.length > 1)).toBe(true)
      expect((vec.stores.vectors ?? vec.stores.rows)!.length).toBeGreaterThan(0)
      expect(vec.stores.tombstones!.length).toBeGreaterThan(0)
      expect(fixture.answers.kw.searches.every((s) => s.hits.length > 0)).toBe(true)
    }
  })

  it('the v5 fixture holds a partitioned segment whose rows are in list order, and tombstoned rows', () => {
    const { vec } = fixtures.v5.databases
    const segments = vec.stores.segmentColumns!.map(([, s]) => s as { ivf?: unknown; seqs: Uint32Array })
    const partitioned = segments.find((s) => s.ivf)!
    expect(Array.from(partitioned.seqs)).not.toEqual(Array.from(partitioned.seqs).sort((a, b) => a - b))
    const seqs = new Set(segments.flatMap((s) => Array.from(s.seqs)))
    expect(vec.stores.tombstones!.some(([k]) => seqs.has(k as number))).toBe(true)
  })

  it('the v4 fixture holds a partitioned segment, its lists, and documents sharing metadata', () => {
    const { vec } = fixtures.v4.databases
    const segments = vec.stores.segments!.map(([, s]) => s as { ivf?: unknown; docs: { metadata?: unknown }[] })
    expect(segments.some((s) => s.ivf)).toBe(true)
    expect(vec.stores.lists!.length).toBeGreaterThan(0)
    const partitioned = segments.find((s) => s.ivf)!
    expect(new Set(partitioned.docs.map((d) => JSON.stringify(d.metadata))).size).toBeLessThan(partitioned.docs.length)
  })

  for (const schema of ['v1', 'v2', 'v3', 'v4', 'v5', 'v6'] as const) {
    for (const name of ['kw', 'vec'] as const) {
      it(`${schema} ${name}: opening migrates to schema ${SCHEMA_VERSION} and answers as that schema did; postings packed, documents in passage blocks, each text once, segments' documents as columns`, async () => {
        await loadDump(name, fixtures[schema].databases[name])
        await expectSameAnswers(fixtures[schema], name)
        await expectCurrentRecords(fixtures[schema], name)
      })
    }
  }

  it('v1: a migration that fails at any of its requests leaves schema 1 exactly as it was; the next open migrates it', async () => {
    expect(await expectEveryKillPointSafe(fixtures.v1)).toBeGreaterThan(50)
  })

  it('v2: a migration that fails at any of its requests leaves schema 2 exactly as it was; the next open migrates it', async () => {
    expect(await expectEveryKillPointSafe(fixtures.v2)).toBeGreaterThan(5)
  })

  it('v3: a migration that fails at any of its requests leaves schema 3 exactly as it was; the next open migrates it', async () => {
    expect(await expectEveryKillPointSafe(fixtures.v3)).toBeGreaterThanOrEqual(2)
  })

  it('v4: a migration that fails at any of its requests leaves schema 4 exactly as it was; the next open migrates it', async () => {
    expect(await expectEveryKillPointSafe(fixtures.v4)).toBeGreaterThanOrEqual(7)
  })
  it('v5 vec: a migration that fails at any of its requests (reading fp32 blocks, writing row blocks) leaves schema 5 exactly as it was; the next open migrates it', async () => {
    expect(await expectEveryKillPointSafe(fixtures.v5, 'vec')).toBeGreaterThanOrEqual(15)
  })

  it('v6 vec: a migration that fails at any of its requests (reading lists, writing listRecords) leaves schema 6 exactly as it was; the next open migrates it', async () => {
    expect(await expectEveryKillPointSafe(fixtures.v6, 'vec')).toBeGreaterThanOrEqual(5)
  })

  it('the v6 fixture holds a partitioned segment with its lists, and fp32 rows by seq', () => {
    const { vec } = fixtures.v6.databases
    expect(vec.version).toBe(6)
    expect(vec.stores.lists!.length).toBeGreaterThan(0)
    expect(vec.stores.rows!.length).toBeGreaterThan(0)
    expect(vec.stores.segmentColumns!.some(([, s]) => (s as { ivf?: unknown }).ivf)).toBe(true)
  })

  it('a migration that runs past the blocked deadline completes: the deadline stops once the upgrade starts', async () => {
    // At a million passages step 5 moves 1.5 GB (146 s in Chromium); the 10 s deadline is for an
    // open that another tab blocks. Here the deadline "passes" at the migration's first getAll.
    await loadDump('vec', fixtures.v5.databases.vec)
    const realSet = globalThis.setTimeout
    const realClear = globalThis.clearTimeout
    const deadlines = new Map<number, () => void>()
    let next = 1e9
    globalThis.setTimeout = ((fn: () => void, ms?: number, ...rest: unknown[]) => {
      if (ms !== BLOCKED_TIMEOUT_MS) return realSet(fn, ms, ...rest)
      deadlines.set(next, fn)
      return next++
    }) as typeof setTimeout
    globalThis.clearTimeout = ((id: unknown) => {
      if (!deadlines.delete(id as number)) realClear(id as never)
    }) as typeof clearTimeout
    const getAll = IDBObjectStore.prototype.getAll
    let passed = 0
    IDBObjectStore.prototype.getAll = function (this: IDBObjectStore, ...args: unknown[]) {
      if (this.transaction.mode === 'versionchange') {
        for (const fn of deadlines.values()) fn()
        passed += deadlines.size
        deadlines.clear()
      }
      return getAll.apply(this, args as never)
    } as typeof getAll
    try {
      await expectSameAnswers(fixtures.v5, 'vec')
      await expectCurrentRecords(fixtures.v5, 'vec')
    } finally {
      globalThis.setTimeout = realSet
      globalThis.clearTimeout = realClear
      IDBObjectStore.prototype.getAll = getAll
    }
    expect(passed).toBe(0) // no deadline was left running into the migration
  })

  it('an open that another connection blocks still fails after the deadline, with STORAGE_UNAVAILABLE; once that connection closes, the collection opens', async () => {
    await loadDump('vec', fixtures.v5.databases.vec)
    // A connection at schema 5 that ignores versionchange (a tab running code that does not cooperate).
    const stubborn = await openDB(DB_PREFIX + 'vec', 5)
    const realSet = globalThis.setTimeout
    globalThis.setTimeout = ((fn: () => void, ms?: number, ...rest: unknown[]) => realSet(fn, ms === BLOCKED_TIMEOUT_MS ? 50 : ms, ...rest)) as typeof setTimeout
    let error: unknown = null
    try {
      await new IdbBackend().open('vec')
    } catch (e) {
      error = e
    } finally {
      globalThis.setTimeout = realSet
    }
    expect((error as { code?: string }).code).toBe('STORAGE_UNAVAILABLE')
    expect(String((error as Error).message)).toMatch(/blocked by another tab/)
    stubborn.close()
    await expectSameAnswers(fixtures.v5, 'vec')
    await expectCurrentRecords(fixtures.v5, 'vec')
  })
})
