/**
 * The requests of a commit that read before they write (passage blocks, posting buckets), made
 * inside the commit's IndexedDB transaction (`idb.ts`), and the read of segment records.
 */
import type { IDBPDatabase } from 'idb'
import { mergeBuckets, packPostings, type PackedBucket } from './postingCodec.js'
import { applyChanges, type BlockChanges, type PassageBlock } from './passageBlocks.js'
import { fromStoredSegment, type StoredSegment } from './segmentColumns.js'
import { PASSAGE_BLOCK_SEQS, type Manifest, type PostingRecord, type RowBlockRecord, type SegmentRecord } from './types.js'

/** The segment records (schema 5, `segmentColumns`): all, or those of `ids` that exist, in `ids` order. */
export async function readSegmentRecords(db: IDBPDatabase<unknown>, ids?: readonly number[]): Promise<SegmentRecord[]> {
  if (!ids) return ((await db.getAll('segmentColumns')) as StoredSegment[]).map(fromStoredSegment)
  const tx = db.transaction('segmentColumns')
  const found = await Promise.all(ids.map((id) => tx.store.get(id) as Promise<StoredSegment | undefined>))
  return found.filter((s): s is StoredSegment => s !== undefined).map(fromStoredSegment)
}

/**
 * Applies a commit's changes to the passage blocks it touches: each is read, changed and written
 * back (or deleted when empty) in the commit's transaction, since an add may share its first block
 * with the add before it, and a snapshot import may spread one block's documents over shards.
 */
export async function writeBlocks(
  store: { get(key: IDBValidKey): Promise<unknown>; put(value: unknown): Promise<unknown>; delete(key: IDBValidKey): Promise<unknown> },
  changes: Map<number, BlockChanges>,
  unused?: { fromSeq: number; put(value: unknown): void },
): Promise<void> {
  let blocks = [...changes.keys()]
  if (unused) {
    // A block that starts at or after the first unused seq holds nothing yet: no read needed.
    for (const b of blocks) {
      const next = b * PASSAGE_BLOCK_SEQS >= unused.fromSeq ? applyChanges(b, undefined, changes.get(b)!) : null
      if (next) unused.put(next)
    }
    blocks = blocks.filter((b) => b * PASSAGE_BLOCK_SEQS < unused.fromSeq)
  }
  const stored = await Promise.all(blocks.map((b) => store.get(b) as Promise<PassageBlock | undefined>))
  await issueAll(
    blocks.map((b, i) => () => {
      const next = applyChanges(b, stored[i], changes.get(b)!)
      return next ? store.put(next) : store.delete(b)
    }),
  )
}

/**
 * Makes the requests in order and waits for them all. When one throws as it is made, the ones
 * already made fail with the transaction's abort: each is handled here, so none goes unhandled.
 */
export async function issueAll(requests: (() => Promise<unknown>)[]): Promise<void> {
  const made: Promise<unknown>[] = []
  try {
    for (const request of requests) {
      const p = request()
      p.catch(() => {})
      made.push(p)
    }
  } catch (error) {
    await Promise.allSettled(made)
    throw error
  }
  await Promise.all(made)
}

/**
 * Packs postings into their segments' buckets and writes them, merged with a bucket already stored
 * (a snapshot import writes one segment's postings over several commits). Requests only, so it
 * runs inside the commit's transaction.
 */
export async function putPostings(
  store: { get(key: IDBValidKey): Promise<unknown>; put(value: unknown): Promise<unknown> },
  postings: readonly PostingRecord[],
  unused?: { segment: number; put(value: unknown): void },
): Promise<void> {
  const bySegment = new Map<number, PostingRecord[]>()
  for (const p of postings) {
    const list = bySegment.get(p.segment)
    if (list) list.push(p)
    else bySegment.set(p.segment, [p])
  }
  let packed = [...bySegment].flatMap(([segment, list]) => packPostings(segment, list))
  if (unused) {
    // The buckets of a segment nothing was written under yet are put as they are.
    for (const b of packed) if (b.segment === unused.segment) unused.put(b)
    packed = packed.filter((b) => b.segment !== unused.segment)
  }
  if (packed.length === 0) return
  const stored = await Promise.all(packed.map((b) => store.get([b.bucket, b.segment]) as Promise<PackedBucket | undefined>))
  await issueAll(packed.map((b, i) => () => store.put(stored[i] ? mergeBuckets(stored[i]!, b) : b)))
}

/** Deletes a segment's posting buckets (found through the store's `segment` index), inside the commit's transaction. */
export async function deleteSegmentPostings(store: { index(name: 'segment'): { getAllKeys(key: IDBValidKey): Promise<IDBValidKey[]> }; delete(key: IDBValidKey): Promise<unknown> }, segment: number): Promise<void> {
  const keys = await store.index('segment').getAllKeys(segment)
  await issueAll(keys.map((k) => () => store.delete(k)))
}

export function segmentRange(segment: number): IDBKeyRange {
  return IDBKeyRange.bound([segment, -Infinity], [segment, Infinity])
}

/**
 * Records of one store by `[segment, n]` keys, in one read transaction, aligned with `keys`
 * (undefined where none is stored).
 *
 * @example
 * const lists = await getByKeys<ListRecord>(db, 'listRecords', [[3, 17], [3, 4]])
 */
export function getByKeys<T>(db: IDBPDatabase<unknown>, store: 'listRecords', keys: readonly (readonly [number, number])[]): Promise<(T | undefined)[]> {
  const tx = db.transaction(store)
  return Promise.all(keys.map((k) => tx.store.get([k[0], k[1]]) as Promise<T | undefined>))
}

/** The manifest and the stored segments' ids, read in one transaction (a consistent pair). */
export async function readManifestAndIds(db: IDBPDatabase<unknown>): Promise<[Manifest | null, number[]]> {
  const tx = db.transaction(['meta', 'segmentColumns'])
  const [manifest, ids] = await Promise.all([tx.objectStore('meta').get('manifest') as Promise<Manifest | undefined>, tx.objectStore('segmentColumns').getAllKeys() as Promise<number[]>])
  return [manifest ?? null, ids]
}

/** fp32 row blocks by number, in one read transaction; missing ones are left out. */
export async function getRowBlocks(db: IDBPDatabase<unknown>, blocks: readonly number[]): Promise<RowBlockRecord[]> {
  const tx = db.transaction('rows')
  const found = await Promise.all(blocks.map((b) => tx.store.get(b) as Promise<RowBlockRecord | undefined>))
  return found.filter((r): r is RowBlockRecord => r !== undefined)
}
