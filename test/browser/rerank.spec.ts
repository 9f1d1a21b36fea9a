import { expect, test } from '@playwright/test'
import { crossEncoderReference, openHarness } from './helpers.js'

test('WASM fp32 scores equal the PyTorch reference', async ({ page }) => {
  await openHarness(page)
  const ref = crossEncoderReference()
  const out = await page.evaluate(async (pairs) => {
    const { createWinnow } = (window as any).winnowApi
    const winnow = await createWinnow({ reranker: { model: 'tiny-random-cross-encoder', dtype: 'fp32' }, device: 'wasm' })
    const results = []
    for (const p of pairs) results.push((await winnow.rerank(p.query, [p.document]))[0])
    const device = winnow.device
    await winnow.dispose()
    return { results, device }
  }, ref)
  console.log(JSON.stringify(out.device))
  out.results.forEach((r: any, i: number) => expect(Math.abs(r.logit - ref[i]!.logit)).toBeLessThan(1e-4))
})
