import { describe, expect, it } from 'vitest'
import { decodeRecords, encodeRecords, gunzip, gzip, sha256Hex } from '../../src/snapshot/codec.js'
import { hashInput, parseManifest, SNAPSHOT_VERSION, type SnapshotManifest } from '../../src/snapshot/format.js'
import { fetchManifest, importShards } from '../../src/snapshot/importer.js'
import { writeSnapshot } from '../../src/snapshot/write.js'
import { MemoryBackend } from '../../src/store/memory.js'
import { RECORD_LAYOUT } from '../../src/store/types.js'
import type { EmbedderPort } from '../../src/models/embedderPort.js'
import { ANALYZER_VERSION } from '../../src/text/analyzer.js'
import { buildCollection, corpus, engineOver, hashingEmbedder, snapshotServer } from './snapshotFixtures.js'
import { codeOf } from './helpers.js'
import { searchCollection } from '../../src/search/searchCollection.js'

const none = async () => {}
const BASE = 'https://docs.example/winnow-index/'
const supported = { schema: RECORD_LAYOUT, analyzerVersion: ANALYZER_VERSION }

async function snapshotOf(docs = corpus(40), embedder: EmbedderPort | null = hashingEmbedder(), shardBytes = 4096) {
  const backend = await buildCollection(docs, embedder)
  const written = await writeSnapshot(backend.dump('built'), {
    embedder: embedder ? { model: embedder.model, dtype: 'q8', dims: embedder.dims, pooling: 'mean' } : null,
    shardBytes,
    createdAt: '2026-01-01T00:00:00.000Z',
  })
  return { backend, ...written }
}

async function imported(manifest: SnapshotManifest, files: { path: string; bytes: Uint8Array }[]) {
  const server = snapshotServer(BASE)
  server.publish(manifest, files)
  const target = await new MemoryBackend().open('target')
  const progress: number[] = []
  await importShards(manifest, BASE + 'manifest.json', target, { fetch: server.fetch, checkpoint: none, onProgress: (p) => progress.push(p.loaded) })
  return { target, progress, server }
}

describe('shard codec', () => {
  it('round-trips nested records with every typed array kind, through gzip', async () => {
    const data = { a: [{ seqs: new Uint32Array([1, 4294967295]), tfs: new Uint16Array([3]) }], codes: new Int8Array([-127, 0, 127]), f: new Float32Array([0.5, -1e-7]), b: new Uint8Array([9]), s: 'Ünï\u0000', n: null }
    const back = decodeRecords(await gunzip(await gzip(encodeRecords(data)))) as typeof data
    expect(back.a[0]!.seqs).toEqual(new Uint32Array([1, 4294967295]))
    expect(back.a[0]!.tfs).toBeInstanceOf(Uint16Array)
    expect(back.codes).toEqual(new Int8Array([-127, 0, 127]))
    expect(Array.from(back.f)).toEqual([0.5, Math.fround(-1e-7)])
    expect(back.b).toEqual(new Uint8Array([9]))
    expect(back.s).toBe('Ünï\u0000')
  })

  it('refuses damaged bytes with SNAPSHOT_INVALID', async () => {
    const bytes = encodeRecords({ x: new Uint32Array([1, 2, 3]) })
    const wrongMagic = bytes.slice()
    wrongMagic[0] = 0
    expect(() => decodeRecords(wrongMagic)).toThrowError(expect.objectContaining({ code: 'SNAPSHOT_INVALID' }))
    expect(() => decodeRecords(bytes.slice(0, bytes.length - 4))).toThrowError(/past the end/)
    const packed = await gzip(bytes)
    expect(await codeOf(gunzip(packed.slice(0, packed.length - 10)))).toBe('SNAPSHOT_INVALID')
  })

  it('hashes with SHA-256', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })
})

describe('writeSnapshot', () => {
  it('is deterministic: the same documents give the same hash and bytes, one changed word another hash', async () => {
    const docs = corpus(20)
    const a = await snapshotOf(docs)
    const b = await snapshotOf(docs)
    expect(b.manifest.hash).toBe(a.manifest.hash)
    expect(b.files.map((f) => f.path)).toEqual(a.files.map((f) => f.path))
    const changed = docs.map((d, i) => (i === 5 ? { ...d, text: d.text + ' changed' } : d))
    expect((await snapshotOf(changed)).manifest.hash).not.toBe(a.manifest.hash)
  })

  it('splits into shards near the target size, content-addressed, and describes them in a manifest parseManifest accepts', async () => {
    const { manifest, files } = await snapshotOf(corpus(60), hashingEmbedder(), 4096)
    const kinds = new Set(manifest.shards.map((s) => s.kind))
    expect([...kinds].sort()).toEqual(['documents', 'postings', 'segments', 'vectors'])
    expect(manifest.shards.filter((s) => s.kind === 'documents').length).toBeGreaterThan(3)
    for (const [i, s] of manifest.shards.entries()) {
      expect(s.bytes).toBe(files[i]!.bytes.length)
      expect(s.sha256).toBe(await sha256Hex(files[i]!.bytes))
      expect(s.file).toContain(s.sha256.slice(0, 12))
    }
    expect(manifest.collection).toMatchObject({ documents: 60, vectorSource: 'embedder', dims: 32, embedder: { model: 'hashing-embedder', dims: 32 } })
    expect(parseManifest(JSON.parse(JSON.stringify(manifest)), supported).hash).toBe(manifest.hash)
    expect(manifest.hash).toBe(await sha256Hex(new TextEncoder().encode(hashInput(manifest))))
  })
})

