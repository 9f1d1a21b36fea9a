import { expect, test } from '@playwright/test'

test('the demo loads the embedded model, reranks the passages and shows device, scores and timing', async ({ page }) => {
  const requests: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  await page.goto('/demo/')
  await expect(page.locator('#results li')).toHaveCount(5)
  await expect(page.locator('#status')).toContainText('tiny-random-cross-encoder (q8) on wasm, 2 threads')
  await expect(page.locator('#timing')).toContainText('6 passages reranked in')
  const scores = await page.locator('#results .score').allTextContents()
  const values = scores.map(Number)
  expect(values.every((v) => v > 0 && v < 1)).toBe(true)
  expect([...values].sort((a, b) => b - a)).toEqual(values)
  // A passage with markup is shown as text.
  await page.fill('#passages', '<img src=x onerror="window.injected=1">\nplain passage')
  await page.click('#rerank')
  await expect(page.locator('#results li')).toHaveCount(2)
  await expect(page.locator('#results')).toContainText('<img src=x')
  expect(await page.evaluate(() => (window as any).injected)).toBeUndefined()
  await page.screenshot({ path: 'test-results/artifacts/demo.png', fullPage: true })
  const origin = new URL(page.url()).origin
  expect(requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('blob:'))).toEqual([])
})
