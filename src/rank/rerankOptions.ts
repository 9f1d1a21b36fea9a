/**
 * The two options that adjust a reranker's judgement, validated once for `rerank()` and `search()`:
 * `lengthCorrection` (remove a length trend from the logits, see core/lengthTrend.ts) and
 * `rerankFusion` (blend the reranker's order with the first stage's, see core/rerankFusion.ts).
 */
import { describeValue, invalidInput, WinnowError } from '../errors.js'
import type { LengthCorrection } from './lengthTrend.js'
import type { ResolvedRerankFusion } from './rerankFusion.js'

/** RRF's constant when `rerankFusion` names none: the common choice, as for hybrid fusion. */
export const DEFAULT_RERANK_FUSION_K = 60
/** The reranker's share when `rerankFusion` names none: an even blend. */
export const DEFAULT_RERANK_FUSION_WEIGHT = 0.5
/** Largest slope accepted: a logit per unit of ln(tokens) beyond this is not a length trend but a mistake. */
export const MAX_LENGTH_SLOPE = 100

/**
 * `'auto'`, a finite slope, or absent (null).
 *
 * @throws WinnowError `INVALID_INPUT` naming `where`.
 * @example
 * resolveLengthCorrection('auto', 'rerank.lengthCorrection') // 'auto'
 */
export function resolveLengthCorrection(value: unknown, where: string): LengthCorrection | null {
  if (value === undefined || value === null) return null
  if (value === 'auto') return 'auto'
  if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_LENGTH_SLOPE) return value
  throw invalidInput(
    `${where} must be 'auto' or a slope in logits per unit of ln(tokens) from -${MAX_LENGTH_SLOPE} to ${MAX_LENGTH_SLOPE}, got ${describeValue(value)}`,
  )
}

/**
 * `{ method: 'rrf', k?, weight? }` or `{ method: 'weighted', weight? }`, or absent (null).
 * `weighted` needs first-stage scores on 0..1, which `rerank()` does not have (its first stage is
 * the input order): there `allowWeighted` is false.
 *
 * @throws WinnowError `INVALID_INPUT` naming `where` and what it takes.
 * @example
 * resolveRerankFusion({ method: 'rrf' }, 'rerankFusion', true) // { method: 'rrf', k: 60, weight: 0.5 }
 */
export function resolveRerankFusion(value: unknown, where: string, allowWeighted: boolean): ResolvedRerankFusion | null {
  if (value === undefined || value === null || value === false) return null
  const shape = allowWeighted ? `{ method: 'rrf', k?, weight? } or { method: 'weighted', weight? }` : `{ method: 'rrf', k?, weight? }`
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidInput(`${where} must be ${shape}, got ${describeValue(value)}`)
  const { method, k, weight } = value as { method?: unknown; k?: unknown; weight?: unknown }
  const keys = method === 'rrf' ? ['method', 'k', 'weight'] : ['method', 'weight']
  if (method !== 'rrf' && method !== 'weighted') throw invalidInput(`${where}.method must be 'rrf'${allowWeighted ? " or 'weighted'" : ''}, got ${describeValue(method)}`)
  if (method === 'weighted' && !allowWeighted) {
    throw invalidInput(`${where}.method 'weighted' needs first-stage scores, and rerank() has only the input order: use { method: 'rrf' }`)
  }
  for (const key of Object.keys(value)) if (!keys.includes(key)) throw invalidInput(`${where}.${key} is not an option of ${method} fusion; it takes ${keys.join(', ')}`)
  const w = weight ?? DEFAULT_RERANK_FUSION_WEIGHT
  if (typeof w !== 'number' || !(w >= 0 && w <= 1)) throw invalidInput(`${where}.weight (the reranker's share) must be a number from 0 to 1, got ${describeValue(weight)}`)
  if (method === 'weighted') return { method, weight: w }
  const kk = k ?? DEFAULT_RERANK_FUSION_K
  if (typeof kk !== 'number' || !Number.isFinite(kk) || kk < 0) throw invalidInput(`${where}.k must be a finite number ≥ 0, got ${describeValue(k)}`)
  return { method, k: kk, weight: w }
}
