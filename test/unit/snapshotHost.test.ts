import { afterEach, describe, expect, it } from 'vitest'
import { writeSnapshot } from '../../src/snapshot/write.js'
import { MemoryBackend } from '../../src/store/memory.js'
import { MemorySnapshotStorage, versionKey } from '../../src/store/snapshots.js'
import type { DocumentInput, SnapshotProgress } from '../../src/types.js'
import { workerHost, type WorkerHost } from './workerHost.js'
import { codeOf } from './helpers.js'
import { buildCollection, corpus, snapshotServer } from './snapshotFixtures.js'

const BASE = 'https://docs.example/idx/'
const URL_ = BASE + 'manifest.json'
const hosts: WorkerHost[] = []

/** One worker (a tab), through its RPC surface. */
function host(storage: MemorySnapshotStorage, fetch: typeof globalThis.fetch, backend = new MemoryBackend()): WorkerHost {
  const h = workerHost({ backend, snapshots: storage, fetch })
  hosts.push(h)
  return h
}

afterEach(() => {
  for (const h of hosts.splice(0)) h.closeAll()
})

async function version(docs: DocumentInput[]) {
  const backend = await buildCollection(docs, null)
  return writeSnapshot(backend.dump('built'), { embedder: null, shardBytes: 4096 })
}

const ids = async (h: WorkerHost, query: string) => (await h.search(1, 'docs', query, { mode: 'keyword', k: 50, rerank: false })).hits.map((x) => x.id)

function until(events: SnapshotProgress[], outcome: string): Promise<SnapshotProgress> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const poll = () => {
      const hit = events.find((e) => e.phase === 'done' && e.outcome === outcome)
      if (hit) return resolve(hit)
      if (Date.now() - started > 5000) return reject(new Error(`no '${outcome}' event in ${JSON.stringify(events.map((e) => e.outcome ?? e.phase))}`))
      setTimeout(poll, 5)
    }
    poll()
  })
}

