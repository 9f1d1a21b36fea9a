/**
 * The packed postings of storage format v2 (docs/storage-format.md): a segment's postings are
 * split by a hash of the term into {@link POSTING_BUCKETS} buckets, and each bucket is one record —
 * its terms sorted, and for each term its seqs as varint gaps and its term frequencies as varints in
 * one byte array. An add then writes at most 256 posting records instead of one per distinct term,
 * and a query reads one record per (term's bucket, segment), decoding only its own terms.
 */
import { WinnowError } from '../errors.js'
import type { PostingRecord } from './types.js'

/** Buckets per segment. A power of two; part of the format (changing it is a schema step). */
export const POSTING_BUCKETS = 256

/** One bucket of one segment, as stored. */
export interface PackedBucket {
  bucket: number
  segment: number
  /** Terms of the bucket, sorted (code-unit order). */
  terms: string[]
  /** Byte offset of each term's entry in `data`, and the end: `terms.length + 1` values. */
  offsets: Uint32Array
  /** Per term: varint count n, n varint seq gaps (the first absolute), n varint term frequencies. */
  data: Uint8Array
}

/**
 * The bucket of a term (FNV-1a over its UTF-16 code units).
 *
 * @example
 * termBucket('memory') // a number from 0 to 255, the same on every run
 */
export function termBucket(term: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < term.length; i++) {
    h ^= term.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) & (POSTING_BUCKETS - 1)
}

/**
 * Packs postings of one segment into its buckets. A term's seqs may come in any order (a merge
 * concatenates segments whose seqs interleave): they are stored ascending, each with its tf.
 *
 * @example
 * packPostings(3, [{ term: 'leak', segment: 3, seqs: Uint32Array.of(7, 9), tfs: Uint16Array.of(1, 2) }])
 * // [{ bucket: termBucket('leak'), segment: 3, terms: ['leak'], offsets: [0, 5], data: … }]
 */
export function packPostings(segment: number, postings: readonly PostingRecord[]): PackedBucket[] {
  const byBucket = new Map<number, PostingRecord[]>()
  for (const p of postings) {
    const b = termBucket(p.term)
    const list = byBucket.get(b)
    if (list) list.push(p)
    else byBucket.set(b, [p])
  }
  const out: PackedBucket[] = []
  for (const [bucket, list] of byBucket) out.push(packBucket(bucket, segment, list))
  return out.sort((a, b) => a.bucket - b.bucket)
}

function packBucket(bucket: number, segment: number, list: PostingRecord[]): PackedBucket {
  list.sort((a, b) => (a.term < b.term ? -1 : a.term > b.term ? 1 : 0))
  let size = 0
  for (const p of list) size += 5 + p.seqs.length * 8
  const data = new Uint8Array(size)
  const offsets = new Uint32Array(list.length + 1)
  let at = 0
  list.forEach((unsorted, i) => {
    const p = ascending(unsorted)
    offsets[i] = at
    at = writeVarint(data, at, p.seqs.length)
    let previous = 0
    for (let j = 0; j < p.seqs.length; j++) {
      const seq = p.seqs[j]!
      at = writeVarint(data, at, j === 0 ? seq : seq - previous)
      previous = seq
    }
    for (let j = 0; j < p.tfs.length; j++) at = writeVarint(data, at, p.tfs[j]!)
  })
  offsets[list.length] = at
  return { bucket, segment, terms: list.map((p) => p.term), offsets, data: data.slice(0, at) }
}

/** The postings with seqs ascending (the same object when they already are). */
function ascending(p: PostingRecord): PostingRecord {
  let sorted = true
  for (let j = 1; j < p.seqs.length && sorted; j++) sorted = p.seqs[j]! > p.seqs[j - 1]!
  if (sorted) return p
  const order = Array.from(p.seqs.keys()).sort((a, b) => p.seqs[a]! - p.seqs[b]!)
  return { term: p.term, segment: p.segment, seqs: Uint32Array.from(order, (k) => p.seqs[k]!), tfs: Uint16Array.from(order, (k) => p.tfs[k]!) }
}

