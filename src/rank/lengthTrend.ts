/**
 * Removing a cross-encoder's length trend from its logits. Some rerankers score longer passages
 * higher whatever they say (more text, more chances to match); the correction subtracts
 * `slope · ln(tokens / LENGTH_REFERENCE_TOKENS)` from each logit, so a passage of the reference
 * length keeps its logit and the others lose (or gain) what their length alone earned them.
 */

/** Passage length (tokens the model read) whose logit the correction leaves unchanged. */
export const LENGTH_REFERENCE_TOKENS = 100
/** `'auto'` fits a slope only from at least this many passages... */
export const MIN_AUTO_PASSAGES = 8
/** ...of at least this many different lengths; with fewer it corrects nothing (slope 0). */
export const MIN_AUTO_LENGTHS = 3
/** Passages the Theil–Sen fit reads at most (an evenly spaced subset of longer lists): O(n²) pairs. */
const MAX_FIT_POINTS = 400

/** A known slope (logit per unit of ln tokens), or `'auto'`: fitted on the passages of the call. */
export type LengthCorrection = 'auto' | number

/** The slope used and what was subtracted from each logit. */
export interface LengthAdjustment {
  slope: number
  /** `slope · ln(tokens_i / LENGTH_REFERENCE_TOKENS)`, per passage in input order. */
  adjustments: Float64Array
}

/**
 * The Theil–Sen slope of `y` over `x`: the median of the slopes between every two points with
 * different `x`. Robust: the few relevant passages of a candidate list (outliers far above the
 * trend) move it little, where least squares would follow them. Null without two different `x`.
 *
 * @example
 * theilSenSlope([0, 1, 2, 3, 4], [0, 2, 4, 6, 100]) // 2 (the outlier at x = 4 does not pull it)
 */
export function theilSenSlope(x: ArrayLike<number>, y: ArrayLike<number>): number | null {
  const n = Math.min(x.length, y.length)
  const step = n > MAX_FIT_POINTS ? n / MAX_FIT_POINTS : 1
  const xs: number[] = []
  const ys: number[] = []
  for (let f = 0; Math.floor(f) < n && xs.length < MAX_FIT_POINTS; f += step) {
    const i = Math.floor(f)
    if (Number.isFinite(x[i]) && Number.isFinite(y[i])) {
      xs.push(x[i]!)
      ys.push(y[i]!)
    }
  }
  const slopes: number[] = []
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      const dx = xs[j]! - xs[i]!
      if (dx !== 0) slopes.push((ys[j]! - ys[i]!) / dx)
    }
  }
  if (slopes.length === 0) return null
  slopes.sort((a, b) => a - b)
  const mid = slopes.length >> 1
  return slopes.length % 2 === 1 ? slopes[mid]! : (slopes[mid - 1]! + slopes[mid]!) / 2
}

/**
 * What to subtract from each logit to remove the length trend: with a number, that slope; with
 * `'auto'`, the Theil–Sen slope of the logits over ln(tokens) of these passages (0 when there are
 * fewer than {@link MIN_AUTO_PASSAGES} passages or {@link MIN_AUTO_LENGTHS} different lengths).
 * `tokens` are the passage tokens the model read (after truncation).
 *
 * @example
 * lengthAdjustments([1, 2], [100, 1000], 0.5).adjustments // [0, 0.5 · ln 10]
 */
export function lengthAdjustments(logits: ArrayLike<number>, tokens: ArrayLike<number>, correction: LengthCorrection): LengthAdjustment {
  const n = logits.length
  const x = Float64Array.from({ length: n }, (_, i) => Math.log(Math.max(1, tokens[i] ?? 1) / LENGTH_REFERENCE_TOKENS))
  let slope = 0
  if (correction === 'auto') {
    if (n >= MIN_AUTO_PASSAGES && new Set(x).size >= MIN_AUTO_LENGTHS) slope = theilSenSlope(x, logits) ?? 0
  } else {
    slope = correction
  }
  const adjustments = Float64Array.from(x, (v) => (slope === 0 ? 0 : slope * v))
  return { slope, adjustments }
}
