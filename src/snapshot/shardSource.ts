/**
 * Where a lazily fetched snapshot's shards come from: decoded ones kept in memory (up to a byte
 * budget), then the version's IndexedDB cache, then the network — verified (size and SHA-256)
 * before anything keeps them. A failure is that call's: nothing failed is remembered, so the next
 * query asks again.
 *
 * @example
 * const source = new ShardSource(manifestUrl, { fetch, cache })
 * const payload = await source.get({ file, bytes, sha256 })
 */
import { WinnowError } from '../errors.js'
import type { ShardCache } from '../store/shardCache.js'
import { decodeRecords, gunzip, sha256Hex } from './codec.js'

/** What identifies a shard. */
export interface ShardRef {
  file: string
  bytes: number
  /** SHA-256 of the file as served, lower-case hex: all of it, or its first 12 bytes (an index). */
  sha256: string
}

/** Counters of a source (tests, benchmarks, `info()`). */
export interface ShardTraffic {
  /** Shards and bytes fetched from the network. */
  fetched: number
  fetchedBytes: number
  /** Shards read from the IndexedDB cache. */
  cached: number
}

export class ShardSource {
  readonly traffic: ShardTraffic = { fetched: 0, fetchedBytes: 0, cached: 0 }
  private readonly decoded = new Map<string, { payload: unknown; bytes: number }>()
  private decodedBytes = 0
  private readonly inFlight = new Map<string, Promise<unknown>>()

  constructor(
    private readonly manifestUrl: string,
    private readonly env: { fetch: typeof globalThis.fetch; cache: ShardCache | null; memoryBytes?: number },
  ) {}

  /** The decoded payload of a shard. */
  get(ref: ShardRef): Promise<unknown> {
    const kept = this.decoded.get(ref.sha256)
    if (kept) {
      // Most recently used last.
      this.decoded.delete(ref.sha256)
      this.decoded.set(ref.sha256, kept)
      return Promise.resolve(kept.payload)
    }
    let pending = this.inFlight.get(ref.sha256)
    if (!pending) {
      pending = this.load(ref).finally(() => this.inFlight.delete(ref.sha256))
      this.inFlight.set(ref.sha256, pending)
    }
    return pending
  }

  /** The gzip bytes of a shard, fetched and kept in the cache unless already there (a download). */
  async ensureCached(ref: ShardRef, cachedKeys: Set<string>): Promise<void> {
    if (cachedKeys.has(ref.sha256)) return
    const bytes = await this.fetchVerified(ref)
    await this.env.cache?.put(ref.sha256, bytes)
  }

  private async load(ref: ShardRef): Promise<unknown> {
    let bytes = await this.env.cache?.get(ref.sha256).catch(() => undefined)
    if (bytes) this.traffic.cached++
    else {
      bytes = await this.fetchVerified(ref)
      // A cache that cannot keep it (quota, another tab deleting the version) costs a later fetch only.
      await this.env.cache?.put(ref.sha256, bytes).catch(() => {})
    }
    let payload: unknown
    try {
      payload = decodeRecords(await gunzip(bytes))
    } catch (error) {
      throw new WinnowError('SNAPSHOT_INVALID', `snapshot shard ${ref.file} could not be decoded: ${(error as Error)?.message ?? error}`, { reason: 'corrupt', file: ref.file })
    }
    this.keep(ref, payload)
    return payload
  }

  private async fetchVerified(ref: ShardRef): Promise<Uint8Array> {
    const url = new URL(ref.file, this.manifestUrl).href
    let response: Response
    try {
      response = await this.env.fetch(url)
    } catch (error) {
      throw new WinnowError('SNAPSHOT_INVALID', `snapshot shard ${url} could not be fetched (offline, or the server refused): ${(error as Error)?.message ?? error}`, { reason: 'network', url }, { cause: error })
    }
    if (!response.ok) throw new WinnowError('SNAPSHOT_INVALID', `snapshot shard ${url} answered HTTP ${response.status}; was the snapshot deployed completely?`, { reason: 'http', status: response.status, url })
    let bytes: Uint8Array
    try {
      bytes = new Uint8Array(await response.arrayBuffer())
    } catch (error) {
      throw new WinnowError('SNAPSHOT_INVALID', `snapshot shard ${url} was cut off in transfer: ${(error as Error)?.message ?? error}`, { reason: 'network', url }, { cause: error })
    }
    if (bytes.length !== ref.bytes) throw corrupt(ref, `it has ${bytes.length} bytes, the manifest says ${ref.bytes}`)
    const sha = await sha256Hex(bytes)
    // An index keeps the first 12 bytes of a shard's hash (writeLazy.ts), a manifest all 32.
    if (ref.sha256.length < 24 || sha.slice(0, ref.sha256.length) !== ref.sha256) throw corrupt(ref, `its SHA-256 is ${sha.slice(0, 12)}…, the index says ${ref.sha256.slice(0, 12)}… (a stale cache or a half-finished deploy?)`)
    this.traffic.fetched++
    this.traffic.fetchedBytes += bytes.length
    return bytes
  }

  private keep(ref: ShardRef, payload: unknown): void {
    // Decoded shards are ~4× their gzip size; the budget counts that.
    const bytes = ref.bytes * 4
    const budget = this.env.memoryBytes ?? 32 * 1024 * 1024
    if (bytes > budget) return
    this.decoded.set(ref.sha256, { payload, bytes })
    this.decodedBytes += bytes
    for (const [key, entry] of this.decoded) {
      if (this.decodedBytes <= budget) break
      this.decoded.delete(key)
      this.decodedBytes -= entry.bytes
    }
  }
}

function corrupt(ref: ShardRef, why: string): WinnowError {
  return new WinnowError('SNAPSHOT_INVALID', `snapshot shard ${ref.file} is damaged: ${why}`, { reason: 'corrupt', file: ref.file })
}
