/**
 * The collection's caches (collection/caches.ts) hold what they promise and no more: the postings
 * cache stays under its byte cap however large a term's postings (a frequent term at a million
 * passages), evicting the least recently used; the list cache under its `maxBytes`.
 */
import { describe, expect, it } from 'vitest'
import { BlockCache, ByteLru, ListCache, PostingsCache } from '../../src/collection/caches.js'

const postings = (n: number) => [{ seqs: new Uint32Array(n), tfs: new Uint16Array(n) }]

describe('PostingsCache', () => {
  it('keeps at most 32 MiB of postings, dropping the least recently used, and never a term larger than that', () => {
    const cache = new PostingsCache()
    const big = 2_000_000 // 12 MB of postings (6 bytes each)
    cache.set('a', postings(big), cache.epoch)
    cache.set('b', postings(big), cache.epoch)
    expect(cache.bytes).toBe(2 * big * 6)
    cache.get('a') // a is now the most recently used
    cache.set('c', postings(big), cache.epoch) // 36 MB: b goes
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toBeDefined()
    expect(cache.get('c')).toBeDefined()
    expect(cache.bytes).toBe(2 * big * 6)
    cache.set('huge', postings(6_000_000), cache.epoch) // 36 MB alone: not kept, nothing evicted for it
    expect(cache.get('huge')).toBeUndefined()
    expect(cache.bytes).toBe(2 * big * 6)
    // A commit appends its segment's postings to cached terms, and the cap still holds.
    cache.appendSegment(9, new Map([['a', postings(big)[0]!], ['c', postings(big)[0]!]]))
    expect(cache.bytes).toBe(2 * big * 6) // 48 MB with both: a, the older, went
    expect(cache.get('a')).toBeUndefined()
    expect(cache.get('c')).toHaveLength(2)
    cache.clear()
    expect(cache.bytes).toBe(0)
  })
})

describe('ListCache', () => {
  it('keeps at most maxBytes of lists, least recently used out first; a list larger than the cap is not kept', () => {
    const cache = new ListCache(1000)
    const list = (segment: number, l: number, rows: number) => ({ segment, list: l, dims: 4, codes: new Int8Array(rows * 4), scales: new Float32Array(rows) })
    cache.set(list(1, 0, 50)) // 400 bytes
    cache.set(list(1, 1, 50))
    expect(cache.bytes).toBe(800)
    cache.get(1, 0)
    cache.set(list(1, 2, 50)) // 1,200: (1, 1) goes
    expect(cache.get(1, 1)).toBeUndefined()
    expect(cache.get(1, 0)).toBeDefined()
    expect(cache.bytes).toBe(800)
    cache.set(list(2, 0, 200)) // 1,600 bytes: not kept
    expect(cache.get(2, 0)).toBeUndefined()
    expect(cache.bytes).toBe(800)
  })
})

describe('ByteLru and BlockCache', () => {
  it('hand back what they hold, re-set values replace their bytes, and the least recently used goes first', () => {
    const lru = new ByteLru<Uint8Array>(10, (v) => v.byteLength)
    lru.set('a', new Uint8Array(4))
    lru.set('a', new Uint8Array(6)) // replaces: 6 bytes, not 10
    expect(lru.bytes).toBe(6)
    lru.set('b', new Uint8Array(4))
    expect(lru.bytes).toBe(10)
    lru.get('a')
    lru.set('c', new Uint8Array(1)) // 11: b, the least recently used, goes
    expect(lru.get('b')).toBeUndefined()
    expect(lru.get('a')?.byteLength).toBe(6)
    expect(lru.bytes).toBe(7)
    const blocks = new BlockCache()
    const record = { block: 31, seqs: Uint32Array.of(496, 497), vectors: new Float32Array(8) }
    blocks.set(record)
    expect(blocks.get(31)).toBe(record)
    expect(blocks.get(13)).toBeUndefined()
    blocks.clear()
    expect(blocks.get(31)).toBeUndefined()
  })
})