describe('import', () => {
  it('gives a store whose keyword and vector searches answer exactly like the collection it was built from', async () => {
    const embedder = hashingEmbedder()
    const { backend, manifest, files } = await snapshotOf(corpus(50), embedder)
    const { target, progress } = await imported(manifest, files)
    expect(progress.at(-1)).toBe(manifest.bytes)
    expect(progress.length).toBe(manifest.shards.length + 1)
    const original = await engineOver(await backend.open('built'), embedder)
    const copy = await engineOver(target, embedder)
    expect(copy.info()).toMatchObject({ documents: 50, chunks: original.info().chunks, dims: 32, embedder: 'hashing-embedder' })
    for (const query of ['snapshot shard', 'unique17', 'anchor manifest offline', 'Ünïcode 3']) {
      const a = await searchCollection(original, { query, mode: 'keyword', k: 10 }, none)
      const b = await searchCollection(copy, { query, mode: 'keyword', k: 10 }, none)
      expect(b.hits.map((h) => [h.chunkId, h.firstStageScore, h.section, h.snippet.text])).toEqual(a.hits.map((h) => [h.chunkId, h.firstStageScore, h.section, h.snippet.text]))
      expect(b.hits.length).toBeGreaterThan(0)
      // Vectors travel as int8: the same passages, cosines within quantization error.
      const va = await searchCollection(original, { query, mode: 'vector', k: 5 }, none)
      const vb = await searchCollection(copy, { query, mode: 'vector', k: 5 }, none)
      expect(vb.hits.map((h) => h.chunkId).slice(0, 3)).toEqual(va.hits.map((h) => h.chunkId).slice(0, 3))
      vb.hits.forEach((h, i) => expect(Math.abs(h.firstStageScore - va.hits[i]!.firstStageScore)).toBeLessThan(2e-2))
    }
    const [doc] = await copy.get('page-4.html#s1').then((d) => [d])
    expect(doc).toMatchObject({ title: 'Section 4', metadata: { url: 'page-4.html', anchor: 's1', path: ['Page', 'S4'] } })
  })

  it('refuses a shard whose bytes differ from the manifest (SHA-256), naming the file', async () => {
    const { manifest, files } = await snapshotOf(corpus(20))
    const damaged = files.map((f, i) => (i === 2 ? { ...f, bytes: Uint8Array.from(f.bytes, (b, j) => (j === 40 ? b ^ 1 : b)) } : f))
    const error = await imported(manifest, damaged).catch((e) => e)
    expect(error).toMatchObject({ code: 'SNAPSHOT_INVALID', details: { reason: 'corrupt', file: manifest.shards[2]!.file } })
  })

  it('refuses a missing shard (HTTP 404) and a manifest whose counts disagree with the shards', async () => {
    const { manifest, files } = await snapshotOf(corpus(20))
    expect(await imported(manifest, files.slice(1)).catch((e) => e.details)).toMatchObject({ reason: 'http', status: 404 })
    const lying = { ...manifest, collection: { ...manifest.collection, documents: 21 } }
    expect(await imported(lying, files).catch((e) => e.code)).toBe('SNAPSHOT_INVALID')
  })
})

describe('fetchManifest / parseManifest', () => {
  it('sorts failures into reasons: network, http, format (HTML fallback pages included), incompatible, edited', async () => {
    const { manifest, files } = await snapshotOf(corpus(5), null)
    const server = snapshotServer(BASE)
    server.publish(manifest, files)
    const url = BASE + 'manifest.json'
    await expect(fetchManifest(url, { fetch: server.fetch })).resolves.toMatchObject({ hash: manifest.hash })
    const reason = (p: Promise<unknown>) => p.then(() => 'resolved', (e) => `${e.code}/${e.details.reason}`)
    expect(await reason(fetchManifest(BASE + 'missing.json', { fetch: server.fetch }))).toBe('SNAPSHOT_INVALID/http')
    server.files.set(url, new TextEncoder().encode('<!doctype html><title>app</title>'))
    const html = await fetchManifest(url, { fetch: server.fetch }).catch((e) => e)
    expect(html.details.reason).toBe('format')
    expect(html.message).toMatch(/HTML page/)
    server.files.set(url, new TextEncoder().encode(JSON.stringify({ ...manifest, version: SNAPSHOT_VERSION + 1 })))
    expect(await reason(fetchManifest(url, { fetch: server.fetch }))).toBe('SNAPSHOT_INVALID/incompatible')
    server.files.set(url, new TextEncoder().encode(JSON.stringify({ ...manifest, collection: { ...manifest.collection, documents: 99 } })))
    expect(await fetchManifest(url, { fetch: server.fetch }).catch((e) => e.message)).toMatch(/edited after it was built/)
    server.setOffline(true)
    expect(await reason(fetchManifest(url, { fetch: server.fetch }))).toBe('SNAPSHOT_INVALID/network')
  })

  it('rejects shard paths that escape the snapshot folder', async () => {
    const { manifest } = await snapshotOf(corpus(5), null)
    for (const file of ['../secret.bin', 'https://evil.example/x.bin', '//evil.example/x.bin', 'a/../../b.bin']) {
      const bad = { ...manifest, shards: manifest.shards.map((s, i) => (i === 0 ? { ...s, file } : s)) }
      expect(() => parseManifest(bad, supported)).toThrowError(/relative path/)
    }
  })
})
