/** Public types of snapshot collections. Nothing here has runtime code. */

/** See `CollectionOptions.snapshotFetch`. */
export type SnapshotFetch = 'lazy' | 'prefetch' | 'all'

/** Progress of a snapshot check or import. `loaded`/`total` count shard bytes. */
export interface SnapshotProgress {
  phase: 'checking' | 'importing' | 'done'
  loaded: number
  total: number
  /** The snapshot's hash being checked or imported (null until the manifest is read). */
  version: string | null
  /**
   * On `'done'`: `unchanged` (hash as stored), `imported` (the new version now serves), `offline`
   * (the manifest was unreachable; the stored version serves), `failed` (see `error`; the stored
   * version serves).
   */
  outcome?: 'unchanged' | 'imported' | 'offline' | 'failed'
  error?: { code: string; message: string }
}

/** What `syncSnapshot()` did. */
export type SnapshotOutcome = 'unchanged' | 'imported' | 'offline'
