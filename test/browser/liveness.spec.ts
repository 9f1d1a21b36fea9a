/**
 * No call can hang: a worker that lives but is stuck is found by the page's heartbeat while calls
 * are pending, stopped, and its calls rejected with WORKER_UNRESPONSIVE; the next call runs on a
 * fresh worker. The worker is made to hang from outside, through the DevTools protocol (nothing in
 * winnow knows about the test, and no page can do this by accident): an endless loop evaluated in
 * it (a blocked event loop: no heartbeat answered), and a WebGPU readback that never completes (the
 * event loop free, the call making no progress). A long run of short batches is not taken for a hang.
 */
import { expect, test, type Page, type Worker } from '@playwright/test'
import { crossEncoderReference, openHarness, TINY } from './helpers.js'

const reference = crossEncoderReference()
/**
 * Short, so each test takes seconds (the option's minimum is 500 ms). WebGPU gets more: on
 * SwiftShader, the first batch of each new input shape compiles its shaders in one step, which
 * takes seconds on a busy machine (the default, 60 s, leaves a real GPU a wide margin).
 */
const HANG_TIMEOUT_MS = { wasm: 2000, webgpu: 10_000 }

/** The page's winnow worker (not onnxruntime's pthread workers), the newest one. */
function winnowWorker(page: Page): Worker {
  const workers = page.workers().filter((w) => /\/assets\/worker-[^/]*\.js$/.test(w.url()))
  if (workers.length === 0) throw new Error(`no winnow worker among ${page.workers().map((w) => w.url()).join(', ')}`)
  return workers[workers.length - 1]!
}

/** Starts an instance and a rerank of many documents (many batches); their outcomes go to window. */
async function startLongRerank(page: Page, device: 'wasm' | 'webgpu', documents: number): Promise<void> {
  await page.evaluate(
    async ({ model, device, documents, hangTimeoutMs }) => {
      const w = window as any
      w.instance = await w.winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' }, device, hangTimeoutMs })
      await w.instance.rerank('warm up', ['the first run compiles what it needs'])
      const docs = Array.from({ length: documents }, (_, i) => `document ${i} about the quick brown fox and the lazy dog `.repeat(4))
      const outcome = (p: Promise<unknown>) => p.then(() => ({ code: 'resolved' }), (e: any) => ({ code: e.code, details: e.details, message: e.message }))
      w.started = performance.now()
      w.outcome = outcome(w.instance.rerank('quick fox', docs))
      w.queued = outcome(w.instance.rerank('quick fox', ['a call queued behind it']))
    },
    { model: TINY, device, documents, hangTimeoutMs: HANG_TIMEOUT_MS[device] },
  )
}

/** The outcomes of the long and the queued call, then a reference pair on the same instance. */
async function outcomesAndNextCall(page: Page) {
  return page.evaluate(async (pair) => {
    const w = window as any
    const outcome = await w.outcome
    const queued = await w.queued
    const next = await w.instance.rerank(pair.query, [pair.document])
    const device = w.instance.device.kind
    await w.instance.dispose()
    return { outcome, queued, nextLogit: next[0].logit, device }
  }, reference[0]!)
}

test('a worker stuck in an endless loop (no heartbeat answered) is stopped: pending calls reject with WORKER_UNRESPONSIVE (silent), the next call works', async ({ page }) => {
  await openHarness(page)
  await startLongRerank(page, 'wasm', 4000)
  // Never settles: the loop runs until the page terminates the worker.
  void winnowWorker(page).evaluate('for (;;) {}').catch(() => {})
  const out = await outcomesAndNextCall(page)
  expect(out.outcome.code, out.outcome.message).toBe('WORKER_UNRESPONSIVE')
  expect(out.outcome.details).toMatchObject({ reason: 'silent', hangTimeoutMs: HANG_TIMEOUT_MS.wasm })
  expect(out.queued.code).toBe('WORKER_UNRESPONSIVE')
  expect(Math.abs(out.nextLogit - reference[0]!.logit)).toBeLessThan(1e-4)
  expect(out.device).toBe('wasm')
})

test('a WebGPU readback that never completes (the worker answers, the call makes no progress) is stopped: WORKER_UNRESPONSIVE (stalled), the next call works', async ({ page }) => {
  await openHarness(page)
  await startLongRerank(page, 'webgpu', 400)
  // onnxruntime-web reads every result back through GPUBuffer.mapAsync: from now on, none completes.
  await winnowWorker(page).evaluate(() => {
    GPUBuffer.prototype.mapAsync = () => new Promise<undefined>(() => {})
    GPUQueue.prototype.onSubmittedWorkDone = () => new Promise<undefined>(() => {})
  })
  const out = await outcomesAndNextCall(page)
  expect(out.outcome.code, out.outcome.message).toBe('WORKER_UNRESPONSIVE')
  expect(out.outcome.details).toMatchObject({ reason: 'stalled', hangTimeoutMs: HANG_TIMEOUT_MS.webgpu })
  expect(out.queued.code).toBe('WORKER_UNRESPONSIVE')
  // The fresh worker has its own, unpatched GPU objects.
  expect(Math.abs(out.nextLogit - reference[0]!.logit)).toBeLessThan(1e-4)
  expect(out.device).toBe('webgpu')
})

test('a long rerank of many short batches is not taken for a hang', async ({ page }) => {
  await openHarness(page)
  await startLongRerank(page, 'wasm', 8000)
  const out = await page.evaluate(async () => {
    const w = window as any
    const outcome = await w.outcome
    const queued = await w.queued
    const ms = performance.now() - w.started
    await w.instance.dispose()
    return { outcome, queued, ms }
  })
  console.log(`[liveness] a rerank of 8,000 documents took ${Math.round(out.ms)} ms with hangTimeoutMs ${HANG_TIMEOUT_MS.wasm}`)
  expect(out.outcome).toEqual({ code: 'resolved' })
  expect(out.queued).toEqual({ code: 'resolved' })
})

test('hangTimeoutMs is checked: too small or not a number is INVALID_INPUT', async ({ page }) => {
  await openHarness(page)
  const codes = await page.evaluate(async (model) => {
    const api = (window as any).winnowApi
    const out: string[] = []
    for (const hangTimeoutMs of [0, 10, 'soon', Number.NaN]) {
      out.push(await api.createWinnow({ reranker: { model, dtype: 'fp32' }, hangTimeoutMs }).then((w: any) => (w.dispose(), 'resolved'), (e: any) => e.code))
    }
    return out
  }, TINY)
  expect(codes).toEqual(['INVALID_INPUT', 'INVALID_INPUT', 'INVALID_INPUT', 'INVALID_INPUT'])
})
