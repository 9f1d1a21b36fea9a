/**
 * The one place a search's options are validated and resolved: {@link resolveSearch} turns a
 * request into a {@link ResolvedSearch} — the first stage (query, mode, compiled filter, resolved
 * fusion, the query vector as a unit Float32Array, `minVectorScore`; an option's error that counts
 * only where the collection uses it is kept beside it), everything after it
 * (reranking, one model or a cascade; routing, `skipRerankAbove` and `rerankBudgetMs`;
 * diversification; snippets) and a remote first stage. Everything downstream trusts these values
 * and checks nothing again. The worker is the authority; the page only checks what cannot cross
 * to it (the signal, callbacks).
 */
import { describeValue, invalidInput, WinnowError } from '../errors.js'
import { checkProbes } from '../collection/settings.js'
import { resolveSnippetOptions } from '../text/snippet.js'
import type { DtypeChoice, SearchMode } from '../types.js'
import { compileFilter } from '../rank/filter.js'
import { resolveFusion } from '../rank/fusion.js'
import { resolveLengthCorrection, resolveRerankFusion } from '../rank/rerankOptions.js'
import { checkRemoteFirstStage } from './remote.js'
import type { QueryVector, RemoteFirstStage, ResolvedFirstStage, ResolvedPipeline, ResolvedSearch, StageSpec } from './types.js'

/** Largest `k` or `candidates`: a cross-encoder reading more than this per query is a mistake. */
export const MAX_K = 10_000
/** Candidates gathered by default when something follows the first stage. */
export const DEFAULT_CANDIDATES = 50
/** MMR's weight of relevance when `mmr: true`. */
export const DEFAULT_MMR_LAMBDA = 0.7

const STAGE_KEYS = new Set(['model', 'dtype', 'keep', 'lengthCorrection'])

/**
 * Validates and resolves a search's options once. `hasReranker`: the instance has a default
 * reranker (the default of `rerank`); `canRerank`: a reranker port is there to run it; `remote`: the
 * candidates a retriever returned, and how they join (then the collection's own first stage is
 * resolved only when it runs too, `firstStage: 'fuse'`: with `'remote'` the retriever was sent the
 * filter as given and applies it itself).
 *
 * @throws WinnowError `INVALID_INPUT` naming the option and what it takes (a request that is not an
 *   object included); `REMOTE_MALFORMED` for a retriever's answer.
 * @example
 * const search = resolveSearch({ query: 'install', mode: 'hybrid', rerank: true }, { hasReranker: true, canRerank: true })
 * search.firstStage?.fusion // { method: 'rrf', k: 60 }
 * search.pipeline.candidates // 50
 */
export function resolveSearch(request: unknown, context: { hasReranker: boolean; canRerank: boolean; remote?: RemoteFirstStage | null }): ResolvedSearch {
  const options = checkRequest(request)
  const { query } = options
  if (typeof query !== 'string') throw invalidInput(`query must be a string, got ${typeof query}`)
  const pipeline = resolvePipeline(options, { hasReranker: context.hasReranker })
  if (pipeline.stages.length > 0 && !context.canRerank) throw invalidInput('reranking needs a reranker, and none is available here')
  const remote = context.remote ? checkRemoteFirstStage(options, context.remote) : null
  const firstStage = remote?.firstStage === 'remote' ? null : resolveFirstStage(query, options)
  return { query, firstStage, pipeline, remote }
}

/**
 * The request as a record, or INVALID_INPUT when it is not an object.
 *
 * @example
 * checkRequest(5) // throws INVALID_INPUT 'search options must be an object'
 */
export function checkRequest(request: unknown): Record<string, unknown> {
  if (request === null || typeof request !== 'object') throw invalidInput('search options must be an object')
  return request as Record<string, unknown>
}

/**
 * The collection's own first stage of a request: mode, fusion, `minVectorScore`, the compiled
 * filter, and the query vector. Options the first stage may not use are checked here but their
 * error counts only where they are used, as the contract has always been: `fusion` only in hybrid
 * mode (asked for, or chosen by the collection), `vector` only when the collection ranks by vector
 * and holds passages (its length first: DIMENSION_MISMATCH before a zero or non-finite vector).
 * A `mode` of null is the mode left to the collection, like any option given as null.
 *
 * @throws WinnowError `INVALID_INPUT` naming the option.
 * @example
 * resolveFirstStage('install', { mode: 'keyword', filter: { lang: 'en' } }).fusion // null
 * resolveFirstStage('install', { mode: 'keyword', fusion: 'rrf' }).fusion          // null: not used
 */
