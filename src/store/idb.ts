import { deleteDB, unwrap, type IDBPDatabase } from 'idb'
import { WinnowError } from '../errors.js'
import { collectionDeletedError, type DeletedReason } from './deleted.js'
import { STORES, type StoreName } from './migrations.js'
import { BLOCKED_TIMEOUT_MS, isClosedConnection, openCollectionDb, readIncarnation, storageError, withTimeout } from './idbOpen.js'
import { termBucket, unpackAll, unpackTerm, type PackedBucket } from './postingCodec.js'
import { deleteSegmentPostings, readManifestAndIds, getByKeys, getRowBlocks, putPostings, readSegmentRecords, segmentRange, writeBlocks } from './idbRequests.js'
import { packQuantized, splitQuantized } from './quantizedRuns.js'
import { PassageCache, readBlocks } from './passageCache.js'
import { blockChanges, blockOf, chunkRecord, docRecord, findDoc } from './passageBlocks.js'
import { toStoredSegment } from './segmentColumns.js'
import { rowChanges, writeRowBlocks } from './rowBlocks.js'
import type { ChunkRecord, CollectionStore, DocRecord, DocRef, ListRecord, Manifest, PostingRecord, QuantizedBlockRecord, SegmentRecord, StagedRecords, StoreBackend, RowBlockRecord, WriteBatch } from './types.js'
import { ListFiles, listFilesAvailable } from './listFiles.js'

/** Databases are named `winnow:<collection>` so a page's own databases never collide with ours. */
export const DB_PREFIX = 'winnow:'


type DB = IDBPDatabase<unknown>

/**
 * Collections in IndexedDB through idb: one database per collection, schema steps from
 * `migrations.ts`, every commit one `readwrite` transaction with `durability: 'strict'` that
 * resolves only once complete.
 *
 * Multi-tab: a connection closes itself as soon as another tab asks for a newer schema
 * (`versionchange`), and the next call reopens it, so an upgrade never deadlocks with an idle tab.
 * A collection deleted or cleared underneath (another tab's deleteCollection, the browser evicting
 * the origin's storage) is never recreated empty by a later call: see {@link IdbStore}.
 *
 * @example
 * const backend = new IdbBackend()
 * const store = await backend.open('handbook')
 */
export class IdbBackend implements StoreBackend {
  /** `listFiles: false` keeps inverted lists in IndexedDB even where OPFS could hold them (store/listFiles.ts). */
  constructor(private readonly settings: { listFiles?: boolean } = {}) {}

  // idb opens through the global `indexedDB`, so that is what this backend uses too.
  private get factory(): IDBFactory | undefined {
    return globalThis.indexedDB
  }

  async open(name: string, options: { create?: boolean } = {}): Promise<CollectionStore> {
    if (!this.factory) throw new WinnowError('STORAGE_UNAVAILABLE', 'IndexedDB is not available in this context')
    const store = new IdbStore(name, DB_PREFIX + name, { create: options.create !== false, gone: (reason) => collectionDeletedError(name, reason), listFiles: this.settings.listFiles })
    await store.connect()
    return store
  }

  async destroy(name: string): Promise<void> {
    await withTimeout(
      deleteDB(DB_PREFIX + name),
      BLOCKED_TIMEOUT_MS,
      () => new WinnowError('STORAGE_UNAVAILABLE', `deleting collection '${name}' is blocked by a connection that does not close`),
    )
    await ListFiles.destroy(DB_PREFIX + name)
  }

  async list(): Promise<string[]> {
    if (!this.factory) return []
    return (await this.factory.databases()).map((d) => d.name ?? '').filter((n) => n.startsWith(DB_PREFIX)).map((n) => n.slice(DB_PREFIX.length)).sort()
  }
}

/** How an {@link IdbStore} treats a database that is not there. */
export interface IdbStoreOptions {
  /** Create the database when the first connection finds none. A reconnection never creates one. */
  create: boolean
  /** The error for a database that is gone (COLLECTION_DELETED, or a snapshot version's `gone`). */
  gone: (reason: DeletedReason) => WinnowError
  /** Keep partitioned segments' lists in OPFS where this context can (default true). */
  listFiles?: boolean
}

/**
 * One collection database. It is created (when `create`) only by the first connection; once a
 * connection was open, a database that disappears is gone for good: the store learns it from the
 * `versionchange` of a deletion (which is also how Chromium announces clearing the origin's
 * storage), or, after the connection closed for another reason, by reconnecting without creating
 * and finding nothing — or another database of the same name, told apart by the random
 * `incarnation` written at creation. Every call then rejects with `gone`.
 */
