import { expect, test, type Page } from '@playwright/test'
import { crossEncoderReference, errorCode, HARNESS, openHarness, TINY } from './helpers.js'

const reference = crossEncoderReference()

/** The winnow worker of the page (onnxruntime's own pthread workers are skipped). */
function winnowWorker(page: Page) {
  const worker = page.workers().find((w) => /\/assets\/worker-[^/]*\.js$/.test(w.url()))
  if (!worker) throw new Error(`no winnow worker among ${page.workers().map((w) => w.url()).join(', ')}`)
  return worker
}

/** Starts a large rerank that stays pending for a while; returns nothing (state lives in window). */
async function startLongRerank(page: Page, withSignal = false) {
  await page.evaluate(
    async ({ model, withSignal }) => {
      const w = window as any
      w.instance = await w.winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' }, device: 'wasm' })
      const docs = Array.from({ length: 8000 }, (_, i) => `document ${i} about the quick brown fox and the lazy dog `.repeat(4))
      w.controller = new AbortController()
      w.outcome = w.instance.rerank('quick fox', docs, withSignal ? { signal: w.controller.signal } : {}).then(
        () => 'resolved',
        (e: any) => e.code,
      )
      w.queued = w.instance.rerank('quick fox', ['queued call'], withSignal ? { signal: w.controller.signal } : {}).then(
        () => 'resolved',
        (e: any) => e.code,
      )
    },
    { model: TINY, withSignal },
  )
}

test('abort rejects running and queued calls with ABORTED, and the next call works', async ({ page }) => {
  await openHarness(page)
  await startLongRerank(page, true)
  const out = await page.evaluate(async (pair) => {
    const w = window as any
    await new Promise((r) => setTimeout(r, 50))
    w.controller.abort()
    const outcome = await w.outcome
    const queued = await w.queued
    const pre = new AbortController()
    pre.abort()
    const already = await w.instance.rerank('q', ['a'], { signal: pre.signal }).then(() => 'resolved', (e: any) => e.code)
    const next = await w.instance.rerank(pair.query, [pair.document])
    await w.instance.dispose()
    return { outcome, queued, already, next: next[0].logit }
  }, reference[0]!)
  expect(out).toMatchObject({ outcome: 'ABORTED', queued: 'ABORTED', already: 'ABORTED' })
  expect(Math.abs(out.next - reference[0]!.logit)).toBeLessThan(1e-4)
})

test('a worker that throws an uncaught error rejects pending calls with WORKER_CRASHED; the next call starts a fresh one', async ({ page }) => {
  await openHarness(page)
  await startLongRerank(page)
  await winnowWorker(page).evaluate("queueMicrotask(() => { throw new Error('boom') })")
  const out = await page.evaluate(async (pair) => {
    const w = window as any
    const outcome = await w.outcome
    const queued = await w.queued
    const next = await w.instance.rerank(pair.query, [pair.document])
    const device = w.instance.device.kind
    await w.instance.dispose()
    return { outcome, queued, next: next[0].logit, device }
  }, reference[0]!)
  expect(out.outcome).toBe('WORKER_CRASHED')
  expect(out.queued).toBe('WORKER_CRASHED')
  expect(Math.abs(out.next - reference[0]!.logit)).toBeLessThan(1e-4)
  expect(out.device).toBe('wasm')
})

test('a worker that silently stops (close()) is detected: calls sent to it reject with WORKER_CRASHED, none hangs', async ({ page }) => {
  await openHarness(page)
  await startLongRerank(page)
  await winnowWorker(page).evaluate('close()')
  const out = await page.evaluate(async (pair) => {
    const w = window as any
    // close() discards the worker's pending tasks; the long call needs many more (it yields between
    // batches), so it can only end through the Web Lock telling the page its worker is gone. A call
    // sent meanwhile reaches either the dying worker (WORKER_CRASHED) or its fresh successor.
    const late = await w.instance.rerank('quick fox', ['sent after close()']).then(() => 'resolved', (e: any) => e.code)
    const outcome = await w.outcome
    const next = await w.instance.rerank(pair.query, [pair.document])
    await w.instance.dispose()
    return { late, outcome, next: next[0].logit }
  }, reference[0]!)
  expect(out.outcome).toBe('WORKER_CRASHED')
  expect(['resolved', 'WORKER_CRASHED']).toContain(out.late)
  expect(Math.abs(out.next - reference[0]!.logit)).toBeLessThan(1e-4)
})

