/**
 * Result diversification: Maximal Marginal Relevance (Carbonell & Goldstein, 1998) and a plain
 * per-group cap (`maxPerDocument` without MMR).
 *
 * MMR picks greedily, one item at a time, the unpicked item maximising
 * `lambda · relevance[i] − (1 − lambda) · max_{j picked} similarity(i, j)`. Each item keeps a running
 * maximum similarity to the picks so far, updated against the newest pick only, so a selection of k
 * out of n costs at most n·(k − 1) similarity calls rather than the naive n·k².
 */
import { dot } from '../core/vector.js'
import { invalidInput, WinnowError } from '../errors.js'

/**
 * Similarity between items `i` and `j` of one candidate list, typically in [-1, 1] (cosine) or
 * [0, 1] (term overlap). Higher means more redundant.
 *
 * @example
 * const same: Similarity = (i, j) => (i === j ? 1 : 0)
 */
export type Similarity = (i: number, j: number) => number

/**
 * What {@link selectDiverse} selects from. Items are `0 .. relevance.length − 1`.
 *
 * @example
 * const input: SelectDiverseInput = { relevance: [0.9, 0.8], similarity: (i, j) => 0, lambda: 0.5, k: 2 }
 */
export interface SelectDiverseInput {
  /** Relevance per item, finite, best comparable on the same scale as `similarity` (e.g. [0, 1]). */
  relevance: ArrayLike<number>
  /** Called as `similarity(candidate, picked)`; NaN counts as 0. Never called when `lambda` is 1. */
  similarity: Similarity
  /** Weight of relevance against novelty, in [0, 1]: 1 is pure relevance order, 0 pure novelty. */
  lambda: number
  /** How many items to pick at most; an integer >= 0. */
  k: number
  /** Group key per item (e.g. document id), same length as `relevance`. Default: no groups. */
  groups?: ArrayLike<string> | null
  /** At most this many picks per group, an integer >= 1; applies only with `groups`. Default: no cap. */
  maxPerGroup?: number | null
}

/**
 * Picks up to `k` items by Maximal Marginal Relevance, returning their indices in pick order.
 *
 * Ties on the marginal score go to the higher relevance, then to the lower index (so pass items in
 * the order that should win ties, typically best first). Items whose group already holds
 * `maxPerGroup` picks are not eligible. Stops after `k` picks or when nothing is eligible. With
 * `lambda` 1 the result is exactly the relevance order (ties by index) under the group cap, and
 * `similarity` is never called.
 *
 * @throws WinnowError `INVALID_INPUT` for `lambda` outside [0, 1] or NaN, `k` not an integer >= 0,
 *   a non-finite relevance, `groups` of another length than `relevance`, or `maxPerGroup` not an
 *   integer >= 1.
 * @example
 * // Items 0 and 1 are near-duplicates; 2 is different and a little less relevant.
 * const sim = [[1, 0.95, 0.1], [0.95, 1, 0.1], [0.1, 0.1, 1]]
 * selectDiverse({ relevance: [0.9, 0.88, 0.8], similarity: (i, j) => sim[i][j], lambda: 0.5, k: 2 }) // [0, 2]
 * selectDiverse({ relevance: [0.9, 0.88, 0.8], similarity: (i, j) => sim[i][j], lambda: 1, k: 2 })   // [0, 1]
 */
export function selectDiverse(input: SelectDiverseInput): number[] {
  const { relevance, similarity, lambda, k } = input
  validateLambda(lambda)
  validateCount('k', k, 0)
  const n = relevance.length
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(relevance[i])) {
      throw invalidInput(`relevance[${i}] is ${String(relevance[i])}; pass finite relevance scores (normalise them into [0, 1])`)
    }
  }
  if (1 - lambda !== 0 && typeof similarity !== 'function') throw invalidInput('similarity must be a function (i, j) => number')
  if (input.maxPerGroup !== null && input.maxPerGroup !== undefined) validateCount('maxPerGroup', input.maxPerGroup, 1)
  if (input.groups !== null && input.groups !== undefined && input.groups.length !== n) {
    throw invalidInput(`groups has ${input.groups.length} entries but relevance has ${n}; pass one group key per item`)
  }
  return pickDiverse(input)
}

