/**
 * Segment tables as a format-2 snapshot stores them (fetched by every visitor when the collection
 * opens, so every byte counts): documents as columns (titles left out: they travel with the texts),
 * ascending arrays as gaps, the ANN index's centroids as int8.
 *
 * A partitioned segment keeps its rows in list order, so its seqs and `docOf` are a permutation
 * that gap coding cannot shrink (1.7 MB each, compressed, at 1M rows). Where each list's rows are
 * in ascending seq order — how partitioning leaves them — the table instead stores its columns in
 * seq order (gaps of 1) with each row's list (`listOf`), from which the reader rebuilds the row
 * order: a counting sort by list.
 */
import { quantize, dequantize } from '../core/quantize.js'
import type { WinnowError } from '../errors.js'
import { fromStoredSegment, segmentWithIds, toStoredSegment, type StoredSegment } from '../store/segmentColumns.js'
import { docColumns, FrontCodedIds, frontCode } from './docColumns.js'
import { docList, type IvfLayout, type ListRecord, type SegmentRecord } from '../store/types.js'

/** A segment table as a format-2 shard stores it. */
export interface PackedSegment extends Omit<StoredSegment, 'seqs' | 'docOf' | 'lengths' | 'ivf' | 'docIds'> {
  /**
   * The documents' ids, front-coded (`docColumns.ts`): how many leading characters (≤ 255) each
   * shares with the id before it (none at every 256th, where reading may start), and the rest —
   * all of them in one string, `idTail`, with each one's length. Ids of a segment come in seq
   * order, where neighbours share most of their characters (`guide/page.html#a`,
   * `guide/page.html#b`; `4983`, `4990`): at 1M sequential ids 42 KB instead of 2.2 MB
   * compressed, 100,000 URL-like ids 6 KB instead of 245 KB; random UUIDs gain nothing and lose
   * nothing. The reader keeps them coded and rebuilds the ids a search asks for.
   */
  idPrefixes?: Uint8Array
  idTail?: string
  idTailLengths?: Uint8Array | Uint16Array | Uint32Array
  /** Earlier front coding (no restarts; the rests as a JSON array), read whole at open. */
  idSuffixes?: string
  /** Before front coding: the ids as a JSON array. */
  docIds?: string
  seqGaps: Uint32Array
  docGaps: Uint32Array
  lengths: Uint16Array | Uint32Array
  ivf?: PackedIvf | IvfLayout
  /** Present when the columns are in seq order: each row's list (see the module comment). */
  listOf?: Uint16Array | Uint32Array
}

/**
 * A partitioned segment's layout with its centroids as int8 codes and a scale per centroid: a
 * quarter of fp32's bytes (at 1M × 384, 2,232 lists: 0.87 MB instead of 3.4 MB). Centroids only
 * choose the lists a query probes; their int8 error (≤ 1/254 of a centroid's largest component)
 * moves a list's score by ~1e-3. Builds before this kept `centroids` as fp32, which still open.
 */
export interface PackedIvf extends Omit<IvfLayout, 'centroids'> {
  centroidCodes: Int8Array
  centroidScales: Float32Array
}

/**
 * @example
 * const packed = packSegment(records.segments[0])
 */
export function packSegment(table: SegmentRecord): PackedSegment {
  const segment = docsInSeqOrder(table)
  const { seqs, docOf, lengths, docTitles: _titles, ivf, docIds: _ids, ...rest } = toStoredSegment(segment)
  const narrow = lengths.every((l) => l < 65536)
  const columns = ivf && seqOrdered(seqs, ivf.starts) ? bySeq(seqs, docOf, lengths, ivf.starts) : { seqs, docOf, lengths, listOf: undefined }
  const ids = frontCode(docList(segment.docs).map((d) => d.id))
  const packed: PackedSegment = { ...rest, idPrefixes: ids.prefixes, idTail: ids.tail, idTailLengths: ids.tailLengths, seqGaps: gaps(columns.seqs), docGaps: gaps(columns.docOf), lengths: narrow ? Uint16Array.from(columns.lengths) : columns.lengths }
  if (columns.listOf) packed.listOf = columns.listOf
  if (ivf) {
    const { centroids, ...layout } = ivf
    const { codes, scales } = quantize(centroids, centroids.length / (ivf.starts.length - 1))
    packed.ivf = { ...layout, centroidCodes: codes, centroidScales: scales }
  }
  return packed
}

/**
 * The segment tables of a format-2 segments shard.
 *
 * @throws what `malformed` makes, for a table that does not hold together.
 */
