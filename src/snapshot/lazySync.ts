/**
 * Adopting a snapshot of format 2 (lazily fetched): instead of importing every shard, the version
 * keeps its manifest and the shards it needs to open (segment tables, the per-kind indexes) in its
 * shard cache, then the pointer moves. Queries fetch the rest as they need it (`lazyStore.ts`);
 * `snapshotFetch: 'all'` downloads everything first (offline use), `'prefetch'` in the background.
 */
import type { ShardCache } from '../store/shardCache.js'
import type { SnapshotPointer, SnapshotStorage } from '../store/snapshots.js'
import { RECORD_LAYOUT, type CollectionStore } from '../store/types.js'
import { ANALYZER_VERSION } from '../text/analyzer.js'
import type { SnapshotFetch, SnapshotProgress } from '../types.js'
import { parseManifest, type SnapshotManifest } from './format.js'
import { checkIndex, LazySnapshotStore, shardRef } from './lazyStore.js'
import { ShardSource, type ShardRef } from './shardSource.js'

/** What adopting a version needs from the worker. */
export interface LazyContext {
  storage: SnapshotStorage
  fetch: typeof globalThis.fetch
  checkpoint: () => Promise<void>
  emit: (progress: SnapshotProgress) => void
  mode: SnapshotFetch
}

/**
 * Caches what the version needs to open (all of it with mode `'all'`) and moves the pointer.
 *
 * @example
 * const { pointer, bytes } = await adoptLazyVersion('docs', url, manifest, ctx)
 */
export async function adoptLazyVersion(name: string, url: string, manifest: SnapshotManifest, ctx: LazyContext): Promise<{ pointer: SnapshotPointer; bytes: number }> {
  const cache = await ctx.storage.openShardCache(name, manifest.hash, { create: true })
  let bytes = 0
  try {
    await cache.writeManifest(manifest)
    const source = new ShardSource(url, { fetch: ctx.fetch, cache })
    const refs = manifest.shards.length > 0 && ctx.mode === 'all' ? [...manifest.shards, ...(await lazyShards(manifest, source))] : manifest.shards
    const total = refs.reduce((n, r) => n + r.bytes, 0)
    ctx.emit({ phase: 'importing', loaded: 0, total, version: manifest.hash })
    bytes = await cacheAll(refs, source, cache, ctx.checkpoint, (loaded) => ctx.emit({ phase: 'importing', loaded, total, version: manifest.hash }))
  } catch (error) {
    cache.close()
    await ctx.storage.destroyVersion(name, manifest.hash).catch(() => {})
    throw error
  }
  cache.close()
  const pointer: SnapshotPointer = { version: manifest.hash, url, importedAt: Date.now(), lazy: true }
  await ctx.storage.writePointer(name, pointer)
  return { pointer, bytes }
}

/**
 * The store serving a lazy version, over its shard cache (which holds its manifest).
 *
 * @throws WinnowError STORAGE_UNAVAILABLE `gone` when another tab deleted the version.
 */
export async function openLazyVersion(name: string, pointer: SnapshotPointer, env: { storage: SnapshotStorage; fetch: typeof globalThis.fetch }): Promise<CollectionStore> {
  const cache = await env.storage.openShardCache(name, pointer.version, { create: false })
  try {
    const manifest = parseManifest(await cache.readManifest(), { schema: RECORD_LAYOUT, analyzerVersion: ANALYZER_VERSION })
    return await LazySnapshotStore.open(name, manifest, new ShardSource(pointer.url, { fetch: env.fetch, cache }), cache)
  } catch (error) {
    cache.close()
    throw error
  }
}

/**
 * Fetches into the cache every shard of a lazy store not there yet (`'prefetch'`, in the background).
 *
 * @example
 * void prefetchAll(store).catch(() => {})
 */
export async function prefetchAll(store: CollectionStore, checkpoint: () => Promise<void>): Promise<number> {
  if (!(store instanceof LazySnapshotStore)) return 0
  const source = store.source
  const refs = await lazyShards(store.manifestOf(), source)
  const cache = store.cacheOf()
  return cache ? cacheAll(refs, source, cache, checkpoint, () => {}) : 0
}

/** Every shard the indexes list. */
async function lazyShards(manifest: SnapshotManifest, source: ShardSource): Promise<ShardRef[]> {
  const out: ShardRef[] = []
  for (const entry of manifest.shards.filter((s) => s.kind === 'index')) {
    const index = checkIndex(await source.get(entry), entry.of!, entry.records)
    for (let i = 0; i < index.bytes.length; i++) out.push(shardRef(index, i))
  }
  return out
}

/** Fetches the shards not cached yet, four at a time; returns the bytes they come to. */
async function cacheAll(refs: readonly ShardRef[], source: ShardSource, cache: ShardCache, checkpoint: () => Promise<void>, onLoaded: (loaded: number) => void): Promise<number> {
  const have = await cache.keys()
  let loaded = 0
  let next = 0
  const worker = async () => {
    while (next < refs.length) {
      const ref = refs[next++]!
      await checkpoint()
      await source.ensureCached(ref, have)
      have.add(ref.sha256)
      loaded += ref.bytes
      onLoaded(loaded)
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()])
  return loaded
}
