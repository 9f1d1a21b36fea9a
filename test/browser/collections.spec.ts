import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CHROMIUM, CHROMIUM_ARGS } from '../../playwright.config.js'
import { HARNESS, openHarness } from './helpers.js'

const BASE = `http://127.0.0.1:${process.env.WINNOW_TEST_PORT ?? 4173}`
const EMBEDDER = 'tiny-random-embedder'

interface EmbedderReference {
  texts: { text: string; embedding: number[] }[]
}
const embedderReference: EmbedderReference = JSON.parse(
  readFileSync(new URL('../fixtures/models/tiny-random-embedder/reference.json', import.meta.url), 'utf8'),
)

async function launchProfile(dir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, baseURL: BASE })
}

async function harness(context: BrowserContext): Promise<Page> {
  const page = await context.newPage()
  await page.goto(HARNESS)
  await page.waitForFunction(() => (window as any).harnessReady === true)
  return page
}

/** Opens a keyword-only winnow (no models) and the named collection as `window.docs`. */
async function openKeywordCollection(page: Page, name: string) {
  await page.evaluate(async (name) => {
    const w = window as any
    w.winnow = await w.winnowApi.createWinnow({ reranker: false })
    w.docs = await w.winnow.collection(name)
  }, name)
}

for (const device of ['wasm', 'webgpu'] as const) {
test(`the embedder runs in the worker (${device}): stored vectors and query give the PyTorch cosines`, async ({ page }) => {
  await openHarness(page)
  const texts = embedderReference.texts.map((t) => t.text)
  const out = await page.evaluate(
    async ({ texts, model, device }) => {
      const w = window as any
      // 'webgpu' here is SwiftShader (a fallback adapter), which only an explicit device uses.
      const winnow = await w.winnowApi.createWinnow({ reranker: false, embedder: { model, dtype: 'fp32' }, device })
      const docs = await winnow.collection('emb', { chunking: false })
      const progress: string[] = []
      await docs.add(
        texts.map((text: string, i: number) => ({ id: `t${i}`, text })),
        { onProgress: (p: any) => progress.push(p.phase) },
      )
      const hits = await docs.search(texts[1], { mode: 'vector', k: texts.length })
      const hybrid = await docs.search('capital of france', { k: 3 })
      const info = await docs.info()
      await winnow.dispose()
      return { hits, hybrid, info, embedder: winnow.embedder, device: winnow.device.kind, progress: [...new Set(progress)] }
    },
    { texts, model: EMBEDDER, device },
  )
  const ref = embedderReference.texts.map((t) => t.embedding)
  const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0)
  expect(out.hits).toHaveLength(texts.length)
  expect(out.hits[0].id).toBe('t1')
  let maxDiff = 0
  for (const hit of out.hits) {
    const j = Number(hit.id.slice(1))
    maxDiff = Math.max(maxDiff, Math.abs(hit.score - cos(ref[1]!, ref[j]!)))
  }
  console.log(`[figure] ${device}: max |Δ cosine| worker vector search vs PyTorch reference: ${maxDiff.toExponential(1)}`)
  expect(out.device).toBe(device)
  expect(maxDiff).toBeLessThan(1e-4)
  expect(out.info).toMatchObject({ documents: 10, chunks: 10, dims: 32, vectorSource: 'embedder', embedder: EMBEDDER })
  expect(out.embedder).toMatchObject({ model: EMBEDDER, dtype: 'fp32', dims: 32, pooling: 'mean' })
  expect(out.progress).toEqual(['chunking', 'embedding', 'writing', 'done'])
  // Hybrid by default with an embedder: every hit carries both first-stage scores where it appeared.
  expect(out.hybrid[0].scores.vector).toEqual(expect.any(Number))
  expect(out.hybrid.some((h: any) => h.scores.keyword !== undefined)).toBe(true)
})
}

