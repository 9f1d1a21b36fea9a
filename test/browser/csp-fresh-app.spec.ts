/**
 * A new user's app under the strict policy of issue #22: the packed package installed by name into
 * a fresh Vite app (scripts/fresh-app.mjs, as quickstart.spec.ts does), its Vite plugin, a
 * production build, and that build served by test/browser/csp-server.ts with COOP, COEP and
 *   default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self';
 *   style-src 'self'; require-trusted-types-for 'script'; trusted-types winnow-rerank
 * on every response. The app loads a reranker and an embedder, reranks, searches a collection and
 * renders a snippet with highlightNodes(), on WASM (with threads) and on WebGPU; no violation is
 * reported by the page or by any worker. This is the published worker (dist/worker/worker.js,
 * bundled by the package build), not the demos' build from source. The last test serves the same
 * build with the nginx configuration of docs/guides/security-headers.md, read from the page.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test, type Page } from '@playwright/test'
import { createViteApp, packTarball } from '../../scripts/fresh-app.mjs'
import { startCspServer, STRICT_CSP, type CspServer } from './csp-server.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const CSP = `${STRICT_CSP}; require-trusted-types-for 'script'; trusted-types winnow-rerank`

const MAIN = `import { createWinnow, highlightNodes } from 'winnow-rerank'

async function main() {
  const device = new URLSearchParams(location.search).get('device') === 'webgpu' ? 'webgpu' : 'wasm'
  const winnow = await createWinnow({
    reranker: { model: 'tiny-random-cross-encoder' },
    embedder: { model: 'tiny-random-embedder' },
    device,
  })
  const ranked = await winnow.rerank('what is the capital of france', ['Paris is the capital of France.', 'Berlin is in Germany.'])
  const notes = await winnow.collection('notes')
  await notes.clear()
  await notes.add([
    { id: 'bread', text: 'Feed the levain twice a day before baking sourdough bread.' },
    { id: 'garden', text: 'Vermicompost feeds the tomatoes in the garden beds.' },
  ])
  const hits = await notes.search('levain', { mode: 'hybrid', k: 2 })
  const list = document.createElement('ul')
  for (const r of ranked) list.append(Object.assign(document.createElement('li'), { textContent: r.score.toFixed(3) }))
  const snippet = document.createElement('p')
  // The random test embedder may rank either note first; the snippet of the one with the word has a mark.
  snippet.replaceChildren(highlightNodes((hits.find((h) => h.id === 'bread') ?? hits[0]).snippet))
  document.querySelector('#app')!.replaceChildren(list, snippet)
  document.body.dataset.result = JSON.stringify({ device: winnow.device.kind, threads: winnow.device.threads, ranked: ranked.length, hits: hits.map((h) => h.id) })
}
main().catch((error) => (document.body.dataset.result = JSON.stringify({ error: String(error.code ?? '') + ' ' + error.message })))
`

let app = ''
let server: CspServer | undefined

test.describe.configure({ timeout: 600_000 })

test.beforeAll(async () => {
  test.setTimeout(600_000)
  const tarball = packTarball(root)
  const fresh = createViteApp(root, 'csp-app')
  app = fresh.app
  await fresh.runAsync('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline'])
  for (const model of ['tiny-random-cross-encoder', 'tiny-random-embedder']) {
    mkdirSync(join(app, 'public/models'), { recursive: true })
    cpSync(join(root, 'test/fixtures/models', model), join(app, 'public/models', model), { recursive: true })
  }
  writeFileSync(join(app, 'vite.config.ts'), "import { defineConfig } from 'vite'\nimport { winnow } from 'winnow-rerank/vite'\n\nexport default defineConfig({ plugins: [winnow()] })\n")
  writeFileSync(join(app, 'src/main.ts'), MAIN)
  await fresh.runAsync(process.execPath, ['node_modules/vite/bin/vite.js', 'build'])
  server = await startCspServer({ root: join(app, 'dist'), csp: CSP, models: [join(app, 'dist/models')] })
})

test.afterAll(async () => {
  await server?.close()
  if (app) rmSync(app, { recursive: true, force: true })
})

async function watchPage(page: Page): Promise<{ errors: string[] }> {
  const errors: string[] = []
  page.on('console', (m) => m.type() === 'error' && errors.push(`${m.text()} (${m.location().url})`))
  page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && errors.push(`[worker] ${m.text()}`)))
  page.on('pageerror', (e) => errors.push(String(e)))
  await page.addInitScript(() => {
    const seen: string[] = []
    ;(window as unknown as { cspViolations: string[] }).cspViolations = seen
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`))
  })
  return { errors }
}

for (const device of ['wasm', 'webgpu'] as const) {
  test(`a fresh Vite app with the plugin reranks, searches and highlights on ${device} under the strict policy, with no violation anywhere`, async ({ page }) => {
    const mark = server!.reports.length
    const { errors } = await watchPage(page)
    await page.goto(`${server!.url}/?device=${device}`)
    await page.waitForFunction(() => document.body.dataset.result !== undefined, null, { timeout: 120_000 })
    const result = JSON.parse((await page.evaluate(() => document.body.dataset.result))!)
    expect(result).toMatchObject({ device, ranked: 2 })
    expect(result.hits).toContain('bread')
    if (device === 'wasm') expect(result.threads).toBeGreaterThan(1)
    expect(await page.locator('#app mark').allTextContents()).toEqual(['levain'])
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 300)) // let a late report land (a later one fails the next test)
    expect(server!.reports.slice(mark)).toEqual([])
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([])
    expect(errors).toEqual([])
    // onnxruntime came from the app's own ort/ (the plugin's copy), and no request left the origin.
    expect(server!.requests).toContain(device === 'wasm' ? '/ort/ort-wasm-simd-threaded.mjs' : '/ort/ort-wasm-simd-threaded.asyncify.mjs')
  })
}

/** A free port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer()
    probe.once('error', fail)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => done(port))
    })
  })
}

test("the security-headers guide's nginx configuration serves the app under its policy: threads, a WASM load, no violation, headers on onnxruntime's files too", async ({ page }) => {
  const doc = readFileSync(join(root, 'docs/guides/security-headers.md'), 'utf8')
  const block = /<!-- security-headers:nginx -->\s*```nginx\n([\s\S]*?)```/.exec(doc)?.[1]
  expect(block).toBeTruthy()
  const policy = /add_header Content-Security-Policy "([^"]+)" always;/.exec(block!)?.[1]
  // The guide's minimal policy is the one its nginx block sends.
  expect(doc).toContain(`Content-Security-Policy: ${policy}\n`)
  const port = await freePort()
  const site = mkdtempSync(join(tmpdir(), 'winnow-nginx-csp-'))
  mkdirSync(join(site, 'tmp'))
  // Violations go to the test's collector: report-uri is added in front of the guide's policy.
  const server_ = block!
    .replace('listen 8080;', `listen 127.0.0.1:${port};`)
    .replace('root /srv/my-app/dist;', `root ${join(app, 'dist')};`)
    .replaceAll('add_header Content-Security-Policy "', `add_header Content-Security-Policy "report-uri ${server!.url}/__csp-report; `)
  writeFileSync(
    join(site, 'nginx.conf'),
    [
      'load_module /usr/lib/nginx/modules/ngx_http_brotli_static_module.so;',
      'daemon off;',
      'user root;',
      `pid ${site}/nginx.pid;`,
      `error_log ${site}/error.log warn;`,
      'events {}',
      'http {',
      `  access_log off; client_body_temp_path ${site}/tmp; proxy_temp_path ${site}/tmp; fastcgi_temp_path ${site}/tmp; uwsgi_temp_path ${site}/tmp; scgi_temp_path ${site}/tmp;`,
      server_,
      '}',
    ].join('\n'),
  )
  let nginx: ChildProcess | undefined
  try {
    nginx = spawn(process.env.NGINX_PATH ?? '/usr/sbin/nginx', ['-c', join(site, 'nginx.conf'), '-p', site], { stdio: 'ignore' })
    const origin = `http://127.0.0.1:${port}`
    for (let i = 0; i < 100 && !(await fetch(origin).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 100))
    for (const path of ['/', '/ort/ort-wasm-simd-threaded.mjs', '/ort/ort-wasm-simd-threaded.wasm']) {
      const headers = (await fetch(origin + path, { method: 'HEAD' })).headers
      expect(headers.get('content-security-policy'), path).toContain(policy)
      expect(headers.get('cross-origin-embedder-policy'), path).toBe('require-corp')
    }
    const mark = server!.reports.length
    const { errors } = await watchPage(page)
    await page.goto(`${origin}/?device=wasm`)
    await page.waitForFunction(() => document.body.dataset.result !== undefined, null, { timeout: 120_000 })
    const result = JSON.parse((await page.evaluate(() => document.body.dataset.result))!)
    expect(result).toMatchObject({ device: 'wasm', ranked: 2 })
    expect(result.threads).toBeGreaterThan(1)
    expect(await page.locator('#app mark').allTextContents()).toEqual(['levain'])
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(server!.reports.slice(mark)).toEqual([])
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([])
    expect(errors).toEqual([])
  } finally {
    nginx?.kill()
    rmSync(site, { recursive: true, force: true })
  }
})
