/**
 * The reranking playground (demo/index.html) in test mode: no self-hosted real models here and the
 * hub turned off (`?hub=off`), so it runs the random-weight fixture and must say so, keep the
 * passages in the order given until the random reranker is switched on, rerank on Enter, and clear
 * its results when a load fails. The hub and self-hosted paths: demo-models.spec.ts.
 */
import { expect, test, type Page } from '@playwright/test'
import { demoModels } from './demo-helpers.js'

const PAGE = '/demo/?hub=off'

async function shown(page: Page): Promise<{ index: number; text: string; score: number | null }[]> {
  return page.$$eval('#results li', (items) =>
    items.map((li) => ({
      index: Number((li as HTMLElement).dataset.index),
      text: li.lastChild!.textContent!,
      score: li.querySelector('.score') ? Number(li.querySelector('.score')!.textContent) : null,
    })),
  )
}

test('test mode: bannered, the random model named as such, passages kept in the order given until the random reranker is switched on', async ({ page }) => {
  const requests: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  await page.goto(PAGE)
  await expect(page.locator('#model-status')).toContainText('tiny-random-cross-encoder (q8) on wasm, 2 threads')
  await expect(page.locator('#test-banner')).toBeVisible()
  await expect(page.locator('#test-banner')).toContainText('Test mode — random weights, results are meaningless.')
  await expect(page.locator('#test-why')).toHaveText('No real models are self-hosted at /models/, and the hub is turned off (?hub=off).')
  await expect(page.locator('#model-source')).toHaveText('Test model tiny-random-cross-encoder: random weights, results are meaningless.')
  await expect(page.locator('#hub-offer')).toBeHidden()
  expect((await demoModels(page)).source).toMatchObject({ kind: 'test', why: 'hub-off', offer: null })

  // The reranker does not reorder: the first five passages, as given, without scores.
  await expect(page.locator('#results')).toHaveAttribute('data-order', 'input')
  const given = await page.locator('#passages').inputValue()
  const asGiven = await shown(page)
  expect(asGiven.map((r) => r.index)).toEqual([0, 1, 2, 3, 4])
  expect(asGiven.map((r) => r.text)).toEqual(given.split('\n').slice(0, 5))
  expect(asGiven.every((r) => r.score === null)).toBe(true)
  await expect(page.locator('#timing')).toHaveText('5 of 6 passages in the order given: the random test reranker is off.')

  // The plumbing check: the random reranker scores and orders them.
  await page.check('#random-rerank')
  await expect(page.locator('#results')).toHaveAttribute('data-order', 'reranked')
  await expect(page.locator('#timing')).toContainText('6 passages reranked in')
  const reranked = await shown(page)
  expect(reranked).toHaveLength(5)
  const scores = reranked.map((r) => r.score!)
  expect(scores.every((v) => v > 0 && v < 1)).toBe(true)
  expect([...scores].sort((a, b) => b - a)).toEqual(scores)
  await page.uncheck('#random-rerank')
  await expect(page.locator('#results')).toHaveAttribute('data-order', 'input')

  // Nothing but this origin: no hub was asked.
  const origin = new URL(page.url()).origin
  expect(requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('blob:'))).toEqual([])
  expect(requests.some((u) => u.includes('/hub/'))).toBe(false)
})

test('Enter in the query reranks; a passage with markup is shown as text', async ({ page }) => {
  await page.goto(PAGE)
  await expect(page.locator('#model-status')).toContainText('tiny-random-cross-encoder (q8)')
  await page.check('#random-rerank')
  await expect(page.locator('#results li')).toHaveCount(5)
  await page.fill('#passages', '<img src=x onerror="window.injected=1">\nplain passage')
  await page.locator('#query').fill('a different question')
  await page.locator('#query').press('Enter')
  await expect(page.locator('#results li')).toHaveCount(2)
  await expect(page.locator('#timing')).toContainText('2 passages reranked in')
  await expect(page.locator('#results')).toContainText('<img src=x')
  expect(await page.evaluate(() => (window as unknown as { injected?: number }).injected)).toBeUndefined()
  // Enter in the query works in the order-given mode too.
  await page.uncheck('#random-rerank')
  await page.fill('#passages', 'one\ntwo\nthree')
  await page.locator('#query').press('Enter')
  await expect(page.locator('#results li')).toHaveCount(3)
  expect((await shown(page)).map((r) => r.text)).toEqual(['one', 'two', 'three'])
})

test('a failed load clears the results it would leave behind, and a retry works', async ({ page }) => {
  await page.goto(PAGE)
  await page.check('#random-rerank')
  await expect(page.locator('#results li')).toHaveCount(5)
  // fp16 on WASM (and the fixtures have no fp16 weights either): this load fails.
  await page.selectOption('#dtype', 'fp16')
  await page.click('#load')
  await expect(page.locator('#model-status')).toContainText(/^Load failed: (UNSUPPORTED_DTYPE|MODEL_LOAD_FAILED): /)
  await expect(page.locator('#results li')).toHaveCount(0)
  await expect(page.locator('#timing')).toHaveText('')
  await expect(page.locator('#rerank')).toBeDisabled()
  await page.selectOption('#dtype', 'q8')
  await page.click('#load')
  await expect(page.locator('#model-status')).toContainText('tiny-random-cross-encoder (q8) on wasm')
  await expect(page.locator('#results li')).toHaveCount(5)
})
