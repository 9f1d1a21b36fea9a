/**
 * The WebAssembly half of {@link scanQuantized}: blocks whose codes live in a {@link VectorArena}
 * are scored by the SIMD kernel, a run of back-to-back blocks at a time, and the i32 sums are
 * turned into scores and offered to the top-k here, in JavaScript, with the very expression the
 * JavaScript scan uses (`sum * scale * qScale`), so both paths give bit-identical scores and ties.
 *
 * Why scales and top-k stay in JavaScript (Node 20, 100k × 384, 64-row blocks): the kernel takes
 * ~1.9 ms (memory-bound: 38 MB at ~20 GB/s) and the whole scan ~2.4 ms, so everything else —
 * quantizing the query, this loop, the final sort — is ~0.5 ms. Comparing each score with the
 * heap's threshold before calling `push` took the scan from 2.8 to 2.4 ms, since nearly every row
 * loses at once. Moving the rest into WebAssembly could save part of 0.5 ms at the cost of a second
 * kernel and of the slots, scales and mask in linear memory too.
 */
import { ARENA_CHUNK_ROWS, type VectorArena } from '../core/int8Kernel.js'
import type { TopK } from '../core/topk.js'
import type { QuantizedBlock } from './quantizedBlock.js'

/** The query as the scan quantized it, and the arena that last received it. */
export interface ArenaQuery {
  codes: Int8Array
  scale: number
  /** The arena whose query scratch holds `codes` (set by {@link scanArenaRun}). */
  loaded: VectorArena | null
}

/**
 * Scores `blocks[from]` (which must have an `arena`) and the blocks after it that continue it in
 * the same arena, skipping blocks with no row to score. Returns the index of the first block not
 * handled, so a caller loops `for (let b = 0; b < n; ) b = ...`.
 *
 * @example
 * const query: ArenaQuery = { codes: qCodes, scale: qScale, loaded: null }
 * for (let b = 0; b < blocks.length; ) b = blocks[b]!.arena ? scanArenaRun(query, blocks, b, allowed, top) : b + 1
 */
export function scanArenaRun(query: ArenaQuery, blocks: readonly QuantizedBlock[], from: number, allowed: Uint8Array | null, top: TopK): number {
  const first = blocks[from]!
  const { arena, offset } = first.arena!
  const dims = first.dims
  // The run: blocks that start where the previous one ended, in the same arena. A block without a
  // row to score (all deleted or filtered out) ends it, so that it is not computed for nothing.
  if (!hasScorableRow(first.slots, allowed)) return from + 1
  let end = from + 1
  let rows = first.slots.length
  while (end < blocks.length) {
    const next = blocks[end]!
    if (next.arena?.arena !== arena || next.arena.offset !== offset + rows * dims || next.dims !== dims) break
    if (!hasScorableRow(next.slots, allowed)) break
    rows += next.slots.length
    end++
  }
  if (query.loaded !== arena) {
    arena.setQuery(query.codes)
    query.loaded = arena
  }

  const qScale = query.scale
  const allowedLength = allowed === null ? 0 : allowed.length
  let sums: Int32Array = new Int32Array(0)
  let windowStart = 0 // the run's rows [windowStart, windowEnd) are in `sums`
  let windowEnd = 0
  let runRow = 0 // the run's row index of the current block's row 0
  let threshold = top.threshold
  for (let b = from; b < end; b++) {
    const { slots, scales } = blocks[b]!
    const blockRows = slots.length
    let r = 0
    while (r < blockRows) {
      if (runRow + r >= windowEnd) {
        windowStart = runRow + r
        const count = Math.min(ARENA_CHUNK_ROWS, rows - windowStart)
        sums = arena.dots(offset + windowStart * dims, count, dims)
        windowEnd = windowStart + count
      }
      const stop = Math.min(blockRows, windowEnd - runRow)
      const shift = runRow - windowStart
      for (; r < stop; r++) {
        const score = sums[r + shift]! * scales[r]! * qScale
        // Most rows lose to the heap's current minimum: reject them before the call.
        if (score < threshold) continue
        const slot = slots[r]!
        if (slot < 0) continue
        if (allowed !== null && (slot >= allowedLength || allowed[slot] === 0)) continue
        top.push(slot, score)
        threshold = top.threshold
      }
    }
    runRow += blockRows
  }
  return end
}

function hasScorableRow(slots: Int32Array, allowed: Uint8Array | null): boolean {
  for (let r = 0; r < slots.length; r++) {
    const slot = slots[r]!
    if (slot >= 0 && (allowed === null || (slot < allowed.length && allowed[slot] !== 0))) return true
  }
  return false
}
