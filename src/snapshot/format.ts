/**
 * What a snapshot is: `manifest.json` (this file's {@link SnapshotManifest}) next to content-addressed
 * binary shards (`codec.ts`). The manifest is small and fetched on every visit; its `hash` covers
 * every shard and setting (not the build time), so rebuilding unchanged docs gives the same hash
 * and browsers skip the import.
 */

import { WinnowError } from '../errors.js'
import type { SegmentRecord, QuantizedBlockRecord } from '../store/types.js'

/** `manifest.format`. */
export const SNAPSHOT_FORMAT = 'winnow-snapshot'
/** `manifest.version` this winnow reads up to: 1 (imported whole) and 2 (fetched lazily, `lazyStore.ts`). */
export const SNAPSHOT_VERSION = 2
/** The version `writeSnapshot` writes: imported whole on the first visit. */
export const SNAPSHOT_V1 = 1
/** The version `writeLazySnapshot` writes: shards fetched as queries need them. */
export const SNAPSHOT_V2 = 2

/** Shards fetched as queries need them (version 2), each kind listed in its own index shard. */
export type LazyKind = 'postings' | 'documents' | 'vectors' | 'lists' | 'rows'
/** Which records a shard holds (version 2 lists `segments` and one `index` per lazy kind). */
export type ShardKind = 'documents' | 'segments' | 'postings' | 'vectors' | 'index'

/** One file of a snapshot. */
export interface ShardEntry {
  /** Path relative to the manifest, e.g. `shards/postings-0001-1f2e3d4c5b6a.bin`. */
  file: string
  kind: ShardKind
  /** Records in the shard (documents, segments, terms or vector blocks). */
  records: number
  /** Size of the file as served (gzip). */
  bytes: number
  /** SHA-256 of the file as served, lower-case hex. */
  sha256: string
  /** Version 2, kind `index`: the kind of shard it lists. */
  of?: LazyKind
}

/** The embedder that made the snapshot's vectors (queries must be embedded by the same model). */
export interface SnapshotEmbedder {
  model: string
  dtype: string
  dims: number
  pooling: string
  /**
   * Put before every passage when it was embedded, and before every query a browser embeds. Absent
   * in snapshots built before winnow recorded prefixes: those were built without.
   */
  queryPrefix?: string
  documentPrefix?: string
}

/** `manifest.json`. */
export interface SnapshotManifest {
  format: typeof SNAPSHOT_FORMAT
  version: number
  /** SHA-256 over the settings, counts and shard hashes: the snapshot's identity. */
  hash: string
  /** What built it (`winnow 0.1.0`); informative only. */
  generator: string
  /** ISO time of the build; informative only (not in `hash`). */
  createdAt: string
  collection: {
    /** The version of the records (`RECORD_LAYOUT`; not the IndexedDB schema, which may change without changing them). */
    schema: number
    analyzer: { version: number } & Record<string, unknown>
    chunking: Record<string, unknown> | null
    dims: number | null
    vectorSource: 'embedder' | 'none'
    embedder: SnapshotEmbedder | null
    documents: number
    chunks: number
    /** Sum of analyzed chunk lengths (BM25). */
    totalLength: number
    nextSeq: number
    nextSegment: number
  }
  shards: ShardEntry[]
  /** Sum of `shards[].bytes`. */
  bytes: number
}

/** A chunk as stored in a documents shard: its text is left out when it is the document's slice. */
export interface SnapshotChunk {
  seq: number
  index: number
  start: number
  end: number
  section: string | null
  path: string[]
  text?: string
}

/** A document with its chunks. */
export interface SnapshotDocument {
  id: string
  text: string
  title?: string
  metadata?: Record<string, unknown>
  chunks: SnapshotChunk[]
}

/** The payload of each shard kind, after decoding. */
export interface ShardPayloads {
  documents: { documents: SnapshotDocument[] }
  segments: { segments: SegmentRecord[] }
  /**
   * Postings of many terms of one segment, packed: term `i` owns `lengths[i]` entries of `seqs`
   * (delta-coded within the term: first value absolute) and `tfs`.
   */
  postings: { segment: number; terms: string[]; lengths: Uint32Array; seqs: Uint32Array; tfs: Uint16Array }
  vectors: { blocks: QuantizedBlockRecord[] }
}

/**
 * The hash input: everything that changes what a browser would import, nothing that does not.
 *
 * @example
 * const hash = await sha256Hex(new TextEncoder().encode(hashInput(manifest)))
 */
export function hashInput(manifest: Pick<SnapshotManifest, 'format' | 'version' | 'collection' | 'shards'>): string {
  return JSON.stringify({
    format: manifest.format,
    version: manifest.version,
    collection: manifest.collection,
    shards: manifest.shards.map((s) => (s.of ? [s.kind, s.records, s.bytes, s.sha256, s.of] : [s.kind, s.records, s.bytes, s.sha256])),
  })
}

