/**
 * The shards of a lazily fetched snapshot version (format 2), kept as they arrive: the bytes as
 * served (already verified against their SHA-256), keyed by that hash — or, for a row read by
 * range from a rows file, by `<hash>#<row>` (verified by its own check) — and the version's
 * manifest, so repeat queries and offline visits need no network. One cache per version, deleted
 * with it.
 */
import { openDB, type IDBPDatabase } from 'idb'
import { WinnowError } from '../errors.js'
import { BLOCKED_TIMEOUT_MS, storageError, withTimeout } from './idbOpen.js'

export interface ShardCache {
  get(sha256: string): Promise<Uint8Array | undefined>
  /** Keeps a verified shard; a failure (quota) is the caller's to ignore. */
  put(sha256: string, bytes: Uint8Array): Promise<void>
  /** The hashes cached. */
  keys(): Promise<Set<string>>
  readManifest(): Promise<unknown>
  writeManifest(manifest: unknown): Promise<void>
  /** Throws the version's `gone` error once another tab deleted it. */
  check(): void
  close(): void
}

/**
 * The in-memory twin (Node tests and tools).
 *
 * @example
 * const cache = new MemoryShardCache()
 */
export class MemoryShardCache implements ShardCache {
  readonly shards = new Map<string, Uint8Array>()
  manifest: unknown = null
  gone: WinnowError | null = null

  async get(sha256: string): Promise<Uint8Array | undefined> {
    this.check()
    return this.shards.get(sha256)?.slice()
  }

  async put(sha256: string, bytes: Uint8Array): Promise<void> {
    this.check()
    this.shards.set(sha256, bytes.slice())
  }

  async keys(): Promise<Set<string>> {
    return new Set(this.shards.keys())
  }

  async readManifest(): Promise<unknown> {
    this.check()
    return structuredClone(this.manifest)
  }

  async writeManifest(manifest: unknown): Promise<void> {
    this.manifest = structuredClone(manifest)
  }

  check(): void {
    if (this.gone) throw this.gone
  }

  close(): void {}
}

/**
 * The IndexedDB cache of one version: database `dbName` with stores `shards` and `meta`. With
 * `create: false` a database that does not exist (deleted by another tab) is `gone()`.
 *
 * @example
 * const cache = await openIdbShardCache('winnow-snapshot:docs:0123456789abcdef.shards', { create: true, gone })
 */
export async function openIdbShardCache(dbName: string, options: { create: boolean; gone: () => WinnowError }): Promise<ShardCache> {
  if (!globalThis.indexedDB) throw new WinnowError('STORAGE_UNAVAILABLE', 'IndexedDB is not available in this context')
  if (!options.create && !(await indexedDB.databases()).some((d) => d.name === dbName)) throw options.gone()
  let lost: WinnowError | null = null
  let db: IDBPDatabase<unknown>
  try {
    db = await withTimeout(
      openDB(dbName, 1, {
        upgrade(d) {
          d.createObjectStore('shards')
          d.createObjectStore('meta')
        },
        blocking: () => {
          // Deleted by another tab (it moved to a newer version): let go; reads say `gone`.
          lost = options.gone()
          db.close()
        },
        terminated: () => {
          lost = options.gone()
        },
      }),
      BLOCKED_TIMEOUT_MS,
      () => new WinnowError('STORAGE_UNAVAILABLE', `opening ${dbName} is blocked by another tab`),
    )
  } catch (error) {
    throw error instanceof WinnowError ? error : storageError(error, dbName)
  }
  const check = () => {
    if (lost) throw lost
  }
  // Every failure typed: a quota is STORAGE_FULL, anything else STORAGE_UNAVAILABLE (or `gone`).
  const typed = async <T>(run: () => Promise<T>): Promise<T> => {
    check()
    try {
      return await run()
    } catch (error) {
      throw lost ?? storageError(error, dbName)
    }
  }
  return {
    get: (sha256) => typed(async () => (await db.get('shards', sha256)) as Uint8Array | undefined),
    put: (sha256, bytes) => typed(async () => void (await db.put('shards', bytes, sha256))),
    keys: () => typed(async () => new Set((await db.getAllKeys('shards')) as string[])),
    readManifest: () => typed(async () => (await db.get('meta', 'manifest')) ?? null),
    writeManifest: (manifest) => typed(async () => void (await db.put('meta', manifest, 'manifest'))),
    check,
    close: () => db.close(),
  }
}
