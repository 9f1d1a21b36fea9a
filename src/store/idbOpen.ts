/**
 * Opening a collection database: the upgrade (MIGRATIONS, run in the upgrade transaction), blocked
 * and closed connections, the incarnation written at creation, and how IndexedDB failures become
 * winnow's error codes. Used by the store (idb.ts) and the snapshot version registry.
 */
import { openDB, type IDBPDatabase } from 'idb'
import { WinnowError } from '../errors.js'
import { MIGRATIONS, STORES } from './migrations.js'

type DB = IDBPDatabase<unknown>

/** How long an upgrade may wait for other tabs to let go before we give up (no call may hang). */
export const BLOCKED_TIMEOUT_MS = 10_000

/** Where a collection's incarnation (see {@link IdbStore}) is kept, beside the manifest. */
const INCARNATION_KEY = 'incarnation'

/** What an open connection reports to its store. */
export interface ConnectionEvents {
  /** Another tab wants a newer schema (`deleting: false`) or to delete the database (`deleting: true`); we closed. */
  versionChange: (deleting: boolean) => void
  /** The browser closed the connection (it cleared the origin's storage, or the disk failed). */
  terminated: () => void
}

/**
 * Opens at our schema version, migrating in the upgrade transaction; a database written by a newer
 * winnow is used if it still has our stores. `gone`, when given, refuses to create a missing database.
 *
 * @example
 * const db = await openCollectionDb('winnow:docs', { versionChange: () => {}, terminated: () => {} }, null)
 */
export async function openCollectionDb(dbName: string, events: ConnectionEvents, gone: (() => WinnowError) | null): Promise<DB> {
  let vanished = false
  let migrationError: unknown = null
  let upgrading: (() => void) | null = null
  const callbacks = {
    upgrade(db: DB, oldVersion: number, _newVersion: number | null, tx: Parameters<NonNullable<Parameters<typeof openDB>[2]>['upgrade'] & {}>[3]) {
      // The open is no longer blocked: a migration runs, and at a million passages it moves
      // gigabytes (schema 6's rows). Only a failed request ends it, never the blocked deadline.
      upgrading?.()
      if (oldVersion === 0 && gone) {
        // Aborting the upgrade of a database that did not exist undoes its creation.
        vanished = true
        tx.done.catch(() => {}) // the abort is the point: not an unhandled rejection
        tx.abort()
        return
      }
      // Steps run in order inside the upgrade transaction (synchronous ones at once, so the stores
      // exist when this callback returns); one that fails aborts it, and the database keeps its
      // old version and data (the open fails with STORAGE_UNAVAILABLE).
      const fail = (error: unknown) => {
        migrationError = error
        tx.done.catch(() => {}) // the abort is the point: not an unhandled rejection
        try {
          tx.abort()
        } catch {
          // already finished
        }
      }
      const run = (from: number): Promise<void> | void => {
        for (let i = from; i < MIGRATIONS.length; i++) {
          const pending = MIGRATIONS[i]!(db, tx as never)
          if (pending) return pending.then(() => run(i + 1))
        }
      }
      try {
        void run(oldVersion)?.catch(fail)
      } catch (error) {
        fail(error)
      }
      if (oldVersion === 0) void tx.objectStore('meta').put(newIncarnation(), INCARNATION_KEY)
    },
    blocking(_currentVersion: number, blockedVersion: number | null) {
      // Another tab wants a newer schema (or to delete the collection): let it, reopen on next use.
      events.versionChange(blockedVersion === null)
      void opened.then((db) => db.close()).catch(() => {})
    },
    terminated() {
      events.terminated()
    },
  }
  let opened: Promise<DB>
  try {
    opened = openDB(dbName, MIGRATIONS.length, callbacks)
    return await withTimeout(
      opened,
      BLOCKED_TIMEOUT_MS,
      () => {
        // The request cannot be cancelled: close the connection should it open after all.
        void opened.then((db) => db.close()).catch(() => {})
        return blockedError(dbName)
      },
      (cancel) => (upgrading = cancel),
    )
  } catch (error) {
    if (vanished && gone) throw gone()
    if (migrationError) throw storageError(migrationError, dbName)
    if ((error as { name?: string })?.name !== 'VersionError') throw storageError(error, dbName)
  }
  // A newer schema exists: newer versions only add stores, so ours are still meaningful if present.
  opened = openDB(dbName, undefined, { blocking: callbacks.blocking, terminated: callbacks.terminated })
  const db = await withTimeout(opened, BLOCKED_TIMEOUT_MS, () => blockedError(dbName))
  const missing = STORES.filter((s) => !db.objectStoreNames.contains(s))
  if (missing.length > 0) {
    db.close()
    throw new WinnowError('STORAGE_UNAVAILABLE', `${dbName} was written by a newer, incompatible winnow (schema ${db.version}); upgrade winnow or delete the collection`, {
      version: db.version,
      missing,
    })
  }
  return db
}

/**
 * The incarnation written at creation; '' for a database created before winnow wrote one.
 *
 * @example
 * await readIncarnation(db) // '3f1c…'
 */
export async function readIncarnation(db: DB): Promise<string> {
  const value = (await db.get('meta', INCARNATION_KEY)) as unknown
  return typeof value === 'string' ? value : ''
}

/** A random id for a new database: another creation under the same name gets another one. */
function newIncarnation(): string {
  const random = globalThis.crypto?.randomUUID?.()
  return random ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}

/**
 * A request or transaction refused because its connection closed (or is closing).
 *
 * @example
 * isClosedConnection(new DOMException('The database connection is closing.', 'InvalidStateError')) // true
 */
export function isClosedConnection(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name
  return name === 'InvalidStateError' || (name === 'AbortError' && /clos/i.test(String((error as { message?: string }).message ?? '')))
}

function blockedError(dbName: string): WinnowError {
  return new WinnowError('STORAGE_UNAVAILABLE', `opening ${dbName} is blocked by another tab holding an older version open; close or reload that tab`)
}


/** Translates IndexedDB failures into winnow's codes; the quota case is the one callers act on. */
export function storageError(error: unknown, name: string): WinnowError {
  if (error instanceof WinnowError) return error
  const domName = (error as { name?: string } | null)?.name
  const message = (error as { message?: string } | null)?.message ?? String(error)
  if (domName === 'QuotaExceededError' || /quota/i.test(message)) {
    return new WinnowError(
      'STORAGE_FULL',
      `the browser refused to store more for collection '${name}' (storage quota exceeded); nothing of this call was written. Free space, delete collections, or call storage({ persist: true })`,
      { collection: name },
      { cause: error },
    )
  }
  return new WinnowError('STORAGE_UNAVAILABLE', `IndexedDB failed for collection '${name}': ${domName ?? ''} ${message}`.trim(), { collection: name, name: domName }, { cause: error })
}

/**
 * `promise`, or `onTimeout()`'s error once `ms` pass first. `cancellable` receives a function that
 * stops the clock (the open hands it to its upgrade: a running migration is not a blocked open).
 *
 * @example
 * await withTimeout(openDB(name, 6), 10_000, () => blockedError(name))
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error, cancellable?: (cancel: () => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms)
    cancellable?.(() => clearTimeout(timer))
    promise.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (e) => {
        clearTimeout(timer)
        reject(e)
      },
    )
  })
}