export class IdbStore implements CollectionStore {
  private connection: Promise<DB> | null = null
  private closed = false
  private connectedOnce = false
  private knownIncarnation: string | null = null
  /** Set once the database is known to be gone: every call rejects with it from then on. */
  private lost: WinnowError | null = null
  /** Recently read passage blocks (store/passageCache.ts). */
  private readonly passages = new PassageCache()
  /** The browser closed the connection (a `close` event: storage cleared, a disk failure); a failed commit then checks whether the database is gone. */
  private forciblyClosed = false
  /** Inverted lists in OPFS (store/listFiles.ts), where the context has it. */
  private readonly files: ListFiles | null

  constructor(
    readonly name: string,
    private readonly dbName: string,
    private readonly options: IdbStoreOptions,
  ) {
    this.files = options.listFiles !== false && listFilesAvailable() ? new ListFiles(dbName, () => this.knownIncarnation ?? '', name) : null
  }

  /** Which creation of the database this store opened ('' for one created before winnow wrote it). */
  get incarnation(): string | undefined {
    return this.knownIncarnation ?? undefined
  }

  /** Opens (or reopens after another tab's upgrade, or the browser, closed us). */
  connect(): Promise<DB> {
    // Gone first: an engine dropped because its collection is gone closes its store, and calls
    // still running on it should learn why.
    if (this.lost) return Promise.reject(this.lost)
    if (this.closed) return Promise.reject(new WinnowError('DISPOSED', `collection '${this.name}' was closed`))
    if (!this.connection) {
      const mustExist = this.connectedOnce || !this.options.create
      const attempt: Promise<DB> = (async () => {
        const db = await openCollectionDb(
          this.dbName,
          {
            versionChange: (deleting) => {
              if (this.connection === attempt) this.connection = null
              if (deleting && !this.closed) this.goneFor('deleted')
            },
            terminated: () => {
              if (this.connection === attempt) this.connection = null
              this.forciblyClosed = true
            },
          },
          mustExist ? () => this.goneFor('deleted') : null,
        )
        let incarnation: string
        try {
          incarnation = await readIncarnation(db)
        } catch (error) {
          db.close()
          throw storageError(error, this.name)
        }
        if (this.knownIncarnation !== null && incarnation !== this.knownIncarnation) {
          db.close()
          throw this.goneFor('replaced')
        }
        this.knownIncarnation = incarnation
        if (!this.connectedOnce) void this.files?.sweepWith(() => this.read(readManifestAndIds)).catch(() => {})
        this.connectedOnce = true
        this.forciblyClosed = false
        return db
      })()
      this.connection = attempt
      attempt.catch(() => {
        if (this.connection === attempt) this.connection = null
      })
    }
    return this.connection
  }

  async check(): Promise<void> {
    await this.connect()
  }

  /** Marks the database gone (once; the first reason stays) and returns the error calls get. */
  private goneFor(reason: DeletedReason): WinnowError {
    this.lost ??= this.options.gone(reason)
    return this.lost
  }

