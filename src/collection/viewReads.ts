/**
 * The store reads behind a view refresh: the segments another tab added (with their int8 blocks and
 * the tombstones), or everything for a rebuild. Pure reads: the engine applies them only when no
 * local commit landed meanwhile (see LocalCommits).
 *
 * @example
 * const { segments, quantized, tombstones } = await readAddedSegments(store, [7])
 */
import type { CollectionStore, QuantizedBlockRecord, SegmentRecord } from '../store/types.js'

export interface ViewReads {
  segments: SegmentRecord[]
  /** The int8 blocks of `segments`; null when a rebuild leaves them for later (a lazy reopen). */
  quantized: QuantizedBlockRecord[] | null
  tombstones: number[]
}

/** The records of the segments `added` (in id order), their int8 blocks, and the tombstones. */
export async function readAddedSegments(store: CollectionStore, added: readonly number[]): Promise<ViewReads> {
  const segments = added.length > 0 ? (await store.readSegments([...added])).sort((a, b) => a.id - b.id) : []
  const quantized = segments.length > 0 ? await store.readQuantized(segments.map((s) => s.id)) : []
  return { segments, quantized, tombstones: await store.readTombstones() }
}

/** Every segment and tombstone; the int8 blocks only `withInt8` (37 MiB at 100k × 384). */
export async function readWholeView(store: CollectionStore, withInt8: boolean): Promise<ViewReads> {
  const [segments, quantized, tombstones] = await Promise.all([store.readSegments(), withInt8 ? store.readQuantized() : null, store.readTombstones()])
  return { segments, quantized, tombstones }
}
