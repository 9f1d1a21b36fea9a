/** The public types of the vector index (docs/guides/vector-index.md). */

/**
 * The ANN index (docs/guides/vector-index.md). Vectors are searched exactly (an int8 scan of every row,
 * then fp32 rescoring) until a background merge writes a segment of `minRows` passages or more:
 * that segment is partitioned into √rows inverted lists around trained centroids, and a search
 * reads and scans only the `probes` lists nearest the query in it (then rescores in fp32 as
 * before). Smaller segments, and every add until it is merged, stay exact.
 */
export interface VectorIndexOptions {
  /** Passages with vectors from which a merged segment is partitioned. Default 50,000; `Infinity`: never (exact search at any size). */
  minRows?: number
  /** Lists read and scanned per partitioned segment; more is slower and finds more true neighbours. Default 4. A search may set its own (`SearchOptions.probes`). */
  probes?: number
  /** Bytes of int8 lists kept in the worker between searches (least recently used dropped first). Default 16 MiB. */
  cacheBytes?: number
}

/** The state of a collection's vector index. */
export interface VectorIndexInfo {
  /** Passages (live or awaiting compaction) in partitioned segments, and in their lists. */
  partitionedPassages: number
  lists: number
  /** Passages with vectors scanned exactly (segments below `minRows`). */
  exactPassages: number
  /** Bytes of lists held in the worker's cache now. */
  cachedBytes: number
  /** A merge partitioning a segment in this tab: its phase and progress; null when none runs. */
  building: { phase: 'training' | 'assigning'; done: number; total: number } | null
}
