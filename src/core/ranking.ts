/**
 * Ordering scored items: by score descending, ties kept in input order (a stable sort), NaN last.
 *
 * @example
 * rankByScore([0.2, 0.9, 0.9, 0.1]) // [1, 2, 0, 3]
 */
export function rankByScore(scores: ArrayLike<number>, topK = scores.length): number[] {
  const order = Array.from({ length: scores.length }, (_, i) => i)
  const nan = (i: number) => Number.isNaN(scores[i])
  // NaN after everything, -Infinity included; equal scores (also ±Infinity, whose difference is NaN) by input order
  order.sort((a, b) => Number(nan(a)) - Number(nan(b)) || (nan(a) ? 0 : scores[b]! - scores[a]!) || a - b)
  return order.slice(0, Math.max(0, topK))
}
