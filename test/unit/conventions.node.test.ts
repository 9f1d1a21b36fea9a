/**
 * Embedding conventions end to end in Node: the tiny random embedder fixture served under the ids
 * of real models (an e5 id, an unknown id whose folder carries a config_sentence_transformers.json),
 * a collection engine over the in-memory store, and the vectors compared with the embedder's own
 * output for the prefixed texts, computed separately.
 */
import { env } from '@huggingface/transformers'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WinnowError } from '../../src/errors.js'
import type { Pooling } from '../../src/models/embedder.js'
import { loadEmbedder, type LoadedEmbedder } from '../../src/models/loadEmbedder.js'
import { CollectionEngine } from '../../src/collection/engine.js'
import type { EmbedderPort } from '../../src/models/embedderPort.js'
import { hashInput, type SnapshotManifest } from '../../src/snapshot/format.js'
import { sha256Hex } from '../../src/snapshot/codec.js'
import { writeSnapshot } from '../../src/snapshot/write.js'
import { createCoordination } from '../../src/store/coordination.js'
import { MemoryBackend } from '../../src/store/memory.js'
import { MemorySnapshotStorage } from '../../src/store/snapshots.js'
import { fakeModels, workerHost, type WorkerHost } from './workerHost.js'
import { embedderPort } from '../../src/models/embedderPort.js'
import { SerialQueue } from '../../src/models/queue.js'
import { snapshotServer } from './snapshotFixtures.js'
import { searchCollection } from '../../src/search/searchCollection.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/models/', import.meta.url))
const TINY = 'tiny-random-embedder'
const E5 = 'intfloat/e5-small-v2'
const PROMPTED = 'my-org/prompted-embedder'
const MODELS = `${mkdtempSync(join(tmpdir(), 'winnow-conventions-'))}/`
// The fixture under an e5 id (a link), and under an unknown id with a sentence-transformers config
// naming nomic-style prompts (a folder of links plus that file).
mkdirSync(`${MODELS}intfloat`)
symlinkSync(`${FIXTURES}${TINY}`, `${MODELS}${E5}`, 'dir')
symlinkSync(`${FIXTURES}${TINY}`, `${MODELS}${TINY}`, 'dir')
mkdirSync(`${MODELS}${PROMPTED}`, { recursive: true })
for (const name of readdirSync(`${FIXTURES}${TINY}`)) symlinkSync(`${FIXTURES}${TINY}/${name}`, `${MODELS}${PROMPTED}/${name}`)
writeFileSync(
  `${MODELS}${PROMPTED}/config_sentence_transformers.json`,
  JSON.stringify({ prompts: { search_query: 'search_query: ', search_document: 'search_document: ' }, default_prompt_name: null }),
)
env.allowRemoteModels = false
env.allowLocalModels = true
env.localModelPath = MODELS

const readModelJson = async (model: string, path: string): Promise<unknown> => {
  const file = `${MODELS}${model}/${path}`
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined
}
const none = async () => {}
const DOC = 'the lazy dog sleeps in the warm afternoon sun'
const QUERY = 'where does the dog sleep'

const loaded: LoadedEmbedder[] = []
async function load(model: string, options: { queryPrefix?: string; documentPrefix?: string; pooling?: Pooling } = {}): Promise<LoadedEmbedder> {
  const l = await loadEmbedder({ model, dtype: 'fp32', device: 'cpu', readModelJson, ...options })
  loaded.push(l)
  return l
}
let plain: LoadedEmbedder
beforeAll(async () => {
  plain = await load(TINY)
})
afterAll(async () => {
  for (const l of loaded) await l.dispose()
})

/** The embedder's own unit vector for one text (no collection involved). */
async function vectorOf(text: string, pooling: Pooling = 'mean'): Promise<Float32Array> {
  return (await plain.embedder.embed([text], undefined, undefined, { pooling })).vectors
}
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0)
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i]!)))

function port(l: LoadedEmbedder, model: string): EmbedderPort {
  return embedderPort(l, model, new SerialQueue())
}

async function open(backend: MemoryBackend, embedder: EmbedderPort | null, name = 'docs'): Promise<CollectionEngine> {
  return CollectionEngine.open(name, { store: await backend.open(name), coordination: createCoordination({}), embedder }, { chunking: false })
}

/** The stored fp32 vector of the collection's only passage. */
function storedVector(backend: MemoryBackend, name = 'docs'): Float32Array {
  const { rows } = backend.dump(name)
  return rows[0]!.vectors.slice(0, plain.embedder.settings.dims)
}

async function vectorScore(engine: CollectionEngine, query = QUERY): Promise<number> {
  const { hits } = await searchCollection(engine, { query, mode: 'vector', k: 1, rerank: false }, none)
  return hits[0]!.scores.vector!
}

