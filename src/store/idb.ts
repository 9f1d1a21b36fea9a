import { deleteDB, openDB, unwrap, type IDBPDatabase } from 'idb'
import { WinnowError } from '../errors.js'
import { MIGRATIONS, STORES, type StoreName } from './migrations.js'
import { goneError } from './snapshots.js'
import type {
  ChunkRecord,
  CollectionStore,
  DocRecord,
  Manifest,
  PostingRecord,
  QuantizedBlockRecord,
  SegmentRecord,
  StoreBackend,
  VectorBlockRecord,
  WriteBatch,
} from './types.js'

/** Databases are named `winnow:<collection>` so a page's own databases never collide with ours. */
export const DB_PREFIX = 'winnow:'

/** How long an upgrade may wait for other tabs to let go before we give up (no call may hang). */
export const BLOCKED_TIMEOUT_MS = 10_000

type DB = IDBPDatabase<unknown>

/**
 * Collections in IndexedDB through idb: one database per collection, schema steps from
 * `migrations.ts`, every commit one `readwrite` transaction with `durability: 'strict'` that
 * resolves only once complete.
 *
 * Multi-tab: a connection closes itself as soon as another tab asks for a newer schema
 * (`versionchange`), and the next call reopens it, so an upgrade never deadlocks with an idle tab.
 *
 * @example
 * const backend = new IdbBackend()
 * const store = await backend.open('handbook')
 */
export class IdbBackend implements StoreBackend {
  // idb opens through the global `indexedDB`, so that is what this backend uses too.
  private get factory(): IDBFactory | undefined {
    return globalThis.indexedDB
  }

  async open(name: string): Promise<CollectionStore> {
    if (!this.factory) throw new WinnowError('STORAGE_UNAVAILABLE', 'IndexedDB is not available in this context')
    const store = new IdbStore(name, DB_PREFIX + name)
    await store.connect()
    return store
  }

  async destroy(name: string): Promise<void> {
    await withTimeout(
      deleteDB(DB_PREFIX + name),
      BLOCKED_TIMEOUT_MS,
      () => new WinnowError('STORAGE_UNAVAILABLE', `deleting collection '${name}' is blocked by a connection that does not close`),
    )
  }

  async list(): Promise<string[]> {
    if (!this.factory) return []
    const all = await this.factory.databases()
    return all
      .map((d) => d.name ?? '')
      .filter((n) => n.startsWith(DB_PREFIX))
      .map((n) => n.slice(DB_PREFIX.length))
      .sort()
  }
}

/**
 * One collection database. With `mustExist`, a database that is gone (deleted by another tab after
 * a snapshot swap) is not recreated empty: opening fails with STORAGE_UNAVAILABLE, `details.gone`.
 */
export class IdbStore implements CollectionStore {
  private connection: Promise<DB> | null = null
  private closed = false

  constructor(
    readonly name: string,
    private readonly dbName: string,
    private readonly mustExist = false,
  ) {}

  /** Opens (or reopens after another tab's upgrade closed us). */
  connect(): Promise<DB> {
    if (this.closed) return Promise.reject(new WinnowError('DISPOSED', `collection '${this.name}' was closed`))
    if (!this.connection) {
      const attempt = openCollectionDb(
        this.dbName,
        () => {
          if (this.connection === attempt) this.connection = null
        },
        this.mustExist ? () => goneError(this.name, this.dbName.slice(this.dbName.lastIndexOf(':') + 1)) : null,
      )
      this.connection = attempt
      attempt.catch(() => {
        if (this.connection === attempt) this.connection = null
      })
    }
    return this.connection
  }

  async readManifest(): Promise<Manifest | null> {
    const db = await this.connect()
    return ((await db.get('meta', 'manifest')) as Manifest | undefined) ?? null
  }

  async readSegments(ids?: readonly number[]): Promise<SegmentRecord[]> {
    const db = await this.connect()
    if (!ids) return (await db.getAll('segments')) as SegmentRecord[]
    const tx = db.transaction('segments')
    const found = await Promise.all(ids.map((id) => tx.store.get(id) as Promise<SegmentRecord | undefined>))
    return found.filter((s): s is SegmentRecord => s !== undefined)
  }

  async readTombstones(): Promise<number[]> {
    const db = await this.connect()
    return (await db.getAllKeys('tombstones')) as number[]
  }

  async readQuantized(segments?: readonly number[]): Promise<QuantizedBlockRecord[]> {
    const db = await this.connect()
    if (!segments) return (await db.getAll('quantized')) as QuantizedBlockRecord[]
    const tx = db.transaction('quantized')
    const parts = await Promise.all(segments.map((s) => tx.store.getAll(segmentRange(s)) as Promise<QuantizedBlockRecord[]>))
    return parts.flat()
  }

  async readVectors(keys: readonly (readonly [number, number])[]): Promise<VectorBlockRecord[]> {
    const db = await this.connect()
    const tx = db.transaction('vectors')
    const found = await Promise.all(keys.map((k) => tx.store.get([k[0], k[1]]) as Promise<VectorBlockRecord | undefined>))
    return found.filter((v): v is VectorBlockRecord => v !== undefined)
  }

  async readPostings(terms: readonly string[]): Promise<Map<string, PostingRecord[]>> {
    const db = await this.connect()
    const tx = db.transaction('postings')
    const lists = await Promise.all(
      terms.map((term) => tx.store.getAll(IDBKeyRange.bound([term, -Infinity], [term, Infinity])) as Promise<PostingRecord[]>),
    )
    return new Map(terms.map((term, i) => [term, lists[i]!]))
  }