/**
 * Checks that parsed JSON is a snapshot manifest this winnow can import.
 *
 * @throws WinnowError SNAPSHOT_INVALID with `details.reason` `'format'` (not a manifest, or damaged)
 *   or `'incompatible'` (a newer format version or record layout).
 * @example
 * const manifest = parseManifest(await response.json(), { schema: RECORD_LAYOUT, analyzerVersion: ANALYZER_VERSION })
 */
export function parseManifest(json: unknown, supported: { schema: number; analyzerVersion: number }): SnapshotManifest {
  const m = json as Partial<SnapshotManifest> | null
  if (m === null || typeof m !== 'object' || m.format !== SNAPSHOT_FORMAT) throw formatError(`it is not a winnow snapshot manifest (no "format": "${SNAPSHOT_FORMAT}")`)
  if (typeof m.version !== 'number' || m.version > SNAPSHOT_VERSION || m.version < 1) {
    throw incompatible(`it has format version ${String(m.version)}; this winnow reads version ${SNAPSHOT_VERSION}. Upgrade winnow or rebuild the snapshot with this version`, { version: m.version })
  }
  if (typeof m.hash !== 'string' || !/^[0-9a-f]{64}$/.test(m.hash)) throw formatError('its "hash" is not a SHA-256 hex string')
  const c = m.collection
  if (!c || typeof c !== 'object') throw formatError('it has no "collection" section')
  if (c.schema !== supported.schema) throw incompatible(`its records follow record layout ${String(c.schema)}; this winnow reads layout ${supported.schema}. Rebuild the snapshot with this version`, { schema: c.schema })
  if (!c.analyzer || typeof c.analyzer !== 'object' || c.analyzer.version !== supported.analyzerVersion) {
    throw incompatible(`its keyword index was built by analyzer version ${String(c.analyzer?.version)}; this winnow's is ${supported.analyzerVersion}. Rebuild the snapshot with this version`)
  }
  for (const key of ['documents', 'chunks', 'totalLength', 'nextSeq', 'nextSegment'] as const) {
    if (!Number.isInteger(c[key]) || (c[key] as number) < 0) throw formatError(`its collection.${key} is not a count`)
  }
  if (c.vectorSource !== 'embedder' && c.vectorSource !== 'none') throw formatError('its collection.vectorSource is neither "embedder" nor "none"')
  if (c.vectorSource === 'embedder') {
    const e = c.embedder
    if (!e || typeof e.model !== 'string' || !Number.isInteger(e.dims) || e.dims <= 0 || e.dims !== c.dims) throw formatError('its embedder entry is missing or disagrees with collection.dims')
    if ((e.queryPrefix !== undefined || e.documentPrefix !== undefined) && (typeof e.queryPrefix !== 'string' || typeof e.documentPrefix !== 'string' || (e.pooling !== 'mean' && e.pooling !== 'cls'))) {
      throw formatError('its embedder entry has prefixes that are not both strings, or a pooling other than "mean" or "cls"')
    }
  } else if (c.dims !== null || c.embedder !== null) throw formatError('it has dims or an embedder but no vectors')
  if (!Array.isArray(m.shards)) throw formatError('it has no "shards" list')
  const kinds: readonly string[] = m.version === SNAPSHOT_V2 ? ['segments', 'index'] : ['documents', 'segments', 'postings', 'vectors']
  const lazyKinds: readonly string[] = ['postings', 'documents', 'vectors', 'lists', 'rows']
  let bytes = 0
  for (const [i, s] of m.shards.entries()) {
    if (!s || typeof s.file !== 'string' || s.file.length === 0 || !kinds.includes(s.kind)) throw formatError(`shards[${i}] has no file or an unknown kind`)
    if (/^[a-z][a-z0-9+.-]*:|^\/\/|(^|\/)\.\.(\/|$)/i.test(s.file)) throw formatError(`shards[${i}].file must be a relative path inside the snapshot folder`)
    if (!Number.isInteger(s.bytes) || s.bytes <= 0 || !Number.isInteger(s.records) || s.records < 0) throw formatError(`shards[${i}] has no byte or record count`)
    if (typeof s.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(s.sha256)) throw formatError(`shards[${i}].sha256 is not a SHA-256 hex string`)
    if ((s.kind === 'index') !== (typeof s.of === 'string' && lazyKinds.includes(s.of))) throw formatError(`shards[${i}] is an index without the kind it lists, or names one without being an index`)
    bytes += s.bytes
  }
  if (m.bytes !== bytes) throw formatError('its "bytes" is not the sum of its shards')
  return m as SnapshotManifest
}

function formatError(why: string): WinnowError {
  return new WinnowError('SNAPSHOT_INVALID', `the snapshot manifest is unusable: ${why}`, { reason: 'format' })
}

function incompatible(why: string, details: Record<string, unknown> = {}): WinnowError {
  return new WinnowError('SNAPSHOT_INVALID', `the snapshot cannot be imported: ${why}`, { reason: 'incompatible', ...details })
}
