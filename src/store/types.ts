/**
 * The storage contract of a collection, implemented by IndexedDB (`idb.ts`) and by an in-memory twin
 * (`memory.ts`) that the same contract suite tests.
 *
 * Layout: a collection is a list of immutable *segments*, one per `add()`. A segment carries its
 * chunks' BM25 lengths, its documents' metadata, per-term postings and its int8 vectors in
 * blocks or lists; fp32 rows for rescoring are kept apart, by seq, read on demand. Deleting or
 * replacing a document writes *tombstones* for its chunks; compaction later rewrites segments
 * without them. Every write is one {@link WriteBatch} committed atomically.
 */

import type { Passage } from '../types.js'

/** Version of the on-disk layout; `migrations.ts` holds one step per version. */
export const SCHEMA_VERSION = 7

/**
 * Version of the records a store hands out and takes (documents, chunks, segments, postings,
 * vector blocks: the types below), which snapshots carry. Format v2 (schema 2) changed how they are
 * stored, not what they are, so snapshots built before it still import.
 */
export const RECORD_LAYOUT = 1

/**
 * Rows per int8 vector block of an exact segment (stored as runs of up to 64 blocks:
 * `quantizedRuns.ts`). Until schema 6 the fp32 rows were blocked the same way per segment; they are
 * stored by seq now ({@link rowBlockRows}).
 */
export const VECTOR_BLOCK_ROWS = 64

/**
 * Rows per block of the `rows` store (schema 6): the largest power of two up to 64 whose fp32
 * block stays within 24 KiB — 16 rows at 384 dims, 8 at 768, 4 at 1,024. A row is stored once, in
 * the block of its seq (`⌊seq / rowBlockRows(dims)⌋`), and never moves: merges read the int8 codes.
 *
 * A rescoring reads one block per candidate (50 for a vector search of `k` 10, 200 for a hybrid
 * one), so the block should be small: in Chromium at 100k × 384 those reads took 4.5 / 14 ms p50
 * with 12 KiB blocks against 6 / 22 ms with 48 KiB ones (values of 64 KiB or more, kept out of
 * line, were slower still: 98 KiB blocks, 65 ms for 50 reads). But each record costs its write
 * too — 8-10 ms a MiB at 12 KiB, 3.5 at 48 KiB, in Chromium's browser process, the busiest of the
 * three during a 1M ingest — and 24 KiB sits between the two.
 *
 * @example
 * rowBlockRows(384) // 16
 * rowBlockRows(1024) // 4
 */
export function rowBlockRows(dims: number): number {
  let rows = VECTOR_BLOCK_ROWS
  while (rows > 1 && rows * dims * 4 > ROW_BLOCK_BYTES) rows /= 2
  return rows
}

/** Byte budget of an fp32 row block ({@link rowBlockRows}). */
export const ROW_BLOCK_BYTES = 24 * 1024

/**
 * Seqs per passage block (schema 3). A document is stored in the block of its smallest chunk seq,
 * `⌊seq / PASSAGE_BLOCK_SEQS⌋`, with its chunks' positions, so an add of 5,000 one-chunk documents
 * writes 313 records instead of 10,000 (measured in Chromium: 10,000 small records commit in
 * ~750 ms, 79 blocks of 64 documents in ~15 ms). A hit reads its document's block: at 16 seqs
 * that is 16 abstract-sized documents (~25 KB), not 64 (~100 KB), for every hit of a search.
 */
export const PASSAGE_BLOCK_SEQS = 16

/**
 * Which stored document a caller means: its id and its smallest chunk seq (which names its block,
 * and tells a document from an older version of it under the same id).
 */
export interface DocRef {
  id: string
  seq: number
}

/** How the collection gets its vectors; fixed by the first `add()` that stores any. */
export type VectorSource = 'embedder' | 'caller' | 'none'

/** The collection's header: counters, the settings the index was built with, statistics. */
export interface Manifest {
  schema: number
  /** Bumped by every commit; tells a tab its in-memory view is stale. */
  generation: number
  nextSeq: number
  nextSegment: number
  /** Vector length, once known. */
  dims: number | null
  vectorSource: VectorSource
  /** Model id that embedded the chunks (`null` for caller vectors or none). */
  embedder: string | null
  /**
   * How the embedder was applied ({ queryPrefix, documentPrefix, pooling }), recorded with the
   * first embedded add so queries are embedded the same way on every reopen. Absent in
   * collections written before winnow recorded it: those were embedded without prefixes.
   */
  embedderConventions?: { queryPrefix: string; documentPrefix: string; pooling: 'mean' | 'cls' } | null
  /** Resolved analyzer settings (JSON); the postings are only valid for this analyzer. */
  analyzer: unknown
  /** Resolved chunking settings (JSON) or null for one chunk per document. */
  chunking: unknown
  docCount: number
  /** Live chunks. */
  chunkCount: number
  /** Sum of the analyzed lengths of live chunks (BM25's average length). */
  totalLength: number
  updatedAt: number
  /**
   * Segment ids a merge has reserved and writes ahead of its commit ({@link CollectionStore.stage}):
   * no segment record names them yet, so no read sees them. A merge that did not finish (a closed
   * tab) leaves its id here; the next merge deletes what it wrote. Absent: none.
   */
  staging?: number[]
}