export function unpackSegments(payload: unknown, malformed: (kind: string, why: string) => WinnowError): SegmentRecord[] {
  const packed = (payload as { packed?: PackedSegment[] } | null)?.packed
  if (!Array.isArray(packed)) throw malformed('segments', 'no segment tables')
  return packed.map((p) => {
    const { seqGaps, docGaps, lengths, ivf, listOf, idPrefixes, idTail, idTailLengths, idSuffixes, docIds, ...rest } = p ?? ({} as PackedSegment)
    const coded = idTail === undefined ? undefined : codedIds(idPrefixes, idTail, idTailLengths, malformed)
    const ids = coded || idPrefixes === undefined ? undefined : frontDecode(idPrefixes, idSuffixes, malformed)
    if (!coded && !ids && typeof docIds !== 'string') throw malformed('segments', 'a segment table has no document ids')
    if (!(seqGaps instanceof Uint32Array) || !(docGaps instanceof Uint32Array) || !(lengths instanceof Uint16Array || lengths instanceof Uint32Array)) throw malformed('segments', 'a segment table has arrays of the wrong type')
    const layout = ivf && unpackIvf(ivf, malformed)
    let columns = { seqs: sums(seqGaps), docOf: sums(docGaps), lengths: lengths instanceof Uint32Array ? lengths : Uint32Array.from(lengths) }
    if (listOf !== undefined) {
      if (!layout || !(listOf instanceof Uint16Array || listOf instanceof Uint32Array) || listOf.length !== seqGaps.length) throw malformed('segments', 'a segment table has a list column of the wrong type or length')
      columns = byList(columns, listOf, layout.starts, malformed)
    }
    if (coded) {
      const { docTitles, metadataValues, metadataOf, ...segment } = rest
      const titles = docTitles === undefined ? null : parsed<(string | null)[]>(docTitles, malformed)
      const values = metadataValues === undefined ? null : parsed<Record<string, unknown>[]>(metadataValues, malformed)
      return { ...segment, ...(layout && { ivf: layout }), ...columns, docs: docColumns(coded, titles, metadataOf, values, malformed) }
    }
    try {
      const stored = { ...rest, docIds: docIds ?? '', ...(layout && { ivf: layout }), ...columns }
      return ids ? segmentWithIds(stored, ids) : fromStoredSegment(stored)
    } catch {
      throw malformed('segments', 'a segment table has damaged document columns')
    }
  })
}

/**
 * The records with each partitioned segment's rows sorted by seq within each list — the segment's
 * columns and its lists' codes moved together (a list is a set of rows: its order is free). A
 * segment merged from partitioned ones and partitioned again keeps its sources' list order, which
 * is not seq order.
 *
 * @example
 * const ordered = listsInSeqOrder(backend.dump('docs'))
 */
export function listsInSeqOrder<R extends { segments: SegmentRecord[]; lists?: ListRecord[] }>(records: R): R {
  const lists = new Map((records.lists ?? []).map((l) => [`${l.segment}:${l.list}`, l]))
  const moved = new Map<string, ListRecord>()
  const segments = records.segments.map((segment) => {
    const ivf = segment.ivf
    if (!ivf || seqOrdered(segment.seqs, ivf.starts)) return segment
    if (!Array.from({ length: ivf.starts.length - 1 }, (_, l) => lists.has(`${segment.id}:${l}`)).every(Boolean)) return segment
    const order = new Uint32Array(segment.seqs.length)
    for (let l = 0; l + 1 < ivf.starts.length; l++) {
      const from = ivf.starts[l]!
      const rows = Array.from({ length: ivf.starts[l + 1]! - from }, (_, i) => from + i).sort((a, b) => segment.seqs[a]! - segment.seqs[b]!)
      order.set(rows, from)
      const list = lists.get(`${segment.id}:${l}`)
      if (!list) continue
      const { dims } = list
      const codes = new Int8Array(list.codes.length)
      const scales = new Float32Array(list.scales.length)
      rows.forEach((row, i) => {
        codes.set(list.codes.subarray((row - from) * dims, (row - from + 1) * dims), i * dims)
        scales[i] = list.scales[row - from]!
      })
      moved.set(`${segment.id}:${l}`, { ...list, codes, scales })
    }
    const pick = (a: Uint32Array) => Uint32Array.from(order, (r) => a[r]!)
    return { ...segment, seqs: pick(segment.seqs), docOf: pick(segment.docOf), lengths: pick(segment.lengths) }
  })
  if (moved.size === 0) return records
  return { ...records, segments, lists: records.lists!.map((l) => moved.get(`${l.segment}:${l.list}`) ?? l) }
}

/**
 * The table with its documents in order of their first seq (`docOf` renumbered): a segment merged
 * from partitioned ones lists its documents in its sources' list order, which leaves `docOf` a
 * permutation and neighbouring ids unrelated. The order of `docs` means nothing else.
 */
function docsInSeqOrder(segment: SegmentRecord): SegmentRecord {
  const first = new Float64Array(segment.docs.length).fill(Infinity)
  for (let i = 0; i < segment.seqs.length; i++) first[segment.docOf[i]!] = Math.min(first[segment.docOf[i]!]!, segment.seqs[i]!)
  const order = Array.from(first.keys()).sort((a, b) => first[a]! - first[b]! || a - b)
  if (order.every((d, i) => d === i)) return segment
  const renumber = new Uint32Array(order.length)
  order.forEach((d, i) => (renumber[d] = i))
  return { ...segment, docs: order.map((d) => segment.docs.at(d)!), docOf: Uint32Array.from(segment.docOf, (d) => renumber[d]!) }
}

