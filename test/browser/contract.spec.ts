import { expect, test } from '@playwright/test'
import { collectionContract } from '../contract/collectionContract.js'

// The same cases as test/unit/collection.contract.test.ts, over Chromium's real IndexedDB.
// Each case runs in a fresh browser context, so each starts with empty storage.
for (const name of Object.keys(collectionContract)) {
  test(`collection contract over Chromium IndexedDB: ${name}`, async ({ page }) => {
    await page.goto('/test/browser/pages/contract.html')
    await page.waitForFunction(() => (window as any).contractReady === true)
    const outcome = await page.evaluate((n) => (window as any).runContractCase(n), name)
    expect(outcome).toBe('ok')
  })
}