describe('embedding conventions in a collection (Node, tiny fixture under real ids)', () => {
  it('an e5 id embeds passages as "passage: …" and queries as "query: …", and records that', async () => {
    const e5 = await load(E5)
    expect(e5.conventions).toEqual({ queryPrefix: 'query: ', documentPrefix: 'passage: ', pooling: 'mean' })
    expect(e5.prefixSource).toBe('known model')
    const backend = new MemoryBackend()
    const engine = await open(backend, port(e5, E5))
    await engine.add([{ id: 'a', text: DOC }], none)
    const stored = storedVector(backend)
    expect(maxDiff(stored, await vectorOf(`passage: ${DOC}`))).toBeLessThan(1e-6)
    expect(maxDiff(stored, await vectorOf(DOC))).toBeGreaterThan(1e-3)
    const withPrefixes = dot(await vectorOf(`query: ${QUERY}`), await vectorOf(`passage: ${DOC}`))
    const without = dot(await vectorOf(QUERY), await vectorOf(DOC))
    expect(Math.abs(withPrefixes - without)).toBeGreaterThan(1e-3)
    expect(await vectorScore(engine)).toBeCloseTo(withPrefixes, 5)
    expect(engine.info().embedderConventions).toEqual({ queryPrefix: 'query: ', documentPrefix: 'passage: ', pooling: 'mean' })
    expect(backend.dump('docs').manifest.embedderConventions).toEqual({ queryPrefix: 'query: ', documentPrefix: 'passage: ', pooling: 'mean' })
    engine.close()
  })

  it('puts the prefix before the title and section lines: it is the first thing the model sees', async () => {
    const e5 = await load(E5)
    const backend = new MemoryBackend()
    const engine = await open(backend, port(e5, E5))
    await engine.add([{ id: 'a', title: 'Dogs', text: DOC }], none)
    expect(maxDiff(storedVector(backend), await vectorOf(`passage: Dogs\n${DOC}`))).toBeLessThan(1e-6)
    engine.close()
  })

  it('leaves room for the document prefix when sizing passages', async () => {
    const e5 = await load(E5)
    const p = port(e5, E5)
    const prefixTokens = e5.embedder.countTextTokens('passage: ')
    expect(prefixTokens).toBeGreaterThan(0)
    const engine = await CollectionEngine.open('docs', { store: await new MemoryBackend().open('docs'), coordination: createCoordination({}), embedder: p }, {})
    expect(engine.info().chunking?.maxTokens).toBe(Math.min(256, p.maxTokens - prefixTokens))
    const bare = await CollectionEngine.open('docs', { store: await new MemoryBackend().open('docs'), coordination: createCoordination({}), embedder: port(plain, TINY) }, {})
    expect(bare.info().chunking?.maxTokens).toBe(Math.min(256, p.maxTokens))
    expect(p.maxTokens - prefixTokens).toBeLessThan(256) // the fixture's 128 positions: the prefix changes the limit
    engine.close()
    bare.close()
  })

  it('a reopen without options embeds queries with the recorded prefixes and pooling', async () => {
    const custom = await load(TINY, { queryPrefix: 'find: ', documentPrefix: 'doc: ', pooling: 'cls' })
    const backend = new MemoryBackend()
    const first = await open(backend, port(custom, TINY))
    await first.add([{ id: 'a', text: DOC }], none)
    first.close()
    expect(maxDiff(storedVector(backend), await vectorOf(`doc: ${DOC}`, 'cls'))).toBeLessThan(1e-6)

    // This instance's own defaults are no prefixes and mean pooling; the collection's win.
    const reopened = await open(backend, port(plain, TINY))
    expect(reopened.info().embedderConventions).toEqual({ queryPrefix: 'find: ', documentPrefix: 'doc: ', pooling: 'cls' })
    const expected = dot(await vectorOf(`find: ${QUERY}`, 'cls'), await vectorOf(`doc: ${DOC}`, 'cls'))
    expect(Math.abs(expected - dot(await vectorOf(QUERY), await vectorOf(`doc: ${DOC}`, 'cls')))).toBeGreaterThan(1e-3)
    expect(await vectorScore(reopened)).toBeCloseTo(expected, 5)
    // A later add embeds like the first one.
    await reopened.add([{ id: 'b', text: 'a second passage about cats' }], none)
    const { hits } = await searchCollection(reopened, { query: 'a second passage about cats', mode: 'vector', k: 2, rerank: false }, none)
    const b = hits.find((h) => h.id === 'b')!
    expect(b.scores.vector).toBeCloseTo(dot(await vectorOf('find: a second passage about cats', 'cls'), await vectorOf('doc: a second passage about cats', 'cls')), 5)
    reopened.close()
  })

  it('a reopen with conflicting explicit options is INVALID_INPUT naming them; the same values are accepted', async () => {
    const custom = await load(TINY, { queryPrefix: 'find: ', documentPrefix: 'doc: ' })
    const backend = new MemoryBackend()
    const first = await open(backend, port(custom, TINY))
    await first.add([{ id: 'a', text: DOC }], none)
    first.close()
    const other = await load(TINY, { queryPrefix: 'query: ' })
    const error = await open(backend, port(other, TINY)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WinnowError)
    expect(error).toMatchObject({ code: 'INVALID_INPUT', details: { conflicts: ['queryPrefix'], stored: { queryPrefix: 'find: ', documentPrefix: 'doc: ', pooling: 'mean' } } })
    expect((error as Error).message).toContain('find: ')
    const cls = await load(TINY, { pooling: 'cls' })
    expect(await open(backend, port(cls, TINY)).catch((e: WinnowError) => e.details)).toMatchObject({ conflicts: ['pooling'] })
    const same = await open(backend, port(custom, TINY))
    expect(same.info().embedderConventions?.queryPrefix).toBe('find: ')
    same.close()
  })

  it('a collection written before conventions were recorded keeps embedding without prefixes', async () => {
    // The old code path: a port without conventions embeds raw texts and records nothing.
    const e5 = await load(E5)
    const old = port(e5, E5)
    const legacyPort: EmbedderPort = { ...old, conventions: undefined, explicit: undefined, canRepool: undefined }
    const backend = new MemoryBackend()
    const before = await open(backend, legacyPort)
    await before.add([{ id: 'a', text: DOC }], none)
    before.close()
    expect(backend.dump('docs').manifest.embedderConventions).toBeUndefined()
    expect(maxDiff(storedVector(backend), await vectorOf(DOC))).toBeLessThan(1e-6)

    // Reopened by this version with the e5 id: still no prefixes, for queries and new passages alike.
    const reopened = await open(backend, port(e5, E5))
    expect(reopened.info().embedderConventions).toBeNull()
    expect(await vectorScore(reopened)).toBeCloseTo(dot(await vectorOf(QUERY), await vectorOf(DOC)), 5)
    await reopened.add([{ id: 'b', text: 'cats chase mice' }], none)
    const { hits } = await searchCollection(reopened, { query: 'cats chase mice', mode: 'vector', k: 2, rerank: false }, none)
    expect(hits.find((h) => h.id === 'b')!.scores.vector).toBeCloseTo(1, 5) // the same text, unprefixed on both sides
    expect(backend.dump('docs').manifest.embedderConventions).toBeUndefined()
    reopened.close()

    // Explicit prefixes cannot apply to it.
    const explicit = await load(E5, { queryPrefix: 'query: ' })
    expect(await open(backend, port(explicit, E5)).catch((e: WinnowError) => [e.code, e.details.conflicts])).toEqual(['INVALID_INPUT', ['queryPrefix']])
    // Explicitly empty prefixes agree with it.
    const empty = await load(E5, { queryPrefix: '', documentPrefix: '' })
    ;(await open(backend, port(empty, E5))).close()
  })

  it('clear() forgets the conventions; the next embedded add records the instance’s', async () => {
    const custom = await load(TINY, { queryPrefix: 'find: ', documentPrefix: 'doc: ' })
    const backend = new MemoryBackend()
    const engine = await open(backend, port(custom, TINY))
    await engine.add([{ id: 'a', text: DOC }], none)
    await engine.clear()
    expect(engine.info().embedderConventions).toBeNull()
    await engine.add([{ id: 'a', text: DOC }], none)
    expect(engine.info().embedderConventions).toEqual({ queryPrefix: 'find: ', documentPrefix: 'doc: ', pooling: 'mean' })
    engine.close()
  })

  it('an unknown model takes its prefixes from config_sentence_transformers.json', async () => {
    const prompted = await load(PROMPTED)
    expect(prompted.prefixSource).toBe('model files')
    expect(prompted.conventions).toMatchObject({ queryPrefix: 'search_query: ', documentPrefix: 'search_document: ' })
    const backend = new MemoryBackend()
    const engine = await open(backend, port(prompted, PROMPTED))
    await engine.add([{ id: 'a', text: DOC }], none)
    expect(maxDiff(storedVector(backend), await vectorOf(`search_document: ${DOC}`))).toBeLessThan(1e-6)
    expect(await vectorScore(engine)).toBeCloseTo(dot(await vectorOf(`search_query: ${QUERY}`), await vectorOf(`search_document: ${DOC}`)), 5)
    engine.close()
    // Explicit options override the file, and '' means none.
    const overridden = await load(PROMPTED, { documentPrefix: '' })
    expect(overridden.conventions).toMatchObject({ queryPrefix: 'search_query: ', documentPrefix: '' })
    expect(overridden.prefixSource).toBe('options')
  })
})

