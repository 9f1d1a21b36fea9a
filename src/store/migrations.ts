import type { IDBPDatabase, IDBPTransaction } from 'idb'

/** Object store names of the current schema. */
export const STORES = ['meta', 'docs', 'chunks', 'segments', 'postings', 'quantized', 'vectors', 'tombstones'] as const
export type StoreName = (typeof STORES)[number]

/** One schema step: brings a database from version `i` to `i + 1` (index `i` in {@link MIGRATIONS}). */
export type Migration = (db: IDBPDatabase<unknown>, tx: IDBPTransaction<unknown, StoreName[], 'versionchange'>) => void

/**
 * Ordered schema steps. Never edit a shipped step: append one. Step 0 creates schema 1:
 * - `meta`: the manifest under the key `'manifest'`
 * - `docs` (id), `chunks` (seq): texts, read only for results
 * - `segments` (id): what a reopen reads, small
 * - `postings` ([term, segment], index `segment`): a query reads only its own terms
 * - `quantized` / `vectors` ([segment, block]): int8 blocks read at open, fp32 blocks on demand
 * - `tombstones` (seq): deleted chunks not yet compacted away
 *
 * @example
 * MIGRATIONS.slice(oldVersion).forEach((step) => step(db, tx))
 */
export const MIGRATIONS: readonly Migration[] = [
  (db) => {
    db.createObjectStore('meta')
    db.createObjectStore('docs', { keyPath: 'id' })
    db.createObjectStore('chunks', { keyPath: 'seq' })
    db.createObjectStore('segments', { keyPath: 'id' })
    db.createObjectStore('postings', { keyPath: ['term', 'segment'] }).createIndex('segment', 'segment')
    db.createObjectStore('quantized', { keyPath: ['segment', 'block'] })
    db.createObjectStore('vectors', { keyPath: ['segment', 'block'] })
    db.createObjectStore('tombstones')
  },
]
