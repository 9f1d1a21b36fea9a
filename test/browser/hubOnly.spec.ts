/**
 * `modelBaseUrl: null`: the hub only. The model comes from the hub's URL layout (the stand-in under
 * /hub/ serves the tiny fixture as Xenova/ms-marco-MiniLM-L-6-v2) without first asking /models/
 * for each file, which would log a 404 per file in the console.
 */
import { expect, test } from '@playwright/test'
import { crossEncoderReference, maxAbsDiff, openHarness } from './helpers.js'

test('modelBaseUrl: null loads from the hub alone, with no request to /models/', async ({ page }) => {
  const requests = await openHarness(page)
  const statuses: number[] = []
  page.on('response', (r) => statuses.push(r.status()))
  const reference = crossEncoderReference()
  const out = await page.evaluate(async (pairs) => {
    const { createWinnow } = (window as any).winnowApi
    const winnow = await createWinnow({
      reranker: { model: 'Xenova/ms-marco-MiniLM-L-6-v2', dtype: 'fp32' },
      modelBaseUrl: null,
      allowRemoteModels: true,
      remoteHost: `${location.origin}/hub/`,
      cache: false,
    })
    const logits: number[] = []
    for (const p of pairs) logits.push((await winnow.rerank(p.query, [p.document]))[0].logit)
    await winnow.dispose()
    let code = 'resolved'
    try {
      await createWinnow({ modelBaseUrl: null })
    } catch (e: any) {
      code = e.code
    }
    return { logits, code }
  }, reference)
  expect(maxAbsDiff(out.logits, reference.map((p) => p.logit))).toBeLessThan(1e-4)
  expect(requests.filter((u) => u.includes('/models/'))).toEqual([])
  expect(requests.some((u) => u.includes('/hub/Xenova/ms-marco-MiniLM-L-6-v2/resolve/main/onnx/model.onnx'))).toBe(true)
  expect(statuses.filter((s) => s >= 400)).toEqual([])
  expect(out.code).toBe('INVALID_INPUT') // null without allowRemoteModels: nowhere to load from
})
