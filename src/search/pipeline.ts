/**
 * The search pipeline after the first stage: gather wide, narrow smart.
 *
 * 1. First stage: the best `candidates` passages (keyword, vector or hybrid); `onFirstStage` gets
 *    its top `k` at once.
 * 2. Routing: no reranking, `skipped` when the first stage is decisive (normalised margin ≥
 *    `skipRerankAbove`), or `budget` when only the top n fit `rerankBudgetMs` at this device's
 *    measured speed.
 * 3. Rerank: each cascade stage reads (query, passage) pairs and keeps its best `keep`.
 * 4. `minScore`, then MMR and/or `maxPerDocument`, then the top `k`, with snippets.
 *
 * Everything that touches models or storage comes in through {@link PipelinePorts}, so tests drive
 * it with deterministic scorers.
 */
import { lengthAdjustments } from '../rank/lengthTrend.js'
import { fuseRerank } from '../rank/rerankFusion.js'
import { sigmoid } from '../core/scores.js'
import type { Analyzer } from '../text/analyzer.js'
import { cutSnippet } from '../text/snippet.js'
import type { Dtype, SearchHit, SearchMode, SearchRoute, Snippet } from '../types.js'
import { cosineSimilarity, keepPerGroup, pickDiverse, termOverlapSimilarity } from '../rank/diversify.js'
import type { Candidate, PassageRecord, PipelinePorts, PipelineResult, RerankerPort, ResolvedPipeline, StageSpec } from './types.js'
import { fitBudget, pairTokens, type BudgetFit, type ThroughputMeter } from '../rank/throughput.js'

interface Item {
  /** Position in the first stage (0-based). */
  at: number
  passage: PassageRecord
  rerankScore?: number
  /** With `rerankFusion`: the blend of the reranker's order and the first stage's, 0..1. */
  fusedScore?: number
}

/**
 * Runs the pipeline for one query, with options resolved once (see `resolveSearch`): nothing here
 * checks them again.
 *
 * @example
 * const { hits, route } = await runPipeline('memory leaks', resolveSearch({ query: 'memory leaks', k: 5 }, { hasReranker: true, canRerank: true }).pipeline, ports)
 */
