/**
 * Model and storage faults (the reliability issue, parts 4 and 5), through the public API in
 * Chromium. Faulty files are served with `context.route` over the real tiny fixtures: a 404, an
 * HTML page, an ONNX file truncated at several points, a damaged JSON file, a tokenizer from
 * another model; then a lost WebGPU device during inference (SwiftShader's device, destroyed
 * through CDP), IndexedDB refusing the k-th write of a large add, and a real small quota (CDP
 * Storage.overrideQuotaForOrigin). Each case asserts the exact WinnowError code and its useful
 * details, that every call settles within a bound, and that the next call works: a retry with good
 * files (the cache left on, so a damaged copy kept there would fail it), or the same instance
 * afterwards. Figures go to test-results/reliability/faults.json.
 */
import { expect, test, type BrowserContext, type Page, type Worker } from '@playwright/test'
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCutServer, type CutServer } from './cutServer.js'
import { writeFigures } from './figures.js'
import { SCALE } from './scale.js'

const HARNESS = '/test/browser/pages/harness.html'
const CE = 'tiny-random-cross-encoder'
const EMB = 'tiny-random-embedder'
/** Longest any one call may take to settle (a load on SwiftShader takes ~2 s here). */
const BOUND_MS = 30_000

const fixture = (model: string, file: string) => readFileSync(new URL(`../fixtures/models/${model}/${file}`, import.meta.url))
const rerankPair: { query: string; document: string; logit: number } = JSON.parse(fixture(CE, 'reference.json').toString()).pairs[0]
const embedderTexts: string[] = JSON.parse(fixture(EMB, 'reference.json').toString()).texts.map((t: { text: string }) => t.text)

interface Settled {
  outcome: 'resolved' | 'rejected' | 'timeout'
  value?: any
  /** The WinnowError code, or `not a WinnowError: ...`. */
  code?: string
  message?: string
  details?: any
  ms: number
}

interface FaultFigure {
  name: string
  code: string
  expected: string
  settledMs: number
  nextCallOk: boolean
}

/**
 * Figures survive Playwright restarting its worker after a failed test: each fault is appended to
 * a journal of this run (named by the runner's pid, outside test-results, which other runs empty),
 * and every afterAll rewrites faults.json from it.
 */
const JOURNAL = join(tmpdir(), `winnow-faults-${process.ppid}.jsonl`)

function append(entry: FaultFigure | { failedTest: string } | { note: string }): void {
  appendFileSync(JOURNAL, `${JSON.stringify(entry)}\n`)
}

test.setTimeout(SCALE === 'ci' ? 180_000 : 300_000)

test.afterEach(({}, testInfo) => {
  if (testInfo.status !== testInfo.expectedStatus) append({ failedTest: testInfo.title })
})

test.afterAll(() => {
  if (!existsSync(JOURNAL)) return
  const entries = readFileSync(JOURNAL, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
  const faults: FaultFigure[] = entries.filter((e) => 'name' in e)
  const failedTests: string[] = entries.filter((e) => 'failedTest' in e).map((e) => e.failedTest)
  const notes: string[] = entries.filter((e) => 'note' in e).map((e) => e.note)
  // Every test asserts its faults' codes and next calls, so a failed test counts each problem once.
  const failures = failedTests.length
  writeFigures('faults', {
    summary: {
      'faults injected': faults.length,
      'typed as expected': faults.filter((f) => f.code === f.expected).length,
      'next call worked': faults.filter((f) => f.nextCallOk).length,
      'max settle (ms)': Math.round(Math.max(0, ...faults.map((f) => f.settledMs))),
      failures,
    },
    failures,
    faults,
    failedTests,
    notes,
  })
})

/** Opens the harness page and installs `__settle`: runs a function with a time bound, returns its outcome. */
async function openHarness(page: Page): Promise<void> {
  await page.goto(HARNESS)
  await page.waitForFunction(() => (window as any).harnessReady === true)
  await page.evaluate(() => {
    const w = window as any
    w.__settle = async (fn: () => Promise<unknown>, bound: number) => {
      const started = performance.now()
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve({ outcome: 'timeout' }), bound)))
      const run = Promise.resolve()
        .then(fn)
        .then(
          (value) => ({ outcome: 'resolved', value }),
          (e: any) => ({
            outcome: 'rejected',
            code: e instanceof w.winnowApi.WinnowError ? e.code : `not a WinnowError: ${e}`,
            message: String(e?.message ?? e),
            details: e?.details ?? null,
          }),
        )
      const settled = await Promise.race([run, timeout])
      clearTimeout(timer)
      return { ...(settled as object), ms: performance.now() - started }
    }
  })
}

function record(name: string, expected: string, settled: Settled, nextCallOk: boolean): void {
  const code = settled.outcome === 'rejected' ? settled.code! : settled.outcome
  append({ name, code, expected, settledMs: Math.round(settled.ms), nextCallOk })
  console.log(`[faults] ${name}: ${code} in ${Math.round(settled.ms)} ms; next call ${nextCallOk ? 'worked' : 'FAILED'}`)
}

