/** The public types of the vector index (docs/guides/vector-index.md). */

/**
 * The ANN index (docs/guides/vector-index.md). Vectors are searched exactly (an int8 scan of every row,
 * then fp32 rescoring) until a background merge writes a segment of `minRows` passages or more:
 * that segment is partitioned into √rows inverted lists around trained centroids, its recall
 * is measured (its own passages as queries), and a search reads and scans only the lists nearest
 * the query in it — as many as reach `targetRecall`, or `probes` — then rescores in fp32 as
 * before. Smaller segments, and every add until it is merged, stay exact.
 */
export interface VectorIndexOptions {
  /** Passages with vectors from which a merged segment is partitioned. Default 50,000; `Infinity`: never (exact search at any size). */
  minRows?: number
  /**
   * Lists read and scanned per partitioned segment, for every segment alike; more is slower and
   * finds more true neighbours. Default: unset, each segment probes as many as `targetRecall`
   * needs. A search may set its own (`SearchOptions.probes`).
   */
  probes?: number
  /**
   * Without `probes`: each partitioned segment probes the fewest lists whose measured recall@10
   * (against its exact top 10, its own passages as queries) reaches this. In (0, 1]; default
   * 0.95. Data with little structure needs many lists for it (see the guide).
   */
  targetRecall?: number
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
  /**
   * Recall@10 the partitioned segments were measured to reach at the probes a search uses by
   * default (weighted by their passages); null when none is partitioned or none has the estimate.
   */
  estimatedRecall: number | null
  /** Lists a search probes by default, summed over the partitioned segments. */
  probedLists: number
  /** A merge partitioning a segment in this tab: its phase and progress; null when none runs. */
  building: { phase: 'training' | 'assigning'; done: number; total: number } | null
}
