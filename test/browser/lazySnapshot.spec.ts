import { expect, test, type BrowserContext, type Page } from '@playwright/test'
import { buildSnapshot } from '../../dist/cli/buildSnapshot.js'
import { HARNESS } from './helpers'

// Snapshot format 2 in real Chromium: shards fetched as queries need them, cached in IndexedDB,
// served offline on a later visit; a broken shard fails one query only; 'all' downloads everything.

type Files = Map<string, Uint8Array>

function docs(n: number, tag: string) {
  return Array.from({ length: n }, (_, i) => ({
    id: `page-${i}.html#s`,
    title: `Section ${i}`,
    text: `# Page ${i}\n\nThe ${tag} edition explains item${i} and the shared topic of caching shards offline. ${'More words about indexes and word${i % 13}. '.repeat(3 + (i % 7))}`,
    metadata: { url: `page-${i}.html`, anchor: 's' },
  }))
}

async function build(n: number, tag: string): Promise<{ hash: string; files: Files; total: number }> {
  const { manifest, files } = await buildSnapshot(docs(n, tag), { embedder: null, format: 2, lazy: { postingsBytes: 4096, documentBytes: 4096 } })
  expect(manifest.version).toBe(2)
  const out: Files = new Map(files.map((f: { path: string; bytes: Uint8Array }) => [f.path, f.bytes]))
  out.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)))
  return { hash: manifest.hash, files: out, total: [...out.values()].reduce((n, b) => n + b.length, 0) }
}

interface Served {
  files: Files
  offline: boolean
  /** Paths and sizes of what was served (cleared by tests); `all`: every path served. */
  log: { path: string; bytes: number }[]
  all?: string[]
}

async function serve(context: BrowserContext, state: Served) {
  await context.route('**/snap/**', async (route) => {
    if (state.offline) return route.abort('internetdisconnected')
    const path = new URL(route.request().url()).pathname.replace(/^\/snap\//, '')
    const body = state.files.get(path)
    if (!body) return route.fulfill({ status: 404, body: 'missing' })
    state.log.push({ path, bytes: body.length })
    state.all?.push(path)
    await route.fulfill({ status: 200, body: Buffer.from(body), headers: { 'content-type': path.endsWith('.json') ? 'application/json' : 'application/octet-stream' } })
  })
}

async function open(page: Page, fetchMode?: string) {
  await page.goto(HARNESS)
  await page.waitForFunction(() => (window as any).harnessReady === true)
  return page.evaluate(async (fetchMode) => {
    const { createWinnow } = (window as any).winnowApi
    const w = await createWinnow({ reranker: false })
    const events: any[] = []
    const docs = await w.collection('docs', { snapshot: '/snap/manifest.json', ...(fetchMode ? { snapshotFetch: fetchMode } : {}), onSnapshotProgress: (p: unknown) => events.push(p) })
    ;(window as any).docs = docs
    ;(window as any).snapEvents = events
    return { info: await docs.info(), events: [...events] }
  }, fetchMode)
}

const find = (page: Page, q: string) =>
  page.evaluate(async (q) => {
    try {
      return ((await (window as any).docs.search(q, { mode: "keyword", k: 5 })) as { id: string; text: string }[]).map((h) => `${h.id} ${h.text.includes(q)}`)
    } catch (e: any) {
      return `${e.code}/${e.details?.reason}`
    }
  }, q)
/** The shards a query fetches after opening, seen from a fresh profile. */
async function shardsOf(context: BrowserContext, files: Files, query: string): Promise<string[]> {
  const probe = await context.browser()!.newContext()
  const state: Served = { files, offline: false, log: [] }
  await serve(probe, state)
  const page = await probe.newPage()
  await open(page)
  state.log.length = 0
  await find(page, query)
  await probe.close()
  return state.log.map((l) => l.path)
}

const databases = (page: Page) => page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name!).filter((n) => n.startsWith('winnow-snapshot:')).sort())
const kinds = (log: Served['log']) => [...new Set(log.map((l) => /^shards\/([a-z-]+?)-\d{4}-/.exec(l.path)?.[1] ?? l.path))].sort()

