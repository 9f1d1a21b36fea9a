import { expect, test } from '@playwright/test'

// The format v2 migration cases of test/unit/storageMigration.test.ts, over Chromium's real
// IndexedDB: real schema-1 databases (test/fixtures/storage/v1.json) opened with today's code.
// Each case runs in a fresh browser context, so each starts with empty storage.
for (const name of ['kw', 'vec'] as const) {
  test(`format v2 migration in Chromium: ${name} answers as schema 1 did; postings packed, each text stored once`, async ({ page }) => {
    await page.goto('/test/browser/pages/contract.html')
    await page.waitForFunction(() => (window as any).contractReady === true)
    expect(await page.evaluate((n) => (window as any).runMigrationCase(n), name)).toEqual({ outcome: 'ok' })
  })
}

test('format v2 migration in Chromium: failing at any request leaves schema 1 as it was; the next open migrates it', async ({ page }) => {
  await page.goto('/test/browser/pages/contract.html')
  await page.waitForFunction(() => (window as any).contractReady === true)
  const result = await page.evaluate(() => (window as any).runMigrationCase('kill points'))
  expect(result.outcome).toBe('ok')
  expect(result.killPoints).toBeGreaterThan(50)
})
