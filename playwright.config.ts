import { defineConfig } from '@playwright/test'

/** Debian's Chromium (never a downloaded browser); flags keep it off the network. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
]

// Parallel work on one machine: WINNOW_TEST_PORT and WINNOW_TEST_DIST (a `vite build --outDir`) let
// two checkouts' test runs share it without serving each other's builds.
const PORT = Number(process.env.WINNOW_TEST_PORT ?? 4173)
const DIST = process.env.WINNOW_TEST_DIST ?? 'dist-app'

export default defineConfig({
  testDir: 'test/browser',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
    screenshot: 'only-on-failure',
  },
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort --outDir ${DIST}`,
    url: `http://127.0.0.1:${PORT}/test/browser/pages/harness.html`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
})