describe('embedding conventions in snapshots', () => {
  const BASE = 'https://docs.example/idx/'

  async function build(l: LoadedEmbedder, model: string) {
    const backend = new MemoryBackend()
    const engine = await open(backend, port(l, model), 'built')
    await engine.add([{ id: 'a', text: DOC }, { id: 'b', text: 'cats chase mice in the barn' }], none)
    await engine.idle()
    engine.close()
    const s = l.embedder.settings
    return writeSnapshot(backend.dump('built'), { embedder: { model, dtype: 'fp32', dims: s.dims, pooling: s.pooling }, shardBytes: 4096 })
  }

  function host(l: LoadedEmbedder, model: string, fetch: typeof globalThis.fetch): WorkerHost {
    return workerHost({ backend: new MemoryBackend(), snapshots: new MemorySnapshotStorage(), fetch }, fakeModels({ loaded: l, model }))
  }

  it('the manifest carries the prefixes, and the browser side embeds queries with them', async () => {
    const e5 = await load(E5)
    const { manifest, files } = await build(e5, E5)
    expect(manifest.collection.embedder).toMatchObject({ model: E5, pooling: 'mean', queryPrefix: 'query: ', documentPrefix: 'passage: ' })
    const server = snapshotServer(BASE)
    server.publish(manifest, files)
    // The browser's instance names only the model: the conventions come from the snapshot.
    const h = host(await load(E5), E5, server.fetch)
    const info = await h.open('docs', { snapshot: BASE + 'manifest.json' })
    expect(info.embedderConventions).toEqual({ queryPrefix: 'query: ', documentPrefix: 'passage: ', pooling: 'mean' })
    const { hits } = await h.search(1, 'docs', QUERY, { mode: 'vector', k: 2, rerank: false })
    const a = hits.find((x) => x.id === 'a')!
    // Snapshot vectors travel as int8 (about 1e-3 off); the unprefixed query scores far from it.
    const expected = dot(await vectorOf(`query: ${QUERY}`), await vectorOf(`passage: ${DOC}`))
    expect(Math.abs(a.scores.vector! - expected)).toBeLessThan(3e-3)
    expect(Math.abs(a.scores.vector! - dot(await vectorOf(QUERY), await vectorOf(`passage: ${DOC}`)))).toBeGreaterThan(2e-2)
    h.closeAll()
  })

  it('a snapshot built before prefixes were recorded is searched without them', async () => {
    // What an older CLI wrote: vectors of the raw texts and an embedder entry without prefixes.
    const legacyPort: EmbedderPort = { ...port(plain, E5), conventions: undefined, explicit: undefined }
    const backend = new MemoryBackend()
    const engine = await open(backend, legacyPort, 'built')
    await engine.add([{ id: 'a', text: DOC }], none)
    engine.close()
    const { manifest, files } = await writeSnapshot(backend.dump('built'), { embedder: { model: E5, dtype: 'fp32', dims: 32, pooling: 'mean' }, shardBytes: 4096 })
    expect(manifest.collection.embedder).toEqual({ model: E5, dtype: 'fp32', dims: 32, pooling: 'mean' })
    const server = snapshotServer(BASE)
    server.publish(manifest, files)
    const h = host(await load(E5), E5, server.fetch)
    expect((await h.open('docs', { snapshot: BASE + 'manifest.json' })).embedderConventions).toBeNull()
    // 'dog' is a query whose e5-prefixed and raw embeddings score far apart against the passage.
    const { hits } = await h.search(1, 'docs', 'dog', { mode: 'vector', k: 1, rerank: false })
    const expected = dot(await vectorOf('dog'), await vectorOf(DOC))
    expect(Math.abs(hits[0]!.scores.vector! - expected)).toBeLessThan(3e-3) // int8 snapshot vectors
    expect(Math.abs(hits[0]!.scores.vector! - dot(await vectorOf('query: dog'), await vectorOf(DOC)))).toBeGreaterThan(5e-2)
    h.closeAll()
  })

  it('refuses a manifest whose prefixes are damaged', async () => {
    const e5 = await load(E5)
    const { manifest, files } = await build(e5, E5)
    const damaged = structuredClone(manifest) as SnapshotManifest
    ;(damaged.collection.embedder as unknown as Record<string, unknown>).queryPrefix = 42
    damaged.hash = await sha256Hex(new TextEncoder().encode(hashInput(damaged)))
    const server = snapshotServer(BASE)
    server.publish(damaged, files)
    const h = host(e5, E5, server.fetch)
    expect(await h.open('docs', { snapshot: BASE + 'manifest.json' }).catch((e: WinnowError) => [e.code, e.details.reason])).toEqual(['SNAPSHOT_INVALID', 'format'])
    h.closeAll()
  })
})