  async readSegmentPostings(segment: number): Promise<PostingRecord[]> {
    const db = await this.connect()
    return (await db.getAllFromIndex('postings', 'segment', segment)) as PostingRecord[]
  }

  async readChunks(seqs: readonly number[]): Promise<(ChunkRecord | undefined)[]> {
    const db = await this.connect()
    const tx = db.transaction('chunks')
    return Promise.all(seqs.map((s) => tx.store.get(s) as Promise<ChunkRecord | undefined>))
  }

  async readDocs(ids: readonly string[]): Promise<(DocRecord | undefined)[]> {
    const db = await this.connect()
    const tx = db.transaction('docs')
    return Promise.all(ids.map((id) => tx.store.get(id) as Promise<DocRecord | undefined>))
  }

  async commit(batch: WriteBatch): Promise<void> {
    const db = await this.connect()
    const tx = db.transaction(STORES as unknown as StoreName[], 'readwrite', { durability: 'strict' })
    // Only IndexedDB requests are awaited until `tx.done`: awaiting anything else would let the
    // transaction auto-commit half-way. Request failures surface through `tx.done`.
    const pending: Promise<unknown>[] = []
    // Puts and deletes go through the native requests, without a promise each (an add of 5,000
    // chunks makes ~23,000 requests): a failed request aborts the transaction, and `tx.done` says so.
    const raw = unwrap(tx) as IDBTransaction
    const stores = new Map<StoreName, IDBObjectStore>()
    const store = (name: StoreName) => stores.get(name) ?? stores.set(name, raw.objectStore(name)).get(name)!
    const put = (name: StoreName, value: unknown, key?: IDBValidKey) => void store(name).put(value, key)
    const del = (name: StoreName, key: IDBValidKey | IDBKeyRange) => void store(name).delete(key)
    try {
      if (batch.clearAll) for (const s of STORES) if (s !== 'meta') pending.push(tx.objectStore(s).clear())
      for (const id of batch.deleteDocs ?? []) del('docs', id)
      for (const seq of batch.deleteChunks ?? []) del('chunks', seq)
      for (const id of batch.deleteSegments ?? []) {
        del('segments', id)
        del('quantized', segmentRange(id))
        del('vectors', segmentRange(id))
        pending.push(
          tx
            .objectStore('postings')
            .index('segment')
            .getAllKeys(id)
            .then((keys) => Promise.all(keys.map((k) => tx.objectStore('postings').delete(k)))),
        )
      }
      for (const seq of batch.removeTombstones ?? []) del('tombstones', seq)
      // Puts go after deletes of the same transaction: IndexedDB applies requests in order.
      for (const d of batch.putDocs ?? []) put('docs', d)
      for (const c of batch.putChunks ?? []) put('chunks', c)
      for (const s of batch.putSegments ?? []) put('segments', s)
      for (const p of batch.putPostings ?? []) put('postings', p)
      for (const q of batch.putQuantized ?? []) put('quantized', q)
      for (const v of batch.putVectors ?? []) put('vectors', v)
      for (const seq of batch.addTombstones ?? []) put('tombstones', seq, seq)
      put('meta', batch.manifest, 'manifest')
    } catch (error) {
      // A synchronous throw (DataCloneError, a bad key) must abort what was already queued.
      try {
        tx.abort()
      } catch {
        // already finished
      }
      for (const p of pending) p.catch(() => {})
      await tx.done.catch(() => {})
      throw storageError(error, this.name)
    }
    for (const p of pending) p.catch(() => {})
    try {
      await tx.done
    } catch (error) {
      throw storageError(tx.error ?? error, this.name)
    }
  }

  close(): void {
    this.closed = true
    const connection = this.connection
    this.connection = null
    void connection?.then((db) => db.close()).catch(() => {})
  }
}

/** Opens at our schema version; a database written by a newer winnow is used if it still has our stores. */
async function openCollectionDb(dbName: string, onClosed: () => void, gone: (() => WinnowError) | null): Promise<DB> {
  let vanished = false
  const callbacks = {
    upgrade(db: DB, oldVersion: number, _newVersion: number | null, tx: Parameters<NonNullable<Parameters<typeof openDB>[2]>['upgrade'] & {}>[3]) {
      if (oldVersion === 0 && gone) {
        // Aborting the upgrade of a database that did not exist undoes its creation.
        vanished = true
        tx.abort()
        return
      }
      for (const step of MIGRATIONS.slice(oldVersion)) step(db, tx as never)
    },
    blocking() {
      // Another tab wants a newer schema (or to delete the collection): let it, reopen on next use.
      onClosed()
      void opened.then((db) => db.close()).catch(() => {})
    },
    terminated() {
      onClosed()
    },
  }
  let opened: Promise<DB>
  try {
    opened = openDB(dbName, MIGRATIONS.length, callbacks)
    return await withTimeout(opened, BLOCKED_TIMEOUT_MS, () => {
      // The request cannot be cancelled: close the connection should it open after all.
      void opened.then((db) => db.close()).catch(() => {})
      return blockedError(dbName)
    })
  } catch (error) {
    if (vanished && gone) throw gone()
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

function blockedError(dbName: string): WinnowError {
  return new WinnowError('STORAGE_UNAVAILABLE', `opening ${dbName} is blocked by another tab holding an older version open; close or reload that tab`)
}

function segmentRange(segment: number): IDBKeyRange {
  return IDBKeyRange.bound([segment, -Infinity], [segment, Infinity])
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

export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms)
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