type ModelKind = 'reranker' | 'embedder'
const MODELS: { model: string; kind: ModelKind }[] = [
  { model: CE, kind: 'reranker' },
  { model: EMB, kind: 'embedder' },
]

/** createWinnow for one model on WASM (fp32, the cache on as by default); rejects as the load does. */
function load(page: Page, model: string, kind: ModelKind, modelBaseUrl?: string): Promise<Settled> {
  return page.evaluate(
    ({ model, kind, bound, modelBaseUrl }) =>
      (window as any).__settle(async () => {
        const api = (window as any).winnowApi
        const options = kind === 'reranker' ? { reranker: { model, dtype: 'fp32' } } : { reranker: false, embedder: { model, dtype: 'fp32' } }
        const winnow = await api.createWinnow({ ...options, device: 'wasm', ...(modelBaseUrl ? { modelBaseUrl } : {}) })
        await winnow.dispose()
      }, bound),
    { model, kind, bound: BOUND_MS, modelBaseUrl },
  )
}

/**
 * The next call works: a fresh instance loads the model (from the network or the cache, whatever a
 * fault left there) and gives the reference result: the PyTorch logit for the reranker, the text
 * itself as the nearest neighbour of its own embedding for the embedder.
 */
async function nextCallWorks(page: Page, model: string, kind: ModelKind, modelBaseUrl?: string): Promise<boolean> {
  const settled: Settled = await page.evaluate(
    ({ model, kind, bound, pair, texts, modelBaseUrl }) =>
      (window as any).__settle(async () => {
        const api = (window as any).winnowApi
        const base = modelBaseUrl ? { modelBaseUrl } : {}
        if (kind === 'reranker') {
          const winnow = await api.createWinnow({ reranker: { model, dtype: 'fp32' }, device: 'wasm', ...base })
          const ranked = await winnow.rerank(pair.query, [pair.document])
          await winnow.dispose()
          return Math.abs(ranked[0].logit - pair.logit) < 1e-4
        }
        const winnow = await api.createWinnow({ reranker: false, embedder: { model, dtype: 'fp32' }, device: 'wasm', ...base })
        const docs = await winnow.collection(`next-${Math.random().toString(36).slice(2)}`, { chunking: false })
        await docs.add(texts.map((text: string, i: number) => ({ id: `t${i}`, text })))
        const hits = await docs.search(texts[1], { mode: 'vector', k: 1, rerank: false })
        await winnow.deleteCollection(docs.name)
        await winnow.dispose()
        return hits[0]?.id === 't1'
      }, bound),
    { model, kind, bound: BOUND_MS, pair: rerankPair, texts: embedderTexts, modelBaseUrl },
  )
  return settled.outcome === 'resolved' && settled.value === true
}

/** Every URL under `prefix` in the page's Cache API (whatever transformers.js names its cache). */
async function cachedUrls(page: Page, prefix: string): Promise<string[]> {
  return page.evaluate(async (prefix) => {
    const urls: string[] = []
    for (const name of await caches.keys()) for (const request of await (await caches.open(name)).keys()) if (request.url.startsWith(prefix)) urls.push(request.url)
    return urls
  }, prefix)
}

/** Serves `body` (or a status) for one file of a model, for GET and HEAD alike. */
async function serveFile(context: BrowserContext, model: string, file: string, answer: { status?: number; contentType?: string; body?: Buffer | string }) {
  await context.route(`**/models/${model}/${file}`, (route) =>
    route.fulfill({ status: answer.status ?? 200, contentType: answer.contentType ?? 'application/octet-stream', body: answer.body ?? '' }),
  )
}