export function resolveFirstStage(query: string, request: Record<string, unknown>): ResolvedFirstStage {
  const mode = request.mode ?? undefined
  if (mode !== undefined && mode !== 'keyword' && mode !== 'vector' && mode !== 'hybrid') throw invalidInput(`mode must be 'keyword', 'vector' or 'hybrid', got ${String(mode)}`)
  // Explicit hybrid: a bad fusion fails now. The mode left to the collection: it fails if hybrid is chosen.
  const fusion = mode === 'hybrid' ? resolveFusion(request.fusion ?? { method: 'rrf', k: 60 }) : mode === undefined ? deferred(() => resolveFusion(request.fusion ?? { method: 'rrf', k: 60 })) : null
  const minVectorScore = resolveMinVectorScore(request.minVectorScore)
  const filter = compileFilter(request.filter)
  const vector = mode === 'keyword' || request.vector === undefined || request.vector === null ? null : resolveQueryVector(request.vector)
  const probes = request.probes ?? null
  if (probes !== null) checkProbes(probes, 'probes')
  return { query, mode: mode as SearchMode | undefined, fusion, filter, vector, minVectorScore, probes }
}

/** The value of `resolve()`, or the WinnowError it throws (an option whose error counts only if it is used). */
function deferred<T>(resolve: () => T): T | WinnowError {
  try {
    return resolve()
  } catch (error) {
    if (error instanceof WinnowError) return error
    throw error
  }
}

/**
 * Checks `minVectorScore`: undefined (or null) is no floor; otherwise a finite cosine in [-1, 1].
 *
 * @throws WinnowError `INVALID_INPUT` for anything else.
 * @example
 * resolveMinVectorScore(0.3)       // 0.3
 * resolveMinVectorScore(undefined) // null
 * resolveMinVectorScore(2)         // throws INVALID_INPUT
 */
export function resolveMinVectorScore(value: unknown): number | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'number' || !(value >= -1 && value <= 1)) {
    throw invalidInput(`minVectorScore must be a cosine from -1 to 1, got ${describeValue(value)}`)
  }
  return value
}

/**
 * A caller's query vector: its length and a unit-length Float32Array copy, or the error that
 * counts if the collection ranks by vector (see {@link QueryVector}).
 *
 * @example
 * resolveQueryVector([3, 4]).unit  // Float32Array [0.6, 0.8]
 * resolveQueryVector([0, 0]).error // INVALID_INPUT: the query vector must be finite and not all zeros
 */
export function resolveQueryVector(given: unknown): QueryVector {
  if (!(Array.isArray(given) || given instanceof Float32Array || given instanceof Float64Array)) {
    return { length: null, unit: null, error: invalidInput('vector must be a Float32Array or an array of numbers') }
  }
  let q: Float32Array
  try {
    q = Float32Array.from(given as ArrayLike<number>)
  } catch {
    return { length: null, unit: null, error: invalidInput('the query vector must hold numbers') }
  }
  let norm = 0
  for (let i = 0; i < q.length; i++) norm += q[i]! * q[i]!
  if (!(norm > 0) || !Number.isFinite(norm)) return { length: q.length, unit: null, error: invalidInput('the query vector must be finite and not all zeros') }
  norm = Math.sqrt(norm)
  for (let i = 0; i < q.length; i++) q[i]! /= norm
  return { length: q.length, unit: q, error: null }
}

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
  if (!isInt(k) || k < 1 || k > MAX_K) throw invalidInput(`k must be an integer from 1 to ${MAX_K}, got ${describeValue(k)}`)
  const stages = resolveRerank(request.rerank, context.hasReranker)
  const mmr = resolveMmr(request.mmr)
  const maxPerDocument = optional(request.maxPerDocument, 'maxPerDocument', (v) => isInt(v) && v >= 1, 'an integer ≥ 1')
  const minScore = optional(request.minScore, 'minScore', (v) => typeof v === 'number' && v >= 0 && v <= 1, 'a number from 0 to 1')
  const skipRerankAbove = optional(request.skipRerankAbove, 'skipRerankAbove', (v) => typeof v === 'number' && v >= 0 && v <= 1, 'a number from 0 to 1')
  const rerankBudgetMs = optional(request.rerankBudgetMs, 'rerankBudgetMs', (v) => typeof v === 'number' && v > 0 && Number.isFinite(v), 'a finite number of ms > 0')
  const rerankFusion = resolveRerankFusion(request.rerankFusion, 'rerankFusion', true)
  if (rerankFusion !== null && stages.length === 0) {
    throw invalidInput('rerankFusion blends a reranker’s order with the first stage’s, and this search reranks nothing (rerank is off or the instance has no reranker); drop rerankFusion or pass rerank')
  }
  const widens = stages.length > 0 || mmr !== null || maxPerDocument !== null
  const candidates = request.candidates ?? (widens ? Math.max(k, DEFAULT_CANDIDATES) : k)
  if (!isInt(candidates) || candidates < k || candidates > MAX_K) {
    throw invalidInput(`candidates must be an integer from k (${k}) to ${MAX_K}, got ${describeValue(candidates)}`)
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
    if (!hasReranker) throw invalidInput('rerank: true uses the instance’s reranker, and this instance was created with reranker: false; pass rerank: { model } or create one with a reranker')
    return [{ model: null, keep: null }]
  }
  if (Array.isArray(rerank)) {
    if (rerank.length === 0) throw invalidInput('a rerank cascade needs at least one stage; use rerank: false for none')
    if (rerank.length > 8) throw invalidInput(`a rerank cascade has at most 8 stages, got ${rerank.length}`)
    return rerank.map((stage, i) => resolveStage(stage, `rerank[${i}]`, hasReranker, true))
  }
  if (rerank !== null && typeof rerank === 'object') return [resolveStage(rerank, 'rerank', hasReranker, false)]
  throw invalidInput(`rerank must be true, false, { model, dtype, lengthCorrection } or an array of { model, dtype, keep, lengthCorrection }, got ${describeValue(rerank)}`)
}