test('a collection survives a browser restart with the same profile', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'winnow-profile-'))
  try {
    let context = await launchProfile(dir)
    let page = await harness(context)
    await openKeywordCollection(page, 'persist')
    const before = await page.evaluate(async () => {
      const w = window as any
      await w.docs.add([
        { id: 'a', text: 'Offline search keeps working after a restart.', metadata: { n: 1 } },
        { id: 'b', text: 'IndexedDB stores the postings and the vectors.', metadata: { n: 2 } },
      ])
      await w.docs.delete(['b'])
      return w.docs.search('offline restart', { k: 5 })
    })
    await context.close()

    context = await launchProfile(dir)
    page = await harness(context)
    await openKeywordCollection(page, 'persist')
    const after = await page.evaluate(async () => {
      const w = window as any
      return { count: await w.docs.count(), hits: await w.docs.search('offline restart', { k: 5 }), list: await w.winnow.listCollections() }
    })
    await context.close()
    expect(after.count).toBe(1)
    expect(after.hits).toEqual(before)
    expect(after.hits[0].id).toBe('a')
    expect(after.list).toContain('persist')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a renderer crash during a large add leaves earlier adds intact and the interrupted one all or nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'winnow-crash-'))
  const EARLY = 500
  const LARGE = 20_000
  try {
    let context = await launchProfile(dir)
    let page = await harness(context)
    await openKeywordCollection(page, 'crash')
    await page.evaluate(async (n) => {
      const w = window as any
      await w.docs.add(Array.from({ length: n }, (_, i) => ({ id: `early-${i}`, text: `early document ${i} about durable storage` })))
      w.phase = 'none'
    }, EARLY)
    // Start the large add and crash the renderer (and with it the worker) once it is writing.
    await page.evaluate((n) => {
      const w = window as any
      const docs = Array.from({ length: n }, (_, i) => ({ id: `late-${i}`, text: `zebracrossing late document ${i} with some more words in it to index` }))
      w.docs.add(docs, { onProgress: (p: any) => (w.phase = p.phase) }).then(() => (w.phase = 'resolved'))
    }, LARGE)
    await page.waitForFunction(() => ['writing', 'done', 'resolved'].includes((window as any).phase), null, { timeout: 60_000 })
    const phaseAtCrash = await page.evaluate(() => (window as any).phase)
    const cdp = await context.newCDPSession(page)
    const crashed = page.waitForEvent('crash')
    void cdp.send('Page.crash').catch(() => {}) // never answers: the session dies with the renderer
    await crashed
    await context.close()

    context = await launchProfile(dir)
    page = await harness(context)
    await openKeywordCollection(page, 'crash')
    const after = await page.evaluate(async () => {
      const w = window as any
      const late = await w.docs.search('zebracrossing', { k: 10_000 })
      const early = await w.docs.search('durable storage', { k: 10_000 })
      return { count: await w.docs.count(), late: late.length, early: early.length, anyLate: await w.docs.get('late-0'), lastLate: await w.docs.get('late-19999') }
    })
    await context.close()
    console.log(`[figure] crash during add: phase at crash '${phaseAtCrash}', documents after reopen ${after.count}`)
    expect(after.early).toBe(EARLY)
    expect([EARLY, EARLY + LARGE]).toContain(after.count)
    const landed = after.count === EARLY + LARGE
    expect(after.late).toBe(landed ? LARGE : 0)
    expect(after.anyLate === null).toBe(!landed)
    expect(after.lastLate === null).toBe(!landed)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('two pages share a collection: serialized writes, live updates, and an upgrade does not deadlock', async ({ context }) => {
  const a = await harness(context)
  const b = await harness(context)
  await openKeywordCollection(a, 'shared')
  await openKeywordCollection(b, 'shared')
  await a.evaluate(() => (window as any).docs.add([{ id: 'first', text: 'a note written in page A about lighthouses' }]))
  // B sees A's write without reloading.
  await expect.poll(() => b.evaluate(async () => (await (window as any).docs.search('lighthouses')).map((h: any) => h.id)), { timeout: 10_000 }).toEqual(['first'])
  // Both pages write at once: the Web Lock serializes them and nothing is lost.
  const write = (page: Page, prefix: string) =>
    page.evaluate(async (prefix) => {
      const w = window as any
      for (let round = 0; round < 5; round++) {
        await w.docs.add(Array.from({ length: 10 }, (_, i) => ({ id: `${prefix}-${round}-${i}`, text: `parallel write ${prefix} ${round} ${i}` })))
      }
    }, prefix)
  await Promise.all([write(a, 'a'), write(b, 'b')])
  expect(await a.evaluate(() => (window as any).docs.count())).toBe(101)
  expect(await b.evaluate(() => (window as any).docs.count())).toBe(101)
  expect(await b.evaluate(async () => (await (window as any).docs.search('parallel write', { k: 1000 })).length)).toBe(100)

  // Page B upgrades the database schema (as a newer winnow would) while A holds it open.
  const upgraded = await b.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const probe = indexedDB.open('winnow:shared')
        probe.onsuccess = () => {
          const version = probe.result.version
          probe.result.close()
          const request = indexedDB.open('winnow:shared', version + 1)
          request.onupgradeneeded = () => request.result.createObjectStore('added-by-a-newer-version')
          request.onsuccess = () => {
            request.result.close()
            resolve(`upgraded to ${version + 1}`)
          }
          request.onerror = () => resolve(`error ${request.error}`)
          setTimeout(() => resolve('deadlocked'), 8000)
        }
      }),
  )
  expect(upgraded).toMatch(/^upgraded to \d+$/)
  // A keeps working on the upgraded database.
  await a.evaluate(() => (window as any).docs.add([{ id: 'after-upgrade', text: 'written after the schema upgrade' }]))
  expect(await a.evaluate(() => (window as any).docs.count())).toBe(102)
  await expect.poll(() => b.evaluate(() => (window as any).docs.count()), { timeout: 10_000 }).toBe(102)
})

