import { expect, test } from '@playwright/test'
import { crossEncoderReference, maxAbsDiff, openHarness, scoreReference, TINY } from './helpers.js'
import { nodeLogits } from './node-reference.js'

const reference = crossEncoderReference()
const refLogits = reference.map((p) => p.logit)

test('WASM fp32 logits equal the PyTorch reference within 1e-4', async ({ page }) => {
  await openHarness(page)
  const run = await scoreReference(page, 'wasm', 'fp32')
  const delta = maxAbsDiff(run.logits, refLogits)
  console.log(`[figure] wasm fp32 max |Δ| vs PyTorch = ${delta.toExponential(2)}`)
  expect(delta).toBeLessThan(1e-4)
  expect(run.device.kind).toBe('wasm')
  expect(run.reranker).toMatchObject({ dtype: 'fp32', numLabels: 1, maxLength: 128 })
})

test('WebGPU (SwiftShader, explicit) fp32 and q4 logits equal the reference', async ({ page }) => {
  await openHarness(page)
  const fp32 = await scoreReference(page, 'webgpu', 'fp32')
  expect(fp32.device.kind).toBe('webgpu')
  expect(fp32.device.adapter?.isFallbackAdapter).toBe(true)
  const delta = maxAbsDiff(fp32.logits, refLogits)
  console.log(`[figure] webgpu fp32 max |Δ| vs PyTorch = ${delta.toExponential(2)}`)
  expect(delta).toBeLessThan(1e-4)
  // q4 (MatMulNBits) runs on the GPU; its own reference is the WASM q4 run.
  const q4gpu = await scoreReference(page, 'webgpu', 'q4')
  const q4wasm = await scoreReference(page, 'wasm', 'q4')
  const dq4 = maxAbsDiff(q4gpu.logits, q4wasm.logits)
  console.log(`[figure] q4 webgpu vs wasm max |Δ| = ${dq4.toExponential(2)}; q4 vs PyTorch fp32 = ${maxAbsDiff(q4wasm.logits, refLogits).toExponential(2)}`)
  expect(dq4).toBeLessThan(1e-4)
})

test('q8 in Chromium WASM agrees with q8 on onnxruntime-node (ranking, and within 5e-2)', async ({ page }) => {
  await openHarness(page)
  const run = await scoreReference(page, 'wasm', 'q8')
  const native = await nodeLogits(reference, 'q8')
  const delta = maxAbsDiff(run.logits, native)
  console.log(`[figure] q8 wasm vs onnxruntime-node max |Δ| = ${delta.toExponential(2)}; q8 vs PyTorch fp32 = ${maxAbsDiff(run.logits, refLogits).toExponential(2)}`)
  expect(run.reranker.dtype).toBe('q8')
  expect(delta).toBeLessThan(5e-2)
  const order = (xs: number[]) => xs.map((x, i) => [x, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i)
  expect(order(run.logits)).toEqual(order(native))
})

test('auto does not pick the SwiftShader fallback adapter, and says why', async ({ page }) => {
  await openHarness(page)
  const device = await page.evaluate(async (model) => {
    const winnow = await (window as any).winnowApi.createWinnow({ reranker: { model } })
    const d = winnow.device
    const dtype = winnow.reranker.dtype
    await winnow.dispose()
    return { ...d, dtype }
  }, TINY)
  expect(device.kind).toBe('wasm')
  expect(device.reason).toMatch(/fallback/)
  expect(device.adapter.isFallbackAdapter).toBe(true)
  expect(device.dtype).toBe('q8') // the WASM default
  expect(device.threads).toBe(2) // cross-origin isolated page, 2 cores
})

test('rerank sorts by score, is stable on ties, honours topK, carries ids and scores in 0..1', async ({ page }) => {
  await openHarness(page)
  const query = reference[2]!.query
  const docs = reference.map((p) => p.document)
  const out = await page.evaluate(
    async ({ model, query, docs }) => {
      const winnow = await (window as any).winnowApi.createWinnow({ reranker: { model, dtype: 'fp32', batchTokens: 40 } })
      const all = await winnow.rerank(query, docs)
      const objects = await winnow.rerank(query, docs.map((text: string, i: number) => ({ id: `d${i}`, text })), { topK: 3 })
      const ties = await winnow.rerank(query, [docs[0], docs[1], docs[0], docs[0]])
      const alone = []
      for (const d of docs) alone.push((await winnow.rerank(query, [d]))[0].logit)
      const empty = await winnow.rerank(query, [])
      await winnow.dispose()
      return { all, objects, ties, alone, empty }
    },
    { model: TINY, query, docs },
  )
  const expected = out.alone.map((l, i) => [l, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i)
  expect(out.all.map((r: any) => r.index)).toEqual(expected)
  // batched (batchTokens 40 forces several batches) equals scoring each pair alone
  const batched = out.all.slice().sort((a: any, b: any) => a.index - b.index).map((r: any) => r.logit)
  expect(maxAbsDiff(batched, out.alone)).toBeLessThan(1e-4)
  for (const r of out.all) {
    expect(r.score).toBeGreaterThan(0)
    expect(r.score).toBeLessThan(1)
    expect(r.score).toBeCloseTo(1 / (1 + Math.exp(-r.logit)), 6)
    expect(r.id).toBeUndefined()
    expect(r.truncated).toEqual({ query: false, document: false })
  }
  expect(out.objects.map((r: any) => r.id)).toEqual(expected.slice(0, 3).map((i) => `d${i}`))
  // duplicates score equally; ties keep input order
  const dupes = out.ties.filter((r: any) => r.index !== 1).map((r: any) => r.index)
  expect(dupes).toEqual([0, 2, 3])
  expect(out.empty).toEqual([])
})

test('long passages are cut, long queries are cut and reported', async ({ page }) => {
  await openHarness(page)
  const out = await page.evaluate(async (model) => {
    const winnow = await (window as any).winnowApi.createWinnow({ reranker: { model, dtype: 'fp32', maxQueryLength: 8 } })
    const long = 'the cat sat on the mat '.repeat(200)
    const a = await winnow.rerank('cats', [long, 'dogs and cats'])
    const b = await winnow.rerank('what is the capital city of france and its river and its weather', ['paris'])
    await winnow.dispose()
    return { a, b }
  }, TINY)
  const byIndex = Object.fromEntries(out.a.map((r: any) => [r.index, r.truncated]))
  expect(byIndex[0]).toEqual({ query: false, document: true })
  expect(byIndex[1]).toEqual({ query: false, document: false })
  expect(out.b[0].truncated).toEqual({ query: true, document: false })
  expect(Number.isFinite(out.b[0].logit)).toBe(true)
})

test('progress reports each file and an overall fraction reaching 1', async ({ page }) => {
  await openHarness(page)
  const events = await page.evaluate(async (model) => {
    const events: any[] = []
    const winnow = await (window as any).winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' }, onProgress: (e: any) => events.push(e) })
    await winnow.dispose()
    return events
  }, TINY)
  const files = new Set(events.map((e) => e.file))
  expect(files).toContain('onnx/model.onnx')
  expect(files).toContain('tokenizer.json')
  const last = events.at(-1)
  expect(last.status).toBe('ready')
  expect(last.overall).toBe(1)
  const model = events.filter((e) => e.file === 'onnx/model.onnx' && e.status === 'progress').at(-1)
  expect(model.loaded).toBe(model.total)
  expect(model.total).toBeGreaterThan(100_000)
  for (const e of events) expect(e.overall).toBeGreaterThanOrEqual(0)
})