/** A document as the caller gave it (text kept whole), with the chunk seqs it became. */
export interface DocRecord {
  id: string
  text: string
  title?: string
  metadata?: Record<string, unknown>
  seqs: number[]
}

/** One passage of a document. */
export interface ChunkRecord extends Passage {
  seq: number
  docId: string
}

/** What the worker keeps in memory for a segment (small: no texts, no postings, no vectors). */
export interface SegmentRecord {
  id: number
  /** Chunk seqs, ascending. */
  seqs: Uint32Array
  /** Analyzed length of each chunk (BM25). */
  lengths: Uint32Array
  /** Index into `docs` for each chunk. */
  docOf: Uint32Array
  docs: SegmentDoc[] | DocColumns
  /**
   * Nonzero when the chunks have vectors (all of them): the number of 64-row int8 blocks they
   * fill. Their fp32 rows are in the `rows` store by seq ({@link RowBlockRecord}).
   */
  vectorBlocks: number
  /**
   * Present when the segment's vectors are partitioned (the ANN index, `collection/ivfBuild.ts`):
   * its rows are ordered by list, their int8 codes are stored per list ({@link ListRecord}, read
   * per query) instead of in `quantized` blocks.
   */
  ivf?: IvfLayout
}

/** A document as its segment lists it. */
export interface SegmentDoc {
  id: string
  title?: string
  metadata?: Record<string, unknown>
}

/**
 * A segment's documents read from columns as they are asked for: a format-2 snapshot's tables
 * (`snapshot/segmentTables.ts`), where a million ids stay one front-coded string until a hit
 * needs one. Read it through `at` and `length`, as an array is read; {@link docList} makes an
 * array of either.
 */
export interface DocColumns {
  readonly length: number
  at(index: number): SegmentDoc | undefined
}

/** A segment's documents as an array (those read from columns, each made). */
export function docList(docs: SegmentRecord['docs']): SegmentDoc[] {
  return Array.isArray(docs) ? docs : Array.from({ length: docs.length }, (_, i) => docs.at(i)!)
}

/**
 * How a partitioned segment's rows are split into inverted lists: list `l` holds the segment's rows
 * `[starts[l], starts[l + 1])`, whose vectors are nearest (by cosine) to centroid `l`.
 */
export interface IvfLayout {
  /** `lists × dims` unit centroids, row after row. */
  centroids: Float32Array
  /** `lists + 1` row offsets, ascending; the last is the segment's row count. */
  starts: Uint32Array
  /**
   * Estimated recall@10 when probing 1, 2, … lists (measured when the segment was partitioned, its
   * own rows as queries; ends at the first 1). Absent in segments written before it was added.
   */
  recall?: Float32Array
}

/** The int8 codes of one inverted list of a partitioned segment: its rows `starts[list]…` in order. */
export interface ListRecord {
  segment: number
  list: number
  dims: number
  codes: Int8Array
  scales: Float32Array
  /**
   * The codes stand for vectors coarser than int8 rounding (a snapshot's product-quantized lists,
   * `core/pq.ts`): a scan that read them rescores every candidate it keeps, not only those int8's
   * error bound leaves in reach.
   */
  approximate?: true
}

/** One term's postings within one segment. */
export interface PostingRecord {
  term: string
  segment: number
  seqs: Uint32Array
  tfs: Uint16Array
}

/** Int8 copy of a block of unit vectors, for the scan. */
export interface QuantizedBlockRecord {
  segment: number
  block: number
  dims: number
  seqs: Uint32Array
  codes: Int8Array
  scales: Float32Array
}

/**
 * Full-precision rows for rescoring (schema 6): those of the seqs `[block × R, (block + 1) × R)`
 * that have one, R = {@link rowBlockRows}(dims). Rows of deleted chunks are removed by the commit
 * that tombstones them, so a block holds live rows only (and is deleted when none is left).
 */
export interface RowBlockRecord {
  block: number
  /** Ascending. */
  seqs: Uint32Array
  /** `seqs.length × dims`, row after row. */
  vectors: Float32Array
}

/** fp32 rows to store: `vectors` holds the rows of `seqs` (ascending), one after another. */
export interface RowGroup {
  seqs: Uint32Array
  vectors: Float32Array
}

