/**
 * How a collection embeds its passages and queries (prefixes and pooling): what it recorded, what
 * the loaded embedder offers, and the errors when they disagree (used when a collection opens);
 * and the vectors of an add's passages.
 */
import { invalidInput } from '../errors.js'
import type { EmbedderPort } from '../models/embedderPort.js'
import { conflictingConventions, isConventions, legacyConventions, type EmbedderConventions } from '../models/conventions.js'
import type { Manifest } from '../store/types.js'
import type { Checkpoint } from '../core/checkpoint.js'
import type { Pooling } from '../models/embedder.js'
import type { AddProgress } from '../types.js'
import type { PreparedDocument } from './ingest.js'

/**
 * How a collection embeds: what it recorded (an explicit option that disagrees is INVALID_INPUT);
 * for a collection embedded before conventions were recorded, no prefixes and the loaded pooling
 * (as then); for one without embedded vectors yet, the embedder's own.
 *
 * @example
 * pickConventions('docs', storedManifest, embedderPort) // { queryPrefix: 'query: ', documentPrefix: 'passage: ', pooling: 'mean' }
 */
export function pickConventions(name: string, stored: Manifest | null, port: EmbedderPort | null): EmbedderConventions | null {
  const recorded = stored && isConventions(stored.embedderConventions) ? stored.embedderConventions : null
  if (!port) return recorded
  if (!port.conventions) return null
  const explicit = port.explicit ?? {}
  const embedded = stored !== null && stored.vectorSource === 'embedder' && stored.embedder !== null
  if (!embedded) return { ...port.conventions }
  if (!recorded) {
    const legacy = legacyConventions(port.conventions.pooling)
    const conflicts = conflictingConventions(legacy, { queryPrefix: explicit.queryPrefix, documentPrefix: explicit.documentPrefix })
    if (conflicts.length > 0) {
      throw invalidInput(
        `collection '${name}' was embedded without query or document prefixes (before winnow recorded them), but this instance sets ${conflicts.join(' and ')}; omit ${conflicts.join(' and ')}, or deleteCollection('${name}') and add the documents again`,
        { stored: { queryPrefix: '', documentPrefix: '' }, requested: explicit, conflicts },
      )
    }
    return legacy
  }
  const conflicts = conflictingConventions(recorded, explicit)
  if (conflicts.length > 0) {
    throw invalidInput(
      `collection '${name}' was embedded with ${describeConventions(recorded)}, but this instance sets ${conflicts.map((k) => `${k} ${JSON.stringify(explicit[k])}`).join(', ')}; omit ${conflicts.join(' and ')} to embed queries as the collection was built, or deleteCollection('${name}') and add the documents again`,
      { stored: recorded, requested: explicit, conflicts },
    )
  }
  if (recorded.pooling !== port.conventions.pooling && port.canRepool === false) {
    throw invalidInput(`collection '${name}' was embedded with ${recorded.pooling} pooling, but this model pools inside its graph with ${port.conventions.pooling}; pass pooling: '${recorded.pooling}' to pool its token vectors instead`, {
      stored: recorded,
      loaded: port.conventions,
    })
  }
  return { ...recorded }
}

/**
 * Before an embedded add commits: another tab may have recorded other conventions since this one
 * opened the collection empty; its passages would then be embedded two ways (INVALID_INPUT).
 *
 * @example
 * checkStillRecorded('docs', manifestNow, conventionsAtOpen) // throws when they differ
 */
export function checkStillRecorded(name: string, manifest: Manifest, conventions: EmbedderConventions | null): void {
  const recorded = manifest.embedderConventions
  if (!conventions || !isConventions(recorded) || conflictingConventions(recorded, conventions).length === 0) return
  throw invalidInput(`collection '${name}' was meanwhile embedded with other prefixes or pooling (${describeConventions(recorded)}); open it again to use them`, {
    stored: recorded,
    requested: conventions,
  })
}

/**
 * Model tokens of a prefix (word by word when the embedder cannot count a whole text).
 *
 * @example
 * countPrefixTokens(port, 'passage: ') // 3
 */
export function countPrefixTokens(port: EmbedderPort, prefix: string): number {
  if (prefix === '') return 0
  if (port.countTextTokens) return port.countTextTokens(prefix)
  return prefix.split(/\s+/).filter(Boolean).reduce((n, word) => n + port.countWordTokens(word), 0)
}

/**
 * The conventions in words, for error messages.
 *
 * @example
 * describeConventions({ queryPrefix: '', documentPrefix: '', pooling: 'cls' }) // 'queryPrefix "", documentPrefix "" and cls pooling'
 */
export function describeConventions(c: EmbedderConventions): string {
  return `queryPrefix ${JSON.stringify(c.queryPrefix)}, documentPrefix ${JSON.stringify(c.documentPrefix)} and ${c.pooling} pooling`
}

/**
 * One vector per chunk of `prepared`, in chunk order: a document's own vector where it has one
 * (it stays one chunk), else the embedder's for the chunk's context text, behind the collection's
 * document prefix (the prefix comes first, before the title and section lines: it is what the
 * model was trained to see first).
 *
 * @example
 * const vectors = await passageVectors(prepared, 12, 384, embedder, { prefix: 'passage: ', checkpoint })
 */
export async function passageVectors(
  prepared: readonly PreparedDocument[],
  chunkTotal: number,
  dims: number,
  embedder: EmbedderPort | null,
  options: { prefix: string; checkpoint: Checkpoint; onProgress?: (p: AddProgress) => void; embedOptions?: { pooling?: Pooling } },
): Promise<Float32Array> {
  const vectors = new Float32Array(chunkTotal * dims)
  const toEmbed: { text: string; at: number }[] = []
  let at = 0
  for (const doc of prepared) {
    for (const chunk of doc.chunks) {
      if (doc.vector) vectors.set(doc.vector, at * dims)
      else toEmbed.push({ text: chunk.contextText, at })
      at++
    }
  }
  if (toEmbed.length === 0) return vectors
  const { onProgress } = options
  onProgress?.({ phase: 'embedding', done: 0, total: toEmbed.length })
  const embedded = await embedder!.embed(
    toEmbed.map((e) => options.prefix + e.text),
    options.checkpoint,
    (done) => onProgress?.({ phase: 'embedding', done, total: toEmbed.length }),
    options.embedOptions,
  )
  toEmbed.forEach((e, i) => vectors.set(embedded.subarray(i * dims, (i + 1) * dims), e.at * dims))
  return vectors
}
