/**
 * fp32 row blocks (schema 6): each chunk's full-precision vector, stored once in the block of its
 * seq (`⌊seq / rowBlockRows(dims)⌋`) by the commit that adds it, and removed by the commit that
 * tombstones it. Merges and partitioning read the int8 codes and never move these rows, so a row
 * is written once however often its segment is merged. Pure functions: the IndexedDB store, the
 * in-memory one and the migration apply them to records.
 */
import { WinnowError } from '../errors.js'
import { rowBlockRows, type RowBlockRecord, type WriteBatch } from './types.js'

/** What one commit does to one row block: rows added (by seq), seqs removed. */
export interface RowChanges {
  add: Map<number, Float32Array>
  remove: Set<number>
}

/**
 * The row block changes of a batch: `putRows` added, `addTombstones` removed. Empty for a
 * collection without vectors (`dims` null).
 *
 * @throws WinnowError `INVALID_INPUT` for a row group whose vectors are not `seqs.length × dims`.
 * @example
 * for (const [block, change] of rowChanges(batch, 384)) stored.set(block, applyRowChanges(block, stored.get(block), change, 384))
 */
export function rowChanges(batch: Pick<WriteBatch, 'putRows' | 'addTombstones'>, dims: number | null): Map<number, RowChanges> {
  const out = new Map<number, RowChanges>()
  if (dims === null) return out
  const per = rowBlockRows(dims)
  const at = (block: number) => out.get(block) ?? out.set(block, { add: new Map(), remove: new Set() }).get(block)!
  for (const group of batch.putRows ?? []) {
    if (group.vectors.length !== group.seqs.length * dims) {
      throw new WinnowError('INVALID_INPUT', `a row group holds ${group.vectors.length} values for ${group.seqs.length} rows of ${dims} dimensions`)
    }
    for (let i = 0; i < group.seqs.length; i++) {
      const seq = group.seqs[i]!
      at(Math.floor(seq / per)).add.set(seq, group.vectors.subarray(i * dims, (i + 1) * dims))
    }
  }
  for (const seq of batch.addTombstones ?? []) at(Math.floor(seq / per)).remove.add(seq)
  return out
}

/**
 * A row block after a commit's changes (null: no row left, delete it). Rows already stored stay
 * unless removed; a row added under a seq already stored replaces it.
 *
 * @example
 * const next = applyRowChanges(7, stored, change, 384)
 */
export function applyRowChanges(block: number, stored: RowBlockRecord | undefined, change: RowChanges, dims: number): RowBlockRecord | null {
  const rows = new Map<number, Float32Array>()
  if (stored) for (let i = 0; i < stored.seqs.length; i++) rows.set(stored.seqs[i]!, stored.vectors.subarray(i * dims, (i + 1) * dims))
  for (const [seq, row] of change.add) rows.set(seq, row)
  for (const seq of change.remove) rows.delete(seq)
  if (rows.size === 0) return null
  const seqs = Uint32Array.from(rows.keys()).sort()
  const vectors = new Float32Array(seqs.length * dims)
  seqs.forEach((seq, i) => vectors.set(rows.get(seq)!, i * dims))
  return { block, seqs, vectors }
}

/**
 * Whether a block holds only seqs at or past `fromSeq` (an add's first seq): then nothing was
 * stored there before the add, and it is written without a read.
 */
export function rowBlockUnused(block: number, dims: number, fromSeq: number): boolean {
  return block * rowBlockRows(dims) >= fromSeq
}

/**
 * The row of `seq` in a block (a view), or null when the block does not hold it.
 *
 * @example
 * const row = rowOf(record, 1234, 384)
 */
export function rowOf(block: RowBlockRecord, seq: number, dims: number): Float32Array | null {
  let lo = 0
  let hi = block.seqs.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const s = block.seqs[mid]!
    if (s === seq) return block.vectors.subarray(mid * dims, (mid + 1) * dims)
    if (s < seq) lo = mid + 1
    else hi = mid - 1
  }
  return null
}

/**
 * Writes a commit's row block changes with the requests of its transaction: blocks an add knows
 * unused are put as they are, the others read, changed and written back (or deleted when empty).
 */
export async function writeRowBlocks(
  store: { get(key: IDBValidKey): Promise<unknown>; put(value: unknown): Promise<unknown>; delete(key: IDBValidKey): Promise<unknown> },
  changes: Map<number, RowChanges>,
  dims: number,
  unused?: { fromSeq: number; put(value: unknown): void },
): Promise<void> {
  let blocks = [...changes.keys()]
  if (unused) {
    for (const b of blocks) {
      if (!rowBlockUnused(b, dims, unused.fromSeq)) continue
      const next = applyRowChanges(b, undefined, changes.get(b)!, dims)
      if (next) unused.put(next)
    }
    blocks = blocks.filter((b) => !rowBlockUnused(b, dims, unused.fromSeq))
  }
  if (blocks.length === 0) return
  const stored = await Promise.all(blocks.map((b) => store.get(b) as Promise<RowBlockRecord | undefined>))
  const made: Promise<unknown>[] = []
  blocks.forEach((b, i) => {
    const change = changes.get(b)!
    // A removal in a block that holds nothing (a chunk without a vector) changes nothing.
    if (!stored[i] && change.add.size === 0) return
    const next = applyRowChanges(b, stored[i], change, dims)
    const p = next ? store.put(next) : store.delete(b)
    p.catch(() => {})
    made.push(p)
  })
  await Promise.all(made)
}
