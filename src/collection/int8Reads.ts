/**
 * How a collection reads the int8 blocks its reopen left unread (`ChunkTable.vectorsPending`).
 */
import type { CollectionStore, QuantizedBlockRecord } from '../store/types.js'

/** Int8 runs per read of {@link readInt8}: about 3 MiB at 384 dims. */
const INT8_READ_RUNS = 2

/**
 * Reads the int8 blocks of `segments` (all stored ones: null), a few runs at a time where the store
 * can: one 37 MiB read would hold up a keyword search's requests behind it for its whole length.
 *
 * @example
 * table.loadInt8(await readInt8(store, table.pendingSegments()))
 */
export async function readInt8(store: CollectionStore, segments: readonly number[] | null): Promise<QuantizedBlockRecord[]> {
  if (!store.readQuantizedPart) return store.readQuantized(segments ?? undefined)
  const out: QuantizedBlockRecord[] = []
  // Named segments one at a time: a part may run on into the next segment, which is left to its turn.
  for (const first of segments ? [...segments].sort((a, b) => a - b) : [null]) {
    for (let from: [number, number] | null = [first ?? 0, 0]; from !== null; ) {
      const part: { blocks: QuantizedBlockRecord[]; next: [number, number] | null } = await store.readQuantizedPart(from, INT8_READ_RUNS)
      for (const b of part.blocks) if (first === null || b.segment === first) out.push(b)
      from = part.next && (first === null || part.next[0] === first) ? part.next : null
    }
  }
  return out
}
