/**
 * The README's quick start, performed exactly as a new user would: a fresh Vite app, the package
 * installed by its name (the packed tarball stands in for the registry), default npm settings (no
 * .npmrc, no npm_config_* variables), `npx winnow-rerank models pull` from a stand-in for the model
 * hub (HF_ENDPOINT), the README's vite.config.ts and src/main.ts copied out of README.md verbatim,
 * a production build, `vite preview`, Chromium. The commands and code come from the README's
 * `<!-- quickstart:... -->` blocks, so the README cannot drift from what is tested.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from '@playwright/test'
import { createViteApp, installedPackages, packTarball, quickstartBlocks } from '../../scripts/fresh-app.mjs'
import { startStandInHub, type StandInHub } from '../helpers/standInHub.js'
import { crossEncoderReference } from './helpers.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const PORT = Number(process.env.WINNOW_QUICKSTART_PORT ?? 4174)
const MODEL = 'Xenova/ms-marco-MiniLM-L-6-v2'
const FIXTURE = join(root, 'test/fixtures/models/tiny-random-cross-encoder')

let app = ''
let hub: StandInHub | undefined
let server: ChildProcess | undefined
const pullLog: string[] = []

test.describe.configure({ timeout: 600_000 })

test.beforeAll(async () => {
  test.setTimeout(600_000)
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const blocks = quickstartBlocks(readme)
  expect(blocks.map((b) => b.name)).toEqual(['shell', 'vite.config.ts', 'shell', 'src/main.ts'])

  // A fresh app, as `npm create vite@latest my-app -- --template vanilla-ts` makes it.
  const tarball = packTarball(root)
  const fresh = createViteApp(root)
  app = fresh.app
  const run = fresh.run

  hub = await startStandInHub({ models: { [MODEL]: FIXTURE } })
  for (const block of blocks) {
    if (block.name === 'shell') {
      for (const line of block.code.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
        const [cmd, ...args] = line.split(/\s+/)
        // The registry is simulated by the packed tarball: `npm install winnow-rerank` installs it by its name.
        const real = cmd === 'npm' && args[0] === 'install' ? args.map((a) => (a === 'winnow-rerank' ? tarball : a)) : args
        if (cmd === 'npm') real.push('--no-audit', '--no-fund', '--prefer-offline')
        pullLog.push(`$ ${line}`, await fresh.runAsync(cmd!, real, { HF_ENDPOINT: hub.url }))
      }
    } else {
      mkdirSync(dirname(join(app, block.name)), { recursive: true })
      writeFileSync(join(app, block.name), block.code)
    }
  }
  run(process.execPath, ['node_modules/vite/bin/vite.js', 'build'])
  server = spawn(process.execPath, ['node_modules/vite/bin/vite.js', 'preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'], { cwd: app, stdio: 'ignore' })
  for (let i = 0; i < 150; i++) {
    if (await fetch(`http://127.0.0.1:${PORT}/`).then((r) => r.ok, () => false)) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('the quick-start app did not start')
})

test.afterAll(async () => {
  server?.kill()
  await hub?.close()
  if (app) rmSync(app, { recursive: true, force: true })
})

test('installing by name brings no native binary, no transformers.js and no install script', () => {
  const installed = installedPackages(join(app, 'node_modules'))
  expect(installed.has('winnow-rerank')).toBe(true)
  const names = [...installed.keys()].map((n) => n.split(' > ').pop()!)
  for (const banned of ['onnxruntime-node', 'sharp', '@huggingface/transformers', 'onnxruntime-web', 'protobufjs']) expect(names).not.toContain(banned)
  expect(names.some((n) => n.startsWith('@img/'))).toBe(false) // sharp's prebuilt libvips
  // npm records every package with a preinstall/install/postinstall script in the lockfile.
  const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8'))
  const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>).filter(([, p]) => p.hasInstallScript).map(([k]) => k)
  expect(withScripts).toEqual([])
  // What the package adds to a browser app, in bytes on disk.
  const own = installedPackages(join(app, 'node_modules', 'winnow-rerank', 'node_modules'))
  console.log(`[figure] winnow-rerank installed: ${installed.size} packages in the app's tree; ${own.size} nested under winnow-rerank`)
})

test('models pull fetched exactly the q8 and q4 files, byte for byte, from the hub', () => {
  const dir = join(app, 'public/models', MODEL)
  const files = (function walk(d: string): string[] {
    return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [relative(dir, join(d, e.name))]))
  })(dir).sort()
  expect(files).toEqual(expect.arrayContaining(['config.json', 'onnx/model_q4.onnx', 'onnx/model_quantized.onnx', 'tokenizer.json', 'tokenizer_config.json']))
  expect(files.some((f) => f.endsWith('.part'))).toBe(false)
  expect(files).not.toContain('onnx/model.onnx') // fp32 was not asked for
  for (const f of files) expect(readFileSync(join(dir, f)).equals(readFileSync(join(FIXTURE, f)))).toBe(true)
  expect(hub!.requests.some((r) => r.model === MODEL && r.file === 'onnx/model_quantized.onnx' && r.status < 400)).toBe(true)
})

test('the build ships the WASM files once, under ort/, with compressed copies', () => {
  const dist = join(app, 'dist')
  const all = (function walk(d: string): string[] {
    return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [relative(dist, join(d, e.name))]))
  })(dist)
  const wasm = all.filter((f) => /\.wasm(\.br|\.gz)?$/.test(f)).sort()
  expect(wasm).toEqual([
    'ort/ort-wasm-simd-threaded.asyncify.wasm',
    'ort/ort-wasm-simd-threaded.asyncify.wasm.br',
    'ort/ort-wasm-simd-threaded.asyncify.wasm.gz',
    'ort/ort-wasm-simd-threaded.wasm',
    'ort/ort-wasm-simd-threaded.wasm.br',
    'ort/ort-wasm-simd-threaded.wasm.gz',
  ])
})

test('the page reranks as the README says, matching the PyTorch reference', async ({ page }) => {
  const requests: string[] = []
  const encodings = new Map<string, string>()
  const errors: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  page.on('response', (r) => {
    encodings.set(r.url(), r.headers()['content-encoding'] ?? '')
    if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`)
  })
  page.on('console', (m) => m.type() === 'error' && errors.push(`${m.text()} (${m.location().url})`))
  page.on('pageerror', (e) => errors.push(String(e)))
  await page.goto(`http://127.0.0.1:${PORT}/`)
  const items = page.locator('#app li')
  await expect(items).toHaveCount(2, { timeout: 120_000 })
  const shown = (await items.allTextContents()).map((t) => {
    const m = /^(\d\.\d{3}) {2}(.*)$/.exec(t)!
    return { score: Number(m[1]), passage: m[2]! }
  })
  // The README's passages are the reference pairs' documents for the same query (random weights:
  // the order is the model's, checked against PyTorch, not a claim about relevance).
  const reference = crossEncoderReference().filter((p) => p.query === 'what is the capital of france')
  const expected = [...reference].sort((a, b) => b.logit - a.logit)
  expect(shown.map((s) => s.passage)).toEqual(expected.map((p) => p.document))
  // q8 (the WASM default) quantizes activations per batch, so it is compared by ranking above and to
  // the fp32 reference's probabilities loosely here (0.58 and 0.06): a wrong head (softmax over one
  // logit scores 1.0) or wrong pair encoding would be far outside it.
  for (let i = 0; i < shown.length; i++) expect(Math.abs(shown[i]!.score - 1 / (1 + Math.exp(-expected[i]!.logit)))).toBeLessThan(0.08)

  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true) // the plugin's headers: threads
  // Nothing leaves the origin (blob: URLs are made in the page: onnxruntime's thread workers).
  expect(requests.filter((u) => !u.startsWith(`http://127.0.0.1:${PORT}/`) && !u.startsWith(`blob:http://127.0.0.1:${PORT}/`))).toEqual([])
  const wasm = requests.filter((u) => u.endsWith('.wasm'))
  expect(wasm).toEqual([`http://127.0.0.1:${PORT}/ort/ort-wasm-simd-threaded.wasm`]) // WASM device: the plain build
  expect(encodings.get(wasm[0]!)).toBe('br')
  expect(errors).toEqual([])
})
