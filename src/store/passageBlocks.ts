/**
 * Passage blocks (schema 3): documents with their chunks' positions, grouped by the block of their
 * smallest chunk seq (`⌊seq / PASSAGE_BLOCK_SEQS⌋`). Seqs are never reused and merges keep them, so
 * a document stays in its block until it is deleted or replaced; both remove it from the block in
 * the same commit. Pure functions: the IndexedDB store and its migration apply them to records.
 */
import { WinnowError } from '../errors.js'
import { PASSAGE_BLOCK_SEQS, type ChunkRecord, type DocRecord, type DocRef, type WriteBatch } from './types.js'

/** A chunk as a block keeps it: its text only where it is not its document's text from `start` to `end`. */
export type StoredChunk = Omit<ChunkRecord, 'docId' | 'text'> & { text?: string }

/** A document as a block keeps it. */
export interface StoredDoc extends DocRecord {
  /** Its chunks, ascending by seq. */
  chunks: StoredChunk[]
}

/** One record of the `passages` store. */
export interface PassageBlock {
  block: number
  docs: StoredDoc[]
}

/** The smallest chunk seq of a document: the `seq` of its {@link DocRef}. */
export function docSeq(doc: { seqs: readonly number[] }): number {
  let min = Infinity
  for (const s of doc.seqs) if (s < min) min = s
  return min
}

/** The block a document (by its {@link DocRef}) lives in. */
export function blockOf(ref: DocRef): number {
  return Math.floor(ref.seq / PASSAGE_BLOCK_SEQS)
}

/** What one commit does to the blocks it touches. */
export interface BlockChanges {
  /** Entries removed, as `id \0 seq` keys. */
  remove: Set<string>
  add: StoredDoc[]
}

const refKey = (id: string, seq: number) => `${id}\u0000${seq}`

/**
 * The block changes of a batch: `deleteDocs` removed, `putDocs` added with their `putChunks`
 * (a document put again under the same ref replaces its entry).
 *
 * @throws WinnowError `INVALID_INPUT` for a chunk whose document is not in the batch, or a document without chunks.
 * @example
 * for (const [block, changes] of blockChanges(batch)) stored.set(block, applyChanges(stored.get(block), changes))
 */
export function blockChanges(batch: Pick<WriteBatch, 'putDocs' | 'putChunks' | 'deleteDocs'>): Map<number, BlockChanges> {
  const out = new Map<number, BlockChanges>()
  const at = (block: number) => out.get(block) ?? out.set(block, { remove: new Set(), add: [] }).get(block)!
  for (const ref of batch.deleteDocs ?? []) at(blockOf(ref)).remove.add(refKey(ref.id, ref.seq))
  const chunksOf = new Map<string, ChunkRecord[]>()
  for (const c of batch.putChunks ?? []) {
    const list = chunksOf.get(c.docId)
    if (list) list.push(c)
    else chunksOf.set(c.docId, [c])
  }
  for (const doc of batch.putDocs ?? []) {
    const seq = docSeq(doc)
    if (!Number.isFinite(seq)) throw new WinnowError('INVALID_INPUT', `document '${doc.id}' has no chunks to store`)
    const chunks = (chunksOf.get(doc.id) ?? []).filter((c) => doc.seqs.includes(c.seq))
    chunksOf.delete(doc.id)
    const changes = at(blockOf({ id: doc.id, seq }))
    changes.remove.add(refKey(doc.id, seq))
    changes.add.push(toStored(doc, chunks))
  }
  if (chunksOf.size > 0) throw new WinnowError('INVALID_INPUT', `chunks of '${[...chunksOf.keys()][0]}' were written without their document`)
  return out
}

/** A document and its chunks as a block keeps them. */
export function toStored(doc: DocRecord, chunks: readonly ChunkRecord[]): StoredDoc {
  const stored: StoredDoc = { id: doc.id, text: doc.text, seqs: [...doc.seqs], chunks: [] }
  if (doc.title !== undefined) stored.title = doc.title
  if (doc.metadata !== undefined) stored.metadata = doc.metadata
  for (const c of [...chunks].sort((a, b) => a.seq - b.seq)) {
    const chunk: StoredChunk = { seq: c.seq, index: c.index, start: c.start, end: c.end, section: c.section, path: c.path }
    if (c.text !== undefined && c.text !== doc.text.slice(c.start, c.end)) chunk.text = c.text
    stored.chunks.push(chunk)
  }
  return stored
}

/** A block after `changes` (null when nothing is left in it). */
export function applyChanges(block: number, stored: PassageBlock | undefined, changes: BlockChanges): PassageBlock | null {
  const docs = (stored?.docs ?? []).filter((d) => !changes.remove.has(refKey(d.id, docSeq(d))))
  docs.push(...changes.add)
  return docs.length > 0 ? { block, docs } : null
}

/** The entry of a block that `ref` names, if any. */
export function findDoc(block: PassageBlock | undefined, ref: DocRef): StoredDoc | undefined {
  return block?.docs.find((d) => d.id === ref.id && docSeq(d) === ref.seq)
}

/** A stored entry as the contract's document record. */
export function docRecord(doc: StoredDoc): DocRecord {
  // Copies: the block may stay cached (store/passageCache.ts), and a record is the caller's to keep.
  const out: DocRecord = { id: doc.id, text: doc.text, seqs: [...doc.seqs] }
  if (doc.title !== undefined) out.title = doc.title
  if (doc.metadata !== undefined) out.metadata = structuredClone(doc.metadata)
  return out
}

/** One chunk of a stored entry as the contract's chunk record (undefined if the document does not list it). */
export function chunkRecord(doc: StoredDoc, seq: number): ChunkRecord | undefined {
  if (!doc.seqs.includes(seq)) return undefined
  const c = doc.chunks.find((x) => x.seq === seq)
  if (!c) return undefined
  return { seq, docId: doc.id, index: c.index, start: c.start, end: c.end, text: c.text ?? doc.text.slice(c.start, c.end), section: c.section, path: [...c.path] }
}
