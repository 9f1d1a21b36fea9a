import { expect, test } from '@playwright/test'
import { CHROMIUM, CHROMIUM_ARGS } from '../../playwright.config.js'
import { errorCode, openHarness, TINY } from './helpers.js'

// Chromium without --enable-unsafe-webgpu on this Linux: navigator.gpu exists but offers no adapter.
test.use({ launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu') } })

test('explicit webgpu is WEBGPU_UNAVAILABLE; auto falls back to WASM and says why', async ({ page }) => {
  await openHarness(page)
  const err = await errorCode(page, `await api.createWinnow({ reranker: { model: '${TINY}' }, device: 'webgpu' })`)
  expect(err.code).toBe('WEBGPU_UNAVAILABLE')
  const device = await page.evaluate(async (model) => {
    const w = await (window as any).winnowApi.createWinnow({ reranker: { model } })
    const d = w.device
    await w.dispose()
    return d
  }, TINY)
  expect(device.kind).toBe('wasm')
  expect(device.reason).toMatch(/no WebGPU/)
})
