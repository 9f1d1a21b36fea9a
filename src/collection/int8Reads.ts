/**
 * How a collection reads the int8 blocks its reopen left unread (`ChunkTable.vectorsPending`).
 */
import type { CollectionStore, QuantizedBlockRecord } from '../store/types.js'

/** Int8 runs per read of {@link readInt8}: about 3 MiB at 384 dims. */
const INT8_READ_RUNS = 2

/**
 * Reads the int8 blocks of `segments` and hands each segment's to `place` once all are read. Read
 * a few runs at a time where the store can: one 37 MiB read would hold up a keyword search's
 * requests behind it for its whole length.
 *
 * @example
 * await readInt8(store, table.pendingSegments(), (blocks) => table.loadInt8(blocks))
 */
export async function readInt8(store: CollectionStore, segments: readonly number[], place: (blocks: QuantizedBlockRecord[]) => void): Promise<void> {
  if (!store.readQuantizedPart) return place(await store.readQuantized(segments))
  for (const segment of segments) {
    const blocks: QuantizedBlockRecord[] = []
    for (let from: number | null = 0; from !== null; ) {
      const part: { blocks: QuantizedBlockRecord[]; next: number | null } = await store.readQuantizedPart(segment, from, INT8_READ_RUNS)
      blocks.push(...part.blocks)
      from = part.next
    }
    place(blocks)
  }
}
