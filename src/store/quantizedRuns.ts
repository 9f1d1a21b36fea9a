/**
 * Int8 blocks are stored in runs: the consecutive 64-row blocks of one segment that one commit
 * writes, up to {@link QUANTIZED_RUN_ROWS} rows, go into one record, and a read splits them back
 * into blocks (views, no copy). A reopen reads every int8 row, and Chromium's IndexedDB pays per
 * record: 100,000 × 384 codes took 5.1-5.3 s to `getAll` as 1,563 records of 64 rows, 0.8-1.3 s as
 * 98 records of 1,024 and 0.7-0.8 s as 20 of 5,000 (measured in Chromium on this repo's bench
 * machine). A record of 64 rows is a run of one block, so records written before runs read the same.
 */
import { VECTOR_BLOCK_ROWS, type QuantizedBlockRecord } from './types.js'

/** Most rows in one stored run (1.5 MiB of codes at 384 dims). */
export const QUANTIZED_RUN_ROWS = 4096

/**
 * Joins blocks into runs: same segment and dims, consecutive block numbers, every block but a
 * run's last one full.
 *
 * @example
 * for (const run of packQuantized(batch.putQuantized ?? [])) store.put(run)
 */
export function packQuantized(blocks: readonly QuantizedBlockRecord[]): QuantizedBlockRecord[] {
  const sorted = [...blocks].sort((a, b) => a.segment - b.segment || a.block - b.block)
  const runs: QuantizedBlockRecord[][] = []
  let current: QuantizedBlockRecord[] = []
  let rows = 0
  for (const block of sorted) {
    const last = current[current.length - 1]
    const joins =
      last !== undefined &&
      last.segment === block.segment &&
      last.dims === block.dims &&
      last.block + 1 === block.block &&
      last.seqs.length === VECTOR_BLOCK_ROWS &&
      rows + block.seqs.length <= QUANTIZED_RUN_ROWS
    if (!joins) {
      if (current.length > 0) runs.push(current)
      current = []
      rows = 0
    }
    current.push(block)
    rows += block.seqs.length
  }
  if (current.length > 0) runs.push(current)
  return runs.map((run) => (run.length === 1 ? run[0]! : join(run)))
}

function join(run: readonly QuantizedBlockRecord[]): QuantizedBlockRecord {
  const { segment, block, dims } = run[0]!
  const rows = run.reduce((n, b) => n + b.seqs.length, 0)
  const seqs = new Uint32Array(rows)
  const codes = new Int8Array(rows * dims)
  const scales = new Float32Array(rows)
  let at = 0
  for (const b of run) {
    const n = b.seqs.length
    seqs.set(b.seqs, at)
    codes.set(b.codes.subarray(0, n * dims), at * dims)
    scales.set(b.scales.subarray(0, n), at)
    at += n
  }
  return { segment, block, dims, seqs, codes, scales }
}

/**
 * A stored run as its 64-row blocks (views into the run's arrays).
 *
 * @example
 * const blocks = (await db.getAll('quantized')).flatMap(splitQuantized)
 */
export function splitQuantized(run: QuantizedBlockRecord): QuantizedBlockRecord[] {
  const rows = run.seqs.length
  if (rows <= VECTOR_BLOCK_ROWS) return [run]
  const out: QuantizedBlockRecord[] = []
  for (let from = 0, j = 0; from < rows; from += VECTOR_BLOCK_ROWS, j++) {
    const to = Math.min(rows, from + VECTOR_BLOCK_ROWS)
    out.push({
      segment: run.segment,
      block: run.block + j,
      dims: run.dims,
      seqs: run.seqs.subarray(from, to),
      codes: run.codes.subarray(from * run.dims, to * run.dims),
      scales: run.scales.subarray(from, to),
    })
  }
  return out
}
