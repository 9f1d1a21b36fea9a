/**
 * Fetching, verifying and writing a snapshot into a fresh store. Nothing here moves a pointer: the
 * caller does that once {@link importShards} has returned, which is what keeps a swap atomic.
 */

import { WinnowError } from '../errors.js'
import { RECORD_LAYOUT, SCHEMA_VERSION, type CollectionStore, type Manifest, type WriteBatch } from '../store/types.js'
import { ANALYZER_VERSION } from '../text/analyzer.js'
import type { SnapshotProgress } from '../types.js'
import { decodeRecords, gunzip, sha256Hex } from './codec.js'
import { hashInput, parseManifest, type ShardEntry, type SnapshotManifest } from './format.js'
import { shardRecords } from './read.js'

/** What the importer needs from its surroundings. */
export interface ImportContext {
  fetch: typeof globalThis.fetch
  /** Throws ABORTED when the call was cancelled; awaited between shards. */
  checkpoint: () => Promise<void>
  signal?: AbortSignal
  onProgress?: (progress: SnapshotProgress) => void
}

/**
 * Fetches and checks a manifest (revalidating any HTTP cache, since the manifest is what changes).
 *
 * @throws WinnowError SNAPSHOT_INVALID: `details.reason` `'network'` (unreachable: offline, refused),
 *   `'http'` (a non-2xx status), `'format'` or `'incompatible'` (see {@link parseManifest}).
 * @example
 * const manifest = await fetchManifest('https://example.com/winnow-index/manifest.json', { fetch, checkpoint })
 */
export async function fetchManifest(url: string, ctx: Pick<ImportContext, 'fetch' | 'signal'>): Promise<SnapshotManifest> {
  let response: Response
  try {
    response = await ctx.fetch(url, { cache: 'no-cache', signal: ctx.signal })
  } catch (error) {
    if (ctx.signal?.aborted) throw new WinnowError('ABORTED', 'the snapshot check was aborted')
    throw new WinnowError('SNAPSHOT_INVALID', `the snapshot manifest ${url} could not be fetched (offline, or the server refused): ${(error as Error)?.message ?? error}`, { reason: 'network', url }, { cause: error })
  }
  if (!response.ok) throw new WinnowError('SNAPSHOT_INVALID', `the snapshot manifest ${url} answered HTTP ${response.status}; check the snapshot URL and that the index was deployed`, { reason: 'http', status: response.status, url })
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    const html = /^\s*</.test(text)
    throw new WinnowError(
      'SNAPSHOT_INVALID',
      `the snapshot manifest ${url} is not JSON${html ? ' (the server sent an HTML page: a single-page-app fallback for a missing file?)' : ''}`,
      { reason: 'format', url },
    )
  }
  const manifest = parseManifest(json, { schema: RECORD_LAYOUT, analyzerVersion: ANALYZER_VERSION })
  // The hash must be the one of what the manifest lists: else "unchanged" could hide a change.
  const expected = await sha256Hex(new TextEncoder().encode(hashInput(manifest)))
  if (expected !== manifest.hash) throw new WinnowError('SNAPSHOT_INVALID', `the snapshot manifest ${url} was edited after it was built: its hash does not match its contents`, { reason: 'format', url })
  return manifest
}

/**
 * Refuses a snapshot whose vectors the instance could not query.
 *
 * @example
 * checkCompatible(manifest, 'Xenova/all-MiniLM-L6-v2')
 */
export function checkCompatible(manifest: SnapshotManifest, instanceEmbedder: string | null): void {
  const e = manifest.collection.embedder
  if (e && instanceEmbedder !== null && instanceEmbedder !== e.model) {
    throw new WinnowError(
      'SNAPSHOT_INVALID',
      `the snapshot's vectors were made by ${e.model}, but this instance loads ${instanceEmbedder}; create the instance with embedder: { model: '${e.model}' } (or rebuild the snapshot with ${instanceEmbedder})`,
      { reason: 'incompatible', snapshot: e.model, instance: instanceEmbedder },
    )
  }
}

/**
 * Downloads every shard (one ahead of the one being written), verifies size and SHA-256, decodes it
 * and commits its records into `store` (one transaction per shard), then writes the manifest and
 * checks the counts. `store` must be empty and unreferenced: a failure part-way leaves a store the
 * caller deletes.
 *
 * @example
 * await importShards(manifest, manifestUrl, store, { fetch, checkpoint, onProgress })
 */