for (const { model, kind } of MODELS) {
  test.describe(`${kind} (${model})`, () => {
    test(`404 for every weights file is MODEL_LOAD_FAILED naming the URL and status; the retry with the files back works`, async ({ page, context }) => {
      await openHarness(page)
      await serveFile(context, model, 'onnx/*.onnx', { status: 404, contentType: 'text/plain', body: 'not found' })
      const settled = await load(page, model, kind)
      await context.unrouteAll()
      const next = await nextCallWorks(page, model, kind)
      record(`${kind}: 404 for onnx/*.onnx`, 'MODEL_LOAD_FAILED', settled, next)
      expect(settled.code).toBe('MODEL_LOAD_FAILED')
      expect(settled.details.status).toBe(404)
      expect(settled.details.url).toMatch(new RegExp(`/models/${model}/onnx/model\\.onnx$`))
      expect(next).toBe(true)
    })

    test(`404 for the dtype's weights while others exist is UNSUPPORTED_DTYPE naming those; the retry works`, async ({ page, context }) => {
      await openHarness(page)
      await serveFile(context, model, 'onnx/model.onnx', { status: 404, contentType: 'text/plain', body: 'not found' })
      const settled = await load(page, model, kind)
      await context.unrouteAll()
      const next = await nextCallWorks(page, model, kind)
      record(`${kind}: 404 for onnx/model.onnx only`, 'UNSUPPORTED_DTYPE', settled, next)
      expect(settled.code).toBe('UNSUPPORTED_DTYPE')
      expect(settled.details.available).toEqual(['q8', 'q4'])
      expect(next).toBe(true)
    })

    test(`404 for tokenizer.json is MODEL_LOAD_FAILED naming it; the retry works`, async ({ page, context }) => {
      await openHarness(page)
      await serveFile(context, model, 'tokenizer.json', { status: 404, contentType: 'text/plain', body: 'not found' })
      const settled = await load(page, model, kind)
      await context.unrouteAll()
      const next = await nextCallWorks(page, model, kind)
      record(`${kind}: 404 for tokenizer.json`, 'MODEL_LOAD_FAILED', settled, next)
      expect(settled.code).toBe('MODEL_LOAD_FAILED')
      expect(settled.details).toMatchObject({ status: 404 })
      expect(settled.details.url).toMatch(new RegExp(`/models/${model}/tokenizer\\.json$`))
      expect(next).toBe(true)
    })

    test(`an HTML page instead of the ONNX file is MODEL_LOAD_FAILED saying so; nothing of it is cached, the retry works`, async ({ page, context }) => {
      await openHarness(page)
      await serveFile(context, model, 'onnx/model.onnx', { contentType: 'text/html', body: '<!doctype html><html><body>app shell</body></html>' })
      const settled = await load(page, model, kind)
      await context.unrouteAll()
      const next = await nextCallWorks(page, model, kind)
      record(`${kind}: HTML page for onnx/model.onnx`, 'MODEL_LOAD_FAILED', settled, next)
      expect(settled.code).toBe('MODEL_LOAD_FAILED')
      expect(settled.details).toMatchObject({ html: true })
      expect(settled.details.url).toMatch(new RegExp(`/models/${model}/onnx/model\\.onnx$`))
      expect(settled.message).toMatch(/HTML page/)
      expect(next).toBe(true)
    })

    const weights = fixture(model, 'onnx/model.onnx')
    for (const [label, bytes] of [
      ['cut in half', weights.length >> 1],
      ['only its first 100 bytes', 100],
      ['missing its last byte', weights.length - 1],
    ] as const) {
      test(`an ONNX file ${label} is MODEL_LOAD_FAILED saying the file is damaged (not INTERNAL); the damaged copy is not cached, the retry works`, async ({ page, context }) => {
        await openHarness(page)
        await serveFile(context, model, 'onnx/model.onnx', { body: weights.subarray(0, bytes) })
        const settled = await load(page, model, kind)
        await context.unrouteAll()
        const next = await nextCallWorks(page, model, kind)
        record(`${kind}: onnx/model.onnx ${label}`, 'MODEL_LOAD_FAILED', settled, next)
        expect(settled.code, settled.message).toBe('MODEL_LOAD_FAILED')
        expect(settled.details).toMatchObject({ damaged: true, file: 'onnx/model.onnx' })
        expect(settled.details.url).toMatch(new RegExp(`/models/${model}/onnx/model\\.onnx$`))
        expect(settled.message).toMatch(/onnx\/model\.onnx is damaged \(truncated/)
        expect(next).toBe(true)
      })
    }

    test(`a damaged (truncated) tokenizer.json is MODEL_LOAD_FAILED saying a JSON file is damaged; the retry works`, async ({ page, context }) => {
      await openHarness(page)
      const tokenizer = fixture(model, 'tokenizer.json')
      await serveFile(context, model, 'tokenizer.json', { contentType: 'application/json', body: tokenizer.subarray(0, tokenizer.length >> 1) })
      const settled = await load(page, model, kind)
      await context.unrouteAll()
      const next = await nextCallWorks(page, model, kind)
      record(`${kind}: tokenizer.json cut in half`, 'MODEL_LOAD_FAILED', settled, next)
      expect(settled.code).toBe('MODEL_LOAD_FAILED')
      expect(settled.details).toMatchObject({ damaged: true })
      expect(settled.message).toMatch(/JSON files .* damaged/)
      expect(next).toBe(true)
    })

    test(`a tokenizer whose vocabulary exceeds the model's embedding table is MODEL_LOAD_FAILED at load, not an index error later; the retry works`, async ({ page, context }) => {
      await openHarness(page)
      // 100 extra words with ids 302..401: any text holding one would index past the 302 rows of
      // the embedding table (an onnxruntime error on WASM, silently wrong scores on WebGPU).
      const tokenizer = JSON.parse(fixture(model, 'tokenizer.json').toString())
      for (let i = 0; i < 100; i++) tokenizer.model.vocab[`zzword${i}`] = 302 + i
      await serveFile(context, model, 'tokenizer.json', { contentType: 'application/json', body: JSON.stringify(tokenizer) })
      const settled = await load(page, model, kind)
      await context.unrouteAll()
      const next = await nextCallWorks(page, model, kind)
      record(`${kind}: tokenizer.json of a larger vocabulary`, 'MODEL_LOAD_FAILED', settled, next)
      expect(settled.code).toBe('MODEL_LOAD_FAILED')
      expect(settled.details).toMatchObject({ tokenizerVocabSize: 402, configVocabSize: 302 })
      expect(settled.message).toMatch(/tokenizer .* does not match the model/)
      expect(next).toBe(true)
    })
  })
}

// ---------------------------------------------------------------------------------------------
// A transfer cut short: a real server (test/reliability/cutServer.ts) announces the whole file and
// closes the connection half-way, or ends a chunked response without its last chunk. The load is
// MODEL_LOAD_FAILED with details.damaged and details.cut, nothing of the part is in the Cache API,
// and a load from the same URLs (the cache on) works once the server sends whole files again.

test.describe('a model transfer cut short (a node:http server on 127.0.0.1)', () => {
  let server: CutServer
  test.beforeAll(async () => {
    server = await startCutServer()
  })
  test.afterAll(async () => {
    await server?.close()
  })

  const cases = [
    { mode: 'close-early', label: 'the connection closed after half of the announced Content-Length', model: CE, kind: 'reranker', file: 'onnx/model.onnx' },
    { mode: 'close-early', label: 'the connection closed after half of the announced Content-Length', model: EMB, kind: 'embedder', file: 'tokenizer.json' },
    { mode: 'chunked-close', label: 'a chunked response closed before its last chunk', model: CE, kind: 'reranker', file: 'onnx/model.onnx' },
  ] as const
  for (const { mode, label, model, kind, file } of cases) {
    test(`${kind}: ${file}, ${label}, is MODEL_LOAD_FAILED (damaged, cut); nothing of it cached; the same URLs load once whole`, async ({ page }) => {
      await openHarness(page)
      server.mode = mode
      server.cutFile = `${model}/${file}`
      const cutsBefore = server.cuts
      const settled = await load(page, model, kind, server.base)
      const cached = await cachedUrls(page, server.base)
      server.mode = 'ok'
      const next = await nextCallWorks(page, model, kind, server.base)
      record(`${kind}: ${file} cut short (${mode})`, 'MODEL_LOAD_FAILED', settled, next)
      console.log(`[faults] ${mode}: the browser said: ${settled.details?.cause}`)
      expect(server.cuts).toBeGreaterThan(cutsBefore)
      expect(settled.code, settled.message).toBe('MODEL_LOAD_FAILED')
      expect(settled.details).toMatchObject({ damaged: true, cut: true, file, url: `${server.base}${model}/${file}` })
      expect(settled.message).toMatch(/cut short/)
      expect(cached.filter((url) => url.endsWith(`/${file}`))).toEqual([])
      expect(next).toBe(true)
    })
  }
})

test('a Playwright route fulfilling half of the ONNX file with the whole Content-Length (the body arrives whole-looking, shorter): MODEL_LOAD_FAILED, damaged; nothing cached', async ({ page, context }) => {
  await openHarness(page)
  const weights = fixture(CE, 'onnx/model.onnx')
  await context.route(`**/models/${CE}/onnx/model.onnx`, (route) =>
    route.request().headers().range
      ? route.continue()
      : route.fulfill({ status: 200, headers: { 'content-type': 'application/octet-stream', 'content-length': String(weights.length) }, body: weights.subarray(0, weights.length >> 1) }),
  )
  const settled = await load(page, CE, 'reranker')
  const origin = new URL(page.url()).origin
  const cached = await cachedUrls(page, `${origin}/models/${CE}/onnx/model.onnx`)
  await context.unrouteAll()
  const next = await nextCallWorks(page, CE, 'reranker')
  record('reranker: onnx/model.onnx routed half-length under the full Content-Length', 'MODEL_LOAD_FAILED', settled, next)
  append({ note: `a Playwright route with a short body and a larger Content-Length: ${settled.details?.cut ? 'the body ends quietly short of Content-Length (no network error); winnow measured it and failed it as cut' : 'onnxruntime failed to parse the truncated file'}` })
  console.log(`[faults] route with a short body under a larger Content-Length: ${JSON.stringify(settled.details)}`)
  expect(settled.code, settled.message).toBe('MODEL_LOAD_FAILED')
  expect(settled.details).toMatchObject({ damaged: true, file: 'onnx/model.onnx' })
  expect(cached).toEqual([])
  expect(next).toBe(true)
})

// ---------------------------------------------------------------------------------------------
// A lost WebGPU device. Chromium here has only SwiftShader, a fallback adapter that `device:
// 'webgpu'` forces. The test captures the GPUDevice onnxruntime-web requests by prepending a
// wrapper of GPUAdapter.prototype.requestDevice to the worker script it serves, then destroys the
// device through CDP (Playwright's worker.evaluate): the same `lost` promise and failing buffer
// mappings as a GPU reset. Nothing in winnow knows about the test.

const DEVICE_SPY = `;(() => {
  const requestDevice = GPUAdapter.prototype.requestDevice
  self.__testDevices = []
  GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await requestDevice.apply(this, args)
    self.__testDevices.push(device)
    return device
  }
})();
`

async function spyOnDevices(context: BrowserContext): Promise<void> {
  await context.route(/\/assets\/worker-[^/]*\.js$/, async (route) => {
    const response = await route.fetch()
    await route.fulfill({ response, body: DEVICE_SPY + (await response.text()) })
  })
}

/** The winnow worker of the page (not onnxruntime's own pthread workers), the newest one. */
function winnowWorker(page: Page): Worker {
  const workers = page.workers().filter((w) => /\/assets\/worker-[^/]*\.js$/.test(w.url()))
  if (workers.length === 0) throw new Error(`no winnow worker among ${page.workers().map((w) => w.url()).join(', ')}`)
  return workers[workers.length - 1]!
}

async function loseDevice(page: Page): Promise<number> {
  return winnowWorker(page).evaluate(() => {
    const devices = (self as any).__testDevices as GPUDevice[]
    for (const device of devices) device.destroy()
    return devices.length
  })
}

test.describe('lost WebGPU device', () => {
  test('during a rerank: the call and the one queued behind it run again on WASM and resolve (as a fresh WASM rerank gives), onDeviceChange reports WASM, the next call gives the reference logit', async ({ page, context }) => {
    await spyOnDevices(context)
    await openHarness(page)
    const started = await page.evaluate(
      ({ model, bound }) =>
        (window as any).__settle(async () => {
          const w = window as any
          w.changes = []
          w.instance = await w.winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' }, device: 'webgpu', onDeviceChange: (d: unknown) => w.changes.push(d) })
          await w.instance.rerank('warm up', ['the first run compiles the shaders'])
          const docs = Array.from({ length: 2000 }, (_, i) => `document ${i} about the quick brown fox and the lazy dog `.repeat(4))
          const settle = (p: Promise<unknown>) => w.__settle(() => p, bound)
          w.inFlight = settle(w.instance.rerank('quick fox', docs))
          w.queued = settle(w.instance.rerank('quick fox', ['a call queued behind it']))
          return w.instance.device.kind
        }, bound),
      // Setting up is not what is measured: a load and a first WebGPU run on SwiftShader take long on a busy machine.
      { model: CE, bound: 3 * BOUND_MS },
    )
    expect(started).toMatchObject({ outcome: 'resolved', value: 'webgpu' })
    await page.waitForTimeout(300)
    expect(await loseDevice(page)).toBeGreaterThan(0)
    const out = await page.evaluate(
      ({ pair, bound, ce }) =>
        (window as any).__settle(async () => {
          const w = window as any
          const summary = (s: any) => (s.outcome === 'resolved' ? { outcome: s.outcome, ms: s.ms, length: s.value.length, top: s.value.slice(0, 5).map((r: any) => [r.index, r.logit]) } : s)
          const inFlight = summary(await w.inFlight)
          const queued = summary(await w.queued)
          const next = await w.instance.rerank(pair.query, [pair.document])
          // What the same rerank gives on WASM from the start, to compare the retried one with.
          const docs = Array.from({ length: 2000 }, (_, i) => `document ${i} about the quick brown fox and the lazy dog `.repeat(4))
          const wasm = await w.winnowApi.createWinnow({ reranker: { model: ce, dtype: 'fp32' }, device: 'wasm' })
          const reference = (await wasm.rerank('quick fox', docs)).slice(0, 5).map((r: any) => [r.index, r.logit])
          await wasm.dispose()
          return { inFlight, queued, reference, nextLogit: next[0].logit, device: w.instance.device, changes: w.changes }
        }, bound),
      { pair: rerankPair, bound: 4 * BOUND_MS, ce: CE },
    )
    expect(out.outcome).toBe('resolved')
    const { inFlight, queued, reference, nextLogit, device, changes } = out.value
    const nextCallOk = Math.abs(nextLogit - rerankPair.logit) < 1e-4
    record('lost WebGPU device during a rerank (run again on WASM)', 'resolved', inFlight, nextCallOk)
    expect(inFlight.outcome, inFlight.message).toBe('resolved')
    expect(inFlight.length).toBe(2000)
    expect(inFlight.top.map((r: number[]) => r[0])).toEqual(reference.map((r: number[]) => r[0]))
    for (const [i, [, logit]] of reference.entries()) expect(Math.abs(inFlight.top[i][1] - logit)).toBeLessThan(1e-3)
    expect(queued).toMatchObject({ outcome: 'resolved', length: 1 })
    expect(nextCallOk).toBe(true)
    expect(device.kind).toBe('wasm')
    expect(device.reason).toMatch(/WebGPU device was lost \(destroyed\)/)
    expect(changes).toEqual([device])
    await page.evaluate(() => (window as any).instance.dispose())
  })

  test('while idle: onDeviceChange fires once the models run on WASM, and the next call works', async ({ page, context }) => {
    await spyOnDevices(context)
    await openHarness(page)
    await page.evaluate(async (model) => {
      const w = window as any
      w.changes = []
      w.instance = await w.winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' }, device: 'webgpu', onDeviceChange: (d: unknown) => w.changes.push(d) })
      await w.instance.rerank('warm up', ['one run'])
      w.lostAt = performance.now()
    }, CE)
    expect(await loseDevice(page)).toBeGreaterThan(0)
    await page.waitForFunction(() => (window as any).changes.length > 0, undefined, { timeout: BOUND_MS })
    const out = await page.evaluate(
      ({ pair, bound }) =>
        (window as any).__settle(async () => {
          const w = window as any
          const switchedMs = performance.now() - w.lostAt
          const next = await w.instance.rerank(pair.query, [pair.document])
          await w.instance.dispose()
          return { switchedMs, nextLogit: next[0].logit, changes: w.changes }
        }, bound),
      { pair: rerankPair, bound: BOUND_MS },
    )
    expect(out.outcome).toBe('resolved')
    const nextCallOk = Math.abs(out.value.nextLogit - rerankPair.logit) < 1e-4
    record('lost WebGPU device while idle', 'switched', { outcome: 'rejected', code: 'switched', ms: out.value.switchedMs }, nextCallOk)
    expect(out.value.changes).toHaveLength(1)
    expect(out.value.changes[0]).toMatchObject({ kind: 'wasm' })
    expect(nextCallOk).toBe(true)
  })

  test('during an add that embeds on WebGPU, with a search queued behind it: the add (a write) is DEVICE_LOST with nothing stored, the search runs again on WASM and resolves; the next add and a reranked search work', async ({ page, context }) => {
    await spyOnDevices(context)
    await openHarness(page)
    const name = 'device-lost-add'
    const before = await page.evaluate(
      ({ ce, emb, texts, name, bound }) =>
        (window as any).__settle(async () => {
          const w = window as any
          w.instance = await w.winnowApi.createWinnow({ reranker: { model: ce, dtype: 'fp32' }, embedder: { model: emb, dtype: 'fp32' }, device: 'webgpu' })
          w.docs = await w.instance.collection(name, { chunking: false })
          await w.docs.add(texts.map((text: string, i: number) => ({ id: `t${i}`, text })))
          const big = Array.from({ length: 400 }, (_, i) => ({ id: `big-${i}`, text: `bulkword${i} a passage about memory leaks and garbage collection `.repeat(3) }))
          w.embedding = false
          w.add = w.__settle(() => w.docs.add(big, { onProgress: (p: any) => p.phase === 'embedding' && (w.embedding = true) }), bound)
          return w.docs.count()
        }, bound),
      { ce: CE, emb: EMB, texts: embedderTexts, name, bound: BOUND_MS },
    )
    expect(before).toMatchObject({ outcome: 'resolved', value: embedderTexts.length })
    await page.waitForFunction(() => (window as any).embedding === true, undefined, { timeout: BOUND_MS })
    // Its query embedding waits in the model queue behind the add's slices.
    await page.evaluate(
      ({ texts, bound }) => {
        const w = window as any
        w.searching = w.__settle(() => w.docs.search(texts[1], { mode: 'vector', k: 1, rerank: false }), bound)
      },
      { texts: embedderTexts, bound: BOUND_MS },
    )
    expect(await loseDevice(page)).toBeGreaterThan(0)
    const out = await page.evaluate(
      ({ texts, bound }) =>
        (window as any).__settle(async () => {
          const w = window as any
          const add = await w.add
          const searching = await w.searching
          const count = await w.docs.count()
          const big = await w.docs.get('big-0')
          const nearest = (await w.docs.search(texts[1], { mode: 'vector', k: 1, rerank: false }))[0]?.id
          const next = await w.docs.add([{ id: 'after', text: 'written after the device was lost' }])
          const reranked = await w.docs.search(texts[2], { k: 3, rerank: true })
          const device = w.instance.device.kind
          await w.instance.deleteCollection(w.docs.name)
          await w.instance.dispose()
          return { add, searching: { ...searching, value: searching.value?.map((h: any) => h.id) }, count, big, nearest, next, reranked: reranked.map((h: any) => h.id), device }
        }, bound),
      { texts: embedderTexts, bound: BOUND_MS },
    )
    expect(out.outcome).toBe('resolved')
    const v = out.value
    const nextCallOk = v.next.documents === 1 && v.reranked.length === 3 && v.nearest === 't1'
    record('lost WebGPU device during an add (embedding)', 'DEVICE_LOST', v.add, nextCallOk)
    record('lost WebGPU device during a search (run again on WASM)', 'resolved', v.searching, nextCallOk)
    expect(v.add.code, v.add.message).toBe('DEVICE_LOST')
    expect(v.searching.outcome, v.searching.message).toBe('resolved')
    expect(v.searching.value).toEqual(['t1'])
    expect(v.count).toBe(embedderTexts.length)
    expect(v.big).toBeNull()
    expect(v.nearest).toBe('t1')
    expect(v.next).toMatchObject({ documents: 1 })
    expect(v.reranked).toHaveLength(3)
    expect(v.device).toBe('wasm')
  })
})

// ---------------------------------------------------------------------------------------------
// Storage faults: IndexedDB refuses the k-th write of a large add, in the worker that writes.

type QuotaMode = 'throw' | 'abort'

/**
 * Patches IDBObjectStore.prototype.put in the winnow worker: counts puts while armed and fails the
 * `failAt`-th, either by throwing QuotaExceededError (as put does when the quota is known to be
 * exhausted) or by letting it queue and aborting its transaction with QuotaExceededError as its
 * error once it landed (as a commit over the quota ends).
 */
async function armQuota(page: Page, mode: QuotaMode, failAt: number): Promise<void> {
  await winnowWorker(page).evaluate(
    ({ mode, failAt }) => {
      const scope = self as any
      if (!scope.__quotaPut) {
        const put = IDBObjectStore.prototype.put
        scope.__quotaPut = put
        IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
          const quota = scope.__quota
          if (!quota || ++quota.puts !== quota.failAt) return put.call(this, value, key)
          const full = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError')
          if (quota.mode === 'throw') throw full()
          const request = put.call(this, value, key)
          const tx = this.transaction
          request.addEventListener('success', () => {
            Object.defineProperty(tx, 'error', { value: full(), configurable: true })
            tx.abort()
          })
          return request
        } as typeof put
      }
      scope.__quota = { mode, failAt, puts: 0 }
    },
    { mode, failAt },
  )
}

