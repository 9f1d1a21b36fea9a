import { invalidInput, WinnowError } from '../errors.js'
import type { VectorIndexOptions } from '../types.js'
import { DEFAULT_LIST_CACHE_BYTES } from './caches.js'
import { DEFAULT_INDEX_MIN_ROWS } from './ivfBuild.js'
import { DEFAULT_TARGET_RECALL } from './ivfRecall.js'
import type { Manifest } from '../store/types.js'
import { resolveAnalyzerConfig, sameAnalyzer, type AnalyzerOptions, type ResolvedAnalyzerConfig } from '../text/analyzer.js'
import { resolveChunking, type ChunkingOptions, type ResolvedChunking } from '../text/chunking.js'

/**
 * The analyzer a collection uses: the stored one when none is asked for; a different one is refused
 * once the collection has postings (they are only valid for the analyzer that made them).
 *
 * @example
 * pickAnalyzer(storedManifest, undefined) // the stored settings
 */
export function pickAnalyzer(stored: Manifest | null, requested: AnalyzerOptions | false | undefined): ResolvedAnalyzerConfig {
  const storedConfig = stored?.analyzer as ResolvedAnalyzerConfig | undefined
  if (requested === undefined && storedConfig) return storedConfig
  const resolved = resolveAnalyzerConfig(requested)
  if (storedConfig && stored!.chunkCount > 0 && !sameAnalyzer(storedConfig, resolved)) {
    throw new WinnowError('INVALID_INPUT', `this collection's index was built with other analyzer settings; omit analyzer to use them, or deleteCollection and add again`, {
      stored: storedConfig,
      requested: resolved,
    })
  }
  return resolved
}

/**
 * The chunking a collection uses: the stored settings when none are asked for, else the requested
 * ones capped by the models' usable passage length.
 *
 * @example
 * pickChunking(null, { maxTokens: 128 }, 254) // { maxTokens: 128, overlapTokens: 32, headings: true }
 */
export function pickChunking(stored: Manifest | null, requested: ChunkingOptions | false | undefined, limit: number | undefined): ResolvedChunking | null {
  if (requested === undefined && stored) return stored.chunking as ResolvedChunking | null
  return resolveChunking(requested, limit !== undefined ? { maxTokens: limit } : undefined)
}

/** The vector index settings a collection runs with (see `VectorIndexOptions`). */
export interface ResolvedVectorIndex {
  minRows: number
  /** Null: each partitioned segment is probed for `targetRecall`. */
  probes: number | null
  targetRecall: number
  cacheBytes: number
}

/**
 * Checks and defaults `collection(name, { vectorIndex })`. Per open, not stored: they decide how
 * this tab's merges partition and how its searches probe, never what a stored segment means.
 *
 * @example
 * pickVectorIndex({ probes: 32 }) // { minRows: 50000, probes: 32, targetRecall: 0.95, cacheBytes: 16777216 }
 */
export function pickVectorIndex(requested: VectorIndexOptions | undefined): ResolvedVectorIndex {
  if (requested !== undefined && (typeof requested !== 'object' || requested === null || Array.isArray(requested))) throw invalidInput('vectorIndex must be an object')
  const { minRows = DEFAULT_INDEX_MIN_ROWS, probes, targetRecall = DEFAULT_TARGET_RECALL, cacheBytes = DEFAULT_LIST_CACHE_BYTES } = requested ?? {}
  if (!(minRows === Infinity || (Number.isInteger(minRows) && minRows >= 64))) throw invalidInput(`vectorIndex.minRows must be an integer of at least 64, or Infinity (never partition); got ${String(minRows)}`)
  if (probes !== undefined) checkProbes(probes, 'vectorIndex.probes')
  if (!(typeof targetRecall === 'number' && targetRecall > 0 && targetRecall <= 1)) throw invalidInput(`vectorIndex.targetRecall must be a number in (0, 1]; got ${String(targetRecall)}`)
  if (!(Number.isInteger(cacheBytes) && cacheBytes >= 0)) throw invalidInput(`vectorIndex.cacheBytes must be a non-negative integer; got ${String(cacheBytes)}`)
  return { minRows, probes: probes ?? null, targetRecall, cacheBytes }
}

/** Lists probed per partitioned segment: a positive integer. */
export function checkProbes(probes: unknown, name: string): asserts probes is number {
  if (!(typeof probes === 'number' && Number.isInteger(probes) && probes >= 1)) throw invalidInput(`${name} must be a positive integer; got ${String(probes)}`)
}
