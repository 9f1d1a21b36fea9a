/**
 * BM25 keyword scoring over a segmented inverted index, and the builder for one segment's
 * postings. Pure and synchronous: the store hands in postings and per-slot lengths, this returns
 * the best slots.
 *
 * Scoring is Lucene's BM25 (what Elasticsearch, OpenSearch and Anserini compute), so figures can
 * be checked against theirs:
 *
 *   score(d) = Σ_t  w_t · idf(t) · tf / (tf + k1 · (1 − b + b · |d| / avgdl))
 *
 * with w_t the term's count in the query and idf from {@link bm25Idf}. Lucene 8 dropped the
 * classic (k1 + 1) factor from the numerator: the ranking is the same and one term's contribution
 * stays below w_t · idf(t), whatever k1 is. Lengths are exact where Lucene rounds them to one
 * byte, so scores differ slightly from Lucene's.
 */
import { TopK } from '../core/topk.js'
import { WinnowError } from '../errors.js'

/**
 * BM25 saturation (`k1`) and length normalization (`b`).
 *
 * @example
 * const anserini: Bm25Params = { k1: 0.9, b: 0.4 }
 * scoreBm25({ ...input, params: anserini })
 */
export interface Bm25Params {
  /** How quickly repeated terms stop adding score; 0 ignores term frequency. */
  k1: number
  /** How much longer chunks are penalized: 0 not at all, 1 fully proportional to length. */
  b: number
}

/**
 * `k1 = 1.2, b = 0.75`, Lucene's and Elasticsearch's defaults, kept after measuring: on SciFact's
 * 809 train queries nDCG@10 is flat around them (0.698 here; the grid's best, k1 1.1 b 0.5, is
 * 0.699; Anserini's k1 0.9 b 0.4 is 0.696; see `npm run eval -- --split train --grid`).
 * Differences that small are noise, so the setting users already know wins the tie.
 *
 * @example
 * scoreBm25({ ...input, params: { ...DEFAULT_BM25, b: 0.5 } })
 */
export const DEFAULT_BM25: Readonly<Bm25Params> = Object.freeze({ k1: 1.2, b: 0.75 })

/**
 * One term's postings in one segment: chunk sequence numbers ascending, with term frequencies.
 *
 * @example
 * const leak: TermPostings = { seqs: Uint32Array.of(2, 9), tfs: Uint16Array.of(1, 3) }
 */
export interface TermPostings {
  seqs: Uint32Array
  tfs: Uint16Array
}

/**
 * A query term with its postings from every segment.
 *
 * @example
 * const term: QueryTerm = { term: 'leak', weight: 1, postings: [segmentA.get('leak')!, segmentB.get('leak')!], df: 7 }
 */
export interface QueryTerm {
  term: string
  /** Occurrences in the query (Anserini's bag-of-words weighting); terms with weight ≤ 0 are skipped. */
  weight: number
  postings: readonly TermPostings[]
  /** Live chunks containing the term, over all segments. */
  df: number
}

/**
 * Everything {@link scoreBm25} reads.
 *
 * @example
 * const input: Bm25Input = { terms, docCount: 5183, avgLength: 213.4, slotOf, lengths, allowed: null, k: 100 }
 */
export interface Bm25Input {
  terms: readonly QueryTerm[]
  /** N: live chunks. */
  docCount: number
  /** Average chunk length in analyzed terms. */
  avgLength: number
  /** seq → slot; -1 (or a seq past the end) = deleted or absent. */
  slotOf: Int32Array
  /** slot → chunk length in terms. */
  lengths: Uint32Array
  /** slot → 1 if the chunk passes the metadata filter; applied before top-k, so k results still come back. */
  allowed?: Uint8Array | null
  /** How many results at most. */
  k: number
  /** Default {@link DEFAULT_BM25}. */
  params?: Bm25Params
}

/**
 * Slots best first, with their scores; only chunks matching at least one term appear.
 *
 * @example
 * const { slots, scores }: Bm25Result = scoreBm25(input)
 * const best = slots[0] // slot of the highest-scoring chunk, if any matched
 */
export interface Bm25Result {
  slots: Int32Array
  scores: Float64Array
}

/**
 * Lucene's idf, never negative even for a term in every chunk: ln(1 + (N − df + 0.5) / (df + 0.5)).
 * `df` is clamped to [0, N], since counts that still include deleted chunks can exceed N.
 *
 * @example
 * bm25Idf(1, 10)  // ln(1 + 9.5 / 1.5) ≈ 1.99
 * bm25Idf(10, 10) // ln(1 + 0.5 / 10.5) ≈ 0.047
 */
export function bm25Idf(df: number, docCount: number): number {
  const n = Math.max(0, docCount)
  const d = Math.min(Math.max(0, df), n)
  return Math.log(1 + (n - d + 0.5) / (d + 0.5))
}

// Scratch reused across calls: scoring is synchronous and never re-entered, so one buffer per
// module is safe, and only the touched entries are reset, so a query costs O(postings), not
// O(chunks). It grows to the largest slot count seen.
let accumulator = new Float64Array(0)
let touched = new Int32Array(0)

/**
 * Scores chunks against query terms with BM25 and returns the best `k`, best first (ties: smaller
 * slot first). Deleted seqs and chunks outside `allowed` are skipped while scoring.
 *
 * @throws {WinnowError} `INVALID_INPUT` if `k` is not a non-negative integer, `k1` is not finite and
 *   non-negative, or `b` is outside 0..1.
 * @example
 * const { slots, scores } = scoreBm25({
 *   terms: [{ term: 'leak', weight: 1, df: 1, postings: [{ seqs: Uint32Array.of(7), tfs: Uint16Array.of(2) }] }],
 *   docCount: 3, avgLength: 10, slotOf: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 2]),
 *   lengths: Uint32Array.of(10, 8, 12), k: 10,
 * })
 * // slots = [2]
 */
