/**
 * Building cross-encoder inputs from separately tokenized query and passage ids, so that
 * truncation cuts the passage (never the query beyond its bound) and the special tokens and
 * segment ids stay exactly where the model's tokenizer puts them.
 */

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
    throw new Error('cannot locate the query and passage inside the tokenizer’s pair encoding')
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
  /** Max query tokens kept. Clamped so the passage always keeps at least one token. */
  maxQueryLength: number
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
 * Decides how much of a query and a passage fit: the query up to its bound, the passage gets the rest.
 *
 * @example
 * fitPair(10, 600, bertTemplate, { maxLength: 512, maxQueryLength: 64 })
 * // { queryLength: 10, documentLength: 499, documentTruncated: true, ... }
 */
export function fitPair(queryLength: number, documentLength: number, t: PairTemplate, limits: PairLimits): PairFit {
  const specials = specialCount(t)
  const room = limits.maxLength - specials
  if (room < 2) throw new RangeError(`maxLength ${limits.maxLength} leaves no room for a query and a passage`)
  const queryBound = Math.max(1, Math.min(limits.maxQueryLength, room - 1))
  const q = Math.min(queryLength, queryBound)
  const d = Math.min(documentLength, room - q)
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
