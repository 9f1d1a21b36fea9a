/**
 * Ranking-quality metrics, computed as trec_eval / pytrec_eval do (and so as BEIR reports them):
 * graded gains taken straight from the judgments (not 2^rel − 1), a log2(rank + 1) discount, and
 * only judgments above 0 counting as relevant. Pure; used by the eval scripts and tests.
 */

/**
 * Normalized discounted cumulative gain of the first `k` results. 0 when nothing is relevant.
 *
 * @param ranked Document ids, best first (repeats after the first are ignored, as judged once).
 * @param qrels Document id → graded relevance for this query.
 * @example
 * ndcgAtK(['d3', 'd1'], new Map([['d1', 1]]), 10) // (1 / log2(3)) / 1 ≈ 0.631
 */
export function ndcgAtK(ranked: readonly string[], qrels: ReadonlyMap<string, number>, k: number): number {
  const ideal = [...qrels.values()].filter((gain) => gain > 0).sort((a, b) => b - a)
  let idcg = 0
  for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += ideal[i]! / Math.log2(i + 2)
  if (idcg === 0) return 0
  let dcg = 0
  const seen = new Set<string>()
  for (let i = 0; i < Math.min(k, ranked.length); i++) {
    const id = ranked[i]!
    if (seen.has(id)) continue
    seen.add(id)
    const gain = qrels.get(id) ?? 0
    if (gain > 0) dcg += gain / Math.log2(i + 2)
  }
  return dcg / idcg
}

/**
 * Share of the relevant documents (judgment > 0) found in the first `k` results. 0 when nothing
 * is relevant.
 *
 * @example
 * recallAtK(['d3', 'd1', 'd2'], new Map([['d1', 1], ['d2', 2], ['d9', 1]]), 2) // 1 / 3
 */
export function recallAtK(ranked: readonly string[], qrels: ReadonlyMap<string, number>, k: number): number {
  let relevant = 0
  for (const gain of qrels.values()) if (gain > 0) relevant++
  if (relevant === 0) return 0
  const found = new Set<string>()
  for (let i = 0; i < Math.min(k, ranked.length); i++) {
    const id = ranked[i]!
    if ((qrels.get(id) ?? 0) > 0) found.add(id)
  }
  return found.size / relevant
}
