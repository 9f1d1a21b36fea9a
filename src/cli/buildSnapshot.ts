/**
 * Builds a snapshot in Node with the browser's own code: the documents go through a
 * {@link CollectionEngine} (same checks, chunking, analyzer, BM25 postings and int8 blocks) over an
 * in-memory store, and the embedder runs on onnxruntime-node through the same `Embedder` class the
 * worker uses. Only the store differs, and `writeSnapshot` reads its records back.
 */

import { CollectionEngine } from '../collection/engine.js'
import type { EmbedderPort } from '../models/embedderPort.js'
import { createCoordination } from '../store/coordination.js'
import { MemoryBackend } from '../store/memory.js'
import { writeSnapshot, type SnapshotFile } from '../snapshot/write.js'
import type { SnapshotEmbedder, SnapshotManifest } from '../snapshot/format.js'
import type { AddProgress, AnalyzerOptions, ChunkingOptions, DocumentInput } from '../types.js'

/** Options of {@link buildSnapshot}. */
export interface BuildSnapshotOptions {
  /** The embedder (with what the manifest should say about it); null for a keyword-only snapshot. */
  embedder: { port: EmbedderPort; info: SnapshotEmbedder } | null
  analyzer?: AnalyzerOptions | false
  chunking?: ChunkingOptions | false
  /** Target shard size before compression (default 512 KiB). */
  shardBytes?: number
  generator?: string
  onProgress?: (progress: AddProgress) => void
}

/**
 * @example
 * const { manifest, files } = await buildSnapshot(toDocuments(await readSite('docs')), { embedder: null })
 */
export async function buildSnapshot(documents: readonly DocumentInput[], options: BuildSnapshotOptions): Promise<{ manifest: SnapshotManifest; files: SnapshotFile[] }> {
  const backend = new MemoryBackend()
  const coordination = createCoordination({})
  const store = await backend.open('snapshot')
  const engine = await CollectionEngine.open('snapshot', { store, coordination, embedder: options.embedder?.port ?? null }, { analyzer: options.analyzer, chunking: options.chunking })
  try {
    // One add: one segment, no tombstones, postings in one list per term.
    await engine.add(documents, async () => {}, options.onProgress)
    await engine.idle()
    return await writeSnapshot(backend.dump('snapshot'), { embedder: options.embedder?.info ?? null, shardBytes: options.shardBytes, generator: options.generator })
  } finally {
    engine.close()
    coordination.close()
  }
}
