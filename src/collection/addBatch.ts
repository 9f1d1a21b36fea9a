import { quantize } from '../core/quantize.js'
import {
  VECTOR_BLOCK_ROWS,
  type ChunkRecord,
  type DocRecord,
  type Manifest,
  type PostingRecord,
  type QuantizedBlockRecord,
  type SegmentRecord,
  type WriteBatch,
} from '../store/types.js'
import type { AddResult } from '../types.js'
import { buildPostings, type TermPostings } from '../rank/bm25.js'
import type { ChunkView } from './ports.js'
import type { PreparedDocument } from './ingest.js'

/** What one `add()` writes, and what the in-memory view applies once it is durable. */
export interface PlannedAdd {
  batch: WriteBatch
  segment: SegmentRecord
  quantized: QuantizedBlockRecord[]
  postings: Map<string, TermPostings>
  /** Chunks of documents this add replaces: tombstoned. */
  replacedSeqs: number[]
  result: AddResult
}

/**
 * Turns prepared documents into one segment (seqs from the manifest's counter, postings, vector
 * blocks with their int8 copies), the document and chunk records, tombstones for the versions it
 * replaces, and the next manifest. Pure: nothing is written or changed.
 *
 * @example
 * const planned = buildAddBatch({ prepared, vectors: null, dims: null, embeddedBy: null, manifest, table })
 * await store.commit(planned.batch)
 */
export function buildAddBatch(input: {
  prepared: readonly PreparedDocument[]
  /** One vector per chunk, in chunk order, or null for a keyword-only add. */
  vectors: Float32Array | null
  dims: number | null
  /** The embedder model that made (some of) the vectors, or null. */
  embeddedBy: string | null
  manifest: Manifest
  table: ChunkView
}): PlannedAdd {
  const { prepared, vectors, dims, embeddedBy, manifest, table } = input
  const replacedIds = prepared.map((d) => d.id).filter((id) => table.hasDocument(id))
  const replacedSeqs = replacedIds.flatMap((id) => table.seqsOf(id))
  const replacedLength = replacedSeqs.reduce((n, s) => n + table.lengthOfSeq(s), 0)
  const base = manifest.nextSeq
  const segmentId = manifest.nextSegment
  const n = prepared.reduce((sum, d) => sum + d.chunks.length, 0)
  const seqs = new Uint32Array(n)
  const lengths = new Uint32Array(n)
  const docOf = new Uint32Array(n)
  const putDocs: DocRecord[] = []
  const putChunks: ChunkRecord[] = []
  const analyzed: { seq: number; terms: readonly string[] }[] = []
  let addedLength = 0
  let i = 0
  prepared.forEach((doc, d) => {
    const record: DocRecord = { id: doc.id, text: doc.text, seqs: [] }
    if (doc.title !== undefined) record.title = doc.title
    if (doc.metadata !== undefined) record.metadata = doc.metadata
    for (const chunk of doc.chunks) {
      const seq = base + i
      seqs[i] = seq
      lengths[i] = chunk.terms.length
      docOf[i] = d
      addedLength += chunk.terms.length
      record.seqs.push(seq)
      analyzed.push({ seq, terms: chunk.terms })
      const { index, start, end, text, section, path } = chunk
      putChunks.push({ seq, docId: doc.id, index, start, end, text, section, path })
      i++
    }
    putDocs.push(record)
  })
  const { postings } = buildPostings(analyzed)
  const putPostings: PostingRecord[] = [...postings].map(([term, p]) => ({ term, segment: segmentId, seqs: p.seqs, tfs: p.tfs }))
  const blocks = vectors && dims ? Math.ceil(n / VECTOR_BLOCK_ROWS) : 0
  const quantized: QuantizedBlockRecord[] = []
  for (let b = 0; b < blocks; b++) {
    const from = b * VECTOR_BLOCK_ROWS
    const to = Math.min(n, from + VECTOR_BLOCK_ROWS)
    const { codes, scales } = quantize(vectors!.subarray(from * dims!, to * dims!), dims!)
    quantized.push({ segment: segmentId, block: b, dims: dims!, seqs: seqs.slice(from, to), codes, scales })
  }
  const segment: SegmentRecord = {
    id: segmentId,
    seqs,
    lengths,
    docOf,
    docs: prepared.map((d) => (d.metadata ? { id: d.id, title: d.title, metadata: d.metadata } : { id: d.id, title: d.title })),
    vectorBlocks: blocks,
  }
  const next: Manifest = {
    ...manifest,
    generation: manifest.generation + 1,
    updatedAt: Date.now(),
    nextSeq: base + n,
    nextSegment: segmentId + 1,
    docCount: manifest.docCount - replacedIds.length + prepared.length,
    chunkCount: manifest.chunkCount - replacedSeqs.length + n,
    totalLength: manifest.totalLength - replacedLength + addedLength,
    dims: blocks > 0 ? dims : manifest.dims,
    vectorSource: blocks > 0 ? (embeddedBy || manifest.vectorSource === 'embedder' ? 'embedder' : 'caller') : manifest.vectorSource,
    embedder: embeddedBy ?? manifest.embedder,
  }
  return {
    batch: {
      manifest: next,
      putDocs,
      putChunks,
      deleteDocs: replacedIds.map((id) => table.docRefOf(id)!),
      addTombstones: replacedSeqs,
      putSegments: [segment],
      putPostings,
      putQuantized: quantized,
      ...(blocks > 0 ? { putRows: [{ seqs, vectors: vectors!.subarray(0, n * dims!) }] } : {}),
      unused: { segment: segmentId, fromSeq: base },
    },
    segment,
    quantized,
    postings,
    replacedSeqs,
    result: { documents: prepared.length, chunks: n, replaced: replacedIds.length },
  }
}
