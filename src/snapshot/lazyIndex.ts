/**
 * The index shard of a format-2 kind (see `writeLazy.ts`), the payloads of its postings and early
 * rows shards, and the writer's options: apart, so that the writers of each kind and the reader
 * share them without importing one another.
 */
import type { LazyKind } from './format.js'
import type { PackedCodebook } from './pqLists.js'
import type { WriteSnapshotOptions } from './write.js'

/** Options of `writeLazySnapshot`: shard targets are bytes before compression. */
export interface WriteLazyOptions extends WriteSnapshotOptions {
  /** Postings shards (default 32 KiB: ~10,000 postings). */
  postingsBytes?: number
  /** Document shards (default 16 KiB: a hit's text costs a few KiB, not a whole corpus' block). */
  documentBytes?: number
  /** List and vector shards (default 64 KiB). */
  vectorBytes?: number
  /** Rows files (default 1 MiB; read by range, a row at a time). */
  rowFileBytes?: number
  /**
   * How the ANN index's lists are coded: `'pq'` (default where 4 divides the dimensions): product
   * quantization, `dims / 4` bytes a passage (`pqLists.ts`); `'int8'`: as the collection keeps them.
   */
  listCodes?: 'pq' | 'int8'
}

/** A postings shard: terms ascending, each with its segments ascending; seqs gap-coded per posting. */
export interface LazyPostings {
  terms: string[]
  segments: Uint32Array
  lengths: Uint32Array
  seqs: Uint32Array
  tfs: Uint16Array
}

/** A rows shard of 16 rows, as format-2 snapshots before 2026-12-07 had them: int16 rows by row block. */
export interface LazyRows {
  blocks: { block: number; seqs: Uint32Array; codes: Uint16Array; scales: Float32Array }[]
}


/**
 * An index shard's payload: the shards of one lazy kind, in key order. Shard `i` is the file
 * {@link lazyShardFile}(of, i, its hash); its first 12 bytes of SHA-256 are `sha256[12i…12i+12]`
 * (96 bits: a damaged or stale file passes with odds of 2⁻⁹⁶, and an index of 3,000 shards keeps
 * 36 KB of hashes rather than 192 KB of hex; the shards the manifest lists keep all 32 bytes).
 */
export interface LazyIndex {
  of: LazyKind
  sha256: Uint8Array
  bytes: Uint32Array
  records: Uint32Array
  /** The first key of each shard: terms (postings) or numbers (first seq, list or block). */
  first: string[] | Uint32Array
  /** The segment of each shard (lists and vectors); 0 otherwise. */
  segments: Uint32Array
  /** Rows files (`rowFiles.ts`): bytes of a record. Absent in rows shards of 16 rows (before 2026-12-07). */
  rowBytes?: number
  /** Rows files: the seq of every row, in file order, as gaps. */
  seqGaps?: Uint32Array
  /** Lists: the product quantizer's codebook, when the lists are coded with it (`pqLists.ts`). */
  codebook?: PackedCodebook
}

/** Bytes of SHA-256 an index keeps per shard. */
export const INDEX_HASH_BYTES = 12

/** The file of a lazy shard: `shards/<kind>-<n>-<12 hex of its hash>.bin`. */
export function lazyShardFile(kind: LazyKind, n: number, sha256Hex: string): string {
  return `shards/${kind}-${String(n).padStart(4, '0')}-${sha256Hex.slice(0, 12)}.bin`
}