test('storage() reports usage, quota and persistence', async ({ page, context, browser }) => {
  await openHarness(page)
  const origin = new URL(page.url()).origin
  await openKeywordCollection(page, 'quota')
  const before = await page.evaluate(() => (window as any).winnow.storage())
  expect(before.persisted).toBe(false)
  // Grant persistence to this test's browser context (a permission prompt in real use).
  const { targetInfo } = await (await context.newCDPSession(page)).send('Target.getTargetInfo')
  const cdp = await browser.newBrowserCDPSession()
  await cdp.send('Browser.grantPermissions', { origin, permissions: ['durableStorage'], browserContextId: targetInfo.browserContextId })
  const out = await page.evaluate(async () => {
    const w = window as any
    // Words that do not compress away (IndexedDB compresses values): ~200 KB on disk however stored.
    let seed = 1
    const word = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) >>> 8).toString(36)
    await w.docs.add([{ id: 'small', text: 'a document ' + Array.from({ length: 30_000 }, word).join(' ') }])
    return { storage: await w.winnow.storage({ persist: true }), estimate: await navigator.storage.estimate() }
  })
  expect(out.storage.persisted).toBe(true)
  expect(out.storage.usage).toBeGreaterThan(before.usage)
  expect(out.storage.quota).toBe(out.estimate.quota)
})

test('a QuotaExceededError from IndexedDB becomes STORAGE_FULL and the collection stays as it was', async ({ page }) => {
  // IndexedDB itself is made to refuse: put() throws the DOMException a full disk gives, for the
  // records of the second add only. The engine runs on the page, over real IndexedDB. A real quota
  // (CDP Storage.overrideQuotaForOrigin, which applies to connections opened after it is set;
  // estimate() does not show it) is exercised in test/reliability/faults.spec.ts.
  await page.goto('/test/browser/pages/contract.html')
  await page.waitForFunction(() => (window as any).contractReady === true)
  const out = await page.evaluate(() => (window as any).runQuotaScenario())
  expect(out).toEqual({ code: 'STORAGE_FULL', count: 1, hits: ['small'], big: null, retried: 2 })
})

