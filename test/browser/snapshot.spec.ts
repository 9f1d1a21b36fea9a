import { expect, test, type BrowserContext, type Page } from '@playwright/test'
import { buildSnapshot } from '../../dist/cli/buildSnapshot.js'
import { HARNESS } from './helpers'

// Snapshot import in real Chromium: IndexedDB versions, the pointer swap, damage, and two tabs.

type Files = Map<string, Uint8Array>

function docs(n: number, tag: string) {
  return Array.from({ length: n }, (_, i) => ({
    id: `page-${i}.html#s`,
    title: `Section ${i}`,
    text: `# Page ${i}\n\nThe ${tag} edition explains item${i} and the shared topic of caching shards offline. ${'More words about indexes. '.repeat(i % 7)}`,
    metadata: { url: `page-${i}.html`, anchor: 's' },
  }))
}

async function build(n: number, tag: string): Promise<{ hash: string; files: Files }> {
  const { manifest, files } = await buildSnapshot(docs(n, tag), { embedder: null, shardBytes: 8192 })
  const out: Files = new Map(files.map((f: { path: string; bytes: Uint8Array }) => [f.path, f.bytes]))
  out.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)))
  return { hash: manifest.hash, files: out }
}

/** Serves `current.files` under /snap/; shard responses wait while `held` is set. */
async function serve(context: BrowserContext, state: { files: Files; held: Promise<void> | null; shardRequests: number }) {
  await context.route('**/snap/**', async (route) => {
    const path = new URL(route.request().url()).pathname.replace(/^\/snap\//, '')
    if (path !== 'manifest.json') {
      state.shardRequests++
      if (state.held) await state.held
    }
    const body = state.files.get(path)
    if (!body) return route.fulfill({ status: 404, body: 'missing' })
    await route.fulfill({ status: 200, body: Buffer.from(body), headers: { 'content-type': path.endsWith('.json') ? 'application/json' : 'application/octet-stream', 'cross-origin-resource-policy': 'same-origin' } })
  })
}

async function open(page: Page, withSnapshot = true) {
  await page.goto(HARNESS)
  await page.waitForFunction(() => (window as any).harnessReady === true)
  return page.evaluate(async (withSnapshot) => {
    const { createWinnow } = (window as any).winnowApi
    const w = await createWinnow({ reranker: false })
    const events: unknown[] = []
    ;(window as any).snapEvents = events
    const docs = await w.collection('docs', withSnapshot ? { snapshot: '/snap/manifest.json', onSnapshotProgress: (p: unknown) => events.push(p) } : { onSnapshotProgress: (p: unknown) => events.push(p) })
    ;(window as any).docs = docs
    return { info: await docs.info(), events: [...events] as any[] }
  }, withSnapshot)
}

const count = (page: Page) => page.evaluate(() => (window as any).docs.count() as Promise<number>)
const find = (page: Page, q: string) => page.evaluate(async (q) => ((await (window as any).docs.search(q, { mode: 'keyword', k: 5 })) as { id: string }[]).map((h) => h.id), q)
const events = (page: Page) => page.evaluate(() => (window as any).snapEvents as any[])
const versions = (page: Page) => page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name!).filter((n) => n.startsWith('winnow-snapshot:')).sort())

async function waitForOutcome(page: Page, outcome: string) {
  await page.waitForFunction((o) => ((window as any).snapEvents as any[]).some((e) => e.phase === 'done' && e.outcome === o), outcome)
}

