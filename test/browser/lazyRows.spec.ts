import { expect, test, type BrowserContext, type Page } from '@playwright/test'
import { buildSnapshot } from '../../dist/cli/buildSnapshot.js'
import { HARNESS } from './helpers'
import { stubEmbedder, unitVector } from './stubEmbedder'

// A format-2 snapshot with vectors in real Chromium: rescoring reads its rows by HTTP Range (206), a
// row at a time, keeps them in IndexedDB (a later visit answers offline), copes with a server that
// ignores Range, and a damaged row fails that query only.

const DIMS = 16
const N = 600

const vectorOf = (i: number) => unitVector(i, DIMS)

async function build() {
  const embedder = stubEmbedder('test-rows-embedder', DIMS, /^p(\d+)/)
  const docs = Array.from({ length: N }, (_, i) => ({ id: `p${i}`, text: `p${i} passage about topic${i % 23}` }))
  const { manifest, files } = await buildSnapshot(docs, {
    embedder: { port: embedder as never, info: { model: embedder.model, dtype: 'fp32', dims: DIMS, pooling: 'mean' } },
    format: 2,
    chunking: false,
    vectorIndex: { minRows: 200 },
    lazy: { rowFileBytes: 100 * (DIMS * 2 + 8) },
  })
  const out = new Map<string, Uint8Array>(files.map((f: { path: string; bytes: Uint8Array }) => [f.path, f.bytes]))
  out.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)))
  return out
}

interface Served {
  files: Map<string, Uint8Array>
  offline: boolean
  ignoreRange: boolean
  log: { path: string; status: number; bytes: number; range: string | undefined }[]
}

async function serve(context: BrowserContext, state: Served) {
  await context.route('**/vsnap/**', async (route) => {
    if (state.offline) return route.abort('internetdisconnected')
    const path = new URL(route.request().url()).pathname.replace(/^\/vsnap\//, '')
    const body = state.files.get(path)
    if (!body) return route.fulfill({ status: 404, body: 'missing' })
    const range = route.request().headers()['range']
    const m = /^bytes=(\d+)-(\d+)$/.exec(range ?? '')
    if (m && !state.ignoreRange) {
      const [from, to] = [Number(m[1]), Math.min(Number(m[2]), body.length - 1)]
      state.log.push({ path, status: 206, bytes: to - from + 1, range })
      return route.fulfill({ status: 206, body: Buffer.from(body.subarray(from, to + 1)), headers: { 'content-range': `bytes ${from}-${to}/${body.length}`, 'content-type': 'application/octet-stream' } })
    }
    state.log.push({ path, status: 200, bytes: body.length, range })
    await route.fulfill({ status: 200, body: Buffer.from(body), headers: { 'content-type': path.endsWith('.json') ? 'application/json' : 'application/octet-stream' } })
  })
}

async function open(page: Page) {
  await page.goto(HARNESS)
  await page.waitForFunction(() => (window as any).harnessReady === true)
  await page.evaluate(async () => {
    const w = await (window as any).winnowApi.createWinnow({ reranker: false })
    ;(window as any).vdocs = await w.collection('vdocs', { snapshot: '/vsnap/manifest.json' })
  })
}

/** The best hit's id for passage `i`'s own vector, or the error's code/reason. */
const nearest = (page: Page, i: number) =>
  page.evaluate(
    async ({ vector }) => {
      try {
        const hits = await (window as any).vdocs.search('', { mode: 'vector', vector: new Float32Array(vector), k: 5 })
        return `${hits[0].id} ${hits[0].score.toFixed(4)}`
      } catch (e: any) {
        return `${e.code}/${e.details?.reason}`
      }
    },
    { vector: vectorOf(i) },
  )

const rowsLog = (log: Served['log']) => log.filter((l) => /^shards\/rows-\d{4}-/.test(l.path))

test('vector queries read their rows by HTTP Range, keep them for an offline visit, and cope with a server that ignores Range', async ({ context, page }) => {
  const files = await build()
  const rowFiles = [...files.keys()].filter((p) => /^shards\/rows-\d{4}-/.test(p))
  expect(rowFiles.length).toBe(Math.ceil(N / 100))
  const state: Served = { files, offline: false, ignoreRange: false, log: [] }
  await serve(context, state)
  await open(page)
  for (const i of [5, 250, 577]) {
    state.log.length = 0
    expect(await nearest(page, i)).toBe(`p${i} 1.0000`)
    const reads = rowsLog(state.log)
    expect(reads.length).toBeGreaterThan(0)
    expect(reads.every((l) => l.status === 206 && l.bytes % (DIMS * 2 + 8) === 0 && l.bytes < 100 * (DIMS * 2 + 8))).toBe(true)
  }

  // A later visit, offline: the rows read before come from IndexedDB.
  state.offline = true
  await open(page)
  expect(await nearest(page, 250)).toBe('p250 1.0000')
  state.offline = false

  // A server that ignores Range: whole files, each fetched once and checked against its hash.
  const plain = await context.browser()!.newContext()
  const plainState: Served = { files, offline: false, ignoreRange: true, log: [] }
  await serve(plain, plainState)
  const plainPage = await plain.newPage()
  await open(plainPage)
  expect(await nearest(plainPage, 42)).toBe('p42 1.0000')
  const whole = rowsLog(plainState.log)
  expect(whole.length).toBeGreaterThan(0)
  expect(whole.every((l) => l.status === 200 && l.range !== undefined)).toBe(true)
  expect(new Set(whole.map((l) => l.path)).size).toBe(whole.length)
  await plain.close()
})

test('a damaged row fails that query with SNAPSHOT_INVALID/corrupt; keyword queries still answer; once mended the next query answers', async ({ context, page }) => {
  const files = await build()
  const state: Served = { files, offline: false, ignoreRange: false, log: [] }
  await serve(context, state)
  await open(page)
  const original = new Map(files)
  // Damage every row record (a byte in each) of every rows file.
  for (const [path, bytes] of original) {
    if (!/^shards\/rows-\d{4}-/.test(path)) continue
    const bad = bytes.slice()
    for (let at = 3; at < bad.length; at += DIMS * 2 + 8) bad[at]! ^= 0x40
    files.set(path, bad)
  }
  expect(await nearest(page, 99)).toBe('SNAPSHOT_INVALID/corrupt')
  const keyword = await page.evaluate(async () => ((await (window as any).vdocs.search('topic7', { mode: 'keyword', k: 3 })) as { id: string }[]).length)
  expect(keyword).toBe(3)
  for (const [path, bytes] of original) files.set(path, bytes)
  expect(await nearest(page, 99)).toBe('p99 1.0000')
})