export function scoreBm25(input: Bm25Input): Bm25Result {
  const { terms, docCount, avgLength, slotOf, lengths, k } = input
  const allowed = input.allowed ?? null
  const { k1, b } = input.params ?? DEFAULT_BM25
  if (!(k1 >= 0 && Number.isFinite(k1) && b >= 0 && b <= 1)) {
    throw new WinnowError('INVALID_INPUT', 'BM25 needs a finite k1 ≥ 0 and 0 ≤ b ≤ 1 (the defaults are k1 1.2, b 0.75)', { k1, b })
  }
  if (!Number.isInteger(k) || k < 0) {
    throw new WinnowError('INVALID_INPUT', 'k must be a non-negative integer (how many results to return)', { k })
  }
  const slotCount = lengths.length
  if (accumulator.length < slotCount) {
    accumulator = new Float64Array(slotCount)
    touched = new Int32Array(slotCount)
  }
  const acc = accumulator
  const seen = touched
  let touchedCount = 0
  // Hoisted so the per-posting work is one multiply-add: norm = base + perLength · |d|.
  const base = k1 * (1 - b)
  const perLength = avgLength > 0 ? (k1 * b) / avgLength : 0
  const seqLimit = slotOf.length

  for (const queryTerm of terms) {
    if (!(queryTerm.weight > 0)) continue
    const termWeight = queryTerm.weight * bm25Idf(queryTerm.df, docCount)
    if (!(termWeight > 0)) continue
    for (const { seqs, tfs } of queryTerm.postings) {
      for (let i = 0; i < seqs.length; i++) {
        const seq = seqs[i]!
        if (seq >= seqLimit) continue
        const slot = slotOf[seq]!
        if (slot < 0 || slot >= slotCount || (allowed !== null && allowed[slot] !== 1)) continue
        const tf = tfs[i]!
        if (tf === 0) continue
        // Every contribution is > 0, so a zero accumulator means "not touched yet".
        if (acc[slot] === 0) seen[touchedCount++] = slot
        acc[slot] = acc[slot]! + (termWeight * tf) / (tf + base + perLength * lengths[slot]!)
      }
    }
  }

  const top = new TopK(Math.min(k, touchedCount))
  for (let i = 0; i < touchedCount; i++) {
    const slot = seen[i]!
    top.push(slot, acc[slot]!)
    acc[slot] = 0
  }
  const { ids, scores } = top.sorted()
  return { slots: ids, scores }
}

/**
 * One segment's inverted index, as built by {@link buildPostings}.
 *
 * @example
 * const segment: SegmentPostings = buildPostings(chunks)
 * segment.postings.get('leak')?.seqs // ascending seqs of chunks containing "leak"
 */
export interface SegmentPostings {
  /** term → postings, seqs ascending. */
  postings: Map<string, TermPostings>
  /** Chunk lengths in terms, in the order the chunks were given. */
  lengths: Uint32Array
}

const MAX_TF = 0xffff
const MAX_SEQ = 0xffffffff

/**
 * Builds one segment's postings from analyzed chunks (any order; seqs must be distinct integers
 * in 0..2³²−1). Term frequencies saturate at 65535, far past where BM25 stops caring.
 *
 * @throws {WinnowError} `INVALID_INPUT` for a repeated or out-of-range seq.
 * @example
 * const { postings, lengths } = buildPostings([
 *   { seq: 4, terms: ['memory', 'leak', 'leak'] },
 *   { seq: 2, terms: ['leak'] },
 * ])
 * postings.get('leak') // { seqs: [2, 4], tfs: [1, 2] }
 * lengths              // [3, 1]
 */
export function buildPostings(chunks: readonly { seq: number; terms: readonly string[] }[]): SegmentPostings {
  const lengths = new Uint32Array(chunks.length)
  const order = Array.from({ length: chunks.length }, (_, i) => i)
  let sorted = true
  for (let i = 1; i < chunks.length && sorted; i++) sorted = chunks[i - 1]!.seq < chunks[i]!.seq
  if (!sorted) order.sort((a, b) => chunks[a]!.seq - chunks[b]!.seq)
  // One list per term; `last` is the seq of its newest entry, so a term seen again in the same
  // chunk raises that entry's tf instead of being counted in a per-chunk map first.
  const lists = new Map<string, { seqs: number[]; tfs: number[]; last: number }>()
  let previous = -1
  for (const index of order) {
    const { seq, terms } = chunks[index]!
    if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ || seq === previous) {
      throw new WinnowError('INVALID_INPUT', `chunk seqs must be distinct integers from 0 to ${MAX_SEQ}`, { seq })
    }
    previous = seq
    lengths[index] = terms.length
    // Chunks are visited in seq order, so appending keeps every list ascending.
    for (const term of terms) {
      const list = lists.get(term)
      if (list === undefined) lists.set(term, { seqs: [seq], tfs: [1], last: seq })
      else if (list.last === seq) list.tfs[list.tfs.length - 1]!++
      else {
        list.seqs.push(seq)
        list.tfs.push(1)
        list.last = seq
      }
    }
  }
  const postings = new Map<string, TermPostings>()
  for (const [term, list] of lists) {
    const tfs = new Uint16Array(list.tfs.length)
    for (let i = 0; i < tfs.length; i++) tfs[i] = Math.min(list.tfs[i]!, MAX_TF)
    postings.set(term, { seqs: new Uint32Array(list.seqs), tfs })
  }
  return { postings, lengths }
}