async function quotaPuts(page: Page): Promise<number> {
  return winnowWorker(page).evaluate(() => {
    const scope = self as any
    const puts = scope.__quota?.puts ?? 0
    scope.__quota = null
    return puts
  })
}

/** What a collection shows: count, every document, and a keyword and a vector search. */
async function collectionState(page: Page, ids: string[]) {
  return page.evaluate(
    async ({ ids, texts }) => {
      const docs = (window as any).docs
      return {
        count: await docs.count(),
        documents: await Promise.all(ids.map((id: string) => docs.get(id))),
        keyword: (await docs.search('memory leaks garbage bulkword7', { mode: 'keyword', k: 10 })).map((h: any) => h.id),
        vector: (await docs.search(texts[1], { mode: 'vector', k: 3, rerank: false })).map((h: any) => h.id),
      }
    },
    { ids, texts: embedderTexts },
  )
}

for (const mode of ['throw', 'abort'] as const) {
  test(`quota exceeded in the middle of a large add (${mode === 'throw' ? 'put throws' : 'the transaction aborts'} on the k-th write) is STORAGE_FULL; the store shows exactly what it held before, on this worker and a new one; a smaller add then succeeds`, async ({ page }) => {
    await openHarness(page)
    const name = `quota-${mode}`
    const big = Array.from({ length: 200 }, (_, i) => ({ id: `big-${i}`, text: `bulkword${i} a passage about memory leaks and garbage collection in long running pages` }))
    await page.evaluate(
      async ({ emb, texts, name }) => {
        const w = window as any
        w.instance = await w.winnowApi.createWinnow({ reranker: false, embedder: { model: emb, dtype: 'fp32' }, device: 'wasm' })
        w.docs = await w.instance.collection(name, { chunking: false })
        await w.docs.add(texts.map((text: string, i: number) => ({ id: `t${i}`, text, metadata: { i } })))
        w.scratch = await w.instance.collection(`${name}-dry-run`, { chunking: false })
      },
      { emb: EMB, texts: embedderTexts, name },
    )
    const ids = [...embedderTexts.map((_, i) => `t${i}`), 'big-0', 'big-199']
    const before = await collectionState(page, ids)
    expect(before.count).toBe(embedderTexts.length)

    // How many writes the add makes (the same documents into an empty collection), to fail one in the middle.
    await armQuota(page, mode, Number.POSITIVE_INFINITY)
    await page.evaluate(async (big) => {
      const w = window as any
      await w.scratch.add(big)
      await w.instance.deleteCollection(w.scratch.name)
    }, big)
    const writes = await quotaPuts(page)
    expect(writes).toBeGreaterThan(4)
    const failAt = Math.ceil(writes / 2)

    await armQuota(page, mode, failAt)
    const settled: Settled = await page.evaluate(({ big, bound }) => (window as any).__settle(() => (window as any).docs.add(big), bound), { big, bound: BOUND_MS })
    const reached = await quotaPuts(page)
    expect(reached).toBeGreaterThanOrEqual(failAt)
    const after = await collectionState(page, ids)

    // A new instance (a new worker, the collection reopened from IndexedDB) sees the same.
    await page.evaluate(
      async ({ emb, name }) => {
        const w = window as any
        await w.instance.dispose()
        w.instance = await w.winnowApi.createWinnow({ reranker: false, embedder: { model: emb, dtype: 'fp32' }, device: 'wasm' })
        w.docs = await w.instance.collection(name)
      },
      { emb: EMB, name },
    )
    const reopened = await collectionState(page, ids)
    const smaller = await page.evaluate(
      ({ big, bound }) => (window as any).__settle(() => (window as any).docs.add(big.slice(0, 20)), bound),
      { big, bound: BOUND_MS },
    )
    const count = await page.evaluate(() => (window as any).docs.count())
    const nextCallOk = smaller.outcome === 'resolved' && count === embedderTexts.length + 20
    record(`quota exceeded at write ${failAt} of ${writes} (${mode})`, 'STORAGE_FULL', settled, nextCallOk)
    await page.evaluate(async (name) => {
      const w = window as any
      await w.instance.deleteCollection(name)
      await w.instance.dispose()
    }, name)

    expect(settled.code).toBe('STORAGE_FULL')
    expect(settled.details).toMatchObject({ collection: name })
    expect(after).toEqual(before)
    expect(reopened).toEqual(before)
    expect(smaller.value).toMatchObject({ documents: 20 })
    expect(nextCallOk).toBe(true)
  })
}