test('a format-2 snapshot opens with its tables and indexes, fetches per query only what it needs, and answers offline from its cache', async ({ context, page }) => {
  const v = await build(600, 'first')
  const state: Served = { files: v.files, offline: false, log: [], all: [] }
  await serve(context, state)

  const first = await open(page)
  expect(first.info).toMatchObject({ documents: 600, snapshot: { version: v.hash } })
  expect(first.events.at(-1)).toMatchObject({ phase: 'done', outcome: 'imported' })
  expect(kinds(state.log)).toEqual(['index-documents', 'index-postings', 'manifest.json', 'segments'])
  expect(await databases(page)).toEqual([`winnow-snapshot:docs:${v.hash.slice(0, 16)}.shards`])

  state.log.length = 0
  expect(await find(page, 'item7')).toEqual(['page-7.html#s true'])
  expect(kinds(state.log)).toEqual(['documents', 'postings'])
  // Titles come with the texts (the segment tables leave them out).
  expect(await page.evaluate(async () => (await (window as any).docs.search('item8', { mode: 'keyword', k: 1 }))[0].title)).toBe('Section 8')
  const firstQuery = state.log.reduce((n, l) => n + l.bytes, 0)
  expect(firstQuery).toBeLessThan(v.total / 4)
  state.log.length = 0
  expect(await find(page, 'item7')).toEqual(['page-7.html#s true'])
  expect(state.log).toEqual([])
  expect(await find(page, 'item450')).toEqual(['page-450.html#s true'])

  // A later visit, offline: the stored version and the shards it fetched answer; a shard never
  // fetched is a typed network error for that query only.
  state.offline = true
  const later = await open(page)
  expect(later.info).toMatchObject({ documents: 600, snapshot: { version: v.hash } })
  expect(await find(page, 'item7')).toEqual(['page-7.html#s true'])
  expect(await find(page, 'item450')).toEqual(['page-450.html#s true'])
  // item299 needs shards this profile may not have fetched: a probe profile says which.
  const fetched = new Set(state.all)
  const needed = await shardsOf(context, v.files, 'item299')
  expect(await find(page, 'item299')).toEqual(needed.every((p) => fetched.has(p)) ? ['page-299.html#s true'] : 'SNAPSHOT_INVALID/network')
  state.offline = false
  expect(await find(page, 'item299')).toEqual(['page-299.html#s true'])
})

test('a shard that 404s or fails its hash fails that query with a typed error; other queries answer; the next query retries', async ({ context, page }) => {
  const v = await build(600, 'first')
  const state: Served = { files: new Map(v.files), offline: false, log: [] }
  await serve(context, state)
  await open(page)
  const postings = (await shardsOf(context, v.files, 'item123')).find((p) => p.startsWith('shards/postings-'))!

  const good = state.files.get(postings)!
  state.files.delete(postings)
  expect(await find(page, 'item123')).toBe('SNAPSHOT_INVALID/http')
  const bad = good.slice()
  bad[bad.length >> 1]! ^= 0xff
  state.files.set(postings, bad)
  expect(await find(page, 'item123')).toBe('SNAPSHOT_INVALID/corrupt')
  state.files.set(postings, good.slice(0, good.length - 7))
  expect(await find(page, 'item123')).toBe('SNAPSHOT_INVALID/corrupt')
  const elsewhere = (await find(page, 'offline')) as string[] // in another postings shard than item123
  expect(elsewhere.length).toBe(5)
  state.files.set(postings, good)
  expect(await find(page, 'item123')).toEqual(['page-123.html#s true'])
})

test("snapshotFetch 'all' downloads every shard with progress before opening; every query then answers offline; a new version swaps in and the old cache goes", async ({ context, page }) => {
  const v = await build(300, 'first')
  const state: Served = { files: v.files, offline: false, log: [] }
  await serve(context, state)
  const opened = await open(page, 'all')
  expect(opened.info).toMatchObject({ documents: 300 })
  const importing = opened.events.filter((e: any) => e.phase === 'importing')
  expect(importing.at(-1).loaded).toBe(importing.at(-1).total)
  expect(state.log.reduce((n, l) => n + l.bytes, 0)).toBe(v.total)
  state.offline = true
  await open(page)
  for (const i of [0, 77, 150, 299]) expect(await find(page, `item${i}`)).toEqual([`page-${i}.html#s true`])

  state.offline = false
  const next = await build(320, 'second')
  state.files = next.files
  await open(page)
  await page.waitForFunction(() => ((window as any).snapEvents as any[]).some((e) => e.phase === 'done' && e.outcome === 'imported'))
  await expect.poll(() => page.evaluate(async () => (await (window as any).docs.info()).documents)).toBe(320)
  expect(await find(page, 'item310')).toEqual(['page-310.html#s true'])
  await expect.poll(() => databases(page)).toEqual([`winnow-snapshot:docs:${next.hash.slice(0, 16)}.shards`])
})

