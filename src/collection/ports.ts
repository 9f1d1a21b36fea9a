/**
 * What a collection is given and what it offers the read side: the embedder as the collection sees
 * it (the worker wires the model in), its settings, and the read-only view a search ranks over.
 */
import type { Checkpoint } from '../core/checkpoint.js'
import type { EmbedderPort } from '../models/embedderPort.js'
import type { Pooling } from '../models/embedder.js'
import type { CollectionStore, DocRef, IvfLayout, Manifest } from '../store/types.js'
import type { Analyzer } from '../text/analyzer.js'
import type { AnalyzerOptions, ChunkingOptions, VectorIndexOptions } from '../types.js'
import type { BlockCache, ListCache, PostingsCache } from './caches.js'
import type { QuantizedBlock } from '../rank/quantizedBlock.js'

/** Per-collection settings; an omitted one keeps what the collection was built with. */
export interface CollectionSettings {
  analyzer?: AnalyzerOptions | false
  chunking?: ChunkingOptions | false
  /** Longest document text accepted, in characters. Default 1,000,000. */
  maxTextLength?: number
  vectorIndex?: VectorIndexOptions
}

/**
 * The in-memory chunk table (collection/chunkTable.ts) as everything outside it reads it: per-slot
 * facts by method, and for hot loops the typed arrays themselves, fetched once per loop (read-only
 * by contract: only the table writes them). A slot is a chunk's dense position in the table; a seq
 * its id in the store.
 */
export interface ChunkView {
  /** Slots in use (live or tombstoned). */
  readonly size: number
  /** Live slots. */
  readonly liveCount: number
  /** Segment ids loaded, ascending. */
  readonly segments: readonly number[]
  /** The int8 vector blocks the scan reads. */
  readonly blocks: readonly QuantizedBlock[]
  /** Partitioned segments (the ANN index): their lists are read per query (`search/ivfProbe.ts`). */
  readonly partitioned: readonly PartitionedSegment[]
  /** Some segments' int8 blocks are not read yet: the collection reads them before a vector scan. */
  readonly vectorsPending: boolean
  /** The document id of a slot. */
  docId(slot: number): string
  /** Where the store keeps a slot's document: its id and smallest chunk seq. */
  docRef(slot: number): DocRef
  /** Where the store keeps a live document (undefined if it has no live chunk). */
  docRefOf(docId: string): DocRef | undefined
  /** The title of a slot's document, if it has one. */
  title(slot: number): string | undefined
  /** The metadata of a slot's document, if it has any. */
  metadata(slot: number): Record<string, unknown> | undefined
  /** The store seq of a slot. */
  seq(slot: number): number
  /** The segment a slot's chunk belongs to. */
  segment(slot: number): number
  /** Row of a slot's vector within its segment; -1 when it has none. */
  vectorRow(slot: number): number
  /** Whether a slot is live (not tombstoned). */
  isLive(slot: number): boolean
  /** Whether a chunk seq is live in this table. */
  hasSeq(seq: number): boolean
  /** BM25 length of a live chunk seq. */
  lengthOfSeq(seq: number): number
  /** Whether a document has live chunks here. */
  hasDocument(docId: string): boolean
  /** The live chunk seqs of a document, in chunk order (empty if absent). */
  seqsOf(docId: string): number[]
  /** 1 per live slot, 0 per tombstoned one (length ≥ `size`): the scans' mask. Read-only. */
  liveMask(): Uint8Array
  /** What BM25 reads per posting: seq → slot (-1 absent or deleted), and each slot's length. Read-only. */
  bm25Columns(): { slotOf: Int32Array; lengths: Uint32Array }
  /** The first `size` slots' metadata, for a filter's mask (read-only, kept until a segment arrives). */
  metadataColumn(): readonly (Record<string, unknown> | undefined)[]
}

/** A partitioned segment as the table holds it: list `l` is slots `first + starts[l]` on. */
export interface PartitionedSegment {
  segment: number
  /** Slot of the segment's row 0. */
  first: number
  lists: number
  ivf: IvfLayout
}

/**
 * A collection as the read side ranks it: the in-memory table over the store, the manifest it was
 * read at, the analyzer, and the caches. A view stays valid while a search runs on it; a refresh
 * may replace the table, so a search takes a new view after refreshing.
 */
export interface CollectionView {
  table: ChunkView
  manifest: Manifest
  analyzer: Analyzer
  store: CollectionStore
  embedder: EmbedderPort | null
  /** Put before the query text when it is embedded (the collection's recorded convention). */
  queryPrefix?: string
  /** Passed to the embedder for the query (the collection's pooling). */
  embedOptions?: { pooling?: Pooling }
  postings: PostingsCache
  blocks: BlockCache
  /** Inverted lists of partitioned segments read by recent searches. */
  lists: ListCache
  /** Lists probed per partitioned segment when a search does not say; null: as many as `targetRecall` needs. */
  probes: number | null
  /** Estimated recall each partitioned segment is probed for when no `probes` is set. */
  targetRecall: number
}

/** What a search needs of an open collection: its current view, and a way to bring it up to date. */
export interface SearchableCollection {
  view(): CollectionView
  /** Reads what other tabs or a merge committed since the view was taken. */
  refresh(): Promise<void>
  /**
   * Resolves once the view's int8 vector blocks are all in memory (a reopened collection reads
   * them for its first vector scan, not at open). Absent: they always are.
   */
  loadVectors?(): Promise<void>
}
