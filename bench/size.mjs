// npm run bench:size
// 1. What the page downloads before the worker starts: the main-thread entry (dist/index.js and
//    everything it imports, comlink included; the worker and its models are separate files fetched
//    later), bundled and minified with rolldown as an app's bundler would, then gzipped (level 9).
//    Goal: ≤ 15 kB.
// 2. What a first visit to an app transfers: the README's quick start built in a fresh Vite app from
//    the packed tarball, served by `vite preview` (the plugin's compression on, then off), opened in
//    a fresh Chromium profile on the WASM device and on the WebGPU device (SwiftShader here: the
//    bytes are what any WebGPU page downloads). Bytes are Chromium's encoded body sizes, by kind.
//    The model is the MiniLM-L6-shaped random-weight reranker when `npm run models:bench` made it
//    (the exact file sizes of Xenova/ms-marco-MiniLM-L-6-v2), else the tiny fixture (stated).
// Saves bench/results/<date>-size.json.
import { execFileSync, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { get as httpGet } from 'node:http'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { chromium } from '@playwright/test'
import { rolldown } from 'rolldown'
import { CHROMIUM_OPTIONS } from './browser.mjs'
import { createViteApp, installedPackages, packTarball } from '../scripts/fresh-app.mjs'

execFileSync(process.execPath, ['scripts/build-lib.mjs'], { stdio: 'inherit' })
const bundle = await rolldown({ input: 'dist/index.js', logLevel: 'silent' })
const { output } = await bundle.generate({ format: 'esm', minify: true })
await bundle.close()
const chunks = output.filter((o) => o.type === 'chunk')
const entry = chunks.find((c) => c.isEntry)
const code = chunks.map((c) => c.code).join('\n')
const modules = Object.entries(entry.modules)
  .map(([id, m]) => ({ module: id.replace(process.cwd() + '/', ''), bytes: m.renderedLength }))
  .sort((a, b) => b.bytes - a.bytes)
const result = {
  date: new Date().toISOString().slice(0, 10),
  machine: `${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}`,
  entry: 'dist/index.js',
  minifiedBytes: Buffer.byteLength(code),
  gzipBytes: gzipSync(code, { level: 9 }).length,
  chunks: chunks.length,
  assets: output.filter((o) => o.type === 'asset').map((a) => a.fileName),
  largestModules: modules.slice(0, 12),
}
console.log(`main-thread entry: ${(result.minifiedBytes / 1000).toFixed(1)} kB minified, ${(result.gzipBytes / 1000).toFixed(1)} kB gzip (goal ≤ 15 kB)`)
for (const m of result.largestModules) console.log(`  ${String(m.bytes).padStart(7)}  ${m.module}`)

// ------------------------------------------------------------------ first visit to a built app
const MODEL = 'Xenova/ms-marco-MiniLM-L-6-v2'
const shaped = '.cache/models/minilm-l6-random-cross-encoder'
const modelDir = existsSync(join(shaped, 'onnx/model_quantized.onnx')) ? shaped : 'test/fixtures/models/tiny-random-cross-encoder'
const { app, run } = createViteApp(process.cwd(), 'size-app')
run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', packTarball(process.cwd())])
cpSync(modelDir, join(app, 'public/models', MODEL), { recursive: true, filter: (f) => !f.endsWith('reference.json') })
writeFileSync(join(app, 'vite.config.ts'), "import { winnow } from 'winnow-rerank/vite'\nexport default { plugins: [winnow({ compress: process.env.COMPRESS !== '0' })] }\n")
writeFileSync(
  join(app, 'src/main.ts'),
  `import { createWinnow } from 'winnow-rerank'
const device = new URLSearchParams(location.search).get('device') === 'webgpu' ? 'webgpu' : 'wasm'
const winnow = await createWinnow({ device, reranker: { model: '${MODEL}' } })
const ranked = await winnow.rerank('what is the capital of france', ['paris is the capital city of france', 'the quick brown fox'])
Object.assign(window, { done: { device: winnow.device, dtype: winnow.reranker?.dtype, top: ranked[0].index } })
`,
)
run(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'])
const installed = installedPackages(join(app, 'node_modules'))

function kind(url) {
  if (url.includes('/models/')) return 'model'
  if (/\/ort\/.*\.wasm$/.test(url)) return 'wasm'
  if (url.includes('/ort/')) return 'ort glue'
  return 'app'
}

/** GETs `url` with `headers` and counts the body bytes as sent (not decoded). */
function replay(url, headers) {
  return new Promise((done, fail) => {
    const req = httpGet(url, { headers }, (res) => {
      let bytes = 0
      res.on('data', (c) => (bytes += c.length))
      res.on('end', () => done({ bytes, status: res.statusCode, encoding: res.headers['content-encoding'] ?? '' }))
    })
    req.on('error', fail)
  })
}

async function firstVisit(port, compress, device) {
  const server = spawn(process.execPath, ['node_modules/vite/bin/vite.js', 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
    cwd: app,
    stdio: 'ignore',
    env: { ...process.env, COMPRESS: compress ? '1' : '0' },
  })
  for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 200))
  const browser = await chromium.launch({ ...CHROMIUM_OPTIONS, args: [...CHROMIUM_OPTIONS.args, ...(device === 'webgpu' ? ['--enable-unsafe-webgpu'] : [])] })
  try {
    const page = await browser.newPage()
    const responses = []
    page.on('requestfinished', (r) => responses.push(r))
    await page.goto(`http://127.0.0.1:${port}/?device=${device}`)
    const done = await page.waitForFunction(() => window.done, null, { timeout: 300_000 }).then((h) => h.jsonValue())
    // Bytes on the wire per request: each request is replayed against the same server with the
    // headers Chromium sent (Accept-Encoding, Range), and the encoded body counted. (Chromium's own
    // figure is 0 for the worker's script, which it fetches outside the page's request events.)
    const bytes = { app: 0, 'ort glue': 0, wasm: 0, model: 0 }
    const files = []
    for (const r of responses) {
      if (!r.url().startsWith('http')) continue
      const headers = await r.allHeaders()
      const sent = await replay(r.url(), { 'accept-encoding': headers['accept-encoding'] ?? 'gzip, deflate, br, zstd', ...(headers.range ? { range: headers.range } : {}) })
      const k = kind(r.url())
      bytes[k] += sent.bytes
      files.push({ url: r.url().replace(/^http:\/\/[^/]+/, ''), bytes: sent.bytes, encoding: sent.encoding, status: sent.status })
    }
    const total = Object.values(bytes).reduce((a, b) => a + b, 0)
    return { device, compress, deviceKind: done.device.kind, dtype: done.dtype, bytes, total, withoutModel: total - bytes.model, files }
  } finally {
    await browser.close()
    server.kill()
  }
}

