/**
 * Validation and defaults for the options of `search()` beyond the first stage: reranking (one
 * model or a cascade), routing (`skipRerankAbove`, `rerankBudgetMs`), diversification and
 * snippets. The worker is the authority; the page only checks what cannot cross to it.
 */
import { describeValue, WinnowError } from '../errors.js'
import { resolveSnippetOptions } from '../text/snippet.js'
import type { DtypeChoice, SearchHit, SearchMode, SearchOptions } from '../types.js'
import type { ResolvedPipeline, StageSpec } from './types.js'
import type { LengthCorrection } from '../rank/lengthTrend.js'
import type { ResolvedRerankFusion } from '../rank/rerankFusion.js'
import { resolveLengthCorrection, resolveRerankFusion } from '../rank/rerankOptions.js'







/** Largest `k` or `candidates`: a cross-encoder reading more than this per query is a mistake. */
export const MAX_K = 10_000
/** Candidates gathered by default when something follows the first stage. */
export const DEFAULT_CANDIDATES = 50
/** MMR's weight of relevance when `mmr: true`. */
export const DEFAULT_MMR_LAMBDA = 0.7

const STAGE_KEYS = new Set(['model', 'dtype', 'keep', 'lengthCorrection'])

/**
 * Resolves the pipeline options of a search request. `hasReranker` says whether the instance has a
 * default reranker (it decides the default of `rerank`, and whether `true` is possible).
 *
 * @throws WinnowError `INVALID_INPUT` naming the option and what it takes.
 * @example
 * resolvePipeline({ k: 5, rerank: true }, { hasReranker: true })
 * // { k: 5, candidates: 50, stages: [{ model: null, keep: null }], mmr: null, … }
 */
export function resolvePipeline(request: Record<string, unknown>, context: { hasReranker: boolean }): ResolvedPipeline {
  const k = request.k ?? 10
  if (!isInt(k) || k < 1 || k > MAX_K) throw invalid(`k must be an integer from 1 to ${MAX_K}, got ${describeValue(k)}`)
  const stages = resolveRerank(request.rerank, context.hasReranker)
  const mmr = resolveMmr(request.mmr)
  const maxPerDocument = optional(request.maxPerDocument, 'maxPerDocument', (v) => isInt(v) && v >= 1, 'an integer ≥ 1')
  const minScore = optional(request.minScore, 'minScore', (v) => typeof v === 'number' && v >= 0 && v <= 1, 'a number from 0 to 1')
  const skipRerankAbove = optional(request.skipRerankAbove, 'skipRerankAbove', (v) => typeof v === 'number' && v >= 0 && v <= 1, 'a number from 0 to 1')
  const rerankBudgetMs = optional(request.rerankBudgetMs, 'rerankBudgetMs', (v) => typeof v === 'number' && v > 0 && Number.isFinite(v), 'a finite number of ms > 0')
  const rerankFusion = resolveRerankFusion(request.rerankFusion, 'rerankFusion', true)
  if (rerankFusion !== null && stages.length === 0) {
    throw invalid('rerankFusion blends a reranker’s order with the first stage’s, and this search reranks nothing (rerank is off or the instance has no reranker); drop rerankFusion or pass rerank')
  }
  const widens = stages.length > 0 || mmr !== null || maxPerDocument !== null
  const candidates = request.candidates ?? (widens ? Math.max(k, DEFAULT_CANDIDATES) : k)
  if (!isInt(candidates) || candidates < k || candidates > MAX_K) {
    throw invalid(`candidates must be an integer from k (${k}) to ${MAX_K}, got ${describeValue(candidates)}`)
  }
  return {
    k,
    candidates,
    stages,
    mmr,
    maxPerDocument,
    minScore,
    skipRerankAbove,
    rerankBudgetMs,
    rerankFusion,
    snippet: resolveSnippetOptions(request.snippet),
  }
}

