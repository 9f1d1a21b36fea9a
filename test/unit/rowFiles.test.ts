/**
 * Rows files of format 2 (`src/snapshot/rowFiles.ts`): rescoring reads its rows a few at a time by
 * HTTP Range, each checked (its seq is in the check, so the wrong range fails too) before it is
 * cached; a server that ignores Range costs the whole file once, checked against its hash; every
 * fault is a typed error for that query and the next one tries again. Snapshots whose rows are
 * shards of 16 rows (before rows files) still read.
 */
import { describe, expect, it } from 'vitest'
import { LazySnapshotStore } from '../../src/snapshot/lazyStore.js'
import { parseManifest } from '../../src/snapshot/format.js'
import { RowLocator, rowRecordBytes, writeRowFiles } from '../../src/snapshot/rowFiles.js'
import { ShardSource } from '../../src/snapshot/shardSource.js'
import { encodeShard } from '../../src/snapshot/write.js'
import { writeLazySnapshot, type LazyRows } from '../../src/snapshot/writeLazy.js'
import { MemoryShardCache } from '../../src/store/shardCache.js'
import { RECORD_LAYOUT, rowBlockRows, type RowBlockRecord } from '../../src/store/types.js'
import { ANALYZER_VERSION } from '../../src/text/analyzer.js'
import { buildCollection, corpus, hashingEmbedder, snapshotServer } from './snapshotFixtures.js'

const BASE = 'https://static.example/rows/'
const DIMS = 32
const info = { model: 'hashing-embedder', dtype: 'q8', dims: DIMS, pooling: 'mean' }

