/**
 * Snapshot format version 2: a collection's records as shards a browser fetches when a query needs
 * them (see `lazyStore.ts`), Pagefind-style, with vectors.
 *
 * `manifest.json` lists the segment tables (fetched when the collection opens: each chunk's length,
 * document and list, the documents' ids and metadata, the ANN index's centroids; `segmentTables.ts`)
 * and one index shard per lazy kind. An index shard lists that kind's shards in key order with
 * their first key, size and SHA-256:
 *
 * - `postings`: every segment's postings of a range of terms (a term never spans two shards);
 * - `documents`: documents with their chunks, in order of their first chunk;
 * - `lists`: a partitioned segment's inverted lists, a range of list numbers: product-quantized
 *   residuals with the codebook in the index (`pqLists.ts`), or int8 codes (`listCodes: 'int8'`);
 * - `vectors`: an exact segment's int8 blocks;
 * - `rows`: the rows rescoring reads, as int16 with a scale per row (half the bytes of fp32, within
 *   1/65534 of it), in a few large files read a row at a time by HTTP Range (`rowFiles.ts`).
 *
 * Every name carries its content hash, so a host may cache shards forever.
 */

import { LazySnapshotWriter } from './lazyWriter.js'
import type { CollectionRecords, SnapshotFile } from './write.js'
import type { SnapshotManifest } from './format.js'

export { INDEX_HASH_BYTES, lazyShardFile, type LazyIndex, type LazyPostings, type LazyRows, type WriteLazyOptions } from './lazyIndex.js'
import type { WriteLazyOptions } from './lazyIndex.js'

export { packSegment, type PackedIvf, type PackedSegment } from './segmentTables.js'

/**
 * @throws WinnowError INVALID_INPUT when the collection still has tombstones.
 * @example
 * const { manifest, files } = await writeLazySnapshot(backend.dump('docs'), { embedder: null })
 */
export async function writeLazySnapshot(built: CollectionRecords, options: WriteLazyOptions): Promise<{ manifest: SnapshotManifest; files: SnapshotFile[] }> {
  const files: SnapshotFile[] = []
  const writer = new LazySnapshotWriter(options, async (file) => void files.push(file))
  await writer.add(built)
  return { manifest: await writer.finish(), files }
}