test('a changed snapshot imports beside the serving one, which answers until the atomic swap; the old version is deleted', async ({ context, page }) => {
  const v1 = await build(120, 'first')
  const v2 = await build(150, 'second')
  const state = { files: v1.files, held: null as Promise<void> | null, shardRequests: 0 }
  await serve(context, state)

  const first = await open(page)
  expect(first.info).toMatchObject({ documents: 120, snapshot: { version: v1.hash } })
  expect(first.events.at(-1)).toMatchObject({ phase: 'done', outcome: 'imported' })
  expect(await find(page, 'item7')).toEqual(['page-7.html#s'])

  // Unchanged: the next visit reads the manifest only.
  state.shardRequests = 0
  await open(page)
  await waitForOutcome(page, 'unchanged')
  expect(state.shardRequests).toBe(0)

  // Changed: served at once from v1 while v2's shards are held back.
  state.files = v2.files
  let release!: () => void
  state.held = new Promise((r) => (release = r))
  const second = await open(page)
  expect(second.info.snapshot.version).toBe(v1.hash)
  await page.waitForFunction(() => ((window as any).snapEvents as any[]).some((e) => e.phase === 'importing'))
  expect(await count(page)).toBe(120)
  expect(await find(page, 'item130')).toEqual([])
  expect(await find(page, 'first')).toHaveLength(5)
  expect(await versions(page)).toHaveLength(2)
  release()
  state.held = null
  await waitForOutcome(page, 'imported')
  expect(await count(page)).toBe(150)
  expect(await find(page, 'item130')).toEqual(['page-130.html#s'])
  expect(await find(page, 'first')).toEqual([])
  await expect.poll(() => versions(page)).toEqual([`winnow-snapshot:docs:${v2.hash.slice(0, 16)}`])
})

test('a damaged snapshot is SNAPSHOT_INVALID and the imported version keeps serving; a first visit to one rejects', async ({ context, page }) => {
  const v1 = await build(60, 'first')
  const v2 = await build(70, 'second')
  const damaged: Files = new Map(v2.files)
  const shard = [...damaged.keys()].find((k) => k.startsWith('shards/documents'))!
  damaged.set(shard, damaged.get(shard)!.map((b, i) => (i === 50 ? b ^ 0xff : b)))
  const state = { files: damaged, held: null as Promise<void> | null, shardRequests: 0 }
  await serve(context, state)

  const rejected = await page
    .goto(HARNESS)
    .then(() => page.waitForFunction(() => (window as any).harnessReady === true))
    .then(() =>
      page.evaluate(async () => {
        const w = await (window as any).winnowApi.createWinnow({ reranker: false })
        try {
          await w.collection('docs', { snapshot: '/snap/manifest.json' })
          return 'resolved'
        } catch (e: any) {
          return { code: e.code, reason: e.details.reason, collections: await w.listCollections() }
        }
      }),
    )
  expect(rejected).toEqual({ code: 'SNAPSHOT_INVALID', reason: 'corrupt', collections: [] })
  expect(await versions(page)).toEqual([])

  state.files = v1.files
  await open(page)
  expect(await count(page)).toBe(60)
  state.files = damaged
  const after = await open(page)
  expect(after.info.snapshot.version).toBe(v1.hash)
  await waitForOutcome(page, 'failed')
  expect((await events(page)).at(-1)).toMatchObject({ outcome: 'failed', error: { code: 'SNAPSHOT_INVALID' } })
  expect(await count(page)).toBe(60)
  expect(await versions(page)).toEqual([`winnow-snapshot:docs:${v1.hash.slice(0, 16)}`])
  // Read-only, with its own code.
  expect(await page.evaluate(() => (window as any).docs.add([{ id: 'x', text: 'y' }]).then(() => 'resolved', (e: any) => e.code))).toBe('READ_ONLY')
})

test('another tab follows the swap: its searches move to the new version without errors', async ({ context, page }) => {
  const v1 = await build(40, 'first')
  const v2 = await build(45, 'second')
  const state = { files: v1.files, held: null as Promise<void> | null, shardRequests: 0 }
  await serve(context, state)
  await open(page)
  const other = await context.newPage()
  const opened = await open(other, false)
  expect(opened.info.snapshot.version).toBe(v1.hash)

  state.files = v2.files
  expect(await page.evaluate(() => (window as any).docs.syncSnapshot())).toBe('imported')
  await waitForOutcome(other, 'imported')
  expect(await count(other)).toBe(45)
  expect(await find(other, 'item42')).toEqual(['page-42.html#s'])
  await expect.poll(() => versions(other)).toEqual([`winnow-snapshot:docs:${v2.hash.slice(0, 16)}`])
})
