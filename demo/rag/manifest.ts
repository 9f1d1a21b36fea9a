/**
 * The demo's list of indexed files, kept in localStorage next to the collection: winnow can count a
 * collection's documents and get one by id, but not list them, and PDF page offsets are per file
 * (kept here once rather than in every passage's metadata).
 */
import type { FileKind } from './parse.ts'

/** One indexed file. Its document id in the collection is `id` (the file name). */
export interface ManifestEntry {
  id: string
  kind: FileKind
  /** Bytes of the file as picked. */
  size: number
  /** Characters of extracted text. */
  chars: number
  /** PDF only: where each page starts in the text. */
  pageStarts?: number[]
  addedAt: number
}

/** The subset of `Storage` used here (localStorage fits). */
export interface KeyValueStore {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

/**
 * The manifest stored under `key`, sorted by file name; `[]` when absent or unreadable.
 *
 * @example
 * readManifest(localStorage, 'winnow-rag:files:rag:tiny-random-embedder') // [{ id: 'garden.txt', kind: 'txt', … }]
 */
export function readManifest(store: KeyValueStore, key: string): ManifestEntry[] {
  try {
    const value: unknown = JSON.parse(store.getItem(key) ?? '[]')
    if (!Array.isArray(value)) return []
    return value.filter((e): e is ManifestEntry => typeof e?.id === 'string' && typeof e?.kind === 'string').sort(byId)
  } catch {
    return [] // a corrupt entry must not break the page; the collection is the source of truth
  }
}

/**
 * Adds or replaces entries (by id) and stores the result; returns it sorted by file name.
 *
 * @example
 * upsertManifest(localStorage, key, [{ id: 'a.md', kind: 'md', size: 10, chars: 10, addedAt: Date.now() }])
 */
export function upsertManifest(store: KeyValueStore, key: string, entries: readonly ManifestEntry[]): ManifestEntry[] {
  const byIdMap = new Map(readManifest(store, key).map((e) => [e.id, e]))
  for (const entry of entries) byIdMap.set(entry.id, entry)
  return saveManifest(store, key, [...byIdMap.values()])
}

/**
 * Stores exactly these entries (sorted); an empty list removes the key.
 *
 * @example
 * saveManifest(localStorage, key, []) // removes the key
 */
export function saveManifest(store: KeyValueStore, key: string, entries: readonly ManifestEntry[]): ManifestEntry[] {
  const sorted = [...entries].sort(byId)
  if (sorted.length === 0) store.removeItem(key)
  else store.setItem(key, JSON.stringify(sorted))
  return sorted
}

function byId(a: ManifestEntry, b: ManifestEntry): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
