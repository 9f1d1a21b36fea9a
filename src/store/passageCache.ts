/**
 * Passage blocks kept in memory by the IndexedDB store (`idb.ts`), so that the texts of recent
 * hits are not read and deserialized again: a hit reads its whole block (16 documents), which in
 * Chromium costs more than ranking a keyword query over SciFact. Least recently used blocks go
 * first once the texts held pass the byte budget.
 *
 * The cache holds blocks as of one manifest generation. Every read checks the stored manifest in
 * its own transaction and drops everything when the generation moved (another tab, or another
 * store object on the collection, committed); the store's own commits drop only the blocks they
 * changed. A read that began before an invalidation does not insert what it read.
 */
import type { IDBPDatabase } from 'idb'
import { blockOf, type PassageBlock } from './passageBlocks.js'
import type { DocRef } from './types.js'

/**
 * Budget of the cached blocks in approximate bytes: characters of text (one byte each, as V8 keeps
 * Latin-1 strings; other scripts take two) plus a little per document and chunk. 12 MiB holds the
 * texts of SciFact's 5,183 abstracts, or the recent hits of a larger collection.
 */
export const PASSAGE_CACHE_BYTES = 12 * 2 ** 20

/**
 * @example
 * const cache = new PassageCache()
 * const epoch = cache.epoch
 * const block = await readBlock(7)
 * cache.set(7, block, epoch) // kept only if nothing was invalidated meanwhile
 */
export class PassageCache {
  private readonly entries = new Map<number, { block: PassageBlock | undefined; bytes: number }>()
  private bytes = 0
  /** Bumped on every invalidation: reads begun before must not insert. */
  epoch = 0
  /** The manifest generation the cached blocks are those of (-1: none known). */
  generation = -1

  constructor(private readonly budget = PASSAGE_CACHE_BYTES) {}

  /** The cached block (`undefined`: cached as absent), or null on a miss. */
  get(block: number): { block: PassageBlock | undefined } | null {
    const hit = this.entries.get(block)
    if (!hit) return null
    this.entries.delete(block)
    this.entries.set(block, hit)
    return hit
  }

  set(block: number, value: PassageBlock | undefined, epoch: number): void {
    if (epoch !== this.epoch) return
    this.drop(block)
    const bytes = sizeOf(value)
    if (bytes > this.budget) return
    this.entries.set(block, { block: value, bytes })
    this.bytes += bytes
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.budget) break
      this.entries.delete(oldest)
      this.bytes -= entry.bytes
    }
  }

  /**
   * This store committed `generation`, changing `blocks` (null: all of them). The rest stay valid
   * only when the cache was at the generation before it; else another commit came between.
   */
  committed(generation: number, blocks: Iterable<number> | null): void {
    if (blocks === null || this.generation !== generation - 1) this.clear()
    else {
      this.epoch++
      for (const b of blocks) this.drop(b)
    }
    this.generation = generation
  }

  /** Drops every block: they are not known to be those of `generation`. */
  clear(generation = -1): void {
    this.epoch++
    this.entries.clear()
    this.bytes = 0
    this.generation = generation
  }

  private drop(block: number): void {
    const entry = this.entries.get(block)
    if (!entry) return
    this.entries.delete(block)
    this.bytes -= entry.bytes
  }
}

function sizeOf(block: PassageBlock | undefined): number {
  let bytes = 64
  for (const doc of block?.docs ?? []) {
    bytes += doc.text.length + 160 + doc.chunks.length * 96
    for (const c of doc.chunks) bytes += c.text?.length ?? 0
  }
  return bytes
}

/**
 * The passage blocks the refs name, as of one manifest generation: cached blocks when the stored
 * manifest is still the generation they are of, the rest read in the same transaction as the
 * manifest (and cached).
 *
 * @example
 * const blocks = await readBlocks(db, [{ id: 'a', seq: 40 }], cache) // Map { 2 => block }
 */
export async function readBlocks(db: IDBPDatabase<unknown>, refs: readonly DocRef[], cache: PassageCache): Promise<Map<number, PassageBlock | undefined>> {
  const ids = [...new Set(refs.map(blockOf))]
  const out = new Map<number, PassageBlock | undefined>()
  const epoch = cache.epoch
  const tx = db.transaction(['meta', 'passages'])
  const passages = tx.objectStore('passages')
  const manifest = tx.objectStore('meta').get('manifest') as Promise<{ generation: number } | undefined>
  const read = async (blocks: number[]) => {
    const found = await Promise.all(blocks.map((b) => passages.get(b) as Promise<PassageBlock | undefined>))
    blocks.forEach((b, i) => out.set(b, found[i]))
    return found
  }
  // Misses are read alongside the manifest; hits are kept only if the manifest says they may be.
  const hits = new Map<number, PassageBlock | undefined>()
  const missing: number[] = []
  for (const b of ids) {
    const hit = cache.get(b)
    if (hit) hits.set(b, hit.block)
    else missing.push(b)
  }
  const [stored, found] = await Promise.all([manifest, read(missing)])
  const generation = stored?.generation ?? -1
  // This store committed while the transaction read: what it read is consistent, but not the cache.
  const settled = epoch === cache.epoch
  if (settled && generation === cache.generation) {
    for (const [b, block] of hits) out.set(b, block)
  } else {
    if (settled) cache.clear(generation)
    await read([...hits.keys()])
  }
  if (settled) for (const b of ids) cache.set(b, out.get(b), cache.epoch)
  return out
}
