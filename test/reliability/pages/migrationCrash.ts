/**
 * The page side of test/reliability/migrationCrash.spec.ts, loaded into
 * test/browser/pages/contract.html (`await window.loadMigrationCrash()` sets `window.migrationCrash`).
 *
 * A kill point stops the upgrade of an old database in its tracks: the open of a collection whose
 * upgrade (the `versionchange` transaction that runs MIGRATIONS) reaches its k-th IndexedDB request
 * logs `MIGRATION-KILL-POINT <label>` and then busy-waits on the main thread, so the transaction can
 * neither issue another request nor commit (Chromium commits when the page says it has no more) —
 * until the test, which waits for that console line, SIGKILLs the browser.
 */
import { deleteDB } from 'idb'
import { DB_PREFIX, IdbBackend } from '../../../src/store/idb.ts'
import { SCHEMA_VERSION } from '../../../src/store/types.ts'
import { equal } from '../../contract/assert.ts'
import { expectCurrentRecords, expectSameAnswers, loadDump, records, reviveTyped, type Dump, type FixtureName, type StorageFixture } from '../../contract/storageMigration.ts'
import v1FixtureJson from '../../fixtures/storage/v1.json?raw'
import v2FixtureJson from '../../fixtures/storage/v2.json?raw'
import v4FixtureJson from '../../fixtures/storage/v4.json?raw'
import v5FixtureJson from '../../fixtures/storage/v5.json?raw'
import v6FixtureJson from '../../fixtures/storage/v6.json?raw'

export type Schema = 'v1' | 'v2' | 'v4' | 'v5' | 'v6'
/**
 * Where the open stops: before its upgrade's k-th request (`before`, k from 1), right after issuing
 * it (`after`), at the open's first request once the upgrade has committed (`committed`), or not at
 * all (`none`: the test kills after a delay of its own, from `MIGRATION-OPEN-STARTED`).
 */
export type Stop = { at: 'before' | 'after'; k: number } | { at: 'committed' } | { at: 'none' }
/** What a kill may leave: the old database exactly, the migrated one, or either (a kill in real time). */
export type Expect = 'old' | 'migrated' | 'either'

/** How long a stopped open waits for the kill before it goes on (the test fails it then). */
const STALL_MS = 20_000

const fixtures: Partial<Record<Schema, StorageFixture>> = {}
function fixture(schema: Schema): StorageFixture {
  return (fixtures[schema] ??= JSON.parse({ v1: v1FixtureJson, v2: v2FixtureJson, v4: v4FixtureJson, v5: v5FixtureJson, v6: v6FixtureJson }[schema], reviveTyped) as StorageFixture)
}

/** Every kind of IndexedDB request, by the prototype that issues it. */
const REQUESTS = [
  ['IDBObjectStore', ['add', 'put', 'get', 'getKey', 'getAll', 'getAllKeys', 'count', 'delete', 'clear', 'openCursor', 'openKeyCursor']],
  ['IDBIndex', ['get', 'getKey', 'getAll', 'getAllKeys', 'count', 'openCursor', 'openKeyCursor']],
  ['IDBCursor', ['continue', 'continuePrimaryKey', 'advance', 'update', 'delete']],
] as const

function transactionOf(target: unknown): IDBTransaction | null {
  if (target instanceof IDBObjectStore) return target.transaction
  if (target instanceof IDBIndex) return target.objectStore.transaction
  if (target instanceof IDBCursor) return target.request.transaction
  return null
}

/**
 * Calls `hook` around every IndexedDB request from now on (`before` may stop it on the main thread:
 * it runs before the request is issued, `after` once it is); returns the function that restores them.
 */
function onRequests(hook: (upgrade: boolean, op: string, when: 'before' | 'after') => void): () => void {
  const restore: (() => void)[] = []
  for (const [type, ops] of REQUESTS) {
    const proto = (globalThis as unknown as Record<string, { prototype: Record<string, unknown> }>)[type]!.prototype
    for (const op of ops) {
      const original = proto[op] as ((...args: unknown[]) => unknown) | undefined
      if (typeof original !== 'function') continue
      proto[op] = function (this: unknown, ...args: unknown[]) {
        const upgrade = transactionOf(this)?.mode === 'versionchange'
        hook(upgrade, `${type}.${op}`, 'before')
        const result = original.apply(this, args)
        hook(upgrade, `${type}.${op}`, 'after')
        return result
      }
      restore.push(() => (proto[op] = original))
    }
  }
  return () => restore.forEach((r) => r())
}

/** The console line the test kills on, then a busy wait that holds the transaction where it is. */
function stall(label: string): void {
  console.log(`MIGRATION-KILL-POINT ${label}`)
  const until = performance.now() + STALL_MS
  while (performance.now() < until) {
    // the test SIGKILLs the browser meanwhile
  }
  console.log(`MIGRATION-KILL-POINT-MISSED ${label}`)
}