/** Whether each list's rows (`starts`) are in ascending seq order. */
function seqOrdered(seqs: Uint32Array, starts: Uint32Array): boolean {
  for (let l = 0; l + 1 < starts.length; l++) for (let r = starts[l]! + 1; r < starts[l + 1]!; r++) if (seqs[r]! <= seqs[r - 1]!) return false
  return true
}

/** The columns in seq order, with each row's list. */
function bySeq(seqs: Uint32Array, docOf: Uint32Array, lengths: Uint32Array, starts: Uint32Array) {
  const order = Array.from(seqs.keys()).sort((a, b) => seqs[a]! - seqs[b]!)
  const listOfRow = new Uint32Array(seqs.length)
  for (let l = 0; l + 1 < starts.length; l++) listOfRow.fill(l, starts[l]!, starts[l + 1]!)
  const pick = (a: Uint32Array) => Uint32Array.from(order, (r) => a[r]!)
  const listOf = starts.length - 1 <= 65536 ? Uint16Array.from(order, (r) => listOfRow[r]!) : pick(listOfRow)
  return { seqs: pick(seqs), docOf: pick(docOf), lengths: pick(lengths), listOf }
}

/** The row order back from seq order: rows of list 0 first, each list's in seq order. */
function byList(columns: { seqs: Uint32Array; docOf: Uint32Array; lengths: Uint32Array }, listOf: Uint16Array | Uint32Array, starts: Uint32Array, malformed: (kind: string, why: string) => WinnowError) {
  const lists = starts.length - 1
  const next = starts.slice(0, lists)
  const n = listOf.length
  if (starts[lists] !== n) throw malformed('segments', 'a segment table\'s lists do not add up to its rows')
  const out = { seqs: new Uint32Array(n), docOf: new Uint32Array(n), lengths: new Uint32Array(n) }
  for (let i = 0; i < n; i++) {
    const l = listOf[i]!
    if (l >= lists || next[l]! >= starts[l + 1]!) throw malformed('segments', 'a segment table\'s lists do not add up to its rows')
    const r = next[l]!++
    out.seqs[r] = columns.seqs[i]!
    out.docOf[r] = columns.docOf[i]!
    out.lengths[r] = columns.lengths[i]!
  }
  return out
}

/** A partitioned segment's layout with fp32 centroids (int8 since 2026-12-07; fp32 before, which still opens). */
function unpackIvf(ivf: PackedIvf | IvfLayout, malformed: (kind: string, why: string) => WinnowError): IvfLayout {
  if (!('centroidCodes' in ivf)) return ivf
  const { centroidCodes: codes, centroidScales: scales, ...layout } = ivf
  const lists = layout.starts instanceof Uint32Array ? layout.starts.length - 1 : 0
  if (!(codes instanceof Int8Array) || !(scales instanceof Float32Array) || lists < 1 || scales.length !== lists || codes.length % lists !== 0) throw malformed('segments', 'a segment\'s centroids have arrays of the wrong type or length')
  return { ...layout, centroids: dequantize(codes, scales, codes.length / lists) }
}

/** Ids front-coded with restarts, checked as far as can be without reading them. */
function codedIds(prefixes: unknown, tail: unknown, lengths: unknown, malformed: (kind: string, why: string) => WinnowError): FrontCodedIds {
  if (!(prefixes instanceof Uint8Array) || typeof tail !== 'string' || !(lengths instanceof Uint8Array || lengths instanceof Uint16Array || lengths instanceof Uint32Array)) throw malformed('segments', 'a segment table has damaged document ids')
  return new FrontCodedIds(prefixes, tail, lengths, malformed)
}

function parsed<T>(json: string, malformed: (kind: string, why: string) => WinnowError): T {
  try {
    const value = JSON.parse(json) as unknown
    if (Array.isArray(value)) return value as T
  } catch {
    // reported below
  }
  throw malformed('segments', 'a segment table has damaged document columns')
}

/** The ids back from the earlier front coding (no restarts, rests as JSON). */
function frontDecode(prefixes: unknown, suffixes: unknown, malformed: (kind: string, why: string) => WinnowError): string[] {
  let rest: unknown
  try {
    rest = typeof suffixes === 'string' ? JSON.parse(suffixes) : null
  } catch {
    rest = null
  }
  if (!(prefixes instanceof Uint8Array) || !Array.isArray(rest) || rest.length !== prefixes.length || !rest.every((r) => typeof r === 'string')) throw malformed('segments', 'a segment table has damaged document ids')
  const ids: string[] = []
  let previous = ''
  for (let i = 0; i < prefixes.length; i++) {
    if (prefixes[i]! > previous.length) throw malformed('segments', 'a segment table has damaged document ids')
    previous = previous.slice(0, prefixes[i]) + (rest[i] as string)
    ids.push(previous)
  }
  return ids
}

function gaps(a: Uint32Array): Uint32Array {
  return Uint32Array.from(a, (v, i) => (i === 0 ? v : v - a[i - 1]!))
}

function sums(g: Uint32Array): Uint32Array {
  const out = new Uint32Array(g.length)
  for (let i = 0, v = 0; i < g.length; i++) out[i] = v = i === 0 ? g[0]! : (v + g[i]!) >>> 0
  return out
}