test('a bad model URL is MODEL_LOAD_FAILED with the URL and status; a retry with the right one works', async ({ page }) => {
  await openHarness(page)
  const missing = await errorCode(page, `await api.createWinnow({ reranker: { model: 'no-such-model', dtype: 'fp32' } })`)
  expect(missing.code).toBe('MODEL_LOAD_FAILED')
  expect(missing.details.status).toBe(404)
  expect(missing.details.url).toContain('/models/no-such-model/')
  const retried = await errorCode(page, `const w = await api.createWinnow({ reranker: { model: '${TINY}', dtype: 'fp32' } }); await w.rerank('a', ['b']); await w.dispose()`)
  expect(retried.code).toBe('resolved')
})

test('hub ids load from the remote host only when allowRemoteModels is true', async ({ page }) => {
  const requests = await openHarness(page)
  const hubId = 'test-org/tiny-random-cross-encoder' // absent under /models/, present on the stand-in hub
  const remoteHost = new URL('/hub/', page.url()).href
  const off = await errorCode(page, `await api.createWinnow({ reranker: { model: '${hubId}', dtype: 'fp32' }, remoteHost: '${remoteHost}' })`)
  expect(off.code).toBe('MODEL_LOAD_FAILED')
  expect(requests.filter((u) => u.includes('/hub/'))).toEqual([])
  const logit = await page.evaluate(
    async ({ model, remoteHost, pair }) => {
      const w = await (window as any).winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' }, allowRemoteModels: true, remoteHost })
      const r = await w.rerank(pair.query, [pair.document])
      await w.dispose()
      return r[0].logit
    },
    { model: hubId, remoteHost, pair: reference[1]! },
  )
  expect(Math.abs(logit - reference[1]!.logit)).toBeLessThan(1e-4)
  expect(requests.some((u) => u.includes('/hub/test-org/tiny-random-cross-encoder/resolve/main/onnx/model.onnx'))).toBe(true)
})