  /**
   * Runs a read on the connection. A connection that closed meanwhile (another tab's upgrade, a
   * deletion, the browser clearing storage) is reopened once, which tells a gone database from a
   * closed one; any other failure is a typed storage error.
   */
  private async read<T>(fn: (db: DB) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const db = await this.connect()
      try {
        return await fn(db)
      } catch (error) {
        if (this.lost) throw this.lost
        if (attempt === 0 && isClosedConnection(error)) continue
        throw storageError(error, this.name)
      }
    }
  }

  readManifest(): Promise<Manifest | null> {
    return this.read(async (db) => ((await db.get('meta', 'manifest')) as Manifest | undefined) ?? null)
  }

  readSegments(ids?: readonly number[]): Promise<SegmentRecord[]> {
    return this.read((db) => readSegmentRecords(db, ids))
  }

  /** The stored segments' ids; list files of segments not among them are closed. */
  readSegmentIds(): Promise<number[]> {
    return this.read(async (db) => (await db.getAllKeys('segmentColumns')) as number[]).then((ids) => (this.files?.keepOnly(new Set(ids)), ids))
  }

  readTombstones(): Promise<number[]> {
    return this.read(async (db) => (await db.getAllKeys('tombstones')) as number[])
  }

  readQuantized(segments?: readonly number[]): Promise<QuantizedBlockRecord[]> {
    return this.read(async (db) => {
      if (!segments) return ((await db.getAll('quantized')) as QuantizedBlockRecord[]).flatMap(splitQuantized)
      const tx = db.transaction('quantized')
      const parts = await Promise.all(segments.map((s) => tx.store.getAll(segmentRange(s)) as Promise<QuantizedBlockRecord[]>))
      return parts.flat().flatMap(splitQuantized)
    })
  }

  readQuantizedPart(segment: number, from: number, runs: number): Promise<{ blocks: QuantizedBlockRecord[]; next: number | null }> {
    return this.read(async (db) => {
      const stored = (await db.getAll('quantized', IDBKeyRange.bound([segment, from], [segment, Infinity]), runs)) as QuantizedBlockRecord[]
      const blocks = stored.flatMap(splitQuantized)
      return { blocks, next: stored.length < runs ? null : blocks.at(-1)!.block + 1 }
    })
  }

  readLists(keys: readonly (readonly [number, number])[]): Promise<(ListRecord | undefined)[]> {
    return this.read((db) => (this.files ? this.files.read(keys, (k) => getByKeys<ListRecord>(db, 'listRecords', k)) : getByKeys<ListRecord>(db, 'listRecords', keys)))
  }

  readRows(blocks: readonly number[]): Promise<RowBlockRecord[]> {
    return this.read((db) => getRowBlocks(db, blocks))
  }

  readPostings(terms: readonly string[]): Promise<Map<string, PostingRecord[]>> {
    return this.read(async (db) => {
      const tx = db.transaction('postingBuckets')
      const buckets = [...new Set(terms.map(termBucket))]
      const records = await Promise.all(buckets.map((b) => tx.store.getAll(IDBKeyRange.bound([b, -Infinity], [b, Infinity])) as Promise<PackedBucket[]>))
      const byBucket = new Map(buckets.map((b, i) => [b, records[i]!]))
      const out = new Map<string, PostingRecord[]>()
      for (const term of terms) {
        const lists: PostingRecord[] = []
        for (const packed of byBucket.get(termBucket(term))!) {
          const found = unpackTerm(packed, term)
          if (found) lists.push(found)
        }
        out.set(term, lists)
      }
      return out
    })
  }

  readSegmentPostings(segment: number): Promise<PostingRecord[]> {
    return this.read(async (db) => ((await db.getAllFromIndex('postingBuckets', 'segment', segment)) as PackedBucket[]).flatMap(unpackAll))
  }

  /** Chunks with their documents (both in the documents' passage blocks). */
  readChunks(seqs: readonly number[], docs: readonly DocRef[]): Promise<(ChunkRecord | undefined)[]> {
    return this.read(async (db) => {
      const blocks = await readBlocks(db, docs, this.passages)
      return seqs.map((seq, i) => {
        const doc = findDoc(blocks.get(blockOf(docs[i]!)), docs[i]!)
        return doc ? chunkRecord(doc, seq) : undefined
      })
    })
  }

  readDocs(refs: readonly DocRef[]): Promise<(DocRecord | undefined)[]> {
    return this.read(async (db) => {
      const blocks = await readBlocks(db, refs, this.passages)
      return refs.map((ref) => {
        const doc = findDoc(blocks.get(blockOf(ref)), ref)
        return doc ? docRecord(doc) : undefined
      })
    })
  }

  commit(batch: WriteBatch): Promise<void> {
    return this.write(batch)
  }

  stage(records: StagedRecords): Promise<void> {
    return this.write({ ...records, manifest: undefined })
  }

  private async write(written: Omit<WriteBatch, 'manifest'> & { manifest: Manifest | undefined }): Promise<void> {
    // Lists go to their files first (flushed), so a segment's are complete once a commit names it.
    const batch = this.files && written.putLists?.length ? await this.connect().then(() => this.files!.take(written)) : written
    // Planned before the transaction: nothing but IndexedDB requests may be awaited inside it.
    const changes = blockChanges(batch)
    const dims = batch.manifest?.dims ?? null
    const rows = rowChanges(batch, dims)
    const begin = (db: DB) => db.transaction(STORES as unknown as StoreName[], 'readwrite', { durability: 'strict' })
    let tx: ReturnType<typeof begin>
    try {
      tx = begin(await this.connect())
    } catch (error) {
      // Nothing was written yet: a connection that closed meanwhile is reopened once (or found gone).
      if (this.lost) throw this.lost
      if (!isClosedConnection(error)) throw storageError(error, this.name)
      tx = begin(await this.connect())
    }
    // Only IndexedDB requests are awaited until `tx.done`: awaiting anything else would let the
    // transaction auto-commit half-way. Request failures surface through `tx.done`.
    // A request that throws inside one of them (a DataCloneError, a quota the browser reports
    // synchronously) aborts the transaction: nothing of the batch may commit without it.
    const pending: Promise<unknown>[] = []
    let failed: { error: unknown } | undefined
    const track = (p: Promise<unknown>) =>
      pending.push(
        p.catch((error) => {
          failed ??= { error }
          try {
            tx.abort()
          } catch {
            // already finished
          }
        }),
      )
    // Puts and deletes go through the native requests, without a promise each (an add of 5,000
    // chunks makes ~23,000 requests): a failed request aborts the transaction, and `tx.done` says so.
    const raw = unwrap(tx) as IDBTransaction
    const stores = new Map<StoreName, IDBObjectStore>()
    const store = (name: StoreName) => stores.get(name) ?? stores.set(name, raw.objectStore(name)).get(name)!
    const put = (name: StoreName, value: unknown, key?: IDBValidKey) => void store(name).put(value, key)
    const del = (name: StoreName, key: IDBValidKey | IDBKeyRange) => void store(name).delete(key)
    try {
      if (batch.clearAll) for (const s of STORES) if (s !== 'meta') track(tx.objectStore(s).clear())
      for (const id of batch.deleteSegments ?? []) {
        del('segmentColumns', id)
        del('quantized', segmentRange(id))
        del('listRecords', segmentRange(id))
        track(deleteSegmentPostings(tx.objectStore('postingBuckets'), id))
      }
      for (const seq of batch.removeTombstones ?? []) del('tombstones', seq)
      // Puts go after deletes of the same transaction: IndexedDB applies requests in order. The
      // vector rows, most of an add's bytes, go first: the browser writes them while the rest of
      // the records are packed and cloned here.
      const unused = batch.unused
      for (const run of packQuantized(batch.putQuantized ?? [])) put('quantized', run)
      if (rows.size > 0) track(writeRowBlocks(tx.objectStore('rows'), rows, dims!, unused && { fromSeq: unused.fromSeq, put: (v) => put('rows', v) }))
      for (const l of batch.putLists ?? []) put('listRecords', l)
      if (changes.size > 0) {
        track(writeBlocks(tx.objectStore('passages'), changes, unused && { fromSeq: unused.fromSeq, put: (v) => put('passages', v) }))
      }
      for (const s of batch.putSegments ?? []) put('segmentColumns', toStoredSegment(s))
      if (batch.putPostings?.length) {
        track(putPostings(tx.objectStore('postingBuckets'), batch.putPostings, unused && { segment: unused.segment, put: (v) => put('postingBuckets', v) }))
      }
      for (const seq of batch.addTombstones ?? []) put('tombstones', seq, seq)
      if (batch.manifest) put('meta', batch.manifest, 'manifest')
    } catch (error) {
      // A synchronous throw (DataCloneError, a bad key) must abort what was already queued.
      try {
        tx.abort()
      } catch {
        // already finished
      }
      const done = tx.done.catch(() => {})
      await Promise.all(pending)
      await done
      throw storageError(error, this.name)
    }
    try {
      await tx.done
    } catch (error) {
      await Promise.all(pending)
      // The browser's reason (quota) when it aborted; else the request that threw as it was made.
      throw !tx.error && failed ? storageError(failed.error, this.name) : await this.commitFailure(tx.error ?? error)
    }
    await Promise.all(pending)
    if (failed) throw storageError(failed.error, this.name)
    if (batch.manifest) this.passages.committed(batch.manifest.generation, batch.clearAll ? null : changes.keys())
    await this.files?.committed(batch)
  }

  /**
   * Why a commit failed. A transaction aborted because the browser closed the connection (it
   * cleared the origin's storage) or the database was deleted meanwhile is COLLECTION_DELETED
   * when a reconnection finds it gone; anything else is a storage error (STORAGE_FULL for quota).
   */
  private async commitFailure(error: unknown): Promise<WinnowError> {
    if (this.lost) return this.lost
    if (this.forciblyClosed || isClosedConnection(error) || (error as { name?: string } | null)?.name === 'AbortError') {
      try {
        await this.connect()
      } catch (reconnect) {
        if (this.lost) return this.lost
        void reconnect
      }
    }
    return storageError(error, this.name)
  }

  close(): void {
    this.closed = true
    this.files?.close()
    const connection = this.connection
    this.connection = null
    void connection?.then((db) => db.close()).catch(() => {})
  }
}
