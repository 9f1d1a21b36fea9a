/**
 * Where imported snapshot versions live. Each version is a complete collection store of its own;
 * a *pointer* per collection name says which version serves. Importing writes a new version beside
 * the old one and then moves the pointer in one write: readers see the old version or the new
 * one, never a mix, and a crash half-way leaves only an unreferenced version to delete.
 */

import { WinnowError } from '../errors.js'
import { MemoryBackend } from './memory.js'
import { MemoryShardCache, type ShardCache } from './shardCache.js'
import type { CollectionStore } from './types.js'

/** Which version of a snapshot collection serves, and where it came from. */
export interface SnapshotPointer {
  /** The snapshot's hash (`manifest.hash`). */
  version: string
  /** The manifest URL it was imported from. */
  url: string
  importedAt: number
  /** Format 2: the version is served from its shard cache, fetched as queries need it. */
  lazy?: boolean
}

/** Storage of snapshot versions and their pointers. */
export interface SnapshotStorage {
  readPointer(name: string): Promise<SnapshotPointer | null>
  /** Moves the pointer (atomically) or removes it (`null`). */
  writePointer(name: string, pointer: SnapshotPointer | null): Promise<void>
  /** Names that have a pointer. */
  listPointers(): Promise<string[]>
  /**
   * Opens a version's store. With `create: false` a version that no longer exists (another tab
   * deleted it after moving on) fails with STORAGE_UNAVAILABLE and `details.gone: true` instead of
   * coming back empty.
   */
  openVersion(name: string, version: string, options: { create: boolean }): Promise<CollectionStore>
  /** Opens a lazily fetched version's shard cache (format 2); `create: false` fails `gone` as {@link openVersion}. */
  openShardCache(name: string, version: string, options: { create: boolean }): Promise<ShardCache>
  destroyVersion(name: string, version: string): Promise<void>
  /** Versions stored for `name`, whether a pointer names them or not. */
  listVersions(name: string): Promise<string[]>
}

/** Versions are stored under the first 16 hex digits of the hash (64 bits: collisions are not a concern). */
export function versionKey(version: string): string {
  return version.slice(0, 16)
}

/**
 * The in-memory twin, for Node tests and tools.
 *
 * @example
 * const storage = new MemorySnapshotStorage()
 * await storage.writePointer('docs', { version, url, importedAt: Date.now() })
 */
export class MemorySnapshotStorage implements SnapshotStorage {
  private readonly pointers = new Map<string, SnapshotPointer>()
  readonly backend = new MemoryBackend()
  private readonly caches = new Map<string, MemoryShardCache>()

  async readPointer(name: string): Promise<SnapshotPointer | null> {
    return structuredClone(this.pointers.get(name) ?? null)
  }

  async writePointer(name: string, pointer: SnapshotPointer | null): Promise<void> {
    if (pointer) this.pointers.set(name, structuredClone(pointer))
    else this.pointers.delete(name)
  }

  async listPointers(): Promise<string[]> {
    return [...this.pointers.keys()].sort()
  }

  async openVersion(name: string, version: string, options: { create: boolean }): Promise<CollectionStore> {
    const key = storeName(name, version)
    if (!options.create && !this.backend.has(key)) throw goneError(name, version)
    return this.backend.open(key, { gone: () => goneError(name, version) })
  }

  async openShardCache(name: string, version: string, options: { create: boolean }): Promise<ShardCache> {
    const key = storeName(name, version)
    let cache = this.caches.get(key)
    if (!cache) {
      if (!options.create) throw goneError(name, version)
      this.caches.set(key, (cache = new MemoryShardCache()))
    }
    return cache
  }

  async destroyVersion(name: string, version: string): Promise<void> {
    await this.backend.destroy(storeName(name, version))
    const cache = this.caches.get(storeName(name, version))
    if (cache) cache.gone = goneError(name, version)
    this.caches.delete(storeName(name, version))
  }

  async listVersions(name: string): Promise<string[]> {
    const prefix = storeName(name, '')
    const names = [...(await this.backend.list()), ...this.caches.keys()]
    return [...new Set(names.filter((n) => n.startsWith(prefix) && /^[0-9a-f]{16}$/.test(n.slice(prefix.length))).map((n) => n.slice(prefix.length)))]
  }
}

function storeName(name: string, version: string): string {
  return `${name}:${versionKey(version)}`
}

/**
 * The error a reader gets when the version it was reading has been deleted.
 *
 * @example
 * throw goneError('docs', 'ab12…')
 */
export function goneError(name: string, version: string): WinnowError {
  return new WinnowError('STORAGE_UNAVAILABLE', `snapshot version ${versionKey(version)} of collection '${name}' no longer exists (a newer one replaced it); retry`, { collection: name, gone: true })
}

/** Whether an error says the version being read was deleted. */
export function isGone(error: unknown): boolean {
  return error instanceof WinnowError && error.details.gone === true
}
