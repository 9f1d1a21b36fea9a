/**
 * The rows rescoring reads, in a format-2 snapshot: fixed-size records in a few large files (1 MiB
 * by default), read a row at a time with HTTP Range requests, as PMTiles and sql.js-httpvfs read
 * static files. Rescoring reads ~16 rows scattered over the whole collection; as shards of 16 rows
 * (the layout before 2026-12-07, which still opens) each cost 12 KiB and the rows index named
 * 62,500 files at 1M × 384 (1 MB, fetched by the first vector query). A row here costs its 776
 * bytes, and the index names ~740 files. (Files of 1 MiB rather than larger: `snapshotFetch:
 * 'all'` keeps them whole, and a query then reads its rows' files from IndexedDB.)
 *
 * A record is `dims` int16 codes (`(code − 32768) × scale`, within 1/65534 of the row's largest
 * component), the fp32 scale, then a check: the first 4 bytes of SHA-256 over the row's seq and the
 * bytes before it, so a damaged row, or the wrong range of a file, is caught before it is kept. All
 * little-endian. Each file is named by its content hash, as every shard, and a whole one (a server
 * that ignores Range, or `snapshotFetch: 'all'`) is checked against it.
 */

import { WinnowError } from '../errors.js'
import type { RowBlockRecord } from '../store/types.js'
import { rowBlockRows } from '../store/types.js'
import { sha256Hex } from './codec.js'
import type { SnapshotFile } from './write.js'
import { INDEX_HASH_BYTES, lazyShardFile, type LazyIndex } from './lazyIndex.js'

/** Bytes of a row record at `dims` dimensions. */
export function rowRecordBytes(dims: number): number {
  return dims * 2 + 8
}

/** Default target of a rows file. */
export const ROW_FILE_BYTES = 1024 * 1024

/**
 * Writes `rows` (any order) as rows files; the index lists each file's first seq, rows, bytes and
 * hash, with `rowBytes` and every row's seq (gap-coded: a run of consecutive seqs costs next to
 * nothing once compressed).
 *
 * @example
 * const { files, index } = await writeRowFiles(records.rows, 384)
 */
export async function writeRowFiles(rows: readonly RowBlockRecord[], dims: number, targetBytes = ROW_FILE_BYTES, firstFile = 0): Promise<{ files: SnapshotFile[]; index: LazyIndex }> {
  const recordBytes = rowRecordBytes(dims)
  const perFile = Math.max(1, Math.floor(targetBytes / recordBytes))
  const ordered = [...rows].sort((a, b) => a.block - b.block)
  const total = ordered.reduce((n, r) => n + r.seqs.length, 0)
  const seqs = new Uint32Array(total)
  let at = 0
  for (const r of ordered) {
    seqs.set(r.seqs, at)
    at += r.seqs.length
  }
  const fileCount = Math.ceil(total / perFile)
  const index: LazyIndex = { of: 'rows', sha256: new Uint8Array(fileCount * INDEX_HASH_BYTES), bytes: new Uint32Array(fileCount), records: new Uint32Array(fileCount), first: new Uint32Array(fileCount), segments: new Uint32Array(fileCount), rowBytes: recordBytes, seqGaps: Uint32Array.from(seqs, (s, i) => (i === 0 ? s : s - seqs[i - 1]!)) }
  const files: SnapshotFile[] = []
  let block = 0
  let inBlock = 0
  for (let f = 0; f < fileCount; f++) {
    const from = f * perFile
    const count = Math.min(perFile, total - from)
    const bytes = new Uint8Array(count * recordBytes)
    const view = new DataView(bytes.buffer)
    for (let i = 0; i < count; i++) {
      while (inBlock >= ordered[block]!.seqs.length) {
        block++
        inBlock = 0
      }
      const source = ordered[block]!.vectors.subarray(inBlock * dims, (inBlock + 1) * dims)
      inBlock++
      const base = i * recordBytes
      let max = 0
      for (let d = 0; d < dims; d++) max = Math.max(max, Math.abs(source[d]!))
      const scale = max / 32767 || 1
      for (let d = 0; d < dims; d++) view.setUint16(base + d * 2, Math.round(source[d]! / scale) + 32768, true)
      view.setFloat32(base + dims * 2, scale, true)
      bytes.set(await rowCheck(seqs[from + i]!, bytes.subarray(base, base + dims * 2 + 4)), base + dims * 2 + 4)
    }
    const sha256 = await sha256Hex(bytes)
    files.push({ path: lazyShardFile('rows', firstFile + f, sha256), bytes })
    for (let b = 0; b < INDEX_HASH_BYTES; b++) index.sha256[f * INDEX_HASH_BYTES + b] = parseInt(sha256.slice(b * 2, b * 2 + 2), 16)
    index.bytes[f] = bytes.length
    index.records[f] = count
    ;(index.first as Uint32Array)[f] = seqs[from]!
  }
  return { files, index }
}

