import { deleteDB, openDB, type IDBPDatabase } from 'idb'
import { WinnowError } from '../errors.js'
import { IdbStore } from './idb.js'
import { BLOCKED_TIMEOUT_MS, storageError, withTimeout } from './idbOpen.js'
import { goneError, versionKey, type SnapshotPointer, type SnapshotStorage } from './snapshots.js'
import { openIdbShardCache, type ShardCache } from './shardCache.js'
import type { CollectionStore } from './types.js'

/** Pointers live in their own small database; versions in `winnow-snapshot:<name>:<version>` (not `winnow:`, so `list()` of ordinary collections skips them). */
const REGISTRY = 'winnow-snapshots'
const VERSION_PREFIX = 'winnow-snapshot:'
/** A lazily fetched version (format 2) keeps its shards in `winnow-snapshot:<name>:<version>.shards`. */
const SHARDS_SUFFIX = '.shards'

/**
 * Snapshot versions and pointers in IndexedDB. Moving a pointer is one `put` in one transaction
 * (with `durability: 'strict'`), which is what makes a swap atomic.
 *
 * @example
 * const storage = new IdbSnapshotStorage()
 * const pointer = await storage.readPointer('docs')
 */
export class IdbSnapshotStorage implements SnapshotStorage {
  private registry: Promise<IDBPDatabase<unknown>> | null = null

  private db(): Promise<IDBPDatabase<unknown>> {
    if (!globalThis.indexedDB) return Promise.reject(new WinnowError('STORAGE_UNAVAILABLE', 'IndexedDB is not available in this context'))
    if (!this.registry) {
      const opened: Promise<IDBPDatabase<unknown>> = openDB(REGISTRY, 1, {
        upgrade(db) {
          db.createObjectStore('pointers')
        },
        blocking: () => {
          // Someone deletes or upgrades the registry: let go, reopen on next use.
          this.registry = null
          void opened.then((db) => db.close())
        },
        terminated: () => {
          this.registry = null
        },
      })
      this.registry = withTimeout(opened, BLOCKED_TIMEOUT_MS, () => new WinnowError('STORAGE_UNAVAILABLE', `opening ${REGISTRY} is blocked by another tab`))
      this.registry.catch(() => {
        this.registry = null
      })
    }
    return this.registry
  }

  async readPointer(name: string): Promise<SnapshotPointer | null> {
    try {
      return ((await (await this.db()).get('pointers', name)) as SnapshotPointer | undefined) ?? null
    } catch (error) {
      throw storageError(error, name)
    }
  }

  async writePointer(name: string, pointer: SnapshotPointer | null): Promise<void> {
    const db = await this.db()
    const tx = db.transaction('pointers', 'readwrite', { durability: 'strict' })
    try {
      if (pointer) void tx.store.put(pointer, name)
      else void tx.store.delete(name)
      await tx.done
    } catch (error) {
      throw storageError(tx.error ?? error, name)
    }
  }

  async listPointers(): Promise<string[]> {
    return ((await (await this.db()).getAllKeys('pointers')) as string[]).sort()
  }

  async openVersion(name: string, version: string, options: { create: boolean }): Promise<CollectionStore> {
    // A version deleted underneath (another tab swapped and dropped it) is `gone`: the reader follows the pointer.
    const store = new IdbStore(name, VERSION_PREFIX + `${name}:${versionKey(version)}`, { create: options.create, gone: () => goneError(name, version) })
    await store.connect()
    return store
  }

  async openShardCache(name: string, version: string, options: { create: boolean }): Promise<ShardCache> {
    return openIdbShardCache(VERSION_PREFIX + `${name}:${versionKey(version)}${SHARDS_SUFFIX}`, { create: options.create, gone: () => goneError(name, version) })
  }

  async destroyVersion(name: string, version: string): Promise<void> {
    for (const suffix of ['', SHARDS_SUFFIX]) {
      await withTimeout(deleteDB(VERSION_PREFIX + `${name}:${versionKey(version)}${suffix}`), BLOCKED_TIMEOUT_MS, () => new WinnowError('STORAGE_UNAVAILABLE', `deleting an old snapshot version of '${name}' is blocked by a tab that keeps it open`))
    }
  }

  async listVersions(name: string): Promise<string[]> {
    if (!globalThis.indexedDB) return []
    const prefix = `${VERSION_PREFIX}${name}:`
    return (await indexedDB.databases())
      .map((d) => d.name ?? '')
      .map((n) => (n.endsWith(SHARDS_SUFFIX) ? n.slice(0, -SHARDS_SUFFIX.length) : n))
      .filter((n, i, all) => n.startsWith(prefix) && /^[0-9a-f]{16}$/.test(n.slice(prefix.length)) && all.indexOf(n) === i)
      .map((n) => n.slice(prefix.length))
  }
}
