/**
 * Ranking-quality metrics, computed as trec_eval / pytrec_eval do (and so as BEIR reports them):
 * graded gains taken straight from the judgments (not 2^rel − 1), a log2(rank + 1) discount, and
 * only judgments above 0 counting as relevant. Pure; used by the eval scripts and tests.
 *
 * Every metric first passes the ranking through {@link dedupe}: a document holds one rank, that of
 * its first (best) occurrence, and the documents after a repeat move up. trec_eval itself refuses a
 * run with a repeated document, and pytrec_eval's runs are dicts (one score per document), so this
 * is the reading that agrees with both whenever they give an answer.
 */

/**
 * The ranking with every repeat of a document after its first occurrence removed, so that later
 * documents move up a rank (a repeat never consumes a rank position).
 *
 * @param ranked Document ids, best first.
 * @example
 * dedupe(['d1', 'd1', 'd2']) // ['d1', 'd2']: d2 is at rank 2
 */
export function dedupe(ranked: readonly string[]): string[] {
  const seen = new Set<string>()
  const unique: string[] = []
  for (const id of ranked) {
    if (seen.has(id)) continue
    seen.add(id)
    unique.push(id)
  }
  return unique
}

/** How many documents are relevant (judgment > 0), as trec_eval's num_rel. */
function countRelevant(qrels: ReadonlyMap<string, number>): number {
  let relevant = 0
  for (const gain of qrels.values()) if (gain > 0) relevant++
  return relevant
}

/**
 * Normalized discounted cumulative gain of the first `k` results (trec_eval's ndcg_cut_k). 0 when
 * nothing is relevant.
 *
 * @param ranked Document ids, best first (repeats are dropped first, see {@link dedupe}).
 * @param qrels Document id → graded relevance for this query.
 * @param k Cutoff (a positive integer); the ideal ranking is cut at `k` too.
 * @example
 * ndcgAtK(['d3', 'd1'], new Map([['d1', 1]]), 10) // (1 / log2(3)) / 1 ≈ 0.631
 */
export function ndcgAtK(ranked: readonly string[], qrels: ReadonlyMap<string, number>, k: number): number {
  const ideal = [...qrels.values()].filter((gain) => gain > 0).sort((a, b) => b - a)
  let idcg = 0
  for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += ideal[i]! / Math.log2(i + 2)
  if (idcg === 0) return 0
  const unique = dedupe(ranked)
  let dcg = 0
  for (let i = 0; i < Math.min(k, unique.length); i++) {
    const gain = qrels.get(unique[i]!) ?? 0
    if (gain > 0) dcg += gain / Math.log2(i + 2)
  }
  return dcg / idcg
}

/**
 * Share of the relevant documents (judgment > 0) found in the first `k` results (trec_eval's
 * recall_k). 0 when nothing is relevant.
 *
 * @param ranked Document ids, best first (repeats are dropped first, see {@link dedupe}).
 * @param qrels Document id → graded relevance for this query.
 * @param k Cutoff (a positive integer).
 * @example
 * recallAtK(['d3', 'd1', 'd2'], new Map([['d1', 1], ['d2', 2], ['d9', 1]]), 2) // 1 / 3
 */
export function recallAtK(ranked: readonly string[], qrels: ReadonlyMap<string, number>, k: number): number {
  const relevant = countRelevant(qrels)
  if (relevant === 0) return 0
  const unique = dedupe(ranked)
  let found = 0
  for (let i = 0; i < Math.min(k, unique.length); i++) if ((qrels.get(unique[i]!) ?? 0) > 0) found++
  return found / relevant
}

/**
 * Reciprocal rank of the first relevant document (judgment > 0) within the first `k` results, 0 if
 * there is none: BEIR's MRR@k for one query. trec_eval's recip_rank is the `k = Infinity` case.
 *
 * @param ranked Document ids, best first (repeats are dropped first, see {@link dedupe}).
 * @param qrels Document id → graded relevance for this query (grades above 0 all count alike).
 * @param k Cutoff (a positive integer, or `Infinity`).
 * @example
 * mrrAtK(['d3', 'd4', 'd1'], new Map([['d1', 2]]), 10) // 1 / 3
 * mrrAtK(['d3', 'd4', 'd1'], new Map([['d1', 2]]), 2) // 0: d1 is past the cutoff
 */
export function mrrAtK(ranked: readonly string[], qrels: ReadonlyMap<string, number>, k: number): number {
  const unique = dedupe(ranked)
  for (let i = 0; i < Math.min(k, unique.length); i++) if ((qrels.get(unique[i]!) ?? 0) > 0) return 1 / (i + 1)
  return 0
}

/**
 * Average precision of the first `k` results, as trec_eval's map_cut_k: the precision at the rank
 * of each relevant document retrieved within `k`, summed and divided by the number of relevant
 * documents in `qrels` (all of them, not min(k, R)), so relevant documents never retrieved count 0.
 * Relevance is binary here: every judgment above 0 counts alike. 0 when nothing is relevant.
 *
 * @param ranked Document ids, best first (repeats are dropped first, see {@link dedupe}).
 * @param qrels Document id → graded relevance for this query.
 * @param k Cutoff (a positive integer, or `Infinity` for trec_eval's map).
 * @example
 * // Relevant a, b, c; a at rank 1, b at rank 3, c never retrieved: (1/1 + 2/3) / 3 ≈ 0.556
 * averagePrecisionAtK(['a', 'x', 'b'], new Map([['a', 1], ['b', 2], ['c', 1]]), 100)
 */