/** A dump as JSON that keeps typed arrays' types and values (the fixture's `$typed` form). */
function serialize(dump: Dump): string {
  return JSON.stringify(dump, (_key, value: unknown) =>
    ArrayBuffer.isView(value) && !(value instanceof DataView) ? { $typed: value.constructor.name, values: Array.from(value as unknown as ArrayLike<number>) } : value,
  )
}

/** Throws naming the first store or record of `name` that differs from the dump `expected` (serialized). */
async function expectExactly(name: string, expected: string): Promise<void> {
  const got = JSON.parse(serialize(await records(name))) as Dump
  const want = JSON.parse(expected) as Dump
  equal(got.version, want.version, 'version')
  equal(Object.keys(got.stores).sort(), Object.keys(want.stores).sort(), 'stores')
  for (const [store, rows] of Object.entries(want.stores)) {
    const have = got.stores[store]!
    equal(have.length, rows.length, `records in ${store}`)
    rows.forEach((row, i) => {
      if (JSON.stringify(have[i]) !== JSON.stringify(row)) throw new Error(`${store} record ${JSON.stringify(row[0])}: expected ${JSON.stringify(row).slice(0, 300)}, got ${JSON.stringify(have[i]).slice(0, 300)}`)
    })
  }
}

/**
 * Writes the fixture's database `name` of `schema` afresh, at its old version; returns its records
 * as read back (serialized), which a kill before the commit must leave exactly as they are.
 *
 * @example
 * const before = await migrationCrash.load('v1', 'kw')
 */
async function load(schema: Schema, name: FixtureName): Promise<string> {
  await deleteDB(DB_PREFIX + name)
  await loadDump(name, fixture(schema).databases[name])
  return serialize(await records(name))
}

/**
 * Migrates a copy of the database (`probe`) and counts its upgrade's requests; `ms` is how long the
 * open took (the span a kill in real time is drawn from).
 */
async function count(schema: Schema, name: FixtureName): Promise<{ requests: number; ops: Record<string, number>; ms: number }> {
  await deleteDB(`${DB_PREFIX}probe`)
  await loadDump('probe', fixture(schema).databases[name])
  const ops: Record<string, number> = {}
  let requests = 0
  const restore = onRequests((upgrade, op, when) => {
    if (!upgrade || when !== 'before') return
    requests++
    ops[op] = (ops[op] ?? 0) + 1
  })
  const started = performance.now()
  try {
    ;(await new IdbBackend().open('probe')).close()
  } finally {
    restore()
  }
  const ms = performance.now() - started
  await deleteDB(`${DB_PREFIX}probe`)
  return { requests, ops, ms }
}

/**
 * Starts opening `name` with today's code, stopped where `stop` says; returns at once (the stop
 * comes later, in the upgrade's own tasks). The page is meant to be killed meanwhile.
 */
function arm(name: FixtureName, stop: Stop): void {
  let n = 0
  let stopped = false
  if (stop.at !== 'none') {
    onRequests((upgrade, _op, when) => {
      if (stopped) return
      if (stop.at === 'committed') {
        if (!upgrade && when === 'before') stopped = true
      } else if (upgrade) {
        if (when === 'before') n++
        if (n === stop.k && when === stop.at) stopped = true
      }
      if (stopped) stall(stop.at === 'committed' ? 'committed' : `${stop.at} ${stop.k}`)
    })
  }
  console.log('MIGRATION-OPEN-STARTED')
  void new IdbBackend().open(name).then(
    (store) => {
      console.log('MIGRATION-OPEN-RESOLVED')
      store.close()
    },
    (error: unknown) => console.log(`MIGRATION-OPEN-FAILED ${String(error)}`),
  )
}

/**
 * After a relaunch: reads `name`'s records without opening it through winnow (no upgrade) and
 * checks them against what the kill may leave — exactly the records `before` (serialized) at the old
 * version, or the migrated database (expectCurrentRecords); then opens it with today's code, which
 * must answer as the old code did, and checks the records it leaves.
 */
async function check(schema: Schema, name: FixtureName, before: string, expected: Expect): Promise<{ outcome: string; found?: 'old' | 'migrated' }> {
  let found: 'old' | 'migrated' | undefined
  try {
    const version = (await records(name)).version
    found = version === SCHEMA_VERSION ? 'migrated' : 'old'
    if (found === 'old') await expectExactly(name, before)
    else await expectCurrentRecords(fixture(schema), name)
    if (expected !== 'either' && found !== expected) throw new Error(`expected the ${expected} database after the kill, found the ${found} one (version ${version})`)
    await expectSameAnswers(fixture(schema), name)
    await expectCurrentRecords(fixture(schema), name)
    return { outcome: 'ok', found }
  } catch (error) {
    return { outcome: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error), found }
  }
}

export const migrationCrash = { load, count, arm, check }
