import { defaultInt8Kernel, type Int8Kernel, type VectorArena } from '../core/int8Kernel.js'
import { fitsArena, placeBlock, rebindBlockViews } from './arenaBlocks.js'
import type { DocRef, QuantizedBlockRecord, SegmentDoc, SegmentRecord } from '../store/types.js'
import { VECTOR_BLOCK_ROWS } from '../store/types.js'
import type { QuantizedBlock } from '../rank/quantizedBlock.js'
import type { ChunkView, PartitionedSegment } from './ports.js'
import { DocSlots } from './docSlots.js'
import { segmentParts, type SegmentPlace } from './segmentParts.js'

/**
 * What the worker keeps in memory for one collection: per chunk a dense *slot* with its seq, BM25
 * length, document id, metadata and where its vector lives; plus the int8 vector blocks. Texts,
 * postings and fp32 vectors stay in IndexedDB and are read per query, so memory is about
 * `chunks × (dims + 40)` bytes (≈ 42 MB for 100k chunks of 384 dims); a reopen reads the segment
 * headers, and the int8 blocks follow ({@link ChunkTable.loadInt8}).
 *
 * Where WebAssembly SIMD runs, the int8 codes live in a {@link VectorArena} (one per table), so the
 * scan's kernel reads them in place: {@link ChunkTable.addSegment} copies each block's codes there
 * once and keeps only a view, so the codes are not held twice. The arena holds the codes plus
 * 144 KiB of scratch: sized exactly when the caller reserves the whole table first
 * ({@link ChunkTable.reserveArena}, as a reopen does), else grown a quarter at a time as segments
 * arrive (up to 25 % spare). A table rebuilt from the store (reload after a merge, `clear`) starts
 * a new arena, and the old one goes with the old table once no search holds it. Blocks that
 * cannot go there (no SIMD, memory refused, dims above 65,536, short arrays) stay in JavaScript
 * memory and are scanned by the JavaScript loop.
 *
 * @example
 * const table = new ChunkTable()
 * table.addSegment(segment, quantizedBlocks)
 * table.tombstone(seq)
 */
export class ChunkTable implements ChunkView {
  /** Slots in use (live or tombstoned). */
  size = 0
  private seqs = new Uint32Array(1024)
  private lengths = new Uint32Array(1024)
  /** 1 = live, 0 = deleted (tombstoned, awaiting compaction). */
  private live = new Uint8Array(1024)
  /** Segment id of each slot. */
  private segmentOf = new Int32Array(1024)
  /** Row of the slot's vector within its segment, -1 if it has none. */
  private vectorRowOf = new Int32Array(1024)
  /** The smallest seq of the slot's document: where the store keeps the document (its {@link DocRef}). */
  private docSeqOf = new Uint32Array(1024)
  /**
   * The slot's document: its index in its segment's `docs` (kept by the segment's place). No
   * string or object per slot: a snapshot's million passages open with typed columns only, and
   * their ids are read when a hit needs one.
   */
  private docIndexOf = new Uint32Array(1024)
  /** seq → slot, -1 when absent or deleted (BM25 skips those). */
  private slotOf = new Int32Array(1024).fill(-1)
  /**
   * The live slots of each document, built the first time a document is looked up by id (an add,
   * a delete, `get`): a search never needs it, so a table opened only to search does not hash a
   * million ids. Kept up to date once built.
   */
  private docSlots: DocSlots | null = null
  /** Documents of the loaded segments, for sizing {@link docSlots}. */
  private documentCount = 0
  /** {@link metadataColumn}'s answer, until the next segment arrives. */
  private metadataCache: (Record<string, unknown> | undefined)[] | null = null
  readonly blocks: QuantizedBlock[] = []
  /** Where each segment is: slots `[first, first + n)`, int8 blocks `[firstBlock, firstBlock + blockCount)`. */
  private readonly places = new Map<number, SegmentPlace>()
  /** Partitioned segments (the ANN index): their int8 lists are read per query, not held here. */
  readonly partitioned: PartitionedSegment[] = []
  /** Segment ids loaded, ascending. */
  readonly segments: number[] = []
  liveCount = 0
  private readonly kernel: Int8Kernel | null
  private arena: VectorArena | null = null
  /** The arena generation that the blocks' `codes` views were taken in. */
  private viewsOf = 0

  /** `kernel`: the int8 kernel for the arena; default {@link defaultInt8Kernel}, `null` for none. */
  constructor(options: { kernel?: Int8Kernel | null } = {}) {
    this.kernel = options.kernel === undefined ? defaultInt8Kernel() : options.kernel
  }