test('typed errors cross the worker boundary; abort stops an add before it writes', async ({ page }) => {
  await openHarness(page)
  const out = await page.evaluate(async (model) => {
    const w = window as any
    const winnow = await w.winnowApi.createWinnow({ reranker: false, embedder: { model, dtype: 'fp32' }, device: 'wasm' })
    const docs = await winnow.collection('errors')
    const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: any) => (e instanceof w.winnowApi.WinnowError ? e.code : String(e)))
    const codes = {
      dims: await code(docs.add([{ id: 'v', text: 'x', vector: [1, 2, 3] }])),
      duplicate: await code(docs.add([{ id: 'd', text: 'x' }, { id: 'd', text: 'y' }])),
      clone: await code(docs.add([{ id: 'f', text: 'x', metadata: { f: () => 1 } }])),
      mode: await code(docs.search('x', { mode: 'sideways' })),
      k: await code(docs.search('x', { k: 0 })),
      rerank: await code(winnow.rerank('q', ['a'])),
    }
    const controller = new AbortController()
    const many = Array.from({ length: 3000 }, (_, i) => ({ id: `m${i}`, text: `document number ${i} `.repeat(20) }))
    const pending = code(docs.add(many, { signal: controller.signal, onProgress: (p: any) => p.phase === 'embedding' && controller.abort() }))
    const aborted = await pending
    const count = await docs.count()
    await winnow.dispose()
    return { codes, aborted, count }
  }, EMBEDDER)
  expect(out.codes).toEqual({
    dims: 'DIMENSION_MISMATCH',
    duplicate: 'INVALID_INPUT',
    clone: 'INVALID_INPUT',
    mode: 'INVALID_INPUT',
    k: 'INVALID_INPUT',
    rerank: 'INVALID_INPUT',
  })
  expect(out.aborted).toBe('ABORTED')
  expect(out.count).toBe(0)
})

test('after the worker dies, a collection handle reopens the collection on a fresh worker', async ({ page }) => {
  await openHarness(page)
  await openKeywordCollection(page, 'revive')
  await page.evaluate(() =>
    (window as any).docs.add([{ id: 'kept', text: 'written before the crash' }], {}),
  )
  const worker = page.workers().find((w) => /\/assets\/worker-[^/]*\.js$/.test(w.url()))!
  await worker.evaluate('close()')
  const out = await page.evaluate(async () => {
    const w = window as any
    const first = await w.docs.count().then((n: number) => n, (e: any) => e.code)
    // The first call may be the one that discovers the death; the next one runs on a new worker.
    const count = typeof first === 'number' ? first : await w.docs.count()
    const hits = await w.docs.search('crash')
    return { first, count, hits: hits.map((h: any) => h.id) }
  })
  expect([1, 'WORKER_CRASHED']).toContain(out.first)
  expect(out.count).toBe(1)
  expect(out.hits).toEqual(['kept'])
})

test('add() resolves only after the page has handled every progress event, and none comes later', async ({ page }) => {
  await openHarness(page)
  const runs = await page.evaluate(async () => {
    const w = await (window as any).winnowApi.createWinnow({ reranker: false })
    const docs = await w.collection('progress-order', { chunking: false })
    const out: { atResolve: string[]; later: string[] }[] = []
    for (let round = 0; round < 12; round++) {
      const seen: string[] = []
      const items = Array.from({ length: 50 }, (_, i) => ({ id: `r${round}-${i}`, text: `passage ${i} of round ${round}` }))
      // A slow handler keeps each event on the page's queue a while, as a busy page would.
      await docs.add(items, {
        onProgress: (p: { phase: string }) => {
          const until = performance.now() + 5
          while (performance.now() < until) {}
          seen.push(p.phase)
        },
      })
      const atResolve = seen.slice()
      await new Promise((resolve) => setTimeout(resolve, 30))
      out.push({ atResolve, later: seen.slice(atResolve.length) })
    }
    await w.dispose()
    return out
  })
  for (const run of runs) {
    expect(run.atResolve.at(-1)).toBe('done')
    expect(run.later).toEqual([])
  }
})