describe('snapshot collections in the worker host', () => {
  it('imports on the first visit, serves read-only, and skips an unchanged snapshot later', async () => {
    const v1 = await version(corpus(30))
    const server = snapshotServer(BASE)
    server.publish(v1.manifest, v1.files)
    const storage = new MemorySnapshotStorage()
    const events: SnapshotProgress[] = []
    const first = host(storage, server.fetch)
    const info = await first.open('docs', { snapshot: URL_ }, (p) => events.push(p))
    expect(info).toMatchObject({ documents: 30, snapshot: { version: v1.manifest.hash, url: URL_ } })
    expect(events[0]).toMatchObject({ phase: 'checking', version: null })
    expect(events.filter((e) => e.phase === 'importing').at(-1)).toMatchObject({ loaded: v1.manifest.bytes, total: v1.manifest.bytes })
    expect(events.at(-1)).toMatchObject({ phase: 'done', outcome: 'imported', version: v1.manifest.hash })
    expect(await ids(first, 'unique7')).toEqual(['page-7.html#s1'])
    expect(await codeOf(first.add(2, 'docs', [{ id: 'x', text: 'y' }]))).toBe('READ_ONLY')
    expect(await codeOf(first.remove('docs', ['page-7.html#s1']))).toBe('READ_ONLY')
    expect(await codeOf(first.clear('docs'))).toBe('READ_ONLY')
    expect(await first.count('docs')).toBe(30)
    expect(await first.list()).toEqual(['docs'])

    // Second visit (a new worker): serves at once, checks in the background, fetches no shard.
    server.log.length = 0
    const later: SnapshotProgress[] = []
    const second = host(storage, server.fetch)
    expect((await second.open('docs', { snapshot: URL_ }, (p) => later.push(p))).snapshot?.version).toBe(v1.manifest.hash)
    await until(later, 'unchanged')
    expect(server.log).toEqual([URL_])
  })

  it('imports a changed snapshot beside the old one, which serves until the swap; then deletes the old version', async () => {
    const docsV1 = corpus(30)
    const v1 = await version(docsV1)
    const v2 = await version([...docsV1.slice(0, 25), { id: 'new.html#fresh', text: 'brand new section about zeppelins' }])
    const server = snapshotServer(BASE)
    server.publish(v1.manifest, v1.files)
    const storage = new MemorySnapshotStorage()
    await host(storage, server.fetch).open('docs', { snapshot: URL_ })

    server.publish(v2.manifest, v2.files)
    const release = server.hold()
    const events: SnapshotProgress[] = []
    const h = host(storage, server.fetch)
    await h.open('docs', { snapshot: URL_ }, (p) => events.push(p))
    // The import is stuck on its first shard: the old version answers, whole.
    await new Promise((r) => setTimeout(r, 30))
    expect(events.some((e) => e.phase === 'importing')).toBe(true)
    expect(await ids(h, 'zeppelins')).toEqual([])
    expect(await ids(h, 'unique28')).toEqual(['page-28.html#s1'])
    expect((await h.info('docs')).snapshot?.version).toBe(v1.manifest.hash)
    expect((await storage.listVersions('docs')).sort()).toEqual([versionKey(v1.manifest.hash), versionKey(v2.manifest.hash)].sort())
    release()
    await until(events, 'imported')
    expect(await ids(h, 'zeppelins')).toEqual(['new.html#fresh'])
    expect(await ids(h, 'unique28')).toEqual([])
    expect(await h.count('docs')).toBe(26)
    expect((await h.info('docs')).snapshot?.version).toBe(v2.manifest.hash)
    await new Promise((r) => setTimeout(r, 10))
    expect(await storage.listVersions('docs')).toEqual([versionKey(v2.manifest.hash)])
  })

  it('an old version left by a kill between the pointer move and its deletion is removed by the next unchanged open', async () => {
    const v1 = await version(corpus(10))
    const v2 = await version(corpus(12))
    const server = snapshotServer(BASE)
    server.publish(v1.manifest, v1.files)
    const storage = new MemorySnapshotStorage()
    await host(storage, server.fetch).open('docs', { snapshot: URL_ })
    // This tab moves the pointer to v2, then dies before the old version's deletion runs.
    const dying = Object.assign(Object.create(storage) as MemorySnapshotStorage, { destroyVersion: async () => {} })
    const killed = host(dying, server.fetch)
    server.publish(v2.manifest, v2.files)
    await killed.open('docs', {})
    expect(await killed.syncSnapshot(1, 'docs')).toBe('imported')
    expect((await storage.listVersions('docs')).sort()).toEqual([versionKey(v1.manifest.hash), versionKey(v2.manifest.hash)].sort())
    killed.closeAll()
    // The next visit finds the snapshot unchanged, and clears the leftover all the same.
    const next = host(storage, server.fetch)
    await next.open('docs', {})
    expect(await next.syncSnapshot(2, 'docs')).toBe('unchanged')
    expect(await storage.listVersions('docs')).toEqual([versionKey(v2.manifest.hash)])
    expect(await next.count('docs')).toBe(12)
  })

  it('keeps the old version when the new one is damaged or unreachable, and reports why', async () => {
    const v1 = await version(corpus(10))
    const v2 = await version(corpus(12))
    const server = snapshotServer(BASE)
    server.publish(v1.manifest, v1.files)
    const storage = new MemorySnapshotStorage()
    const events: SnapshotProgress[] = []
    const h = host(storage, server.fetch)
    await h.open('docs', { snapshot: URL_ }, (p) => events.push(p))

    server.publish(v2.manifest, v2.files.map((f, i) => (i === 1 ? { ...f, bytes: f.bytes.slice(0, -3) } : f)))
    const error = await h.syncSnapshot(3, 'docs').catch((e) => e)
    expect(error).toMatchObject({ code: 'SNAPSHOT_INVALID', details: { reason: 'corrupt' } })
    expect(events.at(-1)).toMatchObject({ phase: 'done', outcome: 'failed', version: v2.manifest.hash, error: { code: 'SNAPSHOT_INVALID' } })
    expect(await h.count('docs')).toBe(10)
    expect(await storage.listVersions('docs')).toEqual([versionKey(v1.manifest.hash)])

    server.setOffline(true)
    expect(await h.syncSnapshot(4, 'docs')).toBe('offline')
    expect(await h.count('docs')).toBe(10)

    // A worker started offline still opens the stored version.
    const offline = host(storage, server.fetch)
    expect((await offline.open('docs', { snapshot: URL_ })).documents).toBe(10)
  })

  it('rejects a first visit with SNAPSHOT_INVALID and leaves nothing behind; a later call can succeed', async () => {
    const v1 = await version(corpus(8))
    const server = snapshotServer(BASE)
    const storage = new MemorySnapshotStorage()
    const h = host(storage, server.fetch)
    expect(await h.open('docs', { snapshot: URL_ }).catch((e) => `${e.code}/${e.details.reason}`)).toBe('SNAPSHOT_INVALID/http')
    expect(await h.list()).toEqual([])
    expect(await storage.listVersions('docs')).toEqual([])
    server.publish(v1.manifest, v1.files)
    expect((await h.open('docs', { snapshot: URL_ })).documents).toBe(8)
  })

  it('refuses to hide a plain collection of the same name, relative URLs, and settings a snapshot fixes', async () => {
    const server = snapshotServer(BASE)
    const backend = new MemoryBackend()
    const h = host(new MemorySnapshotStorage(), server.fetch, backend)
    await h.open('notes', {})
    await h.add(1, 'notes', [{ id: 'a', text: 'mine' }])
    h.closeAll()
    const again = host(new MemorySnapshotStorage(), server.fetch, backend)
    expect(await again.open('notes', { snapshot: URL_ }).catch((e) => e.message)).toMatch(/holds documents added with add/)
    expect(await codeOf(again.open('other', { snapshot: 'idx/manifest.json' }))).toBe('INVALID_INPUT')
    expect(await codeOf(again.open('other', { snapshot: URL_, analyzer: false }))).toBe('INVALID_INPUT')
  })

  it('a second tab follows the pointer when the first imports a new version; deleteCollection removes every version', async () => {
    const v1 = await version(corpus(10))
    const v2 = await version(corpus(14))
    const server = snapshotServer(BASE)
    server.publish(v1.manifest, v1.files)
    const storage = new MemorySnapshotStorage()
    const a = host(storage, server.fetch)
    await a.open('docs', { snapshot: URL_ })
    const followed: SnapshotProgress[] = []
    const b = host(storage, server.fetch)
    await b.open('docs', {}, (p) => followed.push(p))
    expect(await b.count('docs')).toBe(10)
    server.publish(v2.manifest, v2.files)
    expect(await a.syncSnapshot(5, 'docs')).toBe('imported')
    await until(followed, 'imported')
    expect(await b.count('docs')).toBe(14)
    expect((await b.info('docs')).snapshot?.version).toBe(v2.manifest.hash)
    await a.destroy('docs')
    expect(await storage.listVersions('docs')).toEqual([])
    expect(await a.list()).toEqual([])
  })
})