  /**
   * A table of what the store holds: its segments (in id order), their int8 blocks (`null`: not
   * read yet) and the tombstones. Blocks of a segment no record names are left out: a merge may
   * be writing its own ahead (`staging`).
   *
   * @example
   * const table = ChunkTable.fromStore(await store.readSegments(), null, await store.readTombstones())
   */
  static fromStore(segments: readonly SegmentRecord[], quantized: readonly QuantizedBlockRecord[] | null, tombstones: readonly number[]): ChunkTable {
    const named = new Set(segments.map((s) => s.id))
    const table = new ChunkTable()
    table.reserveFor(segments)
    if (quantized) table.reserveArena(quantized.filter((q) => named.has(q.segment)))
    for (const segment of [...segments].sort((a, b) => a.id - b.id)) {
      table.addSegment(segment, quantized ? quantized.filter((q) => q.segment === segment.id) : null)
    }
    for (const seq of tombstones) table.tombstone(seq)
    return table
  }

  /** Segments with vectors whose int8 blocks are not read yet (see {@link vectorsPending}). */
  private readonly pending = new Set<number>()

  /** Some segment's int8 blocks are not read yet (a reopen leaves them: {@link loadInt8}); no scan may run. */
  get vectorsPending(): boolean {
    return this.pending.size > 0
  }
  pendingSegments(): number[] {
    return [...this.pending]
  }

  /**
   * Adds a segment's chunks (all live) and its int8 blocks (`null`: not read yet, for a segment
   * with vectors); tombstones are applied afterwards.
   */
  addSegment(segment: SegmentRecord, quantized: readonly QuantizedBlockRecord[] | null): void {
    const n = segment.seqs.length
    this.reserve(this.size + n)
    const first = this.size
    // Each document's smallest seq (its DocRef), by its index in `segment.docs`.
    const docSeq = new Uint32Array(segment.docs.length).fill(0xffffffff)
    for (let i = 0; i < n; i++) {
      const d = segment.docOf[i]!
      if (segment.seqs[i]! < docSeq[d]!) docSeq[d] = segment.seqs[i]!
    }
    for (let i = 0; i < n; i++) {
      const slot = first + i
      const seq = segment.seqs[i]!
      this.seqs[slot] = seq
      this.lengths[slot] = segment.lengths[i]!
      this.live[slot] = 1
      this.segmentOf[slot] = segment.id
      this.vectorRowOf[slot] = segment.vectorBlocks > 0 ? i : -1
      this.docSeqOf[slot] = docSeq[segment.docOf[i]!]!
      this.docIndexOf[slot] = segment.docOf[i]!
      this.mapSeq(seq, slot)
    }
    this.size += n
    this.liveCount += n
    this.documentCount += segment.docs.length
    this.metadataCache = null
    const { ivf } = segment
    if (quantized === null && segment.vectorBlocks > 0 && !ivf) this.pending.add(segment.id)
    const sorted = ivf ? [] : [...(quantized ?? [])].sort((a, b) => a.block - b.block)
    this.places.set(segment.id, { first, n, docs: segment.docs, vectorBlocks: segment.vectorBlocks, firstBlock: this.blocks.length, blockCount: sorted.length, ivf })
    if (this.docSlots) {
      this.docSlots.reserveDocuments(this.documentCount)
      for (let slot = first; slot < first + n; slot++) this.docSlots.add(this.docId(slot), slot)
    }
    if (ivf) this.partitioned.push({ segment: segment.id, first, ivf, lists: ivf.starts.length - 1 })
    this.reserveArena(sorted) // one growth for the whole segment rather than one per block
    for (const q of sorted) {
      const rows = q.seqs.length
      const slots = new Int32Array(rows)
      for (let r = 0; r < rows; r++) slots[r] = first + q.block * VECTOR_BLOCK_ROWS + r
      this.blocks.push(this.placed(slots, q))
    }
    this.rebindViews()
    this.segments.push(segment.id)
    this.segments.sort((a, b) => a - b)
  }

  /**
   * The table after a merge committed: `removed` segments out, `merged` (with its int8 blocks) in,
   * every tombstone kept. Built from this table's own columns, so a merge need not read the store
   * again under the write lock (a reload reads every int8 block: seconds at 100k passages). This
   * table is left as it was, for the searches still holding it.
   *
   * @example
   * engine.table = engine.table.afterMerge(plan.segments, batch.putSegments[0] ?? null, batch.putQuantized ?? [])
   */
  afterMerge(removed: readonly number[], merged: SegmentRecord | null, quantized: readonly QuantizedBlockRecord[]): ChunkTable {
    const gone = new Set(removed)
    return this.rebuilt(this.segments.filter((id) => !gone.has(id)), merged ? { segment: merged, quantized } : null)
  }