export function averagePrecisionAtK(ranked: readonly string[], qrels: ReadonlyMap<string, number>, k: number): number {
  const relevant = countRelevant(qrels)
  if (relevant === 0) return 0
  const unique = dedupe(ranked)
  let found = 0
  let sum = 0
  for (let i = 0; i < Math.min(k, unique.length); i++) {
    if ((qrels.get(unique[i]!) ?? 0) > 0) {
      found++
      sum += found / (i + 1)
    }
  }
  return sum / relevant
}

/**
 * Document ids in the order trec_eval evaluates a scored run: by score, highest first, and tied
 * scores by document id in DESCENDING order (trec_eval sorts on `strcmp(b.docno, a.docno)` and
 * ignores the rank column), so a run is scored the same whatever order the system returned its ties
 * in. Ids compare by UTF-16 code units, as JS `<` does; that is strcmp's byte order for every id
 * except ones mixing characters beyond U+FFFF with characters in U+E000–U+FFFF. NaN scores go last.
 * Repeated ids are kept (each at its own score); the metrics keep only the first, best-scored one.
 *
 * @param run The results of one query, in any order.
 * @example
 * trecOrder([
 *   { id: 'd1', score: 0.5 },
 *   { id: 'd2', score: 0.5 },
 *   { id: 'd0', score: 0.9 },
 * ]) // ['d0', 'd2', 'd1']
 */
export function trecOrder(run: readonly { id: string; score: number }[]): string[] {
  return [...run]
    .sort((a, b) => {
      // NaN compares unequal to everything, which would make the sort inconsistent: put it last.
      const nanA = Number.isNaN(a.score)
      const nanB = Number.isNaN(b.score)
      if (nanA !== nanB) return nanA ? 1 : -1
      if (!nanA && a.score !== b.score) return b.score > a.score ? 1 : -1
      return a.id < b.id ? 1 : a.id > b.id ? -1 : 0
    })
    .map((result) => result.id)
}

/**
 * The four per-query figures {@link evaluateRun} reports.
 *
 * @example
 * const figures: QueryMetrics = evaluateRun(runs, qrels).perQuery.get('q1')!
 */
export interface QueryMetrics {
  /** nDCG@k. */
  ndcg: number
  /** MRR@k (reciprocal rank of the first relevant result within k). */
  mrr: number
  /** Recall@recallK. */
  recall: number
  /** AP@mapK (trec_eval's map_cut). */
  map: number
}

/**
 * Cutoffs for {@link evaluateRun}.
 *
 * @example
 * const options: EvaluateRunOptions = { k: 10, recallK: 100, mapK: 100 } // the defaults
 */
export interface EvaluateRunOptions {
  /** Cutoff for nDCG and MRR. Default 10. */
  k?: number
  /** Cutoff for recall. Default 100. */
  recallK?: number
  /** Cutoff for average precision. Default 100. */
  mapK?: number
}

/**
 * What {@link evaluateRun} returns: means over the evaluated queries, and each query's figures.
 *
 * @example
 * const { queries, ndcg, perQuery }: RunMetrics = evaluateRun(runs, qrels)
 */
export interface RunMetrics extends QueryMetrics {
  /** How many queries the means are over. */
  queries: number
  /** Query id → its figures, for every query counted in the means. */
  perQuery: Map<string, QueryMetrics>
}

/**
 * Mean nDCG@k, MRR@k, Recall@recallK and MAP@mapK of a run, over every query in `qrels` that has at
 * least one judgment (even if every judgment is 0, which scores 0 everywhere). A judged query missing
 * from `runs` counts as an empty ranking (all 0), as `trec_eval -c` does, so a system cannot raise
 * its mean by not answering; queries in `runs` without judgments are ignored. All means are 0 when
 * no query is judged.
 *
 * @param runs Query id → document ids, best first (see {@link trecOrder} to order scored results).
 * @param qrels Query id → (document id → graded relevance).
 * @param options Cutoffs: `k` (nDCG, MRR; default 10), `recallK` (default 100), `mapK` (default 100).
 * @example
 * const result = evaluateRun(
 *   new Map([['q1', ['d2', 'd1']]]),
 *   new Map([['q1', new Map([['d1', 1]])], ['q2', new Map([['d5', 1]])]]),
 * )
 * result.queries // 2: q2 has no results and counts 0
 * result.mrr // (1/2 + 0) / 2 = 0.25
 */
export function evaluateRun(
  runs: ReadonlyMap<string, readonly string[]>,
  qrels: ReadonlyMap<string, ReadonlyMap<string, number>>,
  options: EvaluateRunOptions = {},
): RunMetrics {
  const k = options.k ?? 10
  const recallK = options.recallK ?? 100
  const mapK = options.mapK ?? 100
  const perQuery = new Map<string, QueryMetrics>()
  const sums: QueryMetrics = { ndcg: 0, mrr: 0, recall: 0, map: 0 }
  for (const [queryId, judgments] of qrels) {
    if (judgments.size === 0) continue
    const ranked = dedupe(runs.get(queryId) ?? [])
    const figures: QueryMetrics = {
      ndcg: ndcgAtK(ranked, judgments, k),
      mrr: mrrAtK(ranked, judgments, k),
      recall: recallAtK(ranked, judgments, recallK),
      map: averagePrecisionAtK(ranked, judgments, mapK),
    }
    perQuery.set(queryId, figures)
    sums.ndcg += figures.ndcg
    sums.mrr += figures.mrr
    sums.recall += figures.recall
    sums.map += figures.map
  }
  const queries = perQuery.size
  const mean = (sum: number) => (queries === 0 ? 0 : sum / queries)
  return {
    queries,
    ndcg: mean(sums.ndcg),
    mrr: mean(sums.mrr),
    recall: mean(sums.recall),
    map: mean(sums.map),
    perQuery,
  }
}