test('an HTML page served instead of a model file is named as such', async ({ page }) => {
  await page.route('**/spa/**', (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><html><body>app shell</body></html>' }),
  )
  await openHarness(page)
  const err = await errorCode(page, `await api.createWinnow({ modelBaseUrl: '/spa/', reranker: { model: '${TINY}', dtype: 'fp32' } })`)
  expect(err.code).toBe('MODEL_LOAD_FAILED')
  expect(err.details.html).toBe(true)
  expect(err.details.url).toContain('/spa/')
})

test('a dtype without a file is UNSUPPORTED_DTYPE naming the ones that exist; fp16 without shader-f16 too', async ({ page }) => {
  await openHarness(page)
  const missing = await errorCode(page, `await api.createWinnow({ reranker: { model: '${TINY}', dtype: { wasm: 'q4' , webgpu: 'q4' } , maxLength: 64 }, device: 'wasm' }).then(w => w.dispose()); await api.createWinnow({ reranker: { model: '${TINY}', dtype: 'q4f16' }, device: 'webgpu' })`)
  expect(missing.code).toBe('UNSUPPORTED_DTYPE') // SwiftShader has no shader-f16
  const absent = await errorCode(page, `await api.createWinnow({ reranker: { model: '${TINY}', dtype: 'fp16' }, device: 'wasm' })`)
  expect(absent.code).toBe('UNSUPPORTED_DTYPE')
  // A dtype the device can run but the folder lacks: route q4 away and ask for it.
  await page.route('**/models/tiny-random-cross-encoder/onnx/model_q4.onnx', (r) => r.fulfill({ status: 404, body: 'nope' }))
  const gone = await errorCode(page, `await api.createWinnow({ reranker: { model: '${TINY}', dtype: 'q4' }, device: 'wasm', cache: false })`)
  expect(gone.code).toBe('UNSUPPORTED_DTYPE')
  expect(gone.details.available).toEqual(['fp32', 'q8'])
})

test('bad input is INVALID_INPUT; calls after dispose are DISPOSED', async ({ page }) => {
  await openHarness(page)
  await page.evaluate(async (model) => {
    ;(window as any).w = await (window as any).winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' } })
  }, TINY)
  const codes = []
  for (const body of [
    `await window.w.rerank(42, ['a'])`,
    `await window.w.rerank('q', 'not an array')`,
    `await window.w.rerank('q', ['ok', 7])`,
    `await window.w.rerank('q', [{ id: 1, text: 'x' }])`,
    `await window.w.rerank('q', ['a'], { topK: -1 })`,
    `await api.createWinnow({ device: 'gpu' })`,
    `await api.createWinnow({ reranker: { maxLength: 0 } })`,
  ]) {
    codes.push((await errorCode(page, body)).code)
  }
  expect(codes).toEqual(Array(7).fill('INVALID_INPUT'))
  const afterDispose = await errorCode(page, `await window.w.dispose(); await window.w.rerank('q', ['a'])`)
  expect(afterDispose.code).toBe('DISPOSED')
})

test('model and WASM files are cached: a second visit works with them unreachable, and no request leaves the origin', async ({ page, context }) => {
  const requests = await openHarness(page)
  const first = await page.evaluate(async ({ model, pair }) => {
    const w = await (window as any).winnowApi.createWinnow({ reranker: { model, dtype: 'q8' } })
    const r = await w.rerank(pair.query, [pair.document])
    await w.dispose()
    return r[0].logit
  }, { model: TINY, pair: reference[4]! })
  const blocked: string[] = []
  await context.route(/\/(models|ort)\//, (route) => {
    blocked.push(route.request().url())
    return route.abort('internetdisconnected')
  })
  await page.reload()
  await page.waitForFunction(() => (window as any).harnessReady === true)
  const second = await page.evaluate(async ({ model, pair }) => {
    const w = await (window as any).winnowApi.createWinnow({ reranker: { model, dtype: 'q8' } })
    const r = await w.rerank(pair.query, [pair.document])
    await w.dispose()
    return r[0].logit
  }, { model: TINY, pair: reference[4]! })
  expect(second).toBe(first)
  const origin = new URL(page.url()).origin
  const foreign = requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('blob:' + origin + '/'))
  expect(foreign).toEqual([])
  expect(requests.some((u) => u.includes('/models/'))).toBe(true)
  // Range probes for cached files may still be attempted and fail; every file came from the cache.
  expect(blocked.every((u) => u.startsWith(origin))).toBe(true)
})

test('WASM threads: the threads option is honoured; a page that is not cross-origin isolated uses 1 thread', async ({ page }) => {
  await openHarness(page)
  const one = await page.evaluate(async (model) => {
    const w = await (window as any).winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' }, threads: 1 })
    const t = w.device.threads
    await w.dispose()
    return t
  }, TINY)
  expect(one).toBe(1)
  await page.route('**' + HARNESS, async (route) => {
    const response = await route.fetch()
    const headers = { ...response.headers() }
    delete headers['cross-origin-opener-policy']
    delete headers['cross-origin-embedder-policy']
    await route.fulfill({ response, headers })
  })
  await page.reload()
  await page.waitForFunction(() => (window as any).harnessReady === true)
  const plain = await page.evaluate(async (model) => {
    const w = await (window as any).winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' }, threads: 2 })
    const out = { threads: w.device.threads, reason: w.device.reason, isolated: crossOriginIsolated }
    await w.dispose()
    return out
  }, TINY)
  expect(plain.isolated).toBe(false)
  expect(plain.threads).toBe(1)
  expect(plain.reason).toMatch(/not cross-origin isolated/)
})