/**
 * One term's postings from a packed bucket, or null when the bucket does not hold the term.
 *
 * @example
 * unpackTerm(bucket, 'leak') // { term: 'leak', segment: 3, seqs: Uint32Array [7, 9], tfs: Uint16Array [1, 2] }
 */
export function unpackTerm(packed: PackedBucket, term: string): PostingRecord | null {
  let lo = 0
  let hi = packed.terms.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const t = packed.terms[mid]!
    if (t === term) return decodeEntry(packed, mid)
    if (t < term) lo = mid + 1
    else hi = mid - 1
  }
  return null
}

/**
 * Every term of a packed bucket (compaction, migration, export).
 *
 * @example
 * unpackAll(bucket).map((p) => p.term) // ['leak', 'memory']
 */
export function unpackAll(packed: PackedBucket): PostingRecord[] {
  return packed.terms.map((_, i) => decodeEntry(packed, i))
}

/**
 * Two packings of the same (bucket, segment) as one: a snapshot import may write a segment's
 * postings over several commits. A term in both keeps the seqs of both, ascending.
 *
 * @example
 * mergeBuckets(stored, incoming).terms // the union, sorted
 */
export function mergeBuckets(a: PackedBucket, b: PackedBucket): PackedBucket {
  const byTerm = new Map<string, PostingRecord>()
  for (const p of [...unpackAll(a), ...unpackAll(b)]) {
    const seen = byTerm.get(p.term)
    if (!seen) {
      byTerm.set(p.term, p)
      continue
    }
    const order = [...seen.seqs.keys(), ...p.seqs.keys()].map((i, k) => (k < seen.seqs.length ? { seq: seen.seqs[i]!, tf: seen.tfs[i]! } : { seq: p.seqs[i]!, tf: p.tfs[i]! }))
    order.sort((x, y) => x.seq - y.seq)
    byTerm.set(p.term, { term: p.term, segment: a.segment, seqs: Uint32Array.from(order, (o) => o.seq), tfs: Uint16Array.from(order, (o) => o.tf) })
  }
  return packBucket(a.bucket, a.segment, [...byTerm.values()])
}

function decodeEntry(packed: PackedBucket, index: number): PostingRecord {
  const reader = { data: packed.data, at: packed.offsets[index]! }
  const n = readVarint(reader)
  const seqs = new Uint32Array(n)
  const tfs = new Uint16Array(n)
  let previous = 0
  for (let j = 0; j < n; j++) {
    const gap = readVarint(reader)
    previous = j === 0 ? gap : previous + gap
    seqs[j] = previous
  }
  for (let j = 0; j < n; j++) tfs[j] = readVarint(reader)
  return { term: packed.terms[index]!, segment: packed.segment, seqs, tfs }
}

/** LEB128: 7 bits a byte, low first, the high bit set on every byte but the last. Values from 0 to 2^32. */
function writeVarint(out: Uint8Array, at: number, value: number): number {
  if (!(value >= 0 && value <= 0xffffffff)) throw new WinnowError('INTERNAL', `a posting value out of range: ${value}`)
  while (value > 0x7f) {
    out[at++] = (value & 0x7f) | 0x80
    value = Math.floor(value / 128)
  }
  out[at++] = value
  return at
}

function readVarint(reader: { data: Uint8Array; at: number }): number {
  const { data } = reader
  let value = 0
  let scale = 1
  for (;;) {
    // Damaged bytes must fail, never loop past the end.
    if (reader.at >= data.length || scale > 2 ** 35) throw new WinnowError('STORAGE_UNAVAILABLE', 'a packed postings record is damaged (a varint runs past its end); delete the collection and add its documents again')
    const byte = data[reader.at++]!
    value += (byte & 0x7f) * scale
    if (byte < 0x80) return value
    scale *= 128
  }
}
