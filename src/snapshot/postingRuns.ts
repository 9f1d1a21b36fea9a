/**
 * Postings of a format-2 snapshot built in parts (`lazyWriter.ts`): each part's postings, sorted by
 * term, go to a *run* — in memory, or wherever the caller keeps runs (the CLI: temporary files) —
 * and the runs are merged by term into the postings shards at the end, so a build holds one chunk
 * of each run at a time instead of every posting of the corpus.
 */
import type { PostingRecord } from '../store/types.js'
import { decodeRecords, encodeRecords } from './codec.js'

/** Where a run's chunks are kept: appended in order, read back in order. */
export interface RunStore {
  append(chunk: Uint8Array): Promise<void>
  read(): AsyncIterable<Uint8Array>
  /** Frees what the run holds (after the merge). */
  drop(): Promise<void>
}

/** Runs kept in memory (a build in one part, tests). */
export function memoryRuns(): () => RunStore {
  return () => {
    let chunks: Uint8Array[] = []
    return {
      append: async (chunk) => void chunks.push(chunk),
      read: async function* () {
        yield* chunks
      },
      drop: async () => void (chunks = []),
    }
  }
}

/** Postings per chunk of a run. */
const CHUNK_RECORDS = 4096

interface RunChunk {
  terms: string[]
  segments: Uint32Array
  lengths: Uint32Array
  seqs: Uint32Array
  tfs: Uint16Array
}

/**
 * Writes `postings` to `store` sorted by term, then segment.
 *
 * @example
 * await writeRun(records.postings, store)
 */
export async function writeRun(postings: readonly PostingRecord[], store: RunStore): Promise<void> {
  const sorted = [...postings].sort((a, b) => (a.term < b.term ? -1 : a.term > b.term ? 1 : a.segment - b.segment))
  for (let from = 0; from < sorted.length; from += CHUNK_RECORDS) {
    const part = sorted.slice(from, from + CHUNK_RECORDS)
    const total = part.reduce((n, p) => n + p.seqs.length, 0)
    const chunk: RunChunk = { terms: part.map((p) => p.term), segments: Uint32Array.from(part, (p) => p.segment), lengths: Uint32Array.from(part, (p) => p.seqs.length), seqs: new Uint32Array(total), tfs: new Uint16Array(total) }
    let at = 0
    for (const p of part) {
      chunk.seqs.set(p.seqs, at)
      chunk.tfs.set(p.tfs, at)
      at += p.seqs.length
    }
    await store.append(encodeRecords(chunk))
  }
}

async function* runRecords(store: RunStore): AsyncGenerator<PostingRecord> {
  for await (const bytes of store.read()) {
    const c = decodeRecords(bytes) as RunChunk
    let at = 0
    for (let i = 0; i < c.terms.length; i++) {
      const n = c.lengths[i]!
      yield { term: c.terms[i]!, segment: c.segments[i]!, seqs: c.seqs.slice(at, at + n), tfs: c.tfs.slice(at, at + n) }
      at += n
    }
  }
}

/**
 * Every term's postings, a term at a time in term order, its segments ascending: the runs merged
 * (runs of later parts hold later segments, so a term's records come run by run).
 *
 * @example
 * for await (const records of mergeRuns(stores)) pack(records)
 */
export async function* mergeRuns(stores: readonly RunStore[]): AsyncGenerator<PostingRecord[]> {
  const heads = stores.map((s) => runRecords(s)[Symbol.asyncIterator]())
  const current: (PostingRecord | null)[] = await Promise.all(heads.map(async (h) => (await h.next()).value ?? null))
  for (;;) {
    let term: string | null = null
    for (const r of current) if (r && (term === null || r.term < term)) term = r.term
    if (term === null) return
    const group: PostingRecord[] = []
    for (let i = 0; i < heads.length; i++) {
      while (current[i] && current[i]!.term === term) {
        group.push(current[i]!)
        current[i] = (await heads[i]!.next()).value ?? null
      }
    }
    yield group.sort((a, b) => a.segment - b.segment)
  }
}
