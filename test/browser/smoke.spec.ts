/**
 * How users get winnow: `npm pack` → install the tarball into a fresh Vite app that uses the
 * `winnow/vite` plugin → `vite build` → rerank in Chromium from the built app (worker and WASM
 * files come from the package, not from this repo's build).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from '@playwright/test'
import { crossEncoderReference, maxAbsDiff } from './helpers.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const PORT = 4174
let app = ''
let server: ChildProcess | undefined

test.describe.configure({ timeout: 420_000 })

test.beforeAll(async () => {
  test.setTimeout(420_000)
  app = mkdtempSync(join(tmpdir(), 'winnow-smoke-'))
  const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, stdio: 'pipe', env: { ...process.env, npm_config_loglevel: 'error' } })
  npm(['pack', '--pack-destination', app], root)
  const tarball = readdirSync(app).find((f) => f.endsWith('.tgz'))!
  const vite = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("vite/package.json").version)'], { cwd: root }).toString())
  writeFileSync(join(app, '.npmrc'), 'onnxruntime-node-install=skip\n')
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'smoke-app', private: true, type: 'module', dependencies: { winnow: `file:./${tarball}`, vite } }, null, 2),
  )
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline'], app)
  writeFileSync(join(app, 'vite.config.js'), `import { winnow } from 'winnow-rerank/vite'\nexport default { plugins: [winnow()] }\n`)
  writeFileSync(
    join(app, 'index.html'),
    `<!doctype html><html><body><script type="module">
import { createWinnow, WinnowError } from 'winnow-rerank'
window.run = async (pairs) => {
  const winnow = await createWinnow({ reranker: { model: 'tiny-random-cross-encoder', dtype: 'fp32' } })
  const logits = []
  for (const p of pairs) logits.push((await winnow.rerank(p.query, [p.document]))[0].logit)
  const out = { logits, device: winnow.device, isError: typeof WinnowError === 'function' }
  await winnow.dispose()
  return out
}
window.ready = true
</script></body></html>`,
  )
  cpSync(join(root, 'test/fixtures/models/tiny-random-cross-encoder'), join(app, 'public/models/tiny-random-cross-encoder'), { recursive: true })
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build'], { cwd: app, stdio: 'pipe' })
  server = spawn(process.execPath, ['node_modules/vite/bin/vite.js', 'preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'], {
    cwd: app,
    stdio: 'ignore',
  })
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${PORT}/`).then((r) => r.ok, () => false)
    if (up) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('the smoke app did not start')
})

test.afterAll(() => {
  server?.kill()
  if (app) rmSync(app, { recursive: true, force: true })
})

test('a fresh Vite app that installs the packed tarball reranks in Chromium', async ({ page }) => {
  const requests: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  await page.goto(`http://127.0.0.1:${PORT}/`)
  await page.waitForFunction(() => (window as any).ready === true)
  const reference = crossEncoderReference()
  const out = await page.evaluate((pairs) => (window as any).run(pairs), reference)
  expect(out.isError).toBe(true)
  expect(maxAbsDiff(out.logits, reference.map((p) => p.logit))).toBeLessThan(1e-4)
  expect(out.device.kind).toBe('wasm')
  expect(out.device.threads).toBe(2) // the plugin served the app cross-origin isolated
  // WASM device: the plain build (14 MB), not the asyncify one WebGPU needs (27 MB)
  expect(requests.some((u) => u.endsWith('/ort/ort-wasm-simd-threaded.wasm'))).toBe(true)
  expect(requests.some((u) => u.includes('asyncify'))).toBe(false)
  expect(requests.every((u) => u.startsWith(`http://127.0.0.1:${PORT}/`) || u.startsWith('blob:'))).toBe(true)
})