/** The 4 check bytes of a row: SHA-256 over its seq (u32, little-endian) and its codes and scale. */
async function rowCheck(seq: number, body: Uint8Array): Promise<Uint8Array> {
  const input = new Uint8Array(4 + body.length)
  new DataView(input.buffer).setUint32(0, seq, true)
  input.set(body, 4)
  return new Uint8Array(await crypto.subtle.digest('SHA-256', input)).subarray(0, 4)
}

/**
 * Where each row of a rows index is: the file and the record in it, by seq.
 *
 * @example
 * const where = new RowLocator(index) // where.find(1234) → { file: 0, row: 1234 }
 */
export class RowLocator {
  private readonly seqs: Uint32Array
  private readonly starts: Uint32Array

  constructor(readonly index: LazyIndex & { rowBytes: number; seqGaps: Uint32Array }) {
    const gaps = index.seqGaps
    this.seqs = new Uint32Array(gaps.length)
    for (let i = 0, v = 0; i < gaps.length; i++) this.seqs[i] = v = i === 0 ? gaps[0]! : (v + gaps[i]!) >>> 0
    this.starts = new Uint32Array(index.records.length + 1)
    for (let f = 0; f < index.records.length; f++) this.starts[f + 1] = this.starts[f]! + index.records[f]!
  }

  /** The file and record of `seq`; null when it has no row. */
  find(seq: number): { file: number; row: number } | null {
    const at = bound(this.seqs, seq)
    if (at >= this.seqs.length || this.seqs[at] !== seq) return null
    const file = bound(this.starts, at, true) - 1
    return { file, row: at - this.starts[file]! }
  }

  /** The seqs with rows in row block `block` (rows of `dims` dimensions). */
  seqsOfBlock(block: number, dims: number): number[] {
    const per = rowBlockRows(dims)
    const out: number[] = []
    for (let i = bound(this.seqs, block * per); i < this.seqs.length && this.seqs[i]! < (block + 1) * per; i++) out.push(this.seqs[i]!)
    return out
  }
}

/**
 * A row record's vector, after its check.
 *
 * @throws WinnowError SNAPSHOT_INVALID (corrupt) when the check fails.
 */
export async function decodeRow(record: Uint8Array, seq: number, dims: number, file: string): Promise<Float32Array> {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength)
  const check = await rowCheck(seq, record.subarray(0, dims * 2 + 4))
  for (let b = 0; b < 4; b++) {
    if (check[b] !== record[dims * 2 + 4 + b]) throw new WinnowError('SNAPSHOT_INVALID', `snapshot file ${file} is damaged: the row of passage ${seq} fails its check (a wrong or damaged range)`, { reason: 'corrupt', file })
  }
  const scale = view.getFloat32(dims * 2, true)
  const out = new Float32Array(dims)
  for (let d = 0; d < dims; d++) out[d] = (view.getUint16(d * 2, true) - 32768) * scale
  return out
}

/** The first index of ascending `a` whose value is ≥ `key` (> `key` when `after`). */
function bound(a: Uint32Array, key: number, after = false): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (a[mid]! < key || (after && a[mid] === key)) lo = mid + 1
    else hi = mid
  }
  return lo
}
