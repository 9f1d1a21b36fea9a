/**
 * Segment tables of format 2 (`src/snapshot/segmentTables.ts`): a partitioned segment's columns
 * travel in seq order with each row's list, and come back in row order exactly; a segment whose
 * lists are not in seq order keeps the plain layout; a list column that does not add up is
 * SNAPSHOT_INVALID.
 */
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { CollectionEngine } from '../../src/collection/engine.js'
import { WinnowError } from '../../src/errors.js'
import { encodeRecords } from '../../src/snapshot/codec.js'
import { listsInSeqOrder, packSegment, unpackSegments } from '../../src/snapshot/segmentTables.js'
import { createCoordination } from '../../src/store/coordination.js'
import { MemoryBackend } from '../../src/store/memory.js'
import { docList, type SegmentRecord } from '../../src/store/types.js'
import { ID_RESTART } from '../../src/snapshot/docColumns.js'
import { corpus, hashingEmbedder } from './snapshotFixtures.js'

const none = async () => {}
const malformed = (kind: string, why: string) => new WinnowError('SNAPSHOT_INVALID', `${kind}: ${why}`, { reason: 'corrupt', kind })

describe('format-2 segment tables', async () => {
  const backend = new MemoryBackend()
  const engine = await CollectionEngine.open('t', { store: await backend.open('t'), coordination: createCoordination({}), embedder: hashingEmbedder(16) }, { chunking: { maxTokens: 40 }, vectorIndex: { minRows: 64 } })
  const docs = corpus(300, 9)
  for (let i = 0; i < docs.length; i += 30) {
    await engine.add(docs.slice(i, i + 30), none)
    await engine.idle()
  }
  await engine.optimize()
  engine.close()
  const segments = backend.dump('t').segments
  const partitioned = segments.filter((s) => s.ivf)

  /** The same rows, each with the same document (the order of `docs` is free). */
  const same = (got: SegmentRecord, want: SegmentRecord) => {
    expect(got.seqs).toEqual(want.seqs)
    expect(got.lengths).toEqual(want.lengths)
    const docOfRows = (s: SegmentRecord) => Array.from(s.docOf, (d) => [s.docs.at(d)!.id, s.docs.at(d)!.metadata])
    expect(docOfRows(got)).toEqual(docOfRows(want))
    expect(got.docs.length).toBe(want.docs.length)
    expect(got.ivf?.starts).toEqual(want.ivf?.starts)
  }

  it('a partitioned segment travels in seq order with its lists, and comes back in row order exactly, in fewer bytes', () => {
    expect(partitioned.length).toBeGreaterThan(0)
    for (const segment of partitioned) {
      // Row order is list order: seqs are not ascending.
      expect(Array.from(segment.seqs).some((s, i) => i > 0 && s < segment.seqs[i - 1]!)).toBe(true)
      const packed = packSegment(segment)
      expect(packed.listOf).toBeDefined()
      expect(Array.from(packed.seqGaps.subarray(1)).every((g) => g > 0)).toBe(true)
      const [back] = unpackSegments({ packed: [packed] }, malformed)
      same(back!, segment)
      const { listOf: _, ...plain } = packed
      const rowOrder = { ...plain, seqGaps: gapsOf(segment.seqs), docGaps: gapsOf(segment.docOf) }
      expect(gzipSync(encodeRecords({ packed: [packed] })).length).toBeLessThan(gzipSync(encodeRecords({ packed: [rowOrder] })).length)
    }
  })

  it('a segment whose lists are not in seq order keeps the plain layout, and round-trips', () => {
    const segment = partitioned[0]!
    const starts = segment.ivf!.starts
    const list = Array.from(starts).findIndex((s, l) => l + 1 < starts.length && starts[l + 1]! - s >= 2)
    const seqs = segment.seqs.slice()
    ;[seqs[starts[list]!], seqs[starts[list]! + 1]] = [seqs[starts[list]! + 1]!, seqs[starts[list]!]!]
    const shuffled = { ...segment, seqs }
    const packed = packSegment(shuffled)
    expect(packed.listOf).toBeUndefined()
    same(unpackSegments({ packed: [packed] }, malformed)[0]!, shuffled)
    for (const plain of segments.filter((s) => !s.ivf)) same(unpackSegments({ packed: [packSegment(plain)] }, malformed)[0]!, plain)
  })

  it('listsInSeqOrder sorts each list\'s rows by seq, moving the list codes with them; a segment merged from partitioned ones then packs by list too', () => {
    const records = backend.dump('t')
    const segment = records.segments.find((s) => s.ivf)!
    const starts = segment.ivf!.starts
    // Reverse every list's rows, and its codes with them: a valid segment, not in seq order.
    const reversed = new Uint32Array(segment.seqs.length)
    for (let l = 0; l + 1 < starts.length; l++) for (let r = starts[l]!; r < starts[l + 1]!; r++) reversed[r] = starts[l]! + starts[l + 1]! - 1 - r
    const pick = (a: Uint32Array) => Uint32Array.from(reversed, (r) => a[r]!)
    const shuffled = { ...segment, seqs: pick(segment.seqs), docOf: pick(segment.docOf), lengths: pick(segment.lengths) }
    const lists = records.lists!.map((l) => {
      if (l.segment !== segment.id) return l
      const n = l.scales.length
      const codes = new Int8Array(l.codes.length)
      for (let i = 0; i < n; i++) codes.set(l.codes.subarray((n - 1 - i) * l.dims, (n - i) * l.dims), i * l.dims)
      return { ...l, codes, scales: Float32Array.from({ length: n }, (_, i) => l.scales[n - 1 - i]!) }
    })
    expect(packSegment(shuffled).listOf).toBeUndefined()
    const ordered = listsInSeqOrder({ segments: records.segments.map((s) => (s === segment ? shuffled : s)), lists })
    const back = ordered.segments.find((s) => s.id === segment.id)!
    same(back, segment)
    expect(packSegment(back).listOf).toBeDefined()
    // Each seq keeps its codes.
    const codesOf = (seg: SegmentRecord, all: typeof lists) => {
      const out = new Map<number, string>()
      for (const l of all.filter((x) => x.segment === seg.id)) for (let i = 0; i < l.scales.length; i++) out.set(seg.seqs[seg.ivf!.starts[l.list]! + i]!, `${l.codes.subarray(i * l.dims, (i + 1) * l.dims).join(',')}/${l.scales[i]}`)
      return out
    }
    expect(codesOf(back, ordered.lists!)).toEqual(codesOf(shuffled, lists))
    expect(codesOf(back, ordered.lists!)).toEqual(codesOf(segment, records.lists!))
    // Already in order: the same records.
    expect(listsInSeqOrder(records)).toBe(records)
  })

  it('front-codes document ids: tricky ids come back exactly, sequential ones shrink, tables of earlier builds (docIds, front coding without restarts) still open, damaged ones are SNAPSHOT_INVALID', () => {
    const ids = [
      'guide/page.html#a', 'guide/page.html#b', 'guide/page.html', 'guide/page.html#b2', 'x',
      '😀a', '😁b', '😁', // neighbours sharing half a surrogate pair
      'é'.repeat(300) + '1', 'é'.repeat(300) + '2', // sharing more than 255 characters
      '"quoted"\\', '"quoted"\\\n', '\u0000', '',
    ]
    const table: SegmentRecord = { id: 1, seqs: Uint32Array.from(ids.keys()), lengths: new Uint32Array(ids.length).fill(3), docOf: Uint32Array.from(ids.keys()), docs: ids.map((id) => ({ id })), vectorBlocks: 0 }
    const packed = packSegment(table)
    expect(packed.docIds).toBeUndefined()
    expect(packed.idTailLengths).toBeInstanceOf(Uint16Array) // a rest of 301 characters
    expect(docList(unpackSegments({ packed: [packed] }, malformed)[0]!.docs).map((d) => d.id)).toEqual(ids)
    const { idPrefixes: _p, idTail: _t, idTailLengths: _l, ...earlier } = packed
    expect(docList(unpackSegments({ packed: [{ ...earlier, docIds: JSON.stringify(ids) }] }, malformed)[0]!.docs).map((d) => d.id)).toEqual(ids)
    expect(docList(unpackSegments({ packed: [{ ...earlier, ...restlessCode(ids) }] }, malformed)[0]!.docs).map((d) => d.id)).toEqual(ids)
    const sequential = Array.from({ length: 20_000 }, (_, i) => `docs/page-${i >> 3}.html#h${i & 7}`)
    const big = packSegment({ ...table, seqs: Uint32Array.from(sequential.keys()), lengths: new Uint32Array(sequential.length), docOf: Uint32Array.from(sequential.keys()), docs: sequential.map((id) => ({ id })) })
    const coded = gzipSync(encodeRecords({ p: big.idPrefixes, t: big.idTail, l: big.idTailLengths })).length
    expect(coded).toBeLessThan(gzipSync(JSON.stringify(sequential)).length / 5)
    // Damage found at open: rests that do not add up, a restart sharing characters.
    expect(() => unpackSegments({ packed: [{ ...packed, idTail: packed.idTail!.slice(1) }] }, malformed)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_INVALID' }))
    const shares = big.idPrefixes!.slice()
    shares[ID_RESTART] = 3
    expect(() => unpackSegments({ packed: [{ ...big, idPrefixes: shares }] }, malformed)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_INVALID' }))
    expect(() => unpackSegments({ packed: [{ ...packed, idTailLengths: [1, 2] }] }, malformed)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_INVALID' }))
    // An id claiming more characters than the one before it has: found when it is read.
    const prefixes = packed.idPrefixes!.slice()
    prefixes[1] = 200
    const damaged = unpackSegments({ packed: [{ ...packed, idPrefixes: prefixes }] }, malformed)[0]!
    expect(damaged.docs.at(0)!.id).toBe(ids[0])
    expect(() => damaged.docs.at(1)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_INVALID' }))
    expect(() => unpackSegments({ packed: [{ ...earlier, ...restlessCode(ids), idPrefixes: prefixes }] }, malformed)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_INVALID' }))
    expect(() => unpackSegments({ packed: [{ ...earlier, ...restlessCode(ids), idSuffixes: '["a"]' }] }, malformed)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_INVALID' }))
    expect(() => unpackSegments({ packed: [{ ...earlier, ...restlessCode(ids), idSuffixes: 'not json' }] }, malformed)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_INVALID' }))
  })

  it('ids are read one at a time from the restart before them, in any order, and a reader of most of them gets the column decoded once', () => {
    const n = 5 * ID_RESTART + 17
    const ids = Array.from({ length: n }, (_, i) => `section-${Math.floor(i / 40)}/passage-${i}`)
    const packed = packSegment({ id: 1, seqs: Uint32Array.from(ids.keys()), lengths: new Uint32Array(n), docOf: Uint32Array.from(ids.keys()), docs: ids.map((id) => ({ id })), vectorBlocks: 0 })
    expect(Array.from(packed.idPrefixes!.filter((_, i) => i % ID_RESTART === 0))).toEqual(new Array(Math.ceil(n / ID_RESTART)).fill(0))
    expect(packed.idPrefixes!.filter((p) => p > 0).length).toBeGreaterThan(n - 10)
    const docs = unpackSegments({ packed: [packed] }, malformed)[0]!.docs
    expect(Array.isArray(docs)).toBe(false)
    expect(docs.length).toBe(n)
    // Backwards, forwards, jumping across restarts, repeated: each id is the one written.
    const order = [n - 1, 0, ID_RESTART, ID_RESTART - 1, ID_RESTART + 1, 3 * ID_RESTART + 200, 3 * ID_RESTART + 199, 2, 2, n - 2]
    for (const i of order) expect(docs.at(i)!.id).toBe(ids[i])
    expect(docs.at(n)).toBeUndefined()
    expect(docs.at(-1)).toBeUndefined()
    expect(docs.at(1.5)).toBeUndefined()
    // A shuffled walk over every id (past a sixteenth, the rest come from one whole decoding).
    const shuffled = Array.from({ length: n }, (_, i) => (i * 613) % n)
    expect(new Set(shuffled).size).toBe(n)
    for (const i of shuffled) expect(docs.at(i)!.id).toBe(ids[i])
  })

  it('a lazily read table keeps metadata (shared objects) and titles of earlier tables', () => {
    const ids = ['a', 'b', 'c']
    const shared = { lang: 'en' }
    const packed = packSegment({ id: 1, seqs: Uint32Array.from([0, 1, 2]), lengths: new Uint32Array(3), docOf: Uint32Array.from([0, 1, 2]), docs: [{ id: 'a', metadata: shared }, { id: 'b' }, { id: 'c', metadata: shared }], vectorBlocks: 0 })
    const docs = unpackSegments({ packed: [{ ...packed, docTitles: JSON.stringify(['A', null, 'C']) }] }, malformed)[0]!.docs
    expect(docList(docs)).toEqual([{ id: 'a', title: 'A', metadata: shared }, { id: 'b' }, { id: 'c', title: 'C', metadata: shared }])
    expect(docs.at(0)!.metadata).toBe(docs.at(2)!.metadata)
    expect(ids).toEqual(docList(docs).map((d) => d.id))
    expect(() => unpackSegments({ packed: [{ ...packed, metadataOf: Uint32Array.from([1, 0, 2]) }] }, malformed)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_INVALID' }))
    expect(() => unpackSegments({ packed: [{ ...packed, docTitles: '["A"]' }] }, malformed)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_INVALID' }))
  })

  it('documents travel in order of their first seq: a table whose docs are shuffled packs as one in order, and its rows keep their documents', () => {
    const segment = partitioned[0]!
    const n = segment.docs.length
    const shuffle = Array.from({ length: n }, (_, i) => (i * 7919) % n)
    expect(new Set(shuffle).size).toBe(n)
    const back = new Uint32Array(n)
    shuffle.forEach((d, i) => (back[d] = i))
    const shuffled = { ...segment, docs: shuffle.map((d) => segment.docs.at(d)!), docOf: Uint32Array.from(segment.docOf, (d) => back[d]!) }
    const packed = packSegment(shuffled)
    expect(packed).toEqual(packSegment(segment))
    same(unpackSegments({ packed: [packed] }, malformed)[0]!, shuffled)
  })

  it('a list column that does not add up to the lists is SNAPSHOT_INVALID', () => {
    const packed = packSegment(partitioned[0]!)
    const listOf = packed.listOf!.slice()
    listOf[0] = (listOf[0]! + 1) % (partitioned[0]!.ivf!.starts.length - 1)
    expect(() => unpackSegments({ packed: [{ ...packed, listOf }] }, malformed)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_INVALID' }))
    expect(() => unpackSegments({ packed: [{ ...packed, listOf: listOf.subarray(1) }] }, malformed)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_INVALID' }))
  })
})

function gapsOf(a: Uint32Array): Uint32Array {
  return Uint32Array.from(a, (v, i) => (i === 0 ? v : v - a[i - 1]!))
}

/** Ids front-coded as builds before restarts did: no restarts, the rests as a JSON array. */
function restlessCode(ids: readonly string[]): { idPrefixes: Uint8Array; idSuffixes: string } {
  const prefixes = new Uint8Array(ids.length)
  const rests: string[] = []
  ids.forEach((id, i) => {
    const previous = ids[i - 1] ?? ''
    let k = 0
    while (k < 255 && k < previous.length && previous.charCodeAt(k) === id.charCodeAt(k)) k++
    prefixes[i] = k
    rests.push(id.slice(k))
  })
  return { idPrefixes: prefixes, idSuffixes: JSON.stringify(rests) }
}