function resolveRerank(rerank: unknown, hasReranker: boolean): StageSpec[] {
  if (rerank === undefined) return hasReranker ? [{ model: null, keep: null }] : []
  if (rerank === false) return []
  if (rerank === true) {
    if (!hasReranker) throw invalid('rerank: true uses the instance’s reranker, and this instance was created with reranker: false; pass rerank: { model } or create one with a reranker')
    return [{ model: null, keep: null }]
  }
  if (Array.isArray(rerank)) {
    if (rerank.length === 0) throw invalid('a rerank cascade needs at least one stage; use rerank: false for none')
    if (rerank.length > 8) throw invalid(`a rerank cascade has at most 8 stages, got ${rerank.length}`)
    return rerank.map((stage, i) => resolveStage(stage, `rerank[${i}]`, hasReranker, true))
  }
  if (rerank !== null && typeof rerank === 'object') return [resolveStage(rerank, 'rerank', hasReranker, false)]
  throw invalid(`rerank must be true, false, { model, dtype, lengthCorrection } or an array of { model, dtype, keep, lengthCorrection }, got ${describeValue(rerank)}`)
}

function resolveStage(stage: unknown, where: string, hasReranker: boolean, inCascade: boolean): StageSpec {
  if (stage === null || typeof stage !== 'object' || Array.isArray(stage)) throw invalid(`${where} must be an object like { model, dtype, keep }, got ${describeValue(stage)}`)
  for (const key of Object.keys(stage)) {
    if (!STAGE_KEYS.has(key) || (key === 'keep' && !inCascade)) {
      throw invalid(`${where}.${key} is not an option here; a stage takes ${inCascade ? 'model, dtype, keep and lengthCorrection' : 'model, dtype and lengthCorrection (keep belongs to cascade stages)'}`)
    }
  }
  const { model, dtype, keep } = stage as { model?: unknown; dtype?: unknown; keep?: unknown }
  if (model !== undefined && (typeof model !== 'string' || model.trim() === '')) throw invalid(`${where}.model must be a non-empty string, got ${describeValue(model)}`)
  if (model === undefined && !hasReranker) throw invalid(`${where} names no model, and this instance has no reranker of its own; give ${where}.model`)
  if (dtype !== undefined && typeof dtype !== 'string' && (dtype === null || typeof dtype !== 'object' || Array.isArray(dtype))) {
    throw invalid(`${where}.dtype must be a dtype such as 'q8', or { webgpu, wasm }, got ${describeValue(dtype)}`)
  }
  if (keep !== undefined && (!isInt(keep) || keep < 1 || keep > MAX_K)) throw invalid(`${where}.keep must be an integer from 1 to ${MAX_K}, got ${describeValue(keep)}`)
  const out: StageSpec = { model: (model as string | undefined) ?? null, keep: (keep as number | undefined) ?? null }
  if (dtype !== undefined) out.dtype = dtype as DtypeChoice
  const lengthCorrection = resolveLengthCorrection((stage as { lengthCorrection?: unknown }).lengthCorrection, `${where}.lengthCorrection`)
  if (lengthCorrection !== null) out.lengthCorrection = lengthCorrection
  return out
}

function resolveMmr(mmr: unknown): { lambda: number } | null {
  if (mmr === undefined || mmr === false) return null
  if (mmr === true) return { lambda: DEFAULT_MMR_LAMBDA }
  if (mmr === null || typeof mmr !== 'object' || Array.isArray(mmr)) throw invalid(`mmr must be true, false or { lambda }, got ${describeValue(mmr)}`)
  for (const key of Object.keys(mmr)) if (key !== 'lambda') throw invalid(`mmr.${key} is not an option; mmr takes lambda`)
  const lambda = (mmr as { lambda?: unknown }).lambda ?? DEFAULT_MMR_LAMBDA
  if (typeof lambda !== 'number' || !(lambda >= 0 && lambda <= 1)) throw invalid(`mmr.lambda must be a number from 0 to 1, got ${describeValue(lambda)}`)
  return { lambda }
}

function optional(value: unknown, name: string, ok: (v: unknown) => boolean, what: string): number | null {
  if (value === undefined || value === null) return null
  if (!ok(value)) throw invalid(`${name} must be ${what}, got ${describeValue(value)}`)
  return value as number
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v)
}

function invalid(message: string): WinnowError {
  return new WinnowError('INVALID_INPUT', message)
}