/** Everything one commit writes or removes; applied all-or-nothing. */
export interface WriteBatch {
  manifest: Manifest
  /** Documents, with their chunks in `putChunks` (a chunk names its document by `docId`). */
  putDocs?: DocRecord[]
  /** Documents removed with their chunks (deleted, or replaced by a new version). */
  deleteDocs?: DocRef[]
  putChunks?: ChunkRecord[]
  putSegments?: SegmentRecord[]
  /** Removes segments with their postings, int8 blocks and lists (not their fp32 rows: those go with their tombstones). */
  deleteSegments?: number[]
  putPostings?: PostingRecord[]
  putQuantized?: QuantizedBlockRecord[]
  /**
   * fp32 rows by seq, into the `rows` store's blocks (a block an earlier commit wrote is read and
   * extended). Only adds and snapshot imports write rows; merges never move them.
   */
  putRows?: RowGroup[]
  /** Inverted lists of partitioned segments. */
  putLists?: ListRecord[]
  /** Chunk seqs that no longer count; their fp32 rows are removed in the same commit. */
  addTombstones?: number[]
  removeTombstones?: number[]
  /** Remove everything but the manifest first (`clear()`). */
  clearAll?: boolean
  /**
   * What the batch knows to be unused (an add: its segment id and seqs were never given out), so
   * its records there are written without reading what is stored first: the posting buckets of
   * `segment`, and passage and row blocks whose first seq is `fromSeq` or later. A store may check the
   * claim; the in-memory one does, so the contract suite would catch a false one.
   */
  unused?: { segment: number; fromSeq: number }
}

/**
 * One open collection's storage. Reads may run concurrently; `commit` is atomic and resolves only
 * once the data is durable. Returned typed arrays and records are the caller's to keep.
 */
export interface CollectionStore {
  readonly name: string
  /**
   * Which creation of the collection this is: a random id written when its storage was created
   * ('' for one created before winnow wrote them). A collection deleted and created again under
   * the same name has another, so a handle can tell it is not the one it opened.
   */
  readonly incarnation?: string
  /**
   * Resolves while the store is still there (reconnecting if the browser closed it); rejects with
   * COLLECTION_DELETED (or, for a snapshot version, STORAGE_UNAVAILABLE with `details.gone`) once it
   * was deleted or cleared underneath.
   */
  check?(): Promise<void>
  readManifest(): Promise<Manifest | null>
  readSegments(ids?: readonly number[]): Promise<SegmentRecord[]>
  /** The ids of the stored segments, ascending (keys only: a refresh reads just the new records). */
  readSegmentIds(): Promise<number[]>
  readTombstones(): Promise<number[]>
  readQuantized(segments?: readonly number[]): Promise<QuantizedBlockRecord[]>
  /**
   * Part of one segment's int8 blocks: those stored from block `from` on, in at most `runs`
   * records, and the block to read next (null: none left). Lets a long read yield to other
   * requests between its parts. Absent: read with `readQuantized`.
   */
  readQuantizedPart?(segment: number, from: number, runs: number): Promise<{ blocks: QuantizedBlockRecord[]; next: number | null }>
  /** Inverted lists by (segment, list), aligned with `keys`; undefined where none is stored. */
  readLists(keys: readonly (readonly [segment: number, list: number])[]): Promise<(ListRecord | undefined)[]>
  /**
   * fp32 row blocks by number ({@link RowBlockRecord}); missing ones are left out. With `seqs`, the
   * rows the caller needs: a store that reads rows one by one (a lazily fetched snapshot) may return
   * blocks holding only those.
   */
  readRows(blocks: readonly number[], seqs?: readonly number[]): Promise<RowBlockRecord[]>
  /** Postings of each term in every segment that has it (absent terms → empty list). */
  readPostings(terms: readonly string[]): Promise<Map<string, PostingRecord[]>>
  /** Postings of whole segments (compaction). */
  readSegmentPostings(segment: number): Promise<PostingRecord[]>
  /**
   * Chunks by seq, each with its document as the caller's view knows it (documents keep their
   * chunks); a chunk whose document is not stored, or does not list it, reads as undefined.
   */
  readChunks(seqs: readonly number[], docs: readonly DocRef[]): Promise<(ChunkRecord | undefined)[]>
  /** Documents (undefined where none with that id and smallest seq is stored). */
  readDocs(refs: readonly DocRef[]): Promise<(DocRecord | undefined)[]>
  /**
   * Titles of documents, for a store whose segment tables leave them out (a format-2 snapshot keeps
   * them with the texts, which a query fetches for its candidates anyway); absent otherwise.
   */
  readTitles?(refs: readonly DocRef[]): Promise<(string | undefined)[]>
  commit(batch: WriteBatch): Promise<void>
  /**
   * Writes records of a segment no segment record names yet (a merge's, ahead of the commit that
   * adds its segment record), in a transaction of their own, leaving the manifest alone: an add
   * waits for one such step, not for a whole merge.
   */
  stage(records: StagedRecords): Promise<void>
  close(): void
}

/** What {@link CollectionStore.stage} writes: a reserved segment's postings, int8 blocks and lists. */
export type StagedRecords = Pick<WriteBatch, 'putPostings' | 'putQuantized' | 'putLists'>

/** Opens and deletes collections. */
export interface StoreBackend {
  /**
   * Opens a collection, creating it when missing — unless `create: false`, when a missing one
   * rejects with COLLECTION_DELETED (a handle reopening what it had opened must not get an empty one).
   */
  open(name: string, options?: { create?: boolean }): Promise<CollectionStore>
  /** Removes a collection and everything in it; fine if it does not exist. */
  destroy(name: string): Promise<void>
  /** Names of the collections that exist. */
  list(): Promise<string[]>
}
