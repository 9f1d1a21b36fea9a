/**
 * Segment records as schema 5 stores them (store/segmentColumns.ts): any record reads back as it
 * was written, documents with equal metadata share one stored value and one object, and a damaged
 * record is refused.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromStoredSegment, toStoredSegment } from '../../src/store/segmentColumns.js'
import { docList, type SegmentRecord } from '../../src/store/types.js'

const metadataValue = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }))
const doc = fc.record(
  {
    id: fc.string({ unit: 'grapheme', maxLength: 12 }),
    title: fc.string({ maxLength: 10 }),
    metadata: fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), metadataValue, { maxKeys: 3 }), fc.constantFrom({ lang: 'en' }, { lang: 'de' })),
  },
  { requiredKeys: ['id'] },
)
const segment = fc.array(doc, { maxLength: 40 }).map(
  (docs): SegmentRecord => ({
    id: 3,
    seqs: Uint32Array.from(docs, (_, i) => i * 2),
    lengths: Uint32Array.from(docs, (_, i) => i + 1),
    docOf: Uint32Array.from(docs, (_, i) => i),
    docs,
    vectorBlocks: 0,
  }),
)

describe('segment columns (schema 5)', () => {
  it('any segment record reads back as it was written', () => {
    fc.assert(
      fc.property(segment, (s) => {
        const read = fromStoredSegment(structuredClone(toStoredSegment(s)))
        expect(read.docs).toEqual(s.docs)
        expect([read.id, read.seqs, read.lengths, read.docOf, read.vectorBlocks]).toEqual([s.id, s.seqs, s.lengths, s.docOf, s.vectorBlocks])
      }),
      { numRuns: 300 },
    )
  })

  it('stores each distinct metadata once, and documents sharing it share one object when read', () => {
    const docs = Array.from({ length: 1000 }, (_, i) => ({ id: `d${i}`, metadata: { shard: i % 10 } }))
    const stored = toStoredSegment({ id: 1, seqs: new Uint32Array(1000), lengths: new Uint32Array(1000), docOf: new Uint32Array(1000), docs, vectorBlocks: 0 })
    expect(JSON.parse(stored.metadataValues!)).toHaveLength(10)
    expect(stored.docTitles).toBeUndefined()
    const read = fromStoredSegment(structuredClone(stored))
    expect(read.docs.at(3)!.metadata).toBe(read.docs.at(13)!.metadata)
    expect(read.docs.at(3)!.metadata).not.toBe(read.docs.at(4)!.metadata)
    expect(docList(read.docs).map((d) => d.metadata)).toEqual(docs.map((d) => d.metadata))
  })

  it('keeps partitioned layouts and fp32 block rows as they were', () => {
    const ivf = { centroids: Float32Array.of(1, 0, 0, 1), starts: Uint32Array.of(0, 1, 2), recall: Float32Array.of(0.9, 1) }
    const s: SegmentRecord = { id: 9, seqs: Uint32Array.of(4, 5), lengths: Uint32Array.of(1, 2), docOf: Uint32Array.of(0, 1), docs: [{ id: 'a', title: 'A' }, { id: 'b' }], vectorBlocks: 1, ivf }
    const read = fromStoredSegment(structuredClone(toStoredSegment(s)))
    expect(read).toEqual(s)
  })

  it('refuses a record whose columns disagree in length or point past its metadata (INTERNAL)', () => {
    const stored = toStoredSegment({ id: 2, seqs: Uint32Array.of(0, 1), lengths: Uint32Array.of(1, 1), docOf: Uint32Array.of(0, 1), docs: [{ id: 'a', title: 't', metadata: { x: 1 } }, { id: 'b' }], vectorBlocks: 0 })
    expect(() => fromStoredSegment({ ...stored, docTitles: '["t"]' })).toThrow(expect.objectContaining({ code: 'INTERNAL' }))
    expect(() => fromStoredSegment({ ...stored, metadataOf: Uint32Array.of(1) })).toThrow(expect.objectContaining({ code: 'INTERNAL' }))
    expect(() => fromStoredSegment({ ...stored, metadataOf: Uint32Array.of(1, 2) })).toThrow(expect.objectContaining({ code: 'INTERNAL' }))
  })
})
