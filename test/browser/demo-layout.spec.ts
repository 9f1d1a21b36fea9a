/**
 * The three demos on a phone-sized viewport (390×844): no horizontal overflow, with the widest
 * state each page has (the test banner and the hub offer shown, results on screen), and a
 * screenshot of each in test-results/ to look at. And a normal load of each, in test mode and
 * through the hub, logs no console error from the page or its workers.
 */
import { expect, test, type Page } from '@playwright/test'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { collectErrors, DEMOS, unexpectedErrors, waitLoaded, type DemoName } from './demo-helpers.js'

/** Puts results on the page, as a person trying it would. */
async function use(page: Page, name: DemoName): Promise<void> {
  if (name === 'main') {
    await page.locator('#query').press('Enter')
    await expect(page.locator('#results li').first()).toBeVisible()
  }
  if (name === 'rag') {
    await page.setInputFiles('#file-input', ['garden.txt', 'sourdough.md', 'lighthouse.html', 'observatory.pdf'].map((f) => join('test/fixtures/rag', f)))
    await expect(page.locator('#index-status')).toContainText(/^Indexed 4 files/)
    await page.fill('#question', 'Is there a heliostat?')
    await page.click('#ask')
    await expect(page.locator('#passages')).toHaveAttribute('data-answered', '1')
  }
  if (name === 'docs-search') {
    await page.locator('#q').fill('install the package')
    await page.waitForFunction(() => {
      const r = (window as unknown as { docsSearch: { lastResults(): { query: string; stage: string } } }).docsSearch.lastResults()
      return r.query === 'install the package' && r.stage === 'reranked'
    })
  }
}

for (const name of Object.keys(DEMOS) as DemoName[]) {
  test(`${name} demo at 390×844: nothing wider than the viewport`, async ({ page }, testInfo) => {
    test.setTimeout(180_000)
    await page.setViewportSize({ width: 390, height: 844 })
    // The stand-in hub makes the page show the banner and the offer at once.
    await page.goto(`${DEMOS[name]}?hub=/hub/`)
    await waitLoaded(page, name)
    await expect(page.locator('#test-banner')).toBeVisible()
    await expect(page.locator('#hub-offer')).toBeVisible()
    await use(page, name)
    const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: innerWidth }))
    // Whatever sticks out, named, for the failure message.
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > innerWidth + 0.5)
        .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ').join('.')}` : ''}`)
        .slice(0, 10),
    )
    expect(widths.inner).toBe(390)
    expect(widths.scroll, `wider than 390 px: ${wide.join(', ')}`).toBeLessThanOrEqual(widths.inner)
    mkdirSync('test-results', { recursive: true })
    const shot = await page.screenshot({ path: `test-results/demo-390-${name}.png`, fullPage: true })
    await testInfo.attach(`${name} at 390 px`, { body: shot, contentType: 'image/png' })
  })
}

for (const name of Object.keys(DEMOS) as DemoName[]) {
  for (const mode of ['test mode', 'the hub'] as const) {
    test(`${name} demo, ${mode}: a normal load and use log no console errors`, async ({ page }) => {
      test.setTimeout(180_000)
      const collected = collectErrors(page)
      await page.goto(`${DEMOS[name]}${mode === 'test mode' ? '?hub=off' : '?hub=/hub/'}`)
      await waitLoaded(page, name)
      if (mode === 'the hub') {
        await page.click('#use-hub')
        await page.waitForFunction(() => (window as unknown as { demoModels: { source: { kind: string } | null } }).demoModels.source?.kind === 'hub')
        // Loaded: the status names the real id (docs search: the page is searchable again).
        if (name === 'docs-search') await waitLoaded(page, name)
        else await expect(page.locator('#model-status')).toContainText('Xenova/ms-marco-MiniLM-L-6-v2 (q8)')
      }
      await use(page, name)
      const origin = new URL(page.url()).origin
      expect(unexpectedErrors(collected, origin)).toEqual([])
    })
  }
}
