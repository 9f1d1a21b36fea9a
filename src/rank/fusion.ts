/**
 * Hybrid search: merging the vector and keyword first-stage lists into one ranking. Two methods:
 *
 * - `rrf` (reciprocal rank fusion, the default): `Σ 1 / (k + rank)` over the lists an item is in,
 *   rank from 1. Uses ranks only, so it needs no calibration between cosines and BM25 scores.
 * - `weighted`: `alpha · vec + (1 − alpha) · kw` over scores min-max normalised within each list.
 *   Lets a caller lean on one side; `alpha` 0 and 1 reproduce the keyword and vector order exactly.
 *
 * Lists are short (the first stage's depth, ~100), so this sorts plainly; it is not a hot loop.
 */
import { invalidInput } from '../errors.js'
import type { Fusion } from '../types/search.js'

/**
 * A fusion resolved by {@link resolveFusion}: the public {@link Fusion} with its defaults filled in.
 * {@link fuse} takes only this form, so it trusts its caller and re-checks nothing.
 */
export type ResolvedFusion = Required<Fusion>

/** One first-stage list, best first. `scores[i]` belongs to `ids[i]`. */
export interface RankedList {
  ids: ArrayLike<number>
  scores: ArrayLike<number>
}

/** The fused ranking, best first, with each item's raw score from each list (NaN where absent). */
export interface FusedList {
  ids: Int32Array
  scores: Float64Array
  vectorScore: Float64Array
  keywordScore: Float64Array
}

/** RRF's rank offset when none is given (the value of Cormack et al., 2009). */
export const DEFAULT_RRF_K = 60
/** Weighted fusion's vector weight when none is given. */
export const DEFAULT_ALPHA = 0.5

/**
 * Validates a caller's fusion option and fills in defaults. `undefined` or `null` means RRF with
 * k = 60. Keys that do not belong to the chosen method (say `alpha` with `rrf`) are refused rather
 * than ignored, since ignoring them would silently change the ranking the caller asked for.
 *
 * @throws WinnowError `INVALID_INPUT` for an unknown method, `k` not a finite number > 0, `alpha`
 *   outside [0, 1], or a stray key.
 * @example
 * resolveFusion(undefined)                          // { method: 'rrf', k: 60 }
 * resolveFusion({ method: 'weighted', alpha: 0.7 }) // { method: 'weighted', alpha: 0.7 }
 */
export function resolveFusion(f: unknown): ResolvedFusion {
  if (f === undefined || f === null) return { method: 'rrf', k: DEFAULT_RRF_K }
  if (typeof f !== 'object' || Array.isArray(f)) {
    throw invalidInput(`fusion must be an object like { method: 'rrf' } or { method: 'weighted', alpha: 0.5 }, got ${shown(f)}`)
  }
  const { method } = f as { method?: unknown }
  const allowedKeys = method === 'rrf' ? ['method', 'k'] : method === 'weighted' ? ['method', 'alpha'] : null
  if (allowedKeys === null) throw invalidInput(`fusion.method must be 'rrf' or 'weighted', got ${shown(method)}`)
  for (const key of Object.keys(f)) {
    if (!allowedKeys.includes(key)) throw invalidInput(`fusion.${key} does not apply to method '${String(method)}'; it takes ${allowedKeys.slice(1).join(', ')}`)
  }
  if (method === 'rrf') {
    const k = (f as { k?: unknown }).k ?? DEFAULT_RRF_K
    if (typeof k !== 'number' || !Number.isFinite(k) || k <= 0) throw invalidInput(`fusion.k must be a finite number > 0, got ${shown(k)}`)
    return { method, k }
  }
  const alpha = (f as { alpha?: unknown }).alpha ?? DEFAULT_ALPHA
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) throw invalidInput(`fusion.alpha must be a number from 0 to 1, got ${shown(alpha)}`)
  return { method: 'weighted', alpha }
}

/**
 * Fuses the vector and keyword lists (each best first, finite scores) and keeps the best `k`.
 * An id listed twice in one list counts at its first (best) place.
 *
 * Weighted: each list's scores are min-max normalised within the list (a list of one item, or of
 * all-equal scores, normalises to 1); an item missing from a list gets 0 from it.
 *
 * Ties are broken deterministically. RRF: the smaller id. Weighted: the better rank in the heavier
 * list (vector when alpha ≥ 0.5; an item absent from it ranks after those present), then the better
 * rank in the other list, then the smaller id. That is what makes alpha = 0 return exactly the
 * keyword order followed by vector-only items in vector order: the keyword list's last item
 * normalises to 0, the same as an item it lacks, and must still come first.
 *
 * `fusion` is resolved already (see {@link resolveFusion}): it is not checked again here.
 *
 * @throws WinnowError `INVALID_INPUT` for a list whose `scores` is shorter than its `ids`, or a `k`
 *   that is not a number ≥ 0.
 * @example
 * const fused = fuse({ ids: [3, 1], scores: [0.9, 0.4] }, { ids: [1, 7], scores: [12, 3] }, resolveFusion({ method: 'rrf' }), 2)
 * // ids [1, 3]: 1/62 + 1/61 for id 1 beats 1/61 for id 3
 */
