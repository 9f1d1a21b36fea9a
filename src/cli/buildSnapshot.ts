/**
 * Builds a snapshot in Node with the browser's own code: the documents go through a
 * {@link CollectionEngine} (same checks, chunking, analyzer, BM25 postings and int8 blocks) over an
 * in-memory store, and the embedder runs on onnxruntime-node through the same `Embedder` class the
 * worker uses. Only the store differs, and the writers read its records back. A corpus past one
 * part (`partPassages`) goes through one such collection per part, each written out before the
 * next (`snapshot/lazyWriter.ts`), so memory follows the part, not the corpus.
 */

import { CollectionEngine } from '../collection/engine.js'
import { invalidInput } from '../errors.js'
import type { EmbedderPort } from '../models/embedderPort.js'
import { createCoordination } from '../store/coordination.js'
import { MemoryBackend } from '../store/memory.js'
import { maxMergeRows } from '../collection/compaction.js'
import { DEFAULT_INDEX_MIN_ROWS } from '../collection/ivfBuild.js'
import { LazySnapshotWriter } from '../snapshot/lazyWriter.js'
import type { RunStore } from '../snapshot/postingRuns.js'
import type { Manifest } from '../store/types.js'
import { writeSnapshot, type CollectionRecords, type SnapshotFile } from '../snapshot/write.js'
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
  /**
   * Passages per part (default: what one merged segment holds, 262,144 at 384 dims). A corpus
   * past one part is built, and written as format 2, a part at a time: each part through its own
   * in-memory collection, optimized and written out before the next (`snapshot/lazyWriter.ts`),
   * so memory follows the part, not the corpus. Format 1 (and `format: 'auto'` within one part)
   * builds the corpus as one.
   */
  partPassages?: number
  /** Takes each file as it is made (then `files` comes back empty): a build in parts writes most of its files before it ends. */
  onFile?: (file: SnapshotFile) => Promise<void>
  /** Where a build in parts keeps each part's postings until they are merged (default: memory; the CLI: temporary files). */
  postingRuns?: () => RunStore
}

/** Takes `documents` a run at a time, each run as long as asked (shorter at the end; empty after it). */
function documentReader(documents: readonly DocumentInput[] | AsyncIterable<DocumentInput>): (size: number) => Promise<DocumentInput[]> {
  if (Array.isArray(documents)) {
    let from = 0
    return async (size) => documents.slice(from, (from += size))
  }
  const it = (documents as AsyncIterable<DocumentInput>)[Symbol.asyncIterator]()
  let done = false
  return async (size) => {
    const run: DocumentInput[] = []
    while (!done && run.length < size) {
      const next = await it.next()
      if (next.done) done = true
      else run.push(next.value)
    }
    return run
  }
}

/** The fewest passages the last part of a build in parts is partitioned at (the engine's least `minRows`; fewer: their vectors, 25 KB at 384 dims, are read whole). */
export const SMALLEST_PARTITIONED = 64

/** One part of a build in parts: its in-memory collection. */
interface Part {
  backend: MemoryBackend
  engine: CollectionEngine
  close: () => void
}

/** Past this size (gzip bytes of format 1) `format: 'auto'` writes format 2: a visitor then downloads what their queries need. */
export const LAZY_FROM_BYTES = 4 * 1024 * 1024

/**
 * @example
 * const { manifest, files } = await buildSnapshot(toDocuments(await readSite('docs')), { embedder: null })
 */