export async function runPipeline(query: string, options: ResolvedPipeline, ports: PipelinePorts): Promise<PipelineResult> {
  const now = ports.now ?? (() => performance.now())
  const started = now()
  const retrieved = await ports.retrieve(options.candidates)
  const { candidates } = retrieved
  const { passages } = retrieved
  // Passages deleted since the ranking are dropped; the rest keep their first-stage positions.
  const pool: Item[] = []
  passages.forEach((passage, at) => {
    if (passage) pool.push({ at, passage })
  })
  const firstStageMs = now() - started
  const snippets = new Map<number, Snippet>()
  const snippetOf = (item: Item): Snippet => {
    let snippet = snippets.get(item.at)
    if (!snippet) {
      snippet = options.snippet ? cutSnippet(item.passage.text, query, ports.analyzer, options.snippet) : { text: '', highlights: [] }
      snippets.set(item.at, snippet)
    }
    return snippet
  }
  const toHit = (item: Item): SearchHit => buildHit(item, candidates[item.at]!, snippetOf(item))

  if (ports.onFirstStage) {
    const groups = pool.map((item) => candidates[item.at]!.docId)
    const first = options.maxPerDocument !== null ? keepPerGroup(pool.map((_, i) => i), groups, options.maxPerDocument, options.k) : pool.slice(0, options.k).map((_, i) => i)
    ports.onFirstStage(first.map((i) => toHit(pool[i]!)))
  }

  const route: SearchRoute = {
    path: 'first-stage',
    reason: '',
    mode: retrieved.mode,
    candidates: pool.length,
    reranked: 0,
    margin: pool.length > 0 ? margin(pool.map((item) => candidates[item.at]!.normalized)) : null,
    stages: [],
    budget: null,
    timings: { firstStageMs, rerankMs: 0, totalMs: 0 },
  }
  if (retrieved.source) route.firstStage = retrieved.source

  let ordered = pool
  if (options.stages.length === 0) {
    route.reason = 'reranking is off'
  } else if (pool.length === 0) {
    route.reason = 'the first stage found nothing to rerank'
  } else if (options.skipRerankAbove !== null && route.margin! >= options.skipRerankAbove) {
    route.path = 'skipped'
    route.reason = `first-stage margin ${route.margin!.toFixed(3)} ≥ skipRerankAbove ${options.skipRerankAbove}`
  } else {
    const rerankStarted = now()
    await ports.checkpoint()
    const rerankers: RerankerPort[] = []
    for (const stage of options.stages) rerankers.push(await ports.reranker(stage))
    let count = pool.length
    route.path = 'reranked'
    route.reason = `all ${count} candidates reranked`
    if (options.rerankBudgetMs !== null) {
      const fit = planBudget(options.rerankBudgetMs, options.stages, rerankers, pool, query)
      if (fit === null) {
        route.reason = `all ${count} candidates reranked: no throughput measured yet for rerankBudgetMs`
      } else {
        route.budget = { ms: options.rerankBudgetMs, tokensPerSecond: fit.tokensPerSecond, estimatedMs: fit.estimatedMs }
        if (fit.count < count) {
          count = fit.count
          route.path = 'budget'
          route.reason = `${count} of ${pool.length} candidates fit rerankBudgetMs ${options.rerankBudgetMs} (≈ ${Math.round(fit.tokensPerSecond)} tokens/s)`
        } else {
          route.reason = `all ${count} candidates fit rerankBudgetMs ${options.rerankBudgetMs}`
        }
      }
    }
    route.reranked = count
    let reading = pool.slice(0, count)
    for (let s = 0; s < rerankers.length && reading.length > 0; s++) {
      await ports.checkpoint()
      const reranker = rerankers[s]!
      const stageStarted = now()
      const { logits, documentTokens } = await reranker.score(
        query,
        reading.map((item) => item.passage.text),
      )
      const correction = options.stages[s]!.lengthCorrection
      const adjusted = correction === undefined ? null : lengthAdjustments(logits, documentTokens, correction)
      reading = reading.map((item, i) => ({ ...item, rerankScore: sigmoid(logits[i]! - (adjusted?.adjustments[i] ?? 0)) }))
      // Best first; equal scores keep the first stage's order.
      reading.sort((a, b) => b.rerankScore! - a.rerankScore! || a.at - b.at)
      const read = reading.length
      const keep = options.stages[s]!.keep
      if (keep !== null) reading = reading.slice(0, keep)
      const stageRoute: SearchRoute['stages'][number] = { model: reranker.model, dtype: reranker.dtype, reranked: read, kept: reading.length, ms: now() - stageStarted }
      if (adjusted) stageRoute.lengthSlope = adjusted.slope
      route.stages.push(stageRoute)
    }
    if (options.rerankFusion !== null && reading.length > 0) {
      const fused = fuseRerank(
        reading.map((item) => ({ rerankScore: item.rerankScore!, firstRank: item.at + 1, firstScore: candidates[item.at]!.normalized })),
        options.rerankFusion,
      )
      reading = reading.map((item, i) => ({ ...item, fusedScore: fused[i]! }))
      // Equal fused scores keep the reranker's order (reading is in it).
      reading = reading.map((item, i) => ({ item, i })).sort((a, b) => b.item.fusedScore! - a.item.fusedScore! || a.i - b.i).map((e) => e.item)
    }
    // Candidates the budget left out follow, in first-stage order; those a stage dropped are gone.
    ordered = [...reading, ...pool.slice(count)]
    route.timings.rerankMs = now() - rerankStarted
  }

  const scoreOf = (item: Item) => item.fusedScore ?? item.rerankScore ?? candidates[item.at]!.normalized
  if (options.minScore !== null) ordered = ordered.filter((item) => scoreOf(item) >= options.minScore!)
  const groups = ordered.map((item) => candidates[item.at]!.docId)
  let picked: number[]
  if (options.mmr !== null) {
    await ports.checkpoint()
    const vectors = await retrieved.vectors(ordered.map((item) => item.at))
    const similarity =
      vectors !== null && vectors.every((v) => v !== null)
        ? cosineSimilarity(vectors)
        : termOverlapSimilarity(ordered.map((item) => new Set(ports.analyzer.terms(item.passage.text))))
    picked = pickDiverse({
      relevance: ordered.map(scoreOf),
      similarity,
      lambda: options.mmr.lambda,
      k: options.k,
      groups,
      maxPerGroup: options.maxPerDocument,
    })
  } else if (options.maxPerDocument !== null) {
    picked = keepPerGroup(
      ordered.map((_, i) => i),
      groups,
      options.maxPerDocument,
      options.k,
    )
  } else {
    picked = ordered.slice(0, options.k).map((_, i) => i)
  }
  const hits = picked.map((i) => toHit(ordered[i]!))
  route.timings.totalMs = now() - started
  return { hits, route }
}

/**
 * How decisive the first stage is: `(s1 − s2) / s1` over its normalised scores, 1 for a single
 * candidate, 0 when the best score is 0.
 *
 * @example
 * margin([0.9, 0.3, 0.2]) // 0.666…
 */
export function margin(normalized: readonly number[]): number {
  const first = normalized[0] ?? 0
  if (normalized.length === 1) return first > 0 ? 1 : 0
  if (!(first > 0)) return 0
  return Math.max(0, (first - normalized[1]!) / first)
}

function planBudget(budgetMs: number, stages: readonly StageSpec[], rerankers: readonly RerankerPort[], pool: readonly Item[], query: string): BudgetFit | null {
  const maxLength = rerankers[0]!.maxLength
  return fitBudget(
    budgetMs,
    rerankers.map((r, s) => ({ meter: r.meter, keep: stages[s]!.keep })),
    pool.map((item) => pairTokens(query, item.passage.text, maxLength)),
  )
}

function buildHit(item: Item, candidate: Candidate, snippet: Snippet): SearchHit {
  const { passage } = item
  const hit: SearchHit = {
    id: candidate.docId,
    chunkId: candidate.chunkId ?? `${candidate.docId}#${passage.index}`,
    chunkIndex: passage.index,
    score: item.fusedScore ?? item.rerankScore ?? candidate.normalized,
    firstStageScore: candidate.score,
    rankBefore: item.at + 1,
    scores: { ...candidate.scores },
    text: passage.text,
    start: passage.start,
    end: passage.end,
    section: passage.section,
    path: passage.path,
    snippet,
  }
  if (item.rerankScore !== undefined) hit.rerankScore = item.rerankScore
  if (candidate.title !== undefined) hit.title = candidate.title
  if (candidate.metadata !== undefined) hit.metadata = candidate.metadata
  return hit
}