const visits = []
for (const device of ['wasm', 'webgpu']) for (const compress of [true, false]) visits.push(await firstVisit(4191, compress, device))
rmSync(app, { recursive: true, force: true })
result.firstVisit = {
  model: modelDir.includes('minilm') ? 'MiniLM-L6-shaped random weights (the sizes of Xenova/ms-marco-MiniLM-L-6-v2)' : 'tiny fixture (run npm run models:bench for the real sizes)',
  appPackages: installed.size,
  visits,
}
const mb = (n) => (n / 1e6).toFixed(2)
console.log(`\nfirst visit to the quick-start app (${result.firstVisit.model}; MB transferred):`)
console.log('device  compressed  app   ort glue  wasm   model  total  without model')
for (const v of visits) console.log(`${v.device.padEnd(7)} ${String(v.compress).padEnd(11)} ${mb(v.bytes.app)}  ${mb(v.bytes['ort glue'])}     ${mb(v.bytes.wasm)}  ${mb(v.bytes.model)}  ${mb(v.total)}  ${mb(v.withoutModel)}   (${v.deviceKind}, ${v.dtype})`)

mkdirSync('bench/results', { recursive: true })
writeFileSync(`bench/results/${result.date}-size.json`, JSON.stringify(result, null, 2) + '\n')
