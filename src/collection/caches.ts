import type { TermPostings } from '../rank/bm25.js'
import { defaultInt8Kernel, type VectorArena } from '../core/int8Kernel.js'
import type { ListRecord, RowBlockRecord } from '../store/types.js'

/** Terms whose postings stay cached; a query's terms are read from IndexedDB only on a miss. */
const POSTINGS_CACHE_TERMS = 4096
/**
 * …and at most this many bytes of them: at a million passages one frequent term's postings take
 * megabytes (6 bytes a posting), so 4,096 such terms would hold gigabytes in the worker.
 */
const POSTINGS_CACHE_BYTES = 32 * 2 ** 20
/** fp32 bytes kept for rescoring: candidates of recent queries often share blocks. */
const BLOCK_CACHE_BYTES = 32 * 2 ** 20

/**
 * Postings per term (one entry per segment that has the term), least recently used evicted first.
 * A commit from this tab appends its segment to cached terms instead of dropping them.
 *
 * @example
 * const cache = new PostingsCache()
 * cache.set('leak', lists)
 * cache.get('leak') // lists
 */
export class PostingsCache {
  private readonly entries = new Map<string, TermPostings[]>()
  private held = 0
  /** Bumped when segments change: postings read before that must not be cached after it. */
  epoch = 0

  get(term: string): TermPostings[] | undefined {
    const hit = this.entries.get(term)
    if (hit) {
      // Re-insert: Map iteration order is insertion order, so the oldest entry comes first.
      this.entries.delete(term)
      this.entries.set(term, hit)
    }
    return hit
  }

  /** Bytes of postings held now. */
  get bytes(): number {
    return this.held
  }

  /** Caches postings read while `epoch` was current; a stale read is dropped, and so is a term larger than the whole cache. */
  set(term: string, lists: TermPostings[], epoch: number): void {
    if (epoch !== this.epoch) return
    const previous = this.entries.get(term)
    if (previous) this.held -= postingBytes(previous)
    this.entries.delete(term)
    const size = postingBytes(lists)
    if (size > POSTINGS_CACHE_BYTES) return
    this.entries.set(term, lists)
    this.held += size
    while (this.entries.size > POSTINGS_CACHE_TERMS || this.held > POSTINGS_CACHE_BYTES) {
      const [oldest, evicted] = this.entries.entries().next().value!
      this.entries.delete(oldest)
      this.held -= postingBytes(evicted)
    }
  }

  /** Adds a new segment's postings to the terms already cached (a missing term stays absent). */
  appendSegment(_segment: number, postings: ReadonlyMap<string, TermPostings>): void {
    this.epoch++
    for (const [term, lists] of this.entries) {
      const added = postings.get(term)
      if (!added) continue
      lists.push(added)
      this.held += postingBytes([added])
    }
    while (this.held > POSTINGS_CACHE_BYTES && this.entries.size > 0) {
      const [oldest, evicted] = this.entries.entries().next().value!
      this.entries.delete(oldest)
      this.held -= postingBytes(evicted)
    }
  }

  clear(): void {
    this.epoch++
    this.entries.clear()
    this.held = 0
  }
}

/**
 * Values by key, least recently used evicted first, holding at most `maxBytes` (as `sizeOf` counts
 * them); a value larger than the cap is not kept. What the block and list caches share.
 *
 * @example
 * const lru = new ByteLru<Float32Array>(1024, (v) => v.byteLength)
 * lru.set('3/0', vectors)
 */
export class ByteLru<V> {
  private readonly entries = new Map<string, V>()
  private held = 0

  constructor(
    readonly maxBytes: number,
    private readonly sizeOf: (value: V) => number,
  ) {}

  /** Bytes held now. */
  get bytes(): number {
    return this.held
  }

  get(key: string): V | undefined {
    const hit = this.entries.get(key)
    if (hit !== undefined) {
      // Re-insert: Map iteration order is insertion order, so the oldest entry comes first.
      this.entries.delete(key)
      this.entries.set(key, hit)
    }
    return hit
  }

  set(key: string, value: V): void {
    const previous = this.entries.get(key)
    if (previous !== undefined) {
      this.held -= this.sizeOf(previous)
      this.entries.delete(key)
    }
    const size = this.sizeOf(value)
    if (size > this.maxBytes) return
    this.entries.set(key, value)
    this.held += size
    while (this.held > this.maxBytes) {
      const [oldest, evicted] = this.entries.entries().next().value!
      this.entries.delete(oldest)
      this.held -= this.sizeOf(evicted)
    }
  }

  clear(): void {
    this.entries.clear()
    this.held = 0
  }
}

/**
 * fp32 row blocks ({@link RowBlockRecord}) by block number, least recently used evicted first. A
 * block can gain rows (the add after the one that wrote it) or lose them (a delete): a reader that
 * misses a row in a cached block reads the block again.
 *
 * @example
 * const cache = new BlockCache()
 * cache.set(record)
 * cache.get(record.block)
 */
export class BlockCache {
  private readonly lru = new ByteLru<RowBlockRecord>(BLOCK_CACHE_BYTES, (r) => r.vectors.byteLength + r.seqs.byteLength)

  get(block: number): RowBlockRecord | undefined {
    return this.lru.get(String(block))
  }

  set(record: RowBlockRecord): void {
    this.lru.set(String(record.block), record)
  }

  clear(): void {
    this.lru.clear()
  }
}

/** Default bytes of int8 lists a collection keeps between queries ({@link ListCache}). */
export const DEFAULT_LIST_CACHE_BYTES = 16 * 2 ** 20

/**
 * Inverted lists of partitioned segments by `segment/list`, least recently used evicted first,
 * holding at most `maxBytes` of codes and scales (a list larger than that is handed out but not
 * kept). Also owns the arena the lists a query probes are copied into for the SIMD scan.
 *
 * @example
 * const lists = new ListCache(16 * 2 ** 20)
 * lists.set(record)
 * lists.get(3, 17)
 */
export class ListCache {
  private readonly lru: ByteLru<ListRecord>
  private arena: VectorArena | null | undefined

  constructor(readonly maxBytes = DEFAULT_LIST_CACHE_BYTES) {
    this.lru = new ByteLru(maxBytes, listBytes)
  }

  /** Bytes of lists held now. */
  get bytes(): number {
    return this.lru.bytes
  }

  get(segment: number, list: number): ListRecord | undefined {
    return this.lru.get(`${segment}/${list}`)
  }

  set(record: ListRecord): void {
    this.lru.set(`${record.segment}/${record.list}`, record)
  }

  /** The probe arena (created on first use; null where there is no SIMD kernel). */
  probeArena(): VectorArena | null {
    if (this.arena === undefined) this.arena = defaultInt8Kernel()?.createArena() ?? null
    return this.arena
  }

  clear(): void {
    this.lru.clear()
  }
}

function listBytes(record: ListRecord): number {
  return record.codes.byteLength + record.scales.byteLength
}

function postingBytes(lists: readonly TermPostings[]): number {
  let bytes = 0
  for (const l of lists) bytes += l.seqs.byteLength + l.tfs.byteLength
  return bytes
}
