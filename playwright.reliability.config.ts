import { defineConfig } from '@playwright/test'
import { CHROMIUM, CHROMIUM_ARGS } from './playwright.config.js'

/**
 * The reliability suite (test/reliability): fuzz, concurrency, hostile documents (and the crash,
 * model-fault and quota specs beside them). `npm run test:reliability` runs it through
 * test/reliability/run.mjs, which prints the figures each spec writes; RELIABILITY_SCALE=ci is the
 * shorter run of .ci/run. Same browser, flags and server as playwright.config.ts, including
 * WINNOW_TEST_PORT and WINNOW_TEST_DIST (a `vite build --outDir`).
 */
const PORT = Number(process.env.WINNOW_TEST_PORT ?? 4173)
const DIST = process.env.WINNOW_TEST_DIST ?? 'dist-app'
// Where the specs write their figures (test/reliability/figures.ts); Playwright's output goes beside them.
const RESULTS = process.env.RELIABILITY_RESULTS ?? 'test-results/reliability'

export default defineConfig({
  testDir: 'test/reliability',
  // Each spec sets its own timeout from the scale; this is the default for small ones.
  timeout: 300_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  // Not 'test-results' itself: Playwright empties its outputDir, and the figures live beside it.
  outputDir: `${RESULTS}-output`,
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
    screenshot: 'only-on-failure',
  },
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort --outDir ${DIST}`,
    url: `http://127.0.0.1:${PORT}/test/reliability/pages/fuzz.html`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
})