function resolveStage(stage: unknown, where: string, hasReranker: boolean, inCascade: boolean): StageSpec {
  if (stage === null || typeof stage !== 'object' || Array.isArray(stage)) throw invalidInput(`${where} must be an object like { model, dtype, keep }, got ${describeValue(stage)}`)
  for (const key of Object.keys(stage)) {
    if (!STAGE_KEYS.has(key) || (key === 'keep' && !inCascade)) {
      throw invalidInput(`${where}.${key} is not an option here; a stage takes ${inCascade ? 'model, dtype, keep and lengthCorrection' : 'model, dtype and lengthCorrection (keep belongs to cascade stages)'}`)
    }
  }
  const { model, dtype, keep } = stage as { model?: unknown; dtype?: unknown; keep?: unknown }
  if (model !== undefined && (typeof model !== 'string' || model.trim() === '')) throw invalidInput(`${where}.model must be a non-empty string, got ${describeValue(model)}`)
  if (model === undefined && !hasReranker) throw invalidInput(`${where} names no model, and this instance has no reranker of its own; give ${where}.model`)
  if (dtype !== undefined && typeof dtype !== 'string' && (dtype === null || typeof dtype !== 'object' || Array.isArray(dtype))) {
    throw invalidInput(`${where}.dtype must be a dtype such as 'q8', or { webgpu, wasm }, got ${describeValue(dtype)}`)
  }
  if (keep !== undefined && (!isInt(keep) || keep < 1 || keep > MAX_K)) throw invalidInput(`${where}.keep must be an integer from 1 to ${MAX_K}, got ${describeValue(keep)}`)
  const out: StageSpec = { model: (model as string | undefined) ?? null, keep: (keep as number | undefined) ?? null }
  if (dtype !== undefined) out.dtype = dtype as DtypeChoice
  const lengthCorrection = resolveLengthCorrection((stage as { lengthCorrection?: unknown }).lengthCorrection, `${where}.lengthCorrection`)
  if (lengthCorrection !== null) out.lengthCorrection = lengthCorrection
  return out
}

function resolveMmr(mmr: unknown): { lambda: number } | null {
  if (mmr === undefined || mmr === false) return null
  if (mmr === true) return { lambda: DEFAULT_MMR_LAMBDA }
  if (mmr === null || typeof mmr !== 'object' || Array.isArray(mmr)) throw invalidInput(`mmr must be true, false or { lambda }, got ${describeValue(mmr)}`)
  for (const key of Object.keys(mmr)) if (key !== 'lambda') throw invalidInput(`mmr.${key} is not an option; mmr takes lambda`)
  const lambda = (mmr as { lambda?: unknown }).lambda ?? DEFAULT_MMR_LAMBDA
  if (typeof lambda !== 'number' || !(lambda >= 0 && lambda <= 1)) throw invalidInput(`mmr.lambda must be a number from 0 to 1, got ${describeValue(lambda)}`)
  return { lambda }
}

function optional(value: unknown, name: string, ok: (v: unknown) => boolean, what: string): number | null {
  if (value === undefined || value === null) return null
  if (!ok(value)) throw invalidInput(`${name} must be ${what}, got ${describeValue(value)}`)
  return value as number
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v)
}
