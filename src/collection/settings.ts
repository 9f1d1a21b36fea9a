import { WinnowError } from '../errors.js'
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
