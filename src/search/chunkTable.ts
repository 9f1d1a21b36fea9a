import type { QuantizedBlockRecord, SegmentRecord } from '../store/types.js'
import { VECTOR_BLOCK_ROWS } from '../store/types.js'
import type { QuantizedBlock } from './vectorScan.js'

/**
 * What the worker keeps in memory for one collection: per chunk a dense *slot* with its seq, BM25
 * length, document id, metadata and where its vector lives; plus the int8 vector blocks. Texts,
 * postings and fp32 vectors stay in IndexedDB and are read per query, so memory is about
 * `chunks × (dims + 40)` bytes (≈ 42 MB for 100k chunks of 384 dims) and a reopen reads only the
 * segment headers and the int8 blocks.
 *
 * @example
 * const table = new ChunkTable()
 * table.addSegment(segment, quantizedBlocks)
 * table.tombstone(seq)
 */
export class ChunkTable {
  /** Slots in use (live or tombstoned). */
  size = 0
  seqs = new Uint32Array(1024)
  lengths = new Uint32Array(1024)
  /** 1 = live, 0 = deleted (tombstoned, awaiting compaction). */
  live = new Uint8Array(1024)
  /** Segment id of each slot (to find its fp32 block). */
  segmentOf = new Int32Array(1024)
  /** Row of the slot's vector within its segment, -1 if it has none. */
  vectorRowOf = new Int32Array(1024)
  docIds: string[] = []
  metadata: (Record<string, unknown> | undefined)[] = []
  titles: (string | undefined)[] = []
  /** seq → slot, -1 when absent or deleted (BM25 skips those). */
  slotOf = new Int32Array(1024).fill(-1)
  /** Live slots of each document, in chunk order. */
  readonly docSlots = new Map<string, number[]>()
  readonly blocks: QuantizedBlock[] = []
  /** Segment ids loaded, ascending. */
  readonly segments: number[] = []
  liveCount = 0

  /** Adds a segment's chunks (all live) and its int8 blocks; tombstones are applied afterwards. */
  addSegment(segment: SegmentRecord, quantized: readonly QuantizedBlockRecord[]): void {
    const n = segment.seqs.length
    this.reserve(this.size + n)
    const first = this.size
    for (let i = 0; i < n; i++) {
      const slot = first + i
      const seq = segment.seqs[i]!
      this.seqs[slot] = seq
      this.lengths[slot] = segment.lengths[i]!
      this.live[slot] = 1
      this.segmentOf[slot] = segment.id
      this.vectorRowOf[slot] = segment.vectorBlocks > 0 ? i : -1
      const doc = segment.docs[segment.docOf[i]!]!
      this.docIds[slot] = doc.id
      this.metadata[slot] = doc.metadata
      this.titles[slot] = doc.title
      this.mapSeq(seq, slot)
      let slots = this.docSlots.get(doc.id)
      if (!slots) this.docSlots.set(doc.id, (slots = []))
      slots.push(slot)
    }
    this.size += n
    this.liveCount += n
    for (const q of [...quantized].sort((a, b) => a.block - b.block)) {
      const rows = q.seqs.length
      const slots = new Int32Array(rows)
      for (let r = 0; r < rows; r++) slots[r] = first + q.block * VECTOR_BLOCK_ROWS + r
      this.blocks.push({ slots, dims: q.dims, codes: q.codes, scales: q.scales })
    }
    this.segments.push(segment.id)
    this.segments.sort((a, b) => a - b)
  }

  /** Marks a chunk deleted; returns whether it was live. */
  tombstone(seq: number): boolean {
    const slot = seq < this.slotOf.length ? this.slotOf[seq]! : -1
    if (slot < 0 || this.live[slot] === 0) return false
    this.live[slot] = 0
    this.slotOf[seq] = -1
    this.liveCount--
    const docId = this.docIds[slot]!
    const slots = this.docSlots.get(docId)
    if (slots) {
      const rest = slots.filter((s) => s !== slot)
      if (rest.length > 0) this.docSlots.set(docId, rest)
      else this.docSlots.delete(docId)
    }
    return true
  }

  /** The live chunk seqs of a document, in chunk order (empty if absent). */
  seqsOf(docId: string): number[] {
    return (this.docSlots.get(docId) ?? []).map((s) => this.seqs[s]!)
  }

  private mapSeq(seq: number, slot: number): void {
    if (seq >= this.slotOf.length) {
      const grown = new Int32Array(Math.max(seq + 1, this.slotOf.length * 2)).fill(-1)
      grown.set(this.slotOf)
      this.slotOf = grown
    }
    this.slotOf[seq] = slot
  }

  private reserve(capacity: number): void {
    if (capacity <= this.seqs.length) return
    const next = Math.max(capacity, this.seqs.length * 2)
    this.seqs = grow(this.seqs, new Uint32Array(next))
    this.lengths = grow(this.lengths, new Uint32Array(next))
    this.live = grow(this.live, new Uint8Array(next))
    this.segmentOf = grow(this.segmentOf, new Int32Array(next))
    this.vectorRowOf = grow(this.vectorRowOf, new Int32Array(next))
  }
}

function grow<T extends Uint32Array | Uint8Array | Int32Array>(from: T, to: T): T {
  to.set(from as never)
  return to
}