export async function importShards(manifest: SnapshotManifest, manifestUrl: string, store: CollectionStore, ctx: ImportContext): Promise<Manifest> {
  const c = manifest.collection
  const final = storeManifest(manifest)
  const total = manifest.bytes
  let loaded = 0
  const counts = { docs: 0, chunks: 0 }
  ctx.onProgress?.({ phase: 'importing', loaded, total, version: manifest.hash })
  let next: Promise<Uint8Array> | null = manifest.shards.length > 0 ? fetchShard(manifest.shards[0]!, manifestUrl, ctx) : null
  for (let i = 0; i < manifest.shards.length; i++) {
    const entry = manifest.shards[i]!
    const bytes = await next!
    next = i + 1 < manifest.shards.length ? fetchShard(manifest.shards[i + 1]!, manifestUrl, ctx) : null
    // A failed prefetch must not become an unhandled rejection if this shard fails first.
    next?.catch(() => {})
    await ctx.checkpoint()
    const records = shardRecords(entry.kind, decodeRecords(await gunzip(bytes)), manifest)
    if (records.count !== entry.records) throw corrupt(entry, `it holds ${records.count} records, the manifest says ${entry.records}`)
    counts.docs += records.docs.length
    counts.chunks += records.chunks.length
    const batch: WriteBatch = {
      manifest: final,
      putDocs: records.docs,
      putChunks: records.chunks,
      putSegments: records.segments,
      putPostings: records.postings,
      putQuantized: records.quantized,
      putRows: records.rows,
    }
    await store.commit(batch)
    loaded += entry.bytes
    ctx.onProgress?.({ phase: 'importing', loaded, total, version: manifest.hash })
  }
  if (counts.docs !== c.documents || counts.chunks !== c.chunks) {
    throw new WinnowError('SNAPSHOT_INVALID', `the snapshot's shards hold ${counts.docs} documents and ${counts.chunks} chunks, the manifest says ${c.documents} and ${c.chunks}; rebuild it`, { reason: 'corrupt' })
  }
  await store.commit({ manifest: final })
  return final
}

/**
 * The store manifest a snapshot version serves with (its counts and settings, generation 1).
 *
 * @example
 * const manifest = storeManifest(snapshotManifest)
 */
export function storeManifest(manifest: SnapshotManifest): Manifest {
  const c = manifest.collection
  return {
    schema: SCHEMA_VERSION,
    generation: 1,
    nextSeq: c.nextSeq,
    nextSegment: c.nextSegment,
    dims: c.dims,
    vectorSource: c.vectorSource,
    embedder: c.embedder?.model ?? null,
    // A snapshot without prefixes was built before winnow recorded them: queries get none, as then.
    embedderConventions:
      c.embedder && typeof c.embedder.queryPrefix === 'string' && typeof c.embedder.documentPrefix === 'string'
        ? { queryPrefix: c.embedder.queryPrefix, documentPrefix: c.embedder.documentPrefix, pooling: c.embedder.pooling as 'mean' | 'cls' }
        : null,
    analyzer: c.analyzer,
    chunking: c.chunking,
    docCount: c.documents,
    chunkCount: c.chunks,
    totalLength: c.totalLength,
    updatedAt: Date.now(),
  }
}

async function fetchShard(entry: ShardEntry, manifestUrl: string, ctx: ImportContext): Promise<Uint8Array> {
  const url = new URL(entry.file, manifestUrl).href
  let response: Response
  try {
    response = await ctx.fetch(url, { signal: ctx.signal })
  } catch (error) {
    if (ctx.signal?.aborted) throw new WinnowError('ABORTED', 'the snapshot import was aborted')
    throw new WinnowError('SNAPSHOT_INVALID', `snapshot shard ${url} could not be fetched: ${(error as Error)?.message ?? error}`, { reason: 'network', url }, { cause: error })
  }
  if (!response.ok) throw new WinnowError('SNAPSHOT_INVALID', `snapshot shard ${url} answered HTTP ${response.status}; was the snapshot deployed completely?`, { reason: 'http', status: response.status, url })
  const bytes = new Uint8Array(await response.arrayBuffer())
  if (bytes.length !== entry.bytes) throw corrupt(entry, `it has ${bytes.length} bytes, the manifest says ${entry.bytes}`)
  const sha = await sha256Hex(bytes)
  if (sha !== entry.sha256) throw corrupt(entry, `its SHA-256 is ${sha.slice(0, 12)}…, the manifest says ${entry.sha256.slice(0, 12)}… (a stale cache or a half-finished deploy?)`)
  return bytes
}

function corrupt(entry: ShardEntry, why: string): WinnowError {
  return new WinnowError('SNAPSHOT_INVALID', `snapshot shard ${entry.file} is damaged: ${why}`, { reason: 'corrupt', file: entry.file })
}
