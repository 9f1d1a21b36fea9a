/**
 * One snapshot check-and-import, run by the worker under the collection's write lock: fetch the
 * manifest, skip an unchanged hash, else import the new version beside the serving one and move the
 * pointer last, in one write. Versions no pointer names (left by an interrupted import or swap) are
 * deleted on the way.
 */

import { WinnowError } from '../errors.js'
import { versionKey, type SnapshotPointer, type SnapshotStorage } from '../store/snapshots.js'
import type { CollectionOptions, SnapshotFetch, SnapshotOutcome, SnapshotProgress } from '../types.js'
import { SNAPSHOT_V2 } from './format.js'
import { adoptLazyVersion } from './lazySync.js'
import { checkCompatible, fetchManifest, importShards } from './importer.js'

/** What {@link importLatest} needs from the worker. */
export interface SyncContext {
  storage: SnapshotStorage
  fetch: typeof globalThis.fetch
  /** The instance's embedder model (queries are embedded by it), or null. */
  embedder: () => Promise<string | null>
  checkpoint: () => Promise<void>
  emit: (progress: SnapshotProgress) => void
  /** How a format-2 snapshot is fetched (default `'lazy'`). */
  mode?: SnapshotFetch
}

/**
 * @example
 * const { outcome, pointer } = await importLatest('docs', url, { storage, fetch, embedder, checkpoint, emit })
 */
export async function importLatest(name: string, url: string, ctx: SyncContext): Promise<{ outcome: SnapshotOutcome; pointer: SnapshotPointer; bytes: number }> {
  const { storage } = ctx
  const current = await storage.readPointer(name)
  let manifest
  try {
    manifest = await fetchManifest(url, { fetch: ctx.fetch })
  } catch (error) {
    if (current && error instanceof WinnowError && error.details.reason === 'network') return { outcome: 'offline', pointer: current, bytes: 0 }
    throw error
  }
  if (current && current.version === manifest.hash) {
    if (current.url !== url) await storage.writePointer(name, { ...current, url })
    // A tab killed after moving the pointer but before deleting the old version leaves that
    // version behind, and while the snapshot is unchanged no import comes to clear it.
    await dropUnnamedVersions(storage, name, current)
    return { outcome: 'unchanged', pointer: { ...current, url }, bytes: manifest.bytes }
  }
  checkCompatible(manifest, await ctx.embedder())
  await dropUnnamedVersions(storage, name, current)
  if (manifest.version === SNAPSHOT_V2) {
    const adopted = await adoptLazyVersion(name, url, manifest, { storage, fetch: ctx.fetch, checkpoint: ctx.checkpoint, emit: ctx.emit, mode: ctx.mode ?? 'lazy' })
    return { outcome: 'imported', ...adopted }
  }
  const store = await storage.openVersion(name, manifest.hash, { create: true })
  try {
    await importShards(manifest, url, store, { fetch: ctx.fetch, checkpoint: ctx.checkpoint, onProgress: ctx.emit })
  } catch (error) {
    store.close()
    await storage.destroyVersion(name, manifest.hash).catch(() => {})
    throw error
  }
  store.close()
  const pointer: SnapshotPointer = { version: manifest.hash, url, importedAt: Date.now() }
  await storage.writePointer(name, pointer)
  return { outcome: 'imported', pointer, bytes: manifest.bytes }
}

/** Deletes the versions no pointer names (under the write lock). */
async function dropUnnamedVersions(storage: SnapshotStorage, name: string, current: SnapshotPointer | null): Promise<void> {
  for (const version of await storage.listVersions(name)) {
    if (!current || versionKey(current.version) !== version) await storage.destroyVersion(name, version).catch(() => {})
  }
}

/**
 * A snapshot collection takes its settings from the snapshot; its URL must be absolute (the page
 * resolves it).
 *
 * @example
 * checkSnapshotOptions({ snapshot: 'https://example.com/idx/manifest.json' })
 */
export function checkSnapshotOptions(options: CollectionOptions): void {
  if (options.snapshot === undefined) return
  const url = String(options.snapshot)
  if (typeof options.snapshot !== 'string' || !/^(https?|file):\/\//i.test(url)) {
    throw new WinnowError('INVALID_INPUT', `snapshot must be the URL of a manifest.json, got ${typeof options.snapshot === 'string' ? `'${url}'` : typeof options.snapshot}`)
  }
  if (options.snapshotFetch !== undefined && !['lazy', 'prefetch', 'all'].includes(options.snapshotFetch as string)) {
    throw new WinnowError('INVALID_INPUT', `snapshotFetch must be 'lazy', 'prefetch' or 'all', got ${JSON.stringify(options.snapshotFetch)}`)
  }
  if (options.analyzer !== undefined || options.chunking !== undefined) {
    throw new WinnowError('INVALID_INPUT', 'a snapshot collection takes its analyzer and chunking from the snapshot; set them when building it (npx winnow-rerank index)')
  }
}