test("snapshotFetch 'prefetch' opens as 'lazy' does, then downloads the rest in the background; every query then answers offline", async ({ context, page }) => {
  const v = await build(300, 'first')
  const state: Served = { files: v.files, offline: false, log: [], all: [] }
  await serve(context, state)
  const opened = await open(page, 'prefetch')
  expect(opened.info).toMatchObject({ documents: 300 })
  // The whole snapshot arrives without a query asking for it.
  await expect.poll(() => new Set(state.all).size, { timeout: 20_000 }).toBe(v.files.size)
  state.offline = true
  await open(page)
  for (const i of [3, 99, 187, 299]) expect(await find(page, `item${i}`)).toEqual([`page-${i}.html#s true`])
})

test('another tab follows a format-2 swap: the old version and its cache go, and its queries answer from the new one', async ({ context, page }) => {
  const first = await build(200, 'first')
  const second = await build(240, 'second')
  const state: Served = { files: first.files, offline: false, log: [] }
  await serve(context, state)
  await open(page)
  const other = await context.newPage()
  await open(other)
  expect(await find(other, 'item150')).toEqual(['page-150.html#s true'])

  state.files = second.files
  expect(await page.evaluate(() => (window as any).docs.syncSnapshot())).toBe('imported')
  // The other tab had the old version open: it follows the pointer, whether by the announcement or
  // by finding the old cache deleted under a query.
  await expect.poll(() => other.evaluate(async () => (await (window as any).docs.info()).documents)).toBe(240)
  expect(await find(other, 'item230')).toEqual(['page-230.html#s true'])
  expect(await find(other, 'item150')).toEqual(['page-150.html#s true'])
  await expect.poll(() => databases(other)).toEqual([`winnow-snapshot:docs:${second.hash.slice(0, 16)}.shards`])
})

test("snapshotFetch 'all' over the storage quota rejects STORAGE_FULL and adopts nothing; a lazy open afterwards works", async ({ context, page }) => {
  const v = await build(1500, 'first')
  const state: Served = { files: v.files, offline: false, log: [] }
  await serve(context, state)
  await page.goto(HARNESS)
  await page.waitForFunction(() => (window as any).harnessReady === true)
  // Shards are gzip: IndexedDB cannot squeeze them under a quota a third of their size.
  const origin = new URL(page.url()).origin
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0)
  const cdp = await context.newCDPSession(page)
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + Math.round(v.total / 3) })
  const refused = await page.evaluate(async () => {
    const w = await (window as any).winnowApi.createWinnow({ reranker: false })
    const error = await w.collection('docs', { snapshot: '/snap/manifest.json', snapshotFetch: 'all' }).then(() => null, (e: any) => `${e.code}`)
    const list = await w.listCollections()
    await w.dispose()
    return { error, list }
  })
  expect(refused).toEqual({ error: 'STORAGE_FULL', list: [] })
  expect(await databases(page)).toEqual([])
  await cdp.send('Storage.overrideQuotaForOrigin', { origin })
  const opened = await open(page)
  expect(opened.info).toMatchObject({ documents: 1500, snapshot: { version: v.hash } })
  expect(await find(page, 'item1234')).toEqual(['page-1234.html#s true'])
})

test("snapshotFetch 'all' on a later visit completes a version a lazy visit adopted, in the background", async ({ context, page }) => {
  const v = await build(300, 'first')
  const state: Served = { files: v.files, offline: false, log: [], all: [] }
  await serve(context, state)
  await open(page)
  expect(new Set(state.all).size).toBeLessThan(v.files.size)
  await open(page, 'all')
  await expect.poll(() => new Set(state.all).size, { timeout: 20_000 }).toBe(v.files.size)
  state.offline = true
  await open(page)
  for (const i of [5, 150, 288]) expect(await find(page, `item${i}`)).toEqual([`page-${i}.html#s true`])
})
