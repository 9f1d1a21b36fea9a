import { expect, test } from '@playwright/test'

// The migration cases of test/unit/storageMigration.test.ts, over Chromium's real IndexedDB: real
// schema-1 to -6 databases (test/fixtures/storage/v1.json … v6.json) opened with today's code.
// The kill points run over 'kw' migrations, and over v5's and v6's 'vec' (schema 6 moves their
// fp32 rows, schema 7 their lists).
// Each case runs in a fresh browser context, so each starts with empty storage.
for (const schema of ['v1', 'v2', 'v3', 'v4', 'v5', 'v6'] as const) {
  for (const name of ['kw', 'vec'] as const) {
    test(`storage migration in Chromium: ${schema} ${name} answers as before; postings packed, documents in passage blocks, each text once, segments' documents as columns`, async ({ page }) => {
      await page.goto('/test/browser/pages/contract.html')
      await page.waitForFunction(() => (window as any).contractReady === true)
      expect(await page.evaluate(([s, n]) => (window as any).runMigrationCase(s, n), [schema, name] as const)).toEqual({ outcome: 'ok' })
    })
  }

  test(`storage migration in Chromium: failing at any request leaves ${schema} as it was; the next open migrates it`, async ({ page }) => {
    await page.goto('/test/browser/pages/contract.html')
    await page.waitForFunction(() => (window as any).contractReady === true)
    const result = await page.evaluate((s) => (window as any).runMigrationCase(s, 'kill points'), schema)
    expect(result.outcome).toBe('ok')
    expect(result.killPoints).toBeGreaterThanOrEqual({ v1: 51, v2: 6, v3: 2, v4: 7, v5: 15, v6: 5 }[schema])
  })
}
