import type { IvfLayout, QuantizedBlockRecord, SegmentRecord } from '../store/types.js'
import { VECTOR_BLOCK_ROWS } from '../store/types.js'
import type { QuantizedBlock } from '../rank/quantizedBlock.js'

/** Where a chunk table keeps one segment: slots `[first, first + n)`, int8 blocks `[firstBlock, firstBlock + blockCount)`. */
export interface SegmentPlace {
  first: number
  n: number
  vectorBlocks: number
  firstBlock: number
  blockCount: number
  ivf?: IvfLayout
}

/** The chunk table's columns a segment is rebuilt from (read only). */
export interface TableColumns {
  seqs: Uint32Array
  lengths: Uint32Array
  docSeqOf: Uint32Array
  docIds: readonly string[]
  titles: readonly (string | undefined)[] | null
  metadataOf: readonly (Record<string, unknown> | undefined)[]
  blocks: readonly QuantizedBlock[]
}

/**
 * A loaded segment as the store holds it (its record and int8 blocks), from a chunk table's
 * columns: what a table rebuilt after a merge starts from, without reading the store again.
 * A document is told apart by its smallest seq (its DocRef's), unique within a segment.
 *
 * @example
 * const { segment, quantized } = segmentParts(7, place, columns)
 */
export function segmentParts(id: number, place: SegmentPlace, c: TableColumns): { segment: SegmentRecord; quantized: QuantizedBlockRecord[] } {
  const { first, n, vectorBlocks, firstBlock, blockCount, ivf } = place
  const docs: SegmentRecord['docs'] = []
  const docIndex = new Map<number, number>()
  const docOf = new Uint32Array(n)
  for (let i = 0; i < n; i++) {
    const slot = first + i
    const key = c.docSeqOf[slot]!
    let at = docIndex.get(key)
    if (at === undefined) {
      at = docs.length
      docIndex.set(key, at)
      const doc: SegmentRecord['docs'][number] = { id: c.docIds[slot]!, title: c.titles?.[slot] }
      if (c.metadataOf[slot] !== undefined) doc.metadata = c.metadataOf[slot]
      docs.push(doc)
    }
    docOf[i] = at
  }
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
  const segment: SegmentRecord = { id, seqs: c.seqs.slice(first, first + n), lengths: c.lengths.slice(first, first + n), docOf, docs, vectorBlocks }
  if (ivf) segment.ivf = ivf
  return { segment, quantized }
}