  /**
   * Places the int8 blocks of pending segments, from `loaded` (records of other segments are
   * ignored; a pending segment they lack stays pending). In place, as an add is: slots do not move,
   * and no search scans a table while it is pending.
   *
   * @example
   * table.loadInt8(await store.readQuantized(table.pendingSegments()))
   */
  loadInt8(loaded: readonly QuantizedBlockRecord[]): void {
    const bySegment = new Map<number, QuantizedBlockRecord[]>()
    for (const q of loaded) if (this.pending.has(q.segment)) (bySegment.get(q.segment) ?? bySegment.set(q.segment, []).get(q.segment)!).push(q)
    this.reserveArena(loaded.filter((q) => bySegment.has(q.segment)))
    for (const [id, records] of bySegment) {
      const place = this.places.get(id)!
      const sorted = records.sort((a, b) => a.block - b.block)
      place.firstBlock = this.blocks.length
      place.blockCount = sorted.length
      for (const q of sorted) {
        const slots = new Int32Array(q.seqs.length)
        for (let r = 0; r < slots.length; r++) slots[r] = place.first + q.block * VECTOR_BLOCK_ROWS + r
        this.blocks.push(this.placed(slots, q))
      }
      this.pending.delete(id)
    }
    this.rebindViews()
  }

  // A new table of `keep` (in order) and then `added`, every tombstone kept; a pending segment stays pending.
  private rebuilt(keep: readonly number[], added: { segment: SegmentRecord; quantized: readonly QuantizedBlockRecord[] } | null): ChunkTable {
    const next = new ChunkTable({ kernel: this.kernel })
    const parts = keep.map((id) => {
      const part = this.segmentParts(id)
      return { segment: part.segment, quantized: this.pending.has(id) ? null : part.quantized }
    })
    next.reserveFor([...parts.map((p) => p.segment), ...(added ? [added.segment] : [])])
    next.reserveArena([...parts.flatMap((p) => p.quantized ?? []), ...(added?.quantized ?? [])])
    for (const p of parts) next.addSegment(p.segment, p.quantized)
    if (added) next.addSegment(added.segment, added.quantized)
    for (let slot = 0; slot < this.size; slot++) if (this.live[slot] === 0) next.tombstone(this.seqs[slot]!)
    return next
  }

  /** A loaded segment as the store holds it (its record and int8 blocks), from the columns. */
  private segmentParts(id: number): { segment: SegmentRecord; quantized: QuantizedBlockRecord[] } {
    const { seqs, lengths, docIndexOf, blocks } = this
    return segmentParts(id, this.places.get(id)!, { seqs, lengths, docIndexOf, blocks })
  }

  /** Marks a chunk deleted; returns whether it was live. */
  tombstone(seq: number): boolean {
    const slot = seq < this.slotOf.length ? this.slotOf[seq]! : -1
    if (slot < 0 || this.live[slot] === 0) return false
    this.live[slot] = 0
    this.slotOf[seq] = -1
    this.liveCount--
    this.docSlots?.remove(this.docId(slot), slot)
    return true
  }

  /** {@link docSlots}, built from the live slots the first time it is needed. */
  private slotsByDocument(): DocSlots {
    return (this.docSlots ??= DocSlots.ofLive((slot) => this.docId(slot), this.live.subarray(0, this.size), this.seqs.length, this.documentCount))
  }

  /** The slot's document as its segment lists it. */
  private document(slot: number): SegmentDoc {
    return this.places.get(this.segmentOf[slot]!)!.docs.at(this.docIndexOf[slot]!)!
  }

  /** The live chunk seqs of a document, in chunk order (empty if absent). */
  seqsOf(docId: string): number[] {
    // A document's chunks take ascending seqs in chunk order (a partitioned segment stores rows by list).
    return Array.from(this.slotsByDocument().of(docId), (s) => this.seqs[s]!).sort((a, b) => a - b)
  }

  docId(slot: number): string {
    return this.document(slot).id
  }
  docRef(slot: number): DocRef {
    return { id: this.docId(slot), seq: this.docSeqOf[slot]! }
  }

  /** Where the store keeps a live document (undefined if it has no live chunk here). */
  docRefOf(docId: string): DocRef | undefined {
    const first = this.slotsByDocument().first(docId)
    return first === undefined ? undefined : this.docRef(first)
  }

  title(slot: number): string | undefined {
    return this.document(slot).title
  }
  metadata(slot: number): Record<string, unknown> | undefined {
    return this.document(slot).metadata
  }

  seq(slot: number): number {
    return this.seqs[slot]!
  }
  segment(slot: number): number {
    return this.segmentOf[slot]!
  }
  vectorRow(slot: number): number {
    return this.vectorRowOf[slot]!
  }

  isLive(slot: number): boolean {
    return this.live[slot] === 1
  }

  hasSeq(seq: number): boolean {
    return seq < this.slotOf.length && this.slotOf[seq]! >= 0
  }