/**
 * {@link selectDiverse} for an input known to be valid (the search pipeline's, from options
 * resolved once): the same picks, with nothing checked again.
 *
 * @example
 * pickDiverse({ relevance: [0.9, 0.8], similarity: () => 0, lambda: 0.7, k: 1 }) // [0]
 */
export function pickDiverse(input: SelectDiverseInput): number[] {
  const { relevance, similarity, lambda, k } = input
  const n = relevance.length
  const diversity = 1 - lambda
  const groupIds = groupNumbers(input.groups, input.maxPerGroup, n)
  const cap = groupIds === null ? 0 : (input.maxPerGroup as number)
  const perGroup = groupIds === null ? null : new Int32Array(n)
  // done: picked, or its group is full (a full group never reopens, so the flag is final).
  const done = new Uint8Array(n)
  const maxSim = new Float64Array(n)
  const picked: number[] = []
  let last = -1

  while (picked.length < k) {
    let best = -1
    let bestScore = 0
    let bestRel = 0
    for (let i = 0; i < n; i++) {
      if (done[i] === 1) continue
      if (perGroup !== null && perGroup[groupIds![i]!]! >= cap) {
        done[i] = 1
        continue
      }
      if (last >= 0 && diversity !== 0) {
        const s = similarity(i, last)
        const v = s === s ? s : 0
        // The first pick replaces the empty-set 0 outright: the max over one similarity may be negative.
        if (picked.length === 1 || v > maxSim[i]!) maxSim[i] = v
      }
      const rel = relevance[i]!
      const score = lambda * rel - diversity * maxSim[i]!
      // Scanning upward with strict comparisons leaves full ties to the lower index.
      if (best < 0 || score > bestScore || (score === bestScore && rel > bestRel)) {
        best = i
        bestScore = score
        bestRel = rel
      }
    }
    if (best < 0) break
    picked.push(best)
    done[best] = 1
    if (perGroup !== null) perGroup[groupIds![best]!]!++
    last = best
  }
  return picked
}

/**
 * Walks `order` (item ids, best first) and keeps at most `maxPerGroup` items per group, stopping at
 * `k` kept. `groups[id]` is the group of item `id`. This is `maxPerDocument` without MMR.
 *
 * @throws WinnowError `INVALID_INPUT` for `maxPerGroup` not an integer >= 1, `k` not an integer >= 0,
 *   or an id in `order` that is not an index into `groups`.
 * @example
 * capPerGroup([4, 0, 2, 1], ['a', 'b', 'a', 'b', 'a'], 1, 10) // [4, 0]: one per group
 * capPerGroup([4, 0, 2, 1], ['a', 'b', 'a', 'b', 'a'], 2, 3)  // [4, 0, 2]: stops at k
 */
export function capPerGroup(order: ArrayLike<number>, groups: ArrayLike<string>, maxPerGroup: number, k: number): number[] {
  validateCount('maxPerGroup', maxPerGroup, 1)
  validateCount('k', k, 0)
  for (let r = 0; r < order.length; r++) {
    const id = order[r]!
    if (!Number.isInteger(id) || id < 0 || id >= groups.length) {
      throw invalidInput(`order[${r}] is ${String(id)}, which is not an item index into groups (length ${groups.length})`)
    }
  }
  return keepPerGroup(order, groups, maxPerGroup, k)
}

/**
 * {@link capPerGroup} for arguments known to be valid (the search pipeline's): the same walk, with
 * nothing checked again.
 *
 * @example
 * keepPerGroup([4, 0, 2, 1], ['a', 'b', 'a', 'b', 'a'], 1, 10) // [4, 0]
 */
