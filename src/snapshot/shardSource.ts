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

  /**
   * Records `rows` of a file of fixed-size records (`recordBytes` each): from the whole file where it
   * is cached (`snapshotFetch: 'all'`), else each row's cache entry (`<hash>#<row>`), else fetched by
   * HTTP Range, consecutive rows in one request. `verify` checks each fetched row before it is kept
   * (a wrong one is that call's error). A server that ignores Range answers with the whole file,
   * which is checked against its hash and kept.
   *
   * @example
   * const rows = await source.records(ref, 776, [17, 18, 4000], verifyRow)
   */
  async records(ref: ShardRef, recordBytes: number, rows: readonly number[], verify: (row: number, bytes: Uint8Array) => Promise<void>): Promise<Map<number, Uint8Array>> {
    const out = new Map<number, Uint8Array>()
    const slice = (whole: Uint8Array, row: number) => whole.slice(row * recordBytes, (row + 1) * recordBytes)
    let whole = (this.decoded.get(ref.sha256)?.payload as Uint8Array | undefined) ?? (await this.env.cache?.get(ref.sha256).catch(() => undefined))
    if (whole?.length === ref.bytes) {
      this.keep(ref, whole, 1)
      for (const row of rows) out.set(row, slice(whole, row))
      return out
    }
    const missing: number[] = []
    const wanted = [...new Set(rows)].sort((a, b) => a - b)
    const kept = await Promise.all(wanted.map((row) => this.env.cache?.get(`${ref.sha256}#${row}`).catch(() => undefined)))
    wanted.forEach((row, i) => {
      if (kept[i]?.length === recordBytes) {
        this.traffic.cached++
        out.set(row, kept[i]!)
      } else missing.push(row)
    })
    const runs: [number, number][] = []
    for (const row of missing) {
      const last = runs[runs.length - 1]
      if (last && last[1] === row) last[1]++
      else runs.push([row, row + 1])
    }
    const read = async ([from, to]: [number, number]) => {
      const got = whole ? { bytes: whole, whole: true } : await this.fetchRange(ref, from * recordBytes, (to - from) * recordBytes)
      if (got.whole && !whole) {
        whole = got.bytes
        this.keep(ref, whole, 1)
        this.store(ref.sha256, whole)
      }
      for (let row = from; row < to; row++) {
        const bytes = got.whole ? slice(got.bytes, row) : got.bytes.slice((row - from) * recordBytes, (row - from + 1) * recordBytes)
        await verify(row, bytes)
        out.set(row, bytes)
        if (!got.whole) this.store(`${ref.sha256}#${row}`, bytes)
      }
    }
    // The first run alone: a server that ignores Range answers it with the whole file, which then
    // serves the other runs (rather than arriving once per run).
    if (runs.length > 0) await read(runs[0]!)
    await Promise.all(runs.slice(1).map(read))
    return out
  }

  /** `length` bytes at `offset` of a shard by HTTP Range; the whole file (verified) where the server ignores Range. */
  private async fetchRange(ref: ShardRef, offset: number, length: number): Promise<{ bytes: Uint8Array; whole: boolean }> {
    const url = new URL(ref.file, this.manifestUrl).href
    if (offset + length > ref.bytes) throw corrupt(ref, `a read of ${length} bytes at ${offset} passes its ${ref.bytes} bytes`)
    let response: Response
    try {
      response = await this.env.fetch(url, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } })
    } catch (error) {
      throw new WinnowError('SNAPSHOT_INVALID', `snapshot shard ${url} could not be fetched (offline, or the server refused): ${(error as Error)?.message ?? error}`, { reason: 'network', url }, { cause: error })
    }
    if (response.status === 200) return { bytes: await this.verified(ref, url, response), whole: true }
    if (response.status !== 206) throw new WinnowError('SNAPSHOT_INVALID', `snapshot shard ${url} answered HTTP ${response.status} to a range request; was the snapshot deployed completely?`, { reason: 'http', status: response.status, url })
    let bytes: Uint8Array
    try {
      bytes = new Uint8Array(await response.arrayBuffer())
    } catch (error) {
      throw new WinnowError('SNAPSHOT_INVALID', `snapshot shard ${url} was cut off in transfer: ${(error as Error)?.message ?? error}`, { reason: 'network', url }, { cause: error })
    }
    this.traffic.fetched++
    this.traffic.fetchedBytes += bytes.length
    const range = /^bytes (\d+)-/.exec(response.headers.get('Content-Range') ?? '')
    if (bytes.length !== length || (range && Number(range[1]) !== offset)) throw corrupt(ref, `a range request for ${length} bytes at ${offset} returned ${bytes.length}${range ? ` at ${range[1]}` : ''}`)
    return { bytes, whole: false }
  }

  private async load(ref: ShardRef): Promise<unknown> {
    let bytes = await this.env.cache?.get(ref.sha256).catch(() => undefined)
    if (bytes) this.traffic.cached++
    else {
      bytes = await this.fetchVerified(ref)
      this.store(ref.sha256, bytes)
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
    return this.verified(ref, url, response)
  }

  /** A whole shard's bytes, checked against its size and hash. */
  private async verified(ref: ShardRef, url: string, response: Response): Promise<Uint8Array> {
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

  /**
   * Puts verified bytes in the cache without waiting for it: a query does not queue behind one
   * IndexedDB transaction per shard and row (IndexedDB runs a store's write transactions one at a
   * time; a later read of the key is ordered after the write). A cache that cannot keep them
   * (quota, another tab deleting the version) costs a later fetch only.
   */
  private store(key: string, bytes: Uint8Array): void {
    try {
      void this.env.cache?.put(key, bytes).catch(() => {})
    } catch {
      // a cache already let go (`check` throws): nothing kept
    }
  }

  private keep(ref: ShardRef, payload: unknown, ratio = 4): void {
    // Decoded shards are ~4× their gzip size; the budget counts that (raw files: 1×).
    const bytes = ref.bytes * ratio
    if (this.decoded.has(ref.sha256)) return
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
