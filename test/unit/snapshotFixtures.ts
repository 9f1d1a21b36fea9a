import { CollectionEngine } from '../../src/collection/engine.js'
import type { EmbedderPort } from '../../src/models/embedderPort.js'
import { createCoordination } from '../../src/store/coordination.js'
import { MemoryBackend } from '../../src/store/memory.js'
import type { CollectionStore } from '../../src/store/types.js'
import type { SnapshotFile } from '../../src/snapshot/write.js'
import type { SnapshotManifest } from '../../src/snapshot/format.js'
import type { DocumentInput } from '../../src/types.js'
import { seeded } from './helpers.js'

const none = async () => {}

/** A deterministic bag-of-words embedder: each word adds a seeded random direction; unit length. */
export function hashingEmbedder(dims = 32, model = 'hashing-embedder'): EmbedderPort {
  const cache = new Map<string, Float32Array>()
  const wordVector = (w: string) => {
    let v = cache.get(w)
    if (!v) {
      let h = 2166136261
      for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619)
      const rand = seeded(h >>> 0)
      v = Float32Array.from({ length: dims }, () => rand() * 2 - 1)
      cache.set(w, v)
    }
    return v
  }
  return {
    model,
    dims,
    maxTokens: 510,
    countWordTokens: () => 1,
    async embed(texts, checkpoint, onBatch) {
      const out = new Float32Array(texts.length * dims)
      texts.forEach((t, i) => {
        const row = out.subarray(i * dims, (i + 1) * dims)
        for (const w of t.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
          const v = wordVector(w)
          for (let d = 0; d < dims; d++) row[d]! += v[d]!
        }
        let norm = Math.hypot(...row) || 1
        for (let d = 0; d < dims; d++) row[d]! /= norm
      })
      await checkpoint()
      onBatch?.(texts.length)
      return out
    },
  }
}

/** Documents with sections, shared words and rare words (so keyword and vector rankings differ). */
export function corpus(n: number, seed = 7): DocumentInput[] {
  const rand = seeded(seed)
  const words = ['index', 'snapshot', 'worker', 'vector', 'rerank', 'offline', 'cache', 'shard', 'anchor', 'manifest', 'query', 'token', 'batch', 'model', 'search']
  const pick = () => words[Math.floor(rand() * words.length)]!
  return Array.from({ length: n }, (_, i) => {
    const body = Array.from({ length: 30 + Math.floor(rand() * 60) }, () => pick()).join(' ')
    return {
      id: `page-${i}.html#s${i % 3}`,
      title: `Section ${i}`,
      text: `# Page ${i}\n\n${body} unique${i}.\n\n## Details\n\n${body.split(' ').reverse().join(' ')} Ünïcode ${i}.`,
      metadata: { url: `page-${i}.html`, anchor: `s${i % 3}`, page: `Page ${i}`, path: ['Page', `S${i}`] },
    }
  })
}

/** Builds a collection in memory with the engine (as the CLI does) and returns its backend. */
export async function buildCollection(docs: DocumentInput[], embedder: EmbedderPort | null): Promise<MemoryBackend> {
  const backend = new MemoryBackend()
  const coordination = createCoordination({})
  const engine = await CollectionEngine.open('built', { store: await backend.open('built'), coordination, embedder }, { chunking: { maxTokens: 48 } })
  await engine.add(docs, none)
  await engine.idle()
  engine.close()
  coordination.close()
  return backend
}

/** Opens an engine over a store (the browser's view of an imported snapshot). */
export async function engineOver(store: CollectionStore, embedder: EmbedderPort | null): Promise<CollectionEngine> {
  return CollectionEngine.open('view', { store, coordination: createCoordination({}), embedder }, {})
}

/** A fetch that serves a snapshot's files from memory under `base`, with hooks to break it. */
export function snapshotServer(base: string) {
  const files = new Map<string, Uint8Array>()
  const log: string[] = []
  let offline = false
  let gate: Promise<void> | null = null
  const server = {
    log,
    files,
    publish(manifest: SnapshotManifest, shardFiles: SnapshotFile[]) {
      for (const f of shardFiles) files.set(new URL(f.path, base).href, f.bytes)
      files.set(new URL('manifest.json', base).href, new TextEncoder().encode(JSON.stringify(manifest)))
    },
    setOffline(value: boolean) {
      offline = value
    },
    /** Holds every shard response until the returned function is called. */
    hold(): () => void {
      let release!: () => void
      gate = new Promise((r) => (release = r))
      return () => {
        gate = null
        release()
      }
    },
    /** Range requests (`bytes=a-b`) answered 206 unless `ignoreRange`; each logged as `url#a-b`. */
    ignoreRange: false,
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input)
      const range = /^bytes=(\d+)-(\d+)$/.exec(new Headers(init?.headers).get('Range') ?? '')
      log.push(range && !server.ignoreRange ? `${url}#${range[1]}-${range[2]}` : url)
      if (offline) throw new TypeError('Failed to fetch')
      if (gate && !url.endsWith('manifest.json')) await gate
      const body = files.get(url)
      if (!body) return new Response('not found', { status: 404 })
      if (range && !server.ignoreRange) {
        const [from, to] = [Number(range[1]), Math.min(Number(range[2]), body.length - 1)]
        return new Response(body.slice(from, to + 1), { status: 206, headers: { 'Content-Range': `bytes ${from}-${to}/${body.length}` } })
      }
      return new Response(body.slice(), { status: 200 })
    }) as typeof fetch,
  }
  return server
}
