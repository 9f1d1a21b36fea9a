/**
 * How a collection reads the int8 blocks its reopen left unread (`ChunkTable.vectorsPending`).
 */
import type { CollectionStore, QuantizedBlockRecord } from '../store/types.js'

/** Int8 runs per read of {@link readInt8}: about 3 MiB at 384 dims. */
const INT8_READ_RUNS = 2

/**
 * Reads the int8 blocks of `segments`, a few runs at a time where the store can: one 37 MiB read
 * would hold up a keyword search's requests behind it for its whole length.
 *
 * @example
 * table.loadInt8(await readInt8(store, table.pendingSegments()))
 */
export async function readInt8(store: CollectionStore, segments: readonly number[]): Promise<QuantizedBlockRecord[]> {
  if (!store.readQuantizedPart) return store.readQuantized(segments)
  const out: QuantizedBlockRecord[] = []
  for (const segment of segments) {
    for (let from: number | null = 0; from !== null; ) {
      const part: { blocks: QuantizedBlockRecord[]; next: number | null } = await store.readQuantizedPart(segment, from, INT8_READ_RUNS)
      out.push(...part.blocks)
      from = part.next
    }
  }
  return out
}
