import { WinnowError } from '../errors.js'
import { docList, type SegmentDoc, type SegmentRecord } from './types.js'

/**
 * A segment record as schema 5 stores it (the `segmentColumns` store): its documents' ids, titles
 * and metadata as columns instead of one object per document.
 *
 * Why: a reopen reads every segment record, and IndexedDB's structured clone rebuilds an object
 * per document — at a million one-passage documents that took 1.27 s of a 2.4 s reopen in
 * Chromium. A column is one string (JSON), which clones as a copy and parses in tens of ms. The
 * metadata column keeps each distinct object once (by its JSON), so documents sharing metadata
 * (a source, a language, a shard) share one object in the worker too.
 */
export interface StoredSegment extends Omit<SegmentRecord, 'docs'> {
  /** JSON array of the documents' ids (`docOf` indexes it). */
  docIds: string
  /** JSON array of the documents' titles, `null` where one has none; absent when none has. */
  docTitles?: string
  /** JSON array of the distinct metadata objects; absent when no document has metadata. */
  metadataValues?: string
  /** Per document, 1 + the index of its metadata in `metadataValues`, 0 for none. */
  metadataOf?: Uint32Array
}

/**
 * The record schema 5 stores for a segment.
 *
 * @example
 * toStoredSegment({ id: 1, seqs, lengths, docOf, vectorBlocks: 0, docs: [{ id: 'a', metadata: { lang: 'en' } }, { id: 'b', metadata: { lang: 'en' } }] })
 * // { …, docIds: '["a","b"]', metadataValues: '[{"lang":"en"}]', metadataOf: Uint32Array [1, 1] }
 */
export function toStoredSegment(segment: SegmentRecord): StoredSegment {
  const { docs: listed, ...rest } = segment
  const docs = docList(listed)
  const stored: StoredSegment = { ...rest, docIds: JSON.stringify(docs.map((d) => d.id)) }
  if (docs.some((d) => d.title !== undefined)) stored.docTitles = JSON.stringify(docs.map((d) => d.title ?? null))
  if (docs.some((d) => d.metadata !== undefined)) {
    const index = new Map<string, number>()
    const of = new Uint32Array(docs.length)
    for (let i = 0; i < docs.length; i++) {
      const metadata = docs[i]!.metadata
      if (metadata === undefined) continue
      const json = JSON.stringify(metadata)
      let at = index.get(json)
      if (at === undefined) index.set(json, (at = index.size))
      of[i] = at + 1
    }
    stored.metadataValues = `[${[...index.keys()].join(',')}]`
    stored.metadataOf = of
  }
  return stored
}

/**
 * The segment record a schema-5 record holds (documents with equal metadata share one object).
 *
 * @throws {WinnowError} `INTERNAL` when its columns disagree in length or point past the metadata
 *   values (a damaged record).
 * @example
 * fromStoredSegment(toStoredSegment(segment)) // equal to segment
 */
export function fromStoredSegment(stored: StoredSegment): SegmentRecord {
  return segmentWithIds(stored, JSON.parse(stored.docIds) as string[])
}

/**
 * {@link fromStoredSegment} with the documents' ids given as an array (`stored.docIds` unread): a
 * format-2 snapshot front-codes them.
 */
export function segmentWithIds(stored: StoredSegment, ids: string[]): SegmentRecord {
  const { docIds: _docIds, docTitles, metadataValues, metadataOf, ...rest } = stored
  const titles = docTitles === undefined ? null : (JSON.parse(docTitles) as (string | null)[])
  const values = metadataValues === undefined ? null : (JSON.parse(metadataValues) as Record<string, unknown>[])
  if ((titles && titles.length !== ids.length) || (metadataOf && metadataOf.length !== ids.length) || (metadataOf === undefined) !== (values === null)) {
    throw new WinnowError('INTERNAL', `segment ${stored.id}'s document columns disagree in length; the collection is damaged: delete it and add its documents again`, { segment: stored.id })
  }
  const docs: SegmentDoc[] = new Array(ids.length)
  for (let i = 0; i < ids.length; i++) {
    const doc: SegmentDoc = { id: ids[i]! }
    const title = titles?.[i]
    if (title !== undefined && title !== null) doc.title = title
    const m = metadataOf?.[i] ?? 0
    if (m > 0) {
      if (m > values!.length) throw new WinnowError('INTERNAL', `segment ${stored.id}'s metadata column points past its values; the collection is damaged: delete it and add its documents again`, { segment: stored.id })
      doc.metadata = values![m - 1]
    }
    docs[i] = doc
  }
  return { ...rest, docs }
}
