/**
 * What a collection is given and what it offers the read side: the embedder as the collection sees
 * it (the worker wires the model in), its settings, and the read-only view a search ranks over.
 */
import type { Checkpoint } from '../core/checkpoint.js'
import type { EmbedderPort } from '../models/embedderPort.js'
import type { Pooling } from '../models/embedder.js'
import type { CollectionStore, Manifest } from '../store/types.js'
import type { Analyzer } from '../text/analyzer.js'
import type { AnalyzerOptions, ChunkingOptions } from '../types.js'
import type { BlockCache, PostingsCache } from './caches.js'
import type { ChunkTable } from './chunkTable.js'


/** Per-collection settings; an omitted one keeps what the collection was built with. */
export interface CollectionSettings {
  analyzer?: AnalyzerOptions | false
  chunking?: ChunkingOptions | false
  /** Longest document text accepted, in characters. Default 1,000,000. */
  maxTextLength?: number
}

/**
 * A collection as the read side ranks it: the in-memory table over the store, the manifest it was
 * read at, the analyzer, and the caches. A view stays valid while a search runs on it; a refresh
 * may replace the table, so a search takes a new view after refreshing.
 */
export interface CollectionView {
  table: ChunkTable
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
}

/** What a search needs of an open collection: its current view, and a way to bring it up to date. */
export interface SearchableCollection {
  view(): CollectionView
  /** Reads what other tabs or a merge committed since the view was taken. */
  refresh(): Promise<void>
}
