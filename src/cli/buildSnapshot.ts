/**
 * Builds a snapshot in Node with the browser's own code: the documents go through a
 * {@link CollectionEngine} (same checks, chunking, analyzer, BM25 postings and int8 blocks) over an
 * in-memory store, and the embedder runs on onnxruntime-node through the same `Embedder` class the
 * worker uses. Only the store differs, and `writeSnapshot` reads its records back.
 */

import { CollectionEngine } from '../collection/engine.js'
import { invalidInput } from '../errors.js'
import type { EmbedderPort } from '../models/embedderPort.js'
import { createCoordination } from '../store/coordination.js'
import { MemoryBackend } from '../store/memory.js'
import { writeSnapshot, type SnapshotFile } from '../snapshot/write.js'
import { writeLazySnapshot, type WriteLazyOptions } from '../snapshot/writeLazy.js'
import type { SnapshotEmbedder, SnapshotManifest } from '../snapshot/format.js'
import type { AddProgress, AnalyzerOptions, ChunkingOptions, DocumentInput, VectorIndexOptions } from '../types.js'

/** Options of {@link buildSnapshot}. */
export interface BuildSnapshotOptions {
  /** The embedder (with what the manifest should say about it); null for a keyword-only snapshot. */
  embedder: { port: EmbedderPort; info: SnapshotEmbedder } | null
  /**
   * Instead of `embedder`: every document carries its `vector`, made by this model (its `dims`, the
   * pooling and the prefixes it was embedded with), which browsers load to embed their queries.
   * Documents are not split (`chunking` is off): one vector, one passage.
   */
  vectorsFrom?: Omit<SnapshotEmbedder, 'dims'> & { dims?: number }
  analyzer?: AnalyzerOptions | false
  chunking?: ChunkingOptions | false
  /** Target shard size before compression (default 512 KiB; format 1). */
  shardBytes?: number
  /**
   * 1: imported whole on the first visit; 2: fetched lazily as queries need it; `'auto'` (default):
   * 2 when format 1 would exceed {@link LAZY_FROM_BYTES}.
   */
  format?: 1 | 2 | 'auto'
  /** When the engine partitions vectors (`vectorIndex.minRows`, default 50,000 rows). */
  vectorIndex?: VectorIndexOptions
  /** Documents per add (default 10,000); see the comment in {@link buildSnapshot}. */
  batchDocuments?: number
  /** Shard targets of format 2 (see `WriteLazyOptions`). */
  lazy?: Pick<WriteLazyOptions, 'postingsBytes' | 'documentBytes' | 'vectorBytes' | 'rowFileBytes' | 'listCodes'>
  generator?: string
  onProgress?: (progress: AddProgress) => void
}

/** `documents` in runs of `size` (one empty run for no documents: the snapshot of nothing). */
async function* batches(documents: readonly DocumentInput[] | AsyncIterable<DocumentInput>, size: number): AsyncGenerator<DocumentInput[]> {
  if (Array.isArray(documents)) {
    for (let from = 0; from < documents.length || from === 0; from += size) yield documents.slice(from, from + size)
    return
  }
  let run: DocumentInput[] = []
  let any = false
  for await (const doc of documents as AsyncIterable<DocumentInput>) {
    run.push(doc)
    if (run.length === size) {
      yield run
      any = true
      run = []
    }
  }
  if (run.length > 0 || !any) yield run
}

/** Past this size (gzip bytes of format 1) `format: 'auto'` writes format 2: a visitor then downloads what their queries need. */
export const LAZY_FROM_BYTES = 4 * 1024 * 1024

/**
 * @example
 * const { manifest, files } = await buildSnapshot(toDocuments(await readSite('docs')), { embedder: null })
 */
export async function buildSnapshot(documents: readonly DocumentInput[] | AsyncIterable<DocumentInput>, options: BuildSnapshotOptions): Promise<{ manifest: SnapshotManifest; files: SnapshotFile[] }> {
  const backend = new MemoryBackend()
  const coordination = createCoordination({})
  const store = await backend.open('snapshot')
  const supplied = options.vectorsFrom ?? null
  if (supplied && options.embedder) throw invalidInput('give an embedder or vectorsFrom, not both')
  const chunking = supplied ? false : options.chunking
  const engine = await CollectionEngine.open('snapshot', { store, coordination, embedder: options.embedder?.port ?? null }, { analyzer: options.analyzer, chunking, vectorIndex: options.vectorIndex })
  try {
    // Up to `batchDocuments` per add; then the segments are merged and large ones partitioned for
    // the ANN index (a format-2 snapshot then carries inverted lists a query probes, instead of
    // int8 blocks every vector query would read whole).
    const batch = options.batchDocuments ?? 10_000
    let offset = 0
    let read = 0
    // A stream (JSONL) is read a batch at a time: the input is never held whole.
    for await (const part of batches(documents, batch)) {
      // Progress counts across batches: documents while chunking, passages after.
      const base = offset
      const from = read
      const shift = (p: AddProgress) => (p.phase === 'chunking' ? from : base)
      await engine.add(part, async () => {}, options.onProgress && ((p) => options.onProgress!({ ...p, done: shift(p) + p.done, total: shift(p) + p.total })))
      read += part.length
      offset = engine.info().chunks
      await engine.idle()
    }
    if (read === 0) throw invalidInput('there are no documents to build a snapshot of')
    // One segment where it fits, vectors partitioned past `vectorIndex.minRows`.
    await engine.optimize()
    const records = backend.dump('snapshot')
    if (supplied) {
      const m = records.manifest
      if (m.vectorSource !== 'caller' || (supplied.dims !== undefined && m.dims !== supplied.dims)) {
        throw invalidInput(`with vectorsFrom every document needs a vector${supplied.dims !== undefined ? ` of ${supplied.dims} dimensions` : ''} (the collection has ${m.vectorSource === 'caller' ? `${m.dims}` : 'none'})`)
      }
      // Recorded as the model's, so a browser embeds queries with it (and its prefixes).
      records.manifest = { ...m, vectorSource: 'embedder', embedder: supplied.model, embedderConventions: { queryPrefix: supplied.queryPrefix ?? '', documentPrefix: supplied.documentPrefix ?? '', pooling: supplied.pooling as 'mean' | 'cls' } }
    }
    const settings = { embedder: options.embedder?.info ?? (supplied && { ...supplied, dims: records.manifest.dims! }), shardBytes: options.shardBytes, generator: options.generator }
    const format = options.format ?? 'auto'
    const lazy = { ...settings, ...options.lazy }
    // Format 1 is written (and measured) only when it may fit: a corpus whose texts alone would
    // pass the limit even at 4:1 compression, or whose int8 vectors would, goes to format 2 at once.
    const estimate = records.docs.reduce((n, d) => n + d.text.length, 0) / 4 + (records.manifest.dims ?? 0) * records.manifest.chunkCount
    if (format === 2 || (format === 'auto' && estimate > LAZY_FROM_BYTES)) return await writeLazySnapshot(records, lazy)
    const whole = await writeSnapshot(records, settings)
    return format === 'auto' && whole.manifest.bytes > LAZY_FROM_BYTES ? await writeLazySnapshot(records, lazy) : whole
  } finally {
    engine.close()
    coordination.close()
  }
}