describe('rows files (format 2)', async () => {
  const backend = await buildCollection(corpus(120, 5), hashingEmbedder(DIMS))
  const records = backend.dump('built')
  const exact = new Map<number, Float32Array>()
  for (const r of records.rows!) r.seqs.forEach((seq, i) => exact.set(seq, r.vectors.slice(i * DIMS, (i + 1) * DIMS)))
  const seqs = [...exact.keys()].sort((a, b) => a - b)
  const per = rowBlockRows(DIMS)
  // Files of 20 rows, so that the corpus has several.
  const lazy = await writeLazySnapshot(records, { embedder: info, createdAt: '2026-01-01T00:00:00.000Z', rowFileBytes: 20 * rowRecordBytes(DIMS) })
  const rowFiles = lazy.files.filter((f) => /\/rows-/.test(f.path))

  async function open(server = published(), cache = new MemoryShardCache()) {
    const manifest = parseManifest(JSON.parse(new TextDecoder().decode(server.files.get(BASE + 'manifest.json')!)), { schema: RECORD_LAYOUT, analyzerVersion: ANALYZER_VERSION })
    const source = new ShardSource(BASE + 'manifest.json', { fetch: server.fetch, cache })
    return { store: await LazySnapshotStore.open('rows', manifest, source, cache), source, cache, server }
  }

  function published(manifest = lazy.manifest, files = lazy.files) {
    const server = snapshotServer(BASE)
    server.publish(manifest, files)
    return server
  }

  /** Reads `wanted` seqs as rescoring does (their blocks, with the seqs named). */
  const read = (store: LazySnapshotStore, wanted: number[]) => store.readRows([...new Set(wanted.map((s) => Math.floor(s / per)))], wanted)

  /** `got` holds exactly `wanted` (or, `whole`, every row of their blocks), each within int16's error. */
  function expectRows(got: RowBlockRecord[], wanted: number[], whole = false) {
    const seen = got.flatMap((r) => Array.from(r.seqs, (seq, i) => [seq, r.vectors.subarray(i * DIMS, (i + 1) * DIMS)] as const))
    const blocks = new Set(wanted.map((s) => Math.floor(s / per)))
    expect(seen.map(([s]) => s).sort((a, b) => a - b)).toEqual(whole ? seqs.filter((s) => blocks.has(Math.floor(s / per))) : [...wanted].sort((a, b) => a - b))
    for (const [seq, vector] of seen) {
      const want = exact.get(seq)!
      const max = Math.max(...want.map(Math.abs))
      for (let d = 0; d < DIMS; d++) expect(Math.abs(vector[d]! - want[d]!)).toBeLessThanOrEqual(max / 65534 + 1e-7)
    }
  }

  it('writes every row once, in files of the target size, indexed by seq', async () => {
    expect(seqs.length).toBeGreaterThan(100)
    expect(rowFiles.length).toBe(Math.ceil(seqs.length / 20))
    expect(rowFiles.every((f) => f.bytes.length <= 20 * rowRecordBytes(DIMS))).toBe(true)
    const { index } = await writeRowFiles(records.rows!, DIMS, 20 * rowRecordBytes(DIMS))
    const where = new RowLocator(index as never)
    seqs.forEach((seq, i) => expect(where.find(seq)).toEqual({ file: Math.floor(i / 20), row: i % 20 }))
    expect(where.find(seqs[seqs.length - 1]! + 1)).toBeNull()
    expect(where.seqsOfBlock(1, DIMS)).toEqual(seqs.filter((s) => Math.floor(s / per) === 1))
  })

  it('reads scattered rows one range each (a row costs its record, not a file), consecutive rows in one request; a repeat reads the cache', async () => {
    const { store, source, server } = await open()
    await store.index('rows')
    server.log.length = 0
    const before = source.traffic.fetchedBytes
    const wanted = [seqs[3]!, seqs[47]!, seqs[48]!, seqs[49]!, seqs[101]!]
    expectRows(await read(store, wanted), wanted)
    const ranges = server.log.filter((u) => /\/rows-/.test(u))
    expect(ranges.length).toBe(3) // 3; 47-49 in one (same file: 40…59); 101
    expect(ranges.every((u) => /#\d+-\d+$/.test(u))).toBe(true)
    expect(source.traffic.fetchedBytes - before).toBe(5 * rowRecordBytes(DIMS))
    server.log.length = 0
    server.setOffline(true)
    expectRows(await read(store, wanted), wanted)
    expect(server.log).toEqual([])
  })

  it('without seqs, a block is read whole', async () => {
    const { store } = await open()
    const block = Math.floor(seqs[30]! / per)
    expectRows(await store.readRows([block]), seqs.filter((s) => Math.floor(s / per) === block))
  })

  it('a server that ignores Range: the whole file, checked against its hash, fetched once and kept', async () => {
    const server = published()
    server.ignoreRange = true
    const { store, source, cache } = await open(server)
    await store.index('rows')
    const before = source.traffic.fetchedBytes
    server.log.length = 0
    expectRows(await read(store, [seqs[0]!]), [seqs[0]!])
    expect(source.traffic.fetchedBytes - before).toBe(rowFiles[0]!.bytes.length)
    expect([...(await cache.keys())].some((k) => !k.includes('#') && rowFiles[0]!.path.includes(k.slice(0, 12)))).toBe(true)
    server.log.length = 0
    expectRows(await read(store, [seqs[1]!, seqs[19]!]), [seqs[1]!, seqs[19]!])
    expect(server.log.filter((u) => /\/rows-/.test(u))).toEqual([])
    // A fresh store on the same cache finds the whole file there, offline; a row of another file is a network error.
    server.setOffline(true)
    const again = await open(server, cache)
    expectRows(await read(again.store, [seqs[2]!]), [seqs[2]!])
    await expect(read(again.store, [seqs[22]!])).rejects.toMatchObject({ code: 'SNAPSHOT_INVALID', details: { reason: 'network' } })
  })

  it('a damaged row, a wrong range, a short range and a 404: a typed error for that query, nothing kept, the next query tries again', async () => {
    const file = BASE + rowFiles[1]!.path
    const good = rowFiles[1]!.bytes
    const target = seqs[25]! // file 1, row 5
    const server = published()
    const { store, cache } = await open(server)
    const broken = (bytes: Uint8Array) => server.files.set(file, bytes)

    const flipped = good.slice()
    flipped[5 * rowRecordBytes(DIMS) + 3]! ^= 0x10
    broken(flipped)
    await expect(read(store, [target])).rejects.toMatchObject({ code: 'SNAPSHOT_INVALID', details: { reason: 'corrupt', file: rowFiles[1]!.path } })

    // Rows 5 and 6 swapped: each is a valid record, of the wrong seq.
    const swapped = good.slice()
    const r = rowRecordBytes(DIMS)
    swapped.set(good.subarray(6 * r, 7 * r), 5 * r)
    swapped.set(good.subarray(5 * r, 6 * r), 6 * r)
    broken(swapped)
    await expect(read(store, [target])).rejects.toMatchObject({ code: 'SNAPSHOT_INVALID', details: { reason: 'corrupt' } })

    broken(good.subarray(0, 5 * r + 10))
    await expect(read(store, [target])).rejects.toMatchObject({ code: 'SNAPSHOT_INVALID', details: { reason: 'corrupt' } })

    server.files.delete(file)
    await expect(read(store, [target])).rejects.toMatchObject({ code: 'SNAPSHOT_INVALID', details: { reason: 'http', status: 404 } })
    expect([...(await cache.keys())].some((k) => k.includes('#'))).toBe(false)

    broken(good)
    expectRows(await read(store, [target]), [target])
    expect([...(await cache.keys())].filter((k) => k.includes('#')).length).toBe(1)
  })

  it('rows as shards of 16 rows (snapshots before rows files) still read', async () => {
    const legacy = await legacyRows(records.rows!, DIMS)
    const shards = [...lazy.manifest.shards.filter((s) => s.of !== 'rows'), legacy.entry]
    const manifest = { ...lazy.manifest, shards, bytes: shards.reduce((n, s) => n + s.bytes, 0) }
    const server = published(manifest, [...lazy.files.filter((f) => !/rows-/.test(f.path)), ...legacy.files])
    const { store } = await open(server)
    const wanted = [seqs[2]!, seqs[77]!]
    expectRows(await read(store, wanted), wanted, true)
  })
})

/** The rows layout of format-2 snapshots before rows files: int16 rows by row block, 12 KiB shards. */
async function legacyRows(rows: readonly RowBlockRecord[], dims: number) {
  const files = []
  const sha256: number[] = []
  const bytes: number[] = []
  const first: number[] = []
  for (const [n, r] of [...rows].sort((a, b) => a.block - b.block).entries()) {
    const codes = new Uint16Array(r.seqs.length * dims)
    const scales = new Float32Array(r.seqs.length)
    for (let i = 0; i < r.seqs.length; i++) {
      const row = r.vectors.subarray(i * dims, (i + 1) * dims)
      scales[i] = Math.max(...row.map(Math.abs)) / 32767 || 1
      for (let d = 0; d < dims; d++) codes[i * dims + d] = Math.round(row[d]! / scales[i]!) + 32768
    }
    const { file, entry } = await encodeShard('rows', n, 1, { blocks: [{ block: r.block, seqs: r.seqs, codes, scales }] } satisfies LazyRows)
    files.push(file)
    for (let b = 0; b < 12; b++) sha256.push(parseInt(entry.sha256.slice(b * 2, b * 2 + 2), 16))
    bytes.push(entry.bytes)
    first.push(r.block)
  }
  const index = { of: 'rows', sha256: Uint8Array.from(sha256), bytes: Uint32Array.from(bytes), records: new Uint32Array(files.length).fill(1), first: Uint32Array.from(first), segments: new Uint32Array(files.length) }
  const { file, entry } = await encodeShard('index-rows', 0, files.length, index)
  return { files: [...files, file], entry: { ...entry, kind: 'index' as const, of: 'rows' as const } }
}
