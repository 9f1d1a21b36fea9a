/**
 * Decodes one verified shard into the store records it stands for (the importer commits them).
 * Shapes are checked, so a well-hashed but malformed shard is SNAPSHOT_INVALID, never a crash later.
 */

import { WinnowError } from '../errors.js'
import type { ChunkRecord, DocRecord, PostingRecord, QuantizedBlockRecord, RowGroup, SegmentRecord } from '../store/types.js'
import type { ShardKind, ShardPayloads, SnapshotManifest } from './format.js'

/** Records of one shard, ready for a `WriteBatch`. */
export interface ShardRecords {
  docs: DocRecord[]
  chunks: ChunkRecord[]
  segments: SegmentRecord[]
  postings: PostingRecord[]
  quantized: QuantizedBlockRecord[]
  /** The fp32 rows rescoring reads, rebuilt from the int8 codes (snapshots carry no fp32). */
  rows: RowGroup[]
  /** How many of the shard's records (`ShardEntry.records`) were read. */
  count: number
}

/**
 * @example
 * const records = shardRecords('postings', decodeRecords(await gunzip(bytes)), manifest)
 */
export function shardRecords(kind: ShardKind, payload: unknown, manifest: SnapshotManifest): ShardRecords {
  const out: ShardRecords = { docs: [], chunks: [], segments: [], postings: [], quantized: [], rows: [], count: 0 }
  const p = payload as Record<string, unknown> | null
  if (p === null || typeof p !== 'object') throw malformed(kind, 'it holds no object')
  if (kind === 'documents') readDocuments(p as unknown as ShardPayloads['documents'], out)
  else if (kind === 'segments') readSegments(p as unknown as ShardPayloads['segments'], out)
  else if (kind === 'postings') readPostings(p as unknown as ShardPayloads['postings'], out)
  else readVectors(p as unknown as ShardPayloads['vectors'], out, manifest.collection.dims)
  return out
}

function readDocuments(p: ShardPayloads['documents'], out: ShardRecords): void {
  if (!Array.isArray(p.documents)) throw malformed('documents', 'no documents list')
  for (const d of p.documents) {
    if (!d || typeof d.id !== 'string' || typeof d.text !== 'string' || !Array.isArray(d.chunks)) throw malformed('documents', 'a document has no id, text or chunks')
    const doc: DocRecord = { id: d.id, text: d.text, seqs: [] }
    if (d.title !== undefined) doc.title = String(d.title)
    if (d.metadata !== undefined) doc.metadata = d.metadata
    for (const c of d.chunks) {
      if (!c || !Number.isInteger(c.seq) || !Number.isInteger(c.start) || !Number.isInteger(c.end) || c.start < 0 || c.end > d.text.length || c.start > c.end) {
        throw malformed('documents', `a chunk of ${d.id} has bad offsets`)
      }
      doc.seqs.push(c.seq)
      out.chunks.push({
        seq: c.seq,
        docId: d.id,
        index: c.index,
        start: c.start,
        end: c.end,
        text: typeof c.text === 'string' ? c.text : d.text.slice(c.start, c.end),
        section: c.section ?? null,
        path: Array.isArray(c.path) ? c.path : [],
      })
    }
    out.docs.push(doc)
  }
  out.count = out.docs.length
}

function readSegments(p: ShardPayloads['segments'], out: ShardRecords): void {
  if (!Array.isArray(p.segments)) throw malformed('segments', 'no segments list')
  for (const s of p.segments) {
    const n = s?.seqs?.length
    if (!(s?.seqs instanceof Uint32Array) || !(s.lengths instanceof Uint32Array) || !(s.docOf instanceof Uint32Array) || s.lengths.length !== n || s.docOf.length !== n || !(Array.isArray(s.docs) || typeof (s.docs as { at?: unknown } | undefined)?.at === 'function')) {
      throw malformed('segments', 'a segment table has arrays of the wrong type or length')
    }
    for (let i = 0; i < n; i++) if (s.docOf[i]! >= s.docs.length) throw malformed('segments', 'a chunk points past its segment\'s documents')
    out.segments.push(s as SegmentRecord)
  }
  out.count = out.segments.length
}

function readPostings(p: ShardPayloads['postings'], out: ShardRecords): void {
  if (!Number.isInteger(p.segment) || !Array.isArray(p.terms) || !(p.lengths instanceof Uint32Array) || !(p.seqs instanceof Uint32Array) || !(p.tfs instanceof Uint16Array)) {
    throw malformed('postings', 'its arrays have the wrong types')
  }
  if (p.lengths.length !== p.terms.length || p.seqs.length !== p.tfs.length) throw malformed('postings', 'its arrays disagree in length')
  let at = 0
  for (let i = 0; i < p.terms.length; i++) {
    const n = p.lengths[i]!
    if (at + n > p.seqs.length) throw malformed('postings', 'a term runs past the end of the postings')
    const seqs = new Uint32Array(n)
    let previous = 0
    for (let j = 0; j < n; j++) {
      // Gaps were taken in uint32 arithmetic, so adding back wraps the same way.
      previous = j === 0 ? p.seqs[at]! : (previous + p.seqs[at + j]!) >>> 0
      seqs[j] = previous
    }
    out.postings.push({ term: String(p.terms[i]), segment: p.segment, seqs, tfs: p.tfs.slice(at, at + n) })
    at += n
  }
  out.count = p.terms.length
}

function readVectors(p: ShardPayloads['vectors'], out: ShardRecords, dims: number | null): void {
  if (!Array.isArray(p.blocks)) throw malformed('vectors', 'no blocks list')
  for (const b of p.blocks) {
    const rows = b?.seqs?.length
    if (!(b?.seqs instanceof Uint32Array) || !(b.codes instanceof Int8Array) || !(b.scales instanceof Float32Array) || b.dims !== dims || b.scales.length !== rows || b.codes.length !== rows * dims!) {
      throw malformed('vectors', 'a block has arrays of the wrong type or length, or other dimensions than the manifest')
    }
    out.quantized.push(b)
    // The fp32 copy the rescoring step reads: rebuilt from the codes (value = code × scale), stored
    // by seq like an add's rows.
    const vectors = new Float32Array(b.codes.length)
    for (let r = 0; r < rows; r++) {
      const scale = b.scales[r]!
      for (let i = r * dims!, end = i + dims!; i < end; i++) vectors[i] = b.codes[i]! * scale
    }
    out.rows.push(sortedRows(b.seqs, vectors, dims!))
  }
  out.count = out.quantized.length
}

/** A row group with its seqs ascending (an int8 block of a partitioned segment is in list order). */
function sortedRows(seqs: Uint32Array, vectors: Float32Array, dims: number): RowGroup {
  let ascending = true
  for (let i = 1; i < seqs.length && ascending; i++) ascending = seqs[i - 1]! < seqs[i]!
  if (ascending) return { seqs: seqs.slice(), vectors }
  const order = Array.from(seqs.keys()).sort((a, b) => seqs[a]! - seqs[b]!)
  const sorted = new Float32Array(vectors.length)
  order.forEach((from, to) => sorted.set(vectors.subarray(from * dims, (from + 1) * dims), to * dims))
  return { seqs: Uint32Array.from(order, (i) => seqs[i]!), vectors: sorted }
}

function malformed(kind: ShardKind, why: string): WinnowError {
  return new WinnowError('SNAPSHOT_INVALID', `a ${kind} shard of the snapshot is malformed: ${why}. Rebuild the snapshot`, { reason: 'corrupt', kind })
}
