/**
 * A self-hosted folder with only q8 weights (what `models pull --dtype q8` leaves) on a WebGPU
 * device, whose default is q4: winnow loads q8 instead and says so, unless the caller chose q4.
 */
import { expect, test } from '@playwright/test'
import { crossEncoderReference, openHarness, TINY } from './helpers.js'

test('with no q4 file, the WebGPU default falls back to q8; a chosen q4 is UNSUPPORTED_DTYPE', async ({ page }) => {
  // The folder loses its q4 weights (HEAD probes and GETs alike).
  await page.route(`**/models/${TINY}/onnx/model_q4.onnx`, (route) => route.fulfill({ status: 404, body: 'not found' }))
  await openHarness(page)
  const out = await page.evaluate(
    async ({ model, pairs }) => {
      const { createWinnow } = (window as any).winnowApi
      const winnow = await createWinnow({ device: 'webgpu', reranker: { model } })
      const logits: number[] = []
      for (const p of pairs) logits.push((await winnow.rerank(p.query, [p.document]))[0].logit)
      const result = { kind: winnow.device.kind, dtype: winnow.reranker.dtype, logits }
      await winnow.dispose()
      let pinned = 'resolved'
      let available: string[] = []
      try {
        await (await createWinnow({ device: 'webgpu', reranker: { model, dtype: 'q4' } })).dispose()
      } catch (e: any) {
        pinned = e.code
        available = e.details?.available ?? []
      }
      return { ...result, pinned, available }
    },
    { model: TINY, pairs: crossEncoderReference() },
  )
  expect(out.kind).toBe('webgpu')
  expect(out.dtype).toBe('q8')
  // q8 against the fp32 reference: the same ranking of each query's documents.
  const reference = crossEncoderReference()
  const order = (xs: number[]) => xs.map((x, i) => [x, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i)
  expect(order(out.logits)).toEqual(order(reference.map((p) => p.logit)))
  expect(out.pinned).toBe('UNSUPPORTED_DTYPE')
  expect(out.available).toContain('q8')
  expect(out.available).not.toContain('q4')
})