  lengthOfSeq(seq: number): number {
    return this.lengths[this.slotOf[seq]!]!
  }

  hasDocument(docId: string): boolean {
    return this.slotsByDocument().has(docId)
  }

  liveMask(): Uint8Array {
    return this.live
  }

  bm25Columns(): { slotOf: Int32Array; lengths: Uint32Array } {
    return { slotOf: this.slotOf, lengths: this.lengths }
  }

  metadataColumn(): readonly (Record<string, unknown> | undefined)[] {
    if (!this.metadataCache) {
      const column = new Array<Record<string, unknown> | undefined>(this.size)
      for (let slot = 0; slot < this.size; slot++) column[slot] = this.document(slot).metadata
      this.metadataCache = column
    }
    return this.metadataCache
  }

  /** Bytes of int8 codes held in the arena, and the arena's whole memory (diagnostics, benchmarks). */
  arenaBytes(): { codes: number; memory: number } {
    return { codes: this.arena?.codeBytes ?? 0, memory: this.arena?.byteLength ?? 0 }
  }

  /**
   * Makes room in the arena for the codes of `quantized` before they are added, so that a table
   * loaded segment by segment grows its memory once, to the size it needs. Optional: `addSegment`
   * reserves per segment otherwise, growing a quarter at a time. Measured for 100k × 384 in
   * 10k-row segments (Node 20, 2-core VM): loading all segments took 135-165 ms unreserved,
   * 100-125 ms reserved and 57-80 ms with no arena (first writes to fresh pages cost most of the
   * difference), in 36.8 instead of 45.1 MiB of memory.
   *
   * @example
   * table.reserveArena(allQuantizedBlocks)
   * for (const s of segments) table.addSegment(s, blocksOf(s))
   */
  reserveArena(quantized: readonly QuantizedBlockRecord[]): void {
    const bytes = quantized.reduce((n, q) => n + (fitsArena(q.seqs.length, q) ? q.seqs.length * q.dims : 0), 0)
    if (bytes === 0 || !this.kernel) return
    // If the memory is refused, `placed` finds no room and keeps the blocks in JavaScript.
    this.arena ??= this.kernel.createArena()
    this.arena?.reserve(bytes)
  }

  private placed(slots: Int32Array, q: QuantizedBlockRecord): QuantizedBlock {
    return placeBlock(fitsArena(slots.length, q) ? this.arena : null, slots, q)
  }

  private rebindViews(): void {
    if (this.arena && this.arena.generation !== this.viewsOf) this.viewsOf = rebindBlockViews(this.arena, this.blocks)
  }

  /**
   * Sizes the columns, the seq map and the document table for these segments at once, exactly:
   * grown segment by segment they doubled past what they needed (a reopen of 1M passages held
   * 1.94M-slot columns, 25 MB more) and the document table rehashed as it went.
   */
  private reserveFor(segments: readonly SegmentRecord[]): void {
    let rows = this.size
    let docs = 0
    let maxSeq = -1
    for (const s of segments) {
      rows += s.seqs.length
      docs += s.docs.length
      for (const seq of s.seqs) if (seq > maxSeq) maxSeq = seq
    }
    if (rows > this.seqs.length) this.reserve(rows, true)
    if (maxSeq >= this.slotOf.length) this.growSeqMap(maxSeq + 1)
    this.docSlots?.reserveDocuments(this.documentCount + docs)
  }

  private mapSeq(seq: number, slot: number): void {
    if (seq >= this.slotOf.length) this.growSeqMap(Math.max(seq + 1, this.slotOf.length * 2))
    this.slotOf[seq] = slot
  }

  // The seq map at `length` entries, new ones unmapped (-1).
  private growSeqMap(length: number): void {
    const grown = new Int32Array(length).fill(-1)
    grown.set(this.slotOf)
    this.slotOf = grown
  }

  private reserve(capacity: number, exact = false): void {
    if (capacity <= this.seqs.length) return
    const next = exact ? capacity : Math.max(capacity, this.seqs.length * 2)
    this.seqs = grow(this.seqs, new Uint32Array(next))
    this.lengths = grow(this.lengths, new Uint32Array(next))
    this.live = grow(this.live, new Uint8Array(next))
    this.segmentOf = grow(this.segmentOf, new Int32Array(next))
    this.vectorRowOf = grow(this.vectorRowOf, new Int32Array(next))
    this.docSeqOf = grow(this.docSeqOf, new Uint32Array(next))
    this.docIndexOf = grow(this.docIndexOf, new Uint32Array(next))
    this.docSlots?.reserve(next)
  }
}

function grow<T extends Uint32Array | Uint8Array | Int32Array>(from: T, to: T): T {
  to.set(from as never)
  return to
}