export function fuse(vector: RankedList, keyword: RankedList, resolved: ResolvedFusion, k: number): FusedList {
  if (typeof k !== 'number' || !(k >= 0)) throw invalidInput(`k must be a number ≥ 0, got ${shown(k)}`)
  checkList(vector, 'vector')
  checkList(keyword, 'keyword')

  const index = new Map<number, number>()
  const ids: number[] = []
  const vectorRank: number[] = []
  const keywordRank: number[] = []
  const indexOf = (id: number): number => {
    let i = index.get(id)
    if (i === undefined) {
      i = ids.length
      index.set(id, i)
      ids.push(id)
      vectorRank.push(Infinity)
      keywordRank.push(Infinity)
    }
    return i
  }
  for (let r = 0; r < vector.ids.length; r++) {
    const i = indexOf(vector.ids[r]!)
    if (vectorRank[i] === Infinity) vectorRank[i] = r
  }
  for (let r = 0; r < keyword.ids.length; r++) {
    const i = indexOf(keyword.ids[r]!)
    if (keywordRank[i] === Infinity) keywordRank[i] = r
  }

  const fused = new Float64Array(ids.length)
  if (resolved.method === 'rrf') {
    for (let i = 0; i < ids.length; i++) {
      // 1 / (k + Infinity) is 0: an absent side adds nothing, with no branch.
      fused[i] = 1 / (resolved.k + vectorRank[i]! + 1) + 1 / (resolved.k + keywordRank[i]! + 1)
    }
  } else {
    const { alpha } = resolved
    const vec = normaliser(vector.scores, vector.ids.length)
    const kw = normaliser(keyword.scores, keyword.ids.length)
    for (let i = 0; i < ids.length; i++) {
      const v = vectorRank[i] === Infinity ? 0 : vec(vector.scores[vectorRank[i]!]!)
      const w = keywordRank[i] === Infinity ? 0 : kw(keyword.scores[keywordRank[i]!]!)
      // With alpha 0 or 1 the other term is exactly 0 · x = 0, so the order is that list's own.
      fused[i] = alpha * v + (1 - alpha) * w
    }
  }

  const order = Array.from({ length: ids.length }, (_, i) => i)
  if (resolved.method === 'rrf') {
    order.sort((a, b) => fused[b]! - fused[a]! || ids[a]! - ids[b]!)
  } else {
    const heavy = resolved.alpha >= 0.5 ? vectorRank : keywordRank
    const light = resolved.alpha >= 0.5 ? keywordRank : vectorRank
    order.sort((a, b) => fused[b]! - fused[a]! || byRank(heavy, a, b) || byRank(light, a, b) || ids[a]! - ids[b]!)
  }

  const keep = Math.min(Math.floor(k), order.length)
  const out: FusedList = {
    ids: new Int32Array(keep),
    scores: new Float64Array(keep),
    vectorScore: new Float64Array(keep),
    keywordScore: new Float64Array(keep),
  }
  for (let o = 0; o < keep; o++) {
    const i = order[o]!
    out.ids[o] = ids[i]!
    out.scores[o] = fused[i]!
    out.vectorScore[o] = vectorRank[i] === Infinity ? NaN : vector.scores[vectorRank[i]!]!
    out.keywordScore[o] = keywordRank[i] === Infinity ? NaN : keyword.scores[keywordRank[i]!]!
  }
  return out
}

/** Min-max normalisation over the first `n` scores; all-equal (or a single score) maps to 1. */
function normaliser(scores: ArrayLike<number>, n: number): (s: number) => number {
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < n; i++) {
    const s = scores[i]!
    if (s < min) min = s
    if (s > max) max = s
  }
  const range = max - min
  return range > 0 ? (s) => (s - min) / range : () => 1
}

// Absent (Infinity) sorts after present; two absent items tie (Infinity - Infinity is NaN → 0).
function byRank(rank: number[], a: number, b: number): number {
  return rank[a]! - rank[b]! || 0
}

function checkList(list: RankedList, name: string): void {
  if (list === null || typeof list !== 'object' || list.ids == null || list.scores == null || list.scores.length < list.ids.length) {
    throw invalidInput(`the ${name} list needs ids and as many scores`)
  }
}

function shown(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)
}
