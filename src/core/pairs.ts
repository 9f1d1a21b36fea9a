/**
 * Building cross-encoder inputs from separately tokenized query and passage ids, so that
 * truncation follows the reference (sentence-transformers' CrossEncoder, i.e. the fast Hugging Face
 * tokenizer's longest-first pair truncation) and the special tokens and segment ids stay exactly
 * where the model's tokenizer puts them.
 */
import { WinnowError } from '../errors.js'

/**
 * Where a tokenizer puts its special tokens around a pair: `prefix A middle B suffix`, with the
 * segment (token type) id of each part. Derived once per tokenizer by {@link derivePairTemplate}.
 */
export interface PairTemplate {
  prefix: number[]
  middle: number[]
  suffix: number[]
  prefixTypes: number[]
  middleTypes: number[]
  suffixTypes: number[]
  /** Segment id of the query tokens. */
  queryType: number
  /** Segment id of the passage tokens. */
  documentType: number
}

/** Number of special tokens a template adds. */
export function specialCount(t: PairTemplate): number {
  return t.prefix.length + t.middle.length + t.suffix.length
}

/**
 * Finds the special tokens of a pair encoding by locating two probe sequences in it.
 * `full`/`fullTypes` encode the pair (a, b) with special tokens; `a` and `b` encode each probe alone without.
 *
 * @example
 * // BERT: [CLS] a [SEP] b [SEP]
 * derivePairTemplate([101, 7, 102, 8, 102], [0, 0, 0, 1, 1], [7], [8]).suffix // [102]
 */
export function derivePairTemplate(
  full: readonly number[],
  fullTypes: readonly number[] | null,
  a: readonly number[],
  b: readonly number[],
): PairTemplate {
  const aAt = indexOfRun(full, a, 0)
  const bAt = aAt < 0 ? -1 : indexOfRun(full, b, aAt + a.length)
  if (aAt < 0 || bAt < 0 || a.length === 0 || b.length === 0) {
    throw new WinnowError('UNSUPPORTED_MODEL', 'cannot locate the query and passage inside the tokenizer’s pair encoding', { reason: 'pair-encoding' })
  }
  const types = fullTypes ?? full.map(() => 0)
  return {
    prefix: full.slice(0, aAt),
    middle: full.slice(aAt + a.length, bAt),
    suffix: full.slice(bAt + b.length),
    prefixTypes: types.slice(0, aAt),
    middleTypes: types.slice(aAt + a.length, bAt),
    suffixTypes: types.slice(bAt + b.length),
    queryType: types[aAt]!,
    documentType: types[bAt]!,
  }
}

/** Length limits for {@link fitPair}. */
export interface PairLimits {
  /** Max tokens of the whole pair including special tokens. */
  maxLength: number
  /**
   * Optional bound on the query tokens, applied before the longest-first split (clamped so the
   * passage always keeps at least one token). Undefined: no bound, exactly the reference.
   */
  maxQueryLength?: number | undefined
}

/** How many query and passage tokens a pair keeps, and whether either was cut. */
export interface PairFit {
  queryLength: number
  documentLength: number
  queryTruncated: boolean
  documentTruncated: boolean
  /** Total tokens of the pair with special tokens. */
  length: number
}

/**
 * Longest-first truncation of a pair to `budget` tokens, the rule of Hugging Face tokenizers'
 * `TruncationStrategy::LongestFirst` (`truncate_encodings`), which sentence-transformers'
 * CrossEncoder uses: nothing is cut when both fit; otherwise the shorter sequence keeps all its
 * tokens and the longer one gets the rest, unless the shorter one alone takes more than half: then
 * both get half the budget, the longer one the odd token (the second one when they are as long).
 *
 * @example
 * longestFirst(90, 1, 125)   // [90, 1]: fits, nothing is cut
 * longestFirst(10, 600, 125) // [10, 115]
 * longestFirst(300, 600, 125) // [62, 63]
 * longestFirst(600, 300, 125) // [63, 62]
 */
export function longestFirst(first: number, second: number, budget: number): [number, number] {
  if (first + second <= budget) return [first, second]
  const swap = first > second
  let short = swap ? second : first
  let long = short > budget ? short : Math.max(short, budget - short)
  if (short + long > budget) {
    short = Math.floor(budget / 2)
    long = short + (budget % 2)
  }
  return swap ? [Math.min(long, first), Math.min(short, second)] : [Math.min(short, first), Math.min(long, second)]
}

/**
 * Decides how much of a query and a passage fit in `maxLength` with the template's special tokens:
 * longest-first like the reference ({@link longestFirst}), after cutting the query to
 * `maxQueryLength` when one is given.
 *
 * @example
 * fitPair(10, 600, bertTemplate, { maxLength: 512 })
 * // { queryLength: 10, documentLength: 499, documentTruncated: true, queryTruncated: false, length: 512 }
 * fitPair(90, 1, bertTemplate, { maxLength: 128 }) // nothing cut: 94 tokens
 */
export function fitPair(queryLength: number, documentLength: number, t: PairTemplate, limits: PairLimits): PairFit {
  const specials = specialCount(t)
  const room = limits.maxLength - specials
  if (room < 2) throw new RangeError(`maxLength ${limits.maxLength} leaves no room for a query and a passage`)
  const bounded =
    limits.maxQueryLength === undefined ? queryLength : Math.min(queryLength, Math.max(1, Math.min(limits.maxQueryLength, room - 1)))
  const [q, d] = longestFirst(bounded, documentLength, room)
  return {
    queryLength: q,
    documentLength: d,
    queryTruncated: q < queryLength,
    documentTruncated: d < documentLength,
    length: specials + q + d,
  }
}

/**
 * Writes one fitted pair into row `row` of flat `[rows, width]` id / type / mask buffers
 * (already zeroed, i.e. padded). Allocates nothing.
 *
 * @example
 * writePair(ids, types, mask, 0, width, q, d, fitPair(q.length, d.length, t, limits), t)
 */
export function writePair(
  ids: BigInt64Array,
  types: BigInt64Array,
  mask: BigInt64Array,
  row: number,
  width: number,
  query: ArrayLike<number>,
  document: ArrayLike<number>,
  fit: PairFit,
  t: PairTemplate,
): void {
  let at = row * width
  const put = (id: number, type: number) => {
    ids[at] = BigInt(id)
    types[at] = BigInt(type)
    mask[at] = 1n
    at++
  }
  for (let i = 0; i < t.prefix.length; i++) put(t.prefix[i]!, t.prefixTypes[i]!)
  for (let i = 0; i < fit.queryLength; i++) put(query[i]!, t.queryType)
  for (let i = 0; i < t.middle.length; i++) put(t.middle[i]!, t.middleTypes[i]!)
  for (let i = 0; i < fit.documentLength; i++) put(document[i]!, t.documentType)
  for (let i = 0; i < t.suffix.length; i++) put(t.suffix[i]!, t.suffixTypes[i]!)
}

function indexOfRun(haystack: readonly number[], needle: readonly number[], from: number): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}
