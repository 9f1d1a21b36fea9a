// What the Chromium benchmarks share: build the library and the test pages, serve them
// cross-origin isolated (vite preview, as the tests do), and Chromium's launch options. Pages are
// built into dist-bench/<port>/, so a benchmark never rebuilds what a test server or another
// benchmark serves.
import { execFileSync, spawn } from 'node:child_process'

/** Debian's Chromium, kept off the network (the flags the tests use). */
export const CHROMIUM_OPTIONS = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
}

/**
 * Builds dist/ and dist-bench/<port>/, then serves them on `port`; resolves once the server answers.
 *
 * @example
 * const server = await serveBuiltApp(4177)
 * // … page.goto(`http://127.0.0.1:4177/test/browser/pages/harness.html`) …
 * server.kill()
 */
export async function serveBuiltApp(port) {
  execFileSync('node', ['scripts/build-lib.mjs'], { stdio: 'inherit' })
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn', '--outDir', `dist-bench/${port}`], { stdio: 'inherit' })
  const server = spawn(process.execPath, ['node_modules/vite/bin/vite.js', 'preview', '--outDir', `dist-bench/${port}`, '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { stdio: 'ignore' })
  for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 200))
  return server
}
