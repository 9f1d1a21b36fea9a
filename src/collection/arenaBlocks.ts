/**
 * The chunk table's int8 blocks in its {@link VectorArena} (see `chunkTable.ts`): where a block's
 * codes may go, placing them, and taking the views again after the arena grew.
 */
import { ARENA_MAX_DIMS, type VectorArena } from '../core/int8Kernel.js'
import type { QuantizedBlock } from '../rank/quantizedBlock.js'
import type { QuantizedBlockRecord } from '../store/types.js'

/**
 * Whether a block can be scanned from the arena: rows to scan, dims the kernel takes, and arrays
 * long enough (a short one stays in JavaScript, where the scan reports it as INVALID_INPUT).
 */
export function fitsArena(rows: number, q: Pick<QuantizedBlock, 'dims' | 'codes' | 'scales'>): boolean {
  return rows > 0 && q.dims > 0 && q.dims <= ARENA_MAX_DIMS && q.codes.length >= rows * q.dims && q.scales.length >= rows
}

/**
 * The scan's block for a record: its codes moved into `arena` when given and it has room, else as
 * stored. Always one object literal of one shape: blocks built by spreading were measured 40 %
 * slower to scan (3.4 vs 2.4 ms for 100k × 384), V8 giving them a slower map.
 */
export function placeBlock(arena: VectorArena | null, slots: Int32Array, q: QuantizedBlockRecord): QuantizedBlock {
  const { dims, codes, scales } = q
  const length = slots.length * dims
  // Only the rows' codes: spare capacity in the record is not copied.
  const offset = arena ? arena.append(codes.subarray(0, length)) : -1
  if (!arena || offset < 0) return { slots, dims, codes, scales, arena: undefined }
  return { slots, dims, codes: arena.view(offset, length), scales, arena: { arena, offset } }
}

/** After the arena grew, every earlier view is detached: takes them again; returns the arena's generation. */
export function rebindBlockViews(arena: VectorArena, blocks: readonly QuantizedBlock[]): number {
  for (const block of blocks) {
    if (block.arena) block.codes = arena.view(block.arena.offset, block.slots.length * block.dims)
  }
  return arena.generation
}
