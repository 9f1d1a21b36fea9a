import type { IvfLayout, QuantizedBlockRecord, SegmentRecord } from '../store/types.js'
import { VECTOR_BLOCK_ROWS } from '../store/types.js'
import type { QuantizedBlock } from '../rank/quantizedBlock.js'

/** Where a chunk table keeps one segment: slots `[first, first + n)`, int8 blocks `[firstBlock, firstBlock + blockCount)`. */
export interface SegmentPlace {
  first: number
  n: number
  /** The segment's documents (a slot's `docIndexOf` indexes them). */
  docs: SegmentRecord['docs']
  vectorBlocks: number
  firstBlock: number
  blockCount: number
  ivf?: IvfLayout
}

/** The chunk table's columns a segment is rebuilt from (read only). */
export interface TableColumns {
  seqs: Uint32Array
  lengths: Uint32Array
  docIndexOf: Uint32Array
  blocks: readonly QuantizedBlock[]
}

/**
 * A loaded segment as the store holds it (its record and int8 blocks), from a chunk table's
 * columns: what a table rebuilt after a merge starts from, without reading the store again.
 *
 * @example
 * const { segment, quantized } = segmentParts(7, place, columns)
 */
export function segmentParts(id: number, place: SegmentPlace, c: TableColumns): { segment: SegmentRecord; quantized: QuantizedBlockRecord[] } {
  const { first, n, docs, vectorBlocks, firstBlock, blockCount, ivf } = place
  const quantized = c.blocks.slice(firstBlock, firstBlock + blockCount).map(
    (b): QuantizedBlockRecord => ({
      segment: id,
      block: (b.slots[0]! - first) / VECTOR_BLOCK_ROWS,
      dims: b.dims,
      seqs: Uint32Array.from(b.slots, (slot) => c.seqs[slot]!),
      codes: b.codes,
      scales: b.scales,
    }),
  )
  const segment: SegmentRecord = { id, seqs: c.seqs.slice(first, first + n), lengths: c.lengths.slice(first, first + n), docOf: c.docIndexOf.slice(first, first + n), docs, vectorBlocks }
  if (ivf) segment.ivf = ivf
  return { segment, quantized }
}