test('a real small quota (CDP Storage.overrideQuotaForOrigin): an add over it is STORAGE_FULL, the store keeps what it held, a smaller add then fits', async ({ page, context }) => {
  await openHarness(page)
  // 3 MB above what the origin uses. The override is enforced on writes (navigator.storage.estimate()
  // keeps reporting the default quota), by connections opened after it: set before winnow opens the
  // database. With 1.5 MB, the small add after the refused one was refused too in about one full
  // run of this file in three (never alone): the usage read here can lag what the origin holds.
  const origin = new URL(page.url()).origin
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0)
  const cdp = await context.newCDPSession(page)
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 3 * 1024 * 1024 })
  await page.evaluate(async () => {
    const w = window as any
    w.instance = await w.winnowApi.createWinnow({ reranker: false })
    w.docs = await w.instance.collection('real-quota', { chunking: false })
    await w.docs.add([{ id: 'first', text: 'a small document that fits' }])
  })
  const out = await page.evaluate(
    ({ bound }) =>
      (window as any).__settle(async () => {
        const w = window as any
        // Random words: IndexedDB compresses values, so repeated text would fit in any quota.
        const word = () => Array.from(crypto.getRandomValues(new Uint8Array(40)), (b) => b.toString(16).padStart(2, '0')).join('')
        const text = (n: number) => Array.from({ length: n }, word).join(' ')
        const big = Array.from({ length: 12 }, (_, i) => ({ id: `big-${i}`, text: `overquota ${text(6000)}` }))
        const full = await w.__settle(() => w.docs.add(big), bound)
        const count = await w.docs.count()
        const partial = await w.docs.get('big-0')
        const hits = (await w.docs.search('overquota', { k: 5 })).length
        const smaller = await w.__settle(() => w.docs.add([{ id: 'small-after', text: `fits after the failed add ${text(1000)}` }]), bound)
        const countAfter = await w.docs.count()
        await w.instance.deleteCollection('real-quota')
        await w.instance.dispose()
        return { full, count, partial, hits, smaller, countAfter }
      }, 4 * bound),
    { bound: BOUND_MS },
  )
  await cdp.send('Storage.overrideQuotaForOrigin', { origin })
  expect(out.outcome).toBe('resolved')
  const v = out.value
  const nextCallOk = v.smaller.outcome === 'resolved' && v.countAfter === 2
  record('real quota (CDP override, 3 MB free) exceeded by a 6 MB add', 'STORAGE_FULL', v.full, nextCallOk)
  append({ note: 'Storage.overrideQuotaForOrigin is enforced on IndexedDB commits of connections opened after it (navigator.storage.estimate() keeps reporting the default quota)' })
  expect(v.full.code).toBe('STORAGE_FULL')
  expect(v.count).toBe(1)
  expect(v.partial).toBeNull()
  expect(v.hits).toBe(0)
  expect(nextCallOk).toBe(true)
})
