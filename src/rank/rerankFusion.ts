/**
 * Blending a reranker's order with the first stage's. A cross-encoder reads each passage closely
 * but alone; the first stage (BM25, vectors, or an app's own retriever) sometimes knows better —
 * exact identifiers, rare names, a domain the reranker was not trained on. Fusion keeps both.
 */

/**
 * `rrf`: `weight / (k + rerank rank) + (1 − weight) / (k + first-stage rank)`, scaled by `k + 1`
 * so that first in both is 1: ranks only, whatever the scales. `weighted`: `weight · reranker score
 * + (1 − weight) · first-stage score`, both on 0..1: uses how far apart the scores are.
 */
export type ResolvedRerankFusion = { method: 'rrf'; k: number; weight: number } | { method: 'weighted'; weight: number }

/** One reranked passage as fusion sees it. */
export interface FusionInput {
  /** The reranker's score, 0..1. */
  rerankScore: number
  /** 1-based rank in the first stage (or the input order). */
  firstRank: number
  /** The first stage's score on 0..1 (needed by `weighted`). */
  firstScore?: number
}

/**
 * Fused scores, one per input, 0..1, higher is better. The reranker's rank is its score's order,
 * ties broken by the first stage's rank.
 *
 * @example
 * fuseRerank([{ rerankScore: 0.9, firstRank: 2 }, { rerankScore: 0.1, firstRank: 1 }], { method: 'rrf', k: 60, weight: 0.5 })
 * // [1, 1]: each is first once (equal fused scores keep the reranker's order)
 */
export function fuseRerank(items: readonly FusionInput[], fusion: ResolvedRerankFusion): number[] {
  if (fusion.method === 'weighted') {
    return items.map((item) => fusion.weight * item.rerankScore + (1 - fusion.weight) * (item.firstScore ?? 0))
  }
  const order = items.map((_, i) => i).sort((a, b) => items[b]!.rerankScore - items[a]!.rerankScore || items[a]!.firstRank - items[b]!.firstRank)
  const rerankRank = new Array<number>(items.length)
  order.forEach((i, r) => {
    rerankRank[i] = r + 1
  })
  const { k, weight } = fusion
  return items.map((item, i) => (k + 1) * (weight / (k + rerankRank[i]!) + (1 - weight) / (k + item.firstRank)))
}
