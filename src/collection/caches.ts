import type { TermPostings } from '../rank/bm25.js'
import { defaultInt8Kernel, type VectorArena } from '../core/int8Kernel.js'
import type { ListRecord } from '../store/types.js'

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
 * fp32 vector blocks by `segment/block`, least recently used evicted first.
 *
 * @example
 * const cache = new BlockCache()
 * cache.set(3, 0, vectors)
 */
export class BlockCache {
  private readonly entries = new Map<string, Float32Array>()
  private bytes = 0

  get(segment: number, block: number): Float32Array | undefined {
    const key = `${segment}/${block}`
    const hit = this.entries.get(key)
    if (hit) {
      this.entries.delete(key)
      this.entries.set(key, hit)
    }
    return hit
  }

  set(segment: number, block: number, vectors: Float32Array): void {
    const key = `${segment}/${block}`
    const previous = this.entries.get(key)
    if (previous) {
      this.bytes -= previous.byteLength
      this.entries.delete(key)
    }
    this.entries.set(key, vectors)
    this.bytes += vectors.byteLength
    while (this.bytes > BLOCK_CACHE_BYTES && this.entries.size > 1) {
      const [oldest, evicted] = this.entries.entries().next().value!
      this.entries.delete(oldest)
      this.bytes -= evicted.byteLength
    }
  }

  clear(): void {
    this.entries.clear()
    this.bytes = 0
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
  private readonly entries = new Map<string, ListRecord>()
  private held = 0
  private arena: VectorArena | null | undefined

  constructor(readonly maxBytes = DEFAULT_LIST_CACHE_BYTES) {}

  /** Bytes of lists held now. */
  get bytes(): number {
    return this.held
  }

  get(segment: number, list: number): ListRecord | undefined {
    const key = `${segment}/${list}`
    const hit = this.entries.get(key)
    if (hit) {
      this.entries.delete(key)
      this.entries.set(key, hit)
    }
    return hit
  }

  set(record: ListRecord): void {
    const key = `${record.segment}/${record.list}`
    const size = listBytes(record)
    const previous = this.entries.get(key)
    if (previous) {
      this.held -= listBytes(previous)
      this.entries.delete(key)
    }
    if (size > this.maxBytes) return
    this.entries.set(key, record)
    this.held += size
    while (this.held > this.maxBytes) {
      const [oldest, evicted] = this.entries.entries().next().value!
      this.entries.delete(oldest)
      this.held -= listBytes(evicted)
    }
  }

  /** The probe arena (created on first use; null where there is no SIMD kernel). */
  probeArena(): VectorArena | null {
    if (this.arena === undefined) this.arena = defaultInt8Kernel()?.createArena() ?? null
    return this.arena
  }

  clear(): void {
    this.entries.clear()
    this.held = 0
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
