/** The in-memory shape of one block of int8 vectors, as the scans read it. */

import type { VectorArena } from '../core/int8Kernel.js'

/** One block of int8-quantized rows, as the store keeps them (see `core/quantize`). */
export interface QuantizedBlock {
  /** Row → in-memory slot id; a negative slot marks a deleted row that the scan skips. */
  slots: Int32Array
  /** Components per vector; must equal the query's length. */
  dims: number
  /** `slots.length * dims` codes, row after row (may be longer: spare capacity is ignored). */
  codes: Int8Array
  /** One scale per row: `value ≈ code * scale`. */
  scales: Float32Array
  /**
   * Where the codes live in a {@link VectorArena}, when they do (see `ChunkTable`): the scan then
   * hands them to the WebAssembly kernel, and `codes` is a view of the same bytes, valid until the
   * arena grows.
   */
  arena?: { arena: VectorArena; offset: number } | undefined
  /** Coarser than int8 (`ListRecord.approximate`): candidates from it are all rescored. */
  approximate?: true
}