export function keepPerGroup(order: ArrayLike<number>, groups: ArrayLike<string>, maxPerGroup: number, k: number): number[] {
  const counts = new Map<string, number>()
  const kept: number[] = []
  for (let r = 0; r < order.length && kept.length < k; r++) {
    const id = order[r]!
    const group = groups[id]!
    const count = counts.get(group) ?? 0
    if (count >= maxPerGroup) continue
    counts.set(group, count + 1)
    kept.push(id)
  }
  return kept
}

/**
 * Cosine similarity over unit-normalised rows (so a plain dot product). A `null` row, e.g. a
 * candidate that came from keyword search only, has similarity 0 to everything.
 *
 * @throws WinnowError `DIMENSION_MISMATCH` if the non-null rows differ in length.
 * @example
 * const sim = cosineSimilarity([new Float32Array([1, 0]), new Float32Array([0.6, 0.8]), null])
 * sim(0, 1) // 0.6
 * sim(0, 2) // 0
 */
export function cosineSimilarity(vectors: (Float32Array | null)[]): Similarity {
  let dims = -1
  for (let i = 0; i < vectors.length; i++) {
    const v = vectors[i]
    if (!v) continue
    if (dims < 0) dims = v.length
    else if (v.length !== dims) {
      throw new WinnowError('DIMENSION_MISMATCH', `vectors[${i}] has ${v.length} dimensions, earlier rows have ${dims}; pass rows from one collection`, {
        expected: dims,
        actual: v.length,
      })
    }
  }
  return (i, j) => {
    const a = vectors[i]
    const b = vectors[j]
    return a && b ? dot(a, b, 0, 0, dims) : 0
  }
}

/**
 * Jaccard similarity of per-item term sets, `|A ∩ B| / |A ∪ B|`, for collections without vectors.
 * Two empty sets have similarity 0 (nothing in common to be redundant about). Arrays are turned into
 * sets once, here, so duplicates within an item's terms count once.
 *
 * @example
 * const sim = termOverlapSimilarity([['red', 'fox'], ['red', 'dog'], []])
 * sim(0, 1) // 1/3
 * sim(2, 2) // 0
 */
export function termOverlapSimilarity(termSets: ReadonlySet<string>[] | string[][]): Similarity {
  const sets: ReadonlySet<string>[] = termSets.map((t: ReadonlySet<string> | string[]) => (Array.isArray(t) ? new Set(t) : t))
  return (i, j) => {
    const a = sets[i]!
    const b = sets[j]!
    // Probe the larger set with the smaller one (no destructuring: this runs n·k times).
    const small = a.size <= b.size ? a : b
    const large = small === a ? b : a
    if (large.size === 0) return 0
    let shared = 0
    for (const term of small) if (large.has(term)) shared++
    return shared / (a.size + b.size - shared)
  }
}

/** Dense group numbers per item (so the pick loop indexes an Int32Array, not a Map), or null for no cap. */
function groupNumbers(groups: ArrayLike<string> | null | undefined, maxPerGroup: number | null | undefined, n: number): Int32Array | null {
  if (groups === null || groups === undefined || maxPerGroup === null || maxPerGroup === undefined) return null
  const numbers = new Map<string, number>()
  const ids = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const key = groups[i]!
    let id = numbers.get(key)
    if (id === undefined) numbers.set(key, (id = numbers.size))
    ids[i] = id
  }
  return ids
}

function validateLambda(lambda: unknown): void {
  if (typeof lambda !== 'number' || !(lambda >= 0 && lambda <= 1)) {
    throw invalidInput(`lambda must be a number in [0, 1] (1 = relevance only, 0 = novelty only), got ${String(lambda)}`)
  }
}

function validateCount(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalidInput(`${name} must be an integer >= ${min}, got ${String(value)}`)
  }
}