export async function buildSnapshot(documents: readonly DocumentInput[] | AsyncIterable<DocumentInput>, options: BuildSnapshotOptions): Promise<{ manifest: SnapshotManifest; files: SnapshotFile[] }> {
  const supplied = options.vectorsFrom ?? null
  if (supplied && options.embedder) throw invalidInput('give an embedder or vectorsFrom, not both')
  const chunking = supplied ? false : options.chunking
  const format = options.format ?? 'auto'
  const files: SnapshotFile[] = []
  const sink = options.onFile ?? (async (file: SnapshotFile) => void files.push(file))
  const settings = (m: Manifest) => ({ embedder: options.embedder?.info ?? (supplied && { ...supplied, dims: m.dims! }), shardBytes: options.shardBytes, generator: options.generator })
  let part = await openPart(null)
  let writer: LazySnapshotWriter | null = null
  // Passages of the parts already written.
  let before = 0
  try {
    // Up to `batchDocuments` per add; then the segments are merged and large ones partitioned for
    // the ANN index (a format-2 snapshot then carries inverted lists a query probes, instead of
    // int8 blocks every vector query would read whole).
    const batch = options.batchDocuments ?? 10_000
    let read = 0
    // A stream (JSONL) is read a batch at a time: the input is never held whole.
    const take = documentReader(documents)
    // Near a part's end the adds shrink, by the passages a document has had so far, so that a part
    // stays within one merged segment (a remainder segment too small to partition would be read
    // whole by every vector query).
    const perDocument = () => Math.max(1, (before + part.engine.info().chunks) / Math.max(1, read))
    for (;;) {
      const room = format === 1 ? Infinity : partLimit(part.engine.info().dims) - part.engine.info().chunks
      const docs = await take(Math.max(1, Math.min(batch, Math.floor(room / perDocument()))))
      if (docs.length === 0) break
      // Progress counts across batches: documents while chunking, passages after.
      const base = before + part.engine.info().chunks
      const from = read
      const shift = (p: AddProgress) => (p.phase === 'chunking' ? from : base)
      await part.engine.add(docs, async () => {}, options.onProgress && ((p) => options.onProgress!({ ...p, done: shift(p) + p.done, total: shift(p) + p.total })))
      read += docs.length
      await part.engine.idle()
      const chunks = part.engine.info().chunks
      if (format !== 1 && chunks >= partLimit(part.engine.info().dims)) {
        // Past one part: format 2, written a part at a time.
        const { records, raw } = await finishPart(part)
        writer ??= new LazySnapshotWriter({ ...settings(records.manifest), ...options.lazy }, sink, options.postingRuns)
        await writer.add(records)
        before += chunks
        part = await openPart(raw)
      }
    }
    if (read === 0) throw invalidInput('there are no documents to build a snapshot of')
    if (writer) {
      const rest = part.engine.info().chunks
      if (rest > 0) {
        // The last part is what the input left: partitioned even when small (down to
        // SMALLEST_PARTITIONED), or every vector query would read its vectors whole.
        const minRows = options.vectorIndex?.minRows ?? DEFAULT_INDEX_MIN_ROWS
        if (part.engine.info().dims !== null && rest < minRows) part = await openPart(null, part, { ...options.vectorIndex, minRows: Math.min(minRows, SMALLEST_PARTITIONED) })
        await writer.add((await finishPart(part)).records)
      }
      return { manifest: await writer.finish(), files }
    }
    const { records } = await finishPart(part)
    const lazy = { ...settings(records.manifest), ...options.lazy }
    // Format 1 is written (and measured) only when it may fit: a corpus whose texts alone would
    // pass the limit even at 4:1 compression, or whose int8 vectors would, goes to format 2 at once.
    const estimate = records.docs.reduce((n, d) => n + d.text.length, 0) / 4 + (records.manifest.dims ?? 0) * records.manifest.chunkCount
    if (format === 2 || (format === 'auto' && estimate > LAZY_FROM_BYTES)) return await written(await writeLazySnapshot(records, lazy))
    const whole = await writeSnapshot(records, settings(records.manifest))
    return written(format === 'auto' && whole.manifest.bytes > LAZY_FROM_BYTES ? await writeLazySnapshot(records, lazy) : whole)
  } finally {
    part.close()
  }

  /** Passages per part: `partPassages`, within what one merged segment holds (less 5 % for the last add's overshoot). */
  function partLimit(dims: number | null): number {
    const segment = Math.floor(maxMergeRows(dims) * 0.95)
    const limit = Math.min(options.partPassages ?? segment, segment)
    const minRows = options.vectorIndex?.minRows ?? DEFAULT_INDEX_MIN_ROWS
    if (options.partPassages !== undefined && dims !== null && limit < minRows) throw invalidInput(`parts of ${limit} passages are fewer than vectorIndex.minRows (${minRows}): their vectors would not be partitioned, and every vector query would read them whole. Use parts of at least ${minRows} passages`)
    return limit
  }

  // Files made in memory, handed to `onFile` when there is one.
  async function written(out: { manifest: SnapshotManifest; files: SnapshotFile[] }) {
    if (!options.onFile) return out
    for (const file of out.files) await options.onFile(file)
    return { manifest: out.manifest, files: [] }
  }

  /**
   * A collection for the next part, its seqs and segment ids continuing those of `after`; or,
   * given `reopen`, that part's collection again (closed first), with `vectorIndex`.
   */
  async function openPart(after: Manifest | null, reopen?: Part, vectorIndex = options.vectorIndex): Promise<Part> {
    reopen?.close()
    const backend = reopen?.backend ?? new MemoryBackend()
    const coordination = createCoordination({})
    const store = await backend.open('snapshot')
    if (after) await store.commit({ manifest: { ...after, docCount: 0, chunkCount: 0, totalLength: 0, generation: after.generation + 1 } })
    const engine = await CollectionEngine.open('snapshot', { store, coordination, embedder: options.embedder?.port ?? null }, { analyzer: options.analyzer, chunking, vectorIndex })
    let open = true
    return {
      backend,
      engine,
      close: () => {
        if (!open) return
        open = false
        engine.close()
        coordination.close()
      },
    }
  }

  /**
   * The part merged (one segment where it fits, vectors partitioned past `vectorIndex.minRows`)
   * and read back; `raw`: its manifest as the collection keeps it (the next part continues it).
   */
  async function finishPart(p: Part): Promise<{ records: CollectionRecords; raw: Manifest }> {
    await p.engine.optimize()
    const dumped = p.backend.dump('snapshot')
    p.close()
    return { records: withModel(dumped), raw: dumped.manifest }
  }

  /** With `vectorsFrom`, the records as the model's: a browser embeds queries with it (and its prefixes). */
  function withModel(records: CollectionRecords): CollectionRecords {
    if (supplied) {
      const m = records.manifest
      if (m.vectorSource !== 'caller' || (supplied.dims !== undefined && m.dims !== supplied.dims)) {
        throw invalidInput(`with vectorsFrom every document needs a vector${supplied.dims !== undefined ? ` of ${supplied.dims} dimensions` : ''} (the collection has ${m.vectorSource === 'caller' ? `${m.dims}` : 'none'})`)
      }
      return { ...records, manifest: { ...m, vectorSource: 'embedder', embedder: supplied.model, embedderConventions: { queryPrefix: supplied.queryPrefix ?? '', documentPrefix: supplied.documentPrefix ?? '', pooling: supplied.pooling as 'mean' | 'cls' } } }
    }
    return records
  }
}
