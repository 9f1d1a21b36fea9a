/**
 * What `info()` says of a collection, from its manifest and settings.
 *
 * @example
 * const info = collectionInfoOf('docs', manifest, { analyzer, chunking, vectorIndex, merging: false })
 */
import { isConventions } from '../models/conventions.js'
import type { Manifest } from '../store/types.js'
import type { CollectionInfo } from '../types.js'

export function collectionInfoOf(name: string, m: Manifest, parts: Pick<CollectionInfo, 'analyzer' | 'chunking' | 'vectorIndex' | 'merging'>): CollectionInfo {
  return {
    name,
    documents: m.docCount,
    chunks: m.chunkCount,
    dims: m.dims,
    vectorSource: m.vectorSource,
    embedder: m.embedder,
    embedderConventions: isConventions(m.embedderConventions) ? { ...m.embedderConventions } : null,
    analyzer: parts.analyzer,
    chunking: parts.chunking,
    snapshot: null,
    vectorIndex: parts.vectorIndex,
    merging: parts.merging,
  }
}
