// Builds the package into dist/:
// 1. tsc compiles src/ (modules and .d.ts files);
// 2. the worker is bundled into one self-contained module, dist/worker/worker.js, with
//    transformers.js (web build), onnxruntime-web's JS (the build that loads its WASM glue from
//    `wasmPaths`, not from a blob: URL or an import.meta.url asset), comlink and idb inside. An app
//    therefore installs no @huggingface/transformers (whose onnxruntime-node and sharp dependencies
//    download native binaries at install time) and its bundler emits no copy of the WASM files;
//    transformers.js's session and inference chains are rewritten there to recover after a failed
//    load or run (src/vite/transformersChain.ts; the build fails if they are not found);
// 3. the four onnxruntime-web files winnow loads are copied to dist/ort/, where the Vite plugin
//    (winnow-rerank/vite) finds them.
// The worker URL in dist/client/spawn.js is pointed at the compiled file ('.ts' → '.js').
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { brotliCompressSync, constants } from 'node:zlib'
import { rolldown } from 'rolldown'

/**
 * Brotli at its best quality (a 14 MB .wasm → 2.4 MB; 27 MB → 4.0 MB) takes about a minute per
 * file here, so each result is kept in .cache/ under the input's SHA-256 and made once per machine.
 */
function brotli(file) {
  const bytes = readFileSync(file)
  const cached = join('.cache/brotli', createHash('sha256').update(bytes).digest('hex') + '.br')
  if (existsSync(cached)) return readFileSync(cached)
  const out = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } })
  mkdirSync('.cache/brotli', { recursive: true })
  writeFileSync(cached + '.tmp', out)
  renameSync(cached + '.tmp', cached)
  return out
}

rmSync('dist', { recursive: true, force: true })
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })

const spawn = 'dist/client/spawn.js'
const source = readFileSync(spawn, 'utf8')
const from = "new URL('../worker/worker.ts', import.meta.url)"
if (!source.includes(from)) throw new Error(`${spawn} no longer contains ${from}`)
writeFileSync(spawn, source.replace(from, "new URL('../worker/worker.js', import.meta.url)"))

// Compiled above by tsc; the Vite plugin applies the same rewrite to workers bundled from source.
const { isTransformersBuild, recoverTransformersChains } = await import('../dist/vite/transformersChain.js')
let chainsRewritten = 0
const bundle = await rolldown({
  input: 'dist/worker/worker.js',
  platform: 'browser',
  plugins: [
    {
      name: 'winnow:transformers-chains',
      transform(code, id) {
        if (!isTransformersBuild(id)) return null
        chainsRewritten++
        return { code: recoverTransformersChains(code, id), map: null }
      },
    },
  ],
  // 'onnxruntime-web-use-extern-wasm' selects ort.webgpu.min.mjs, which imports its WASM glue from
  // env.backends.onnx.wasm.wasmPaths (set by src/models/runtime.ts) instead of embedding it.
  resolve: { conditionNames: ['onnxruntime-web-use-extern-wasm', 'browser', 'import', 'module', 'default'] },
  logLevel: 'warn',
})
const { output } = await bundle.write({ file: 'dist/worker/worker.js', format: 'esm', codeSplitting: false, comments: { legal: true, jsdoc: false, annotation: true } })
await bundle.close()
if (chainsRewritten !== 1) throw new Error(`expected to rewrite transformers.js's chains in exactly one module, did in ${chainsRewritten}`)
const worker = readFileSync('dist/worker/worker.js', 'utf8')
for (const bad of [/^import\b.*from\s*["'](@huggingface\/transformers|onnxruntime-(web|common|node))["']/m, /\bimport\(\s*["'](@huggingface|onnxruntime)/, /\bnew URL\(\s*["'][^"']+\.wasm["']/]) {
  if (bad.test(worker)) throw new Error(`dist/worker/worker.js still matches ${bad}`)
}

// The same onnxruntime-web copy that transformers.js resolves (its version is pinned there).
const here = createRequire(import.meta.url)
const ortDir = dirname(createRequire(here.resolve('@huggingface/transformers')).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))
const { ORT_FILES } = await import('../dist/vite/plugin.js')
mkdirSync('dist/ort', { recursive: true })
for (const file of ORT_FILES) {
  copyFileSync(join(ortDir, file), join('dist/ort', file))
  if (file.endsWith('.wasm')) writeFileSync(join('dist/ort', file + '.br'), brotli(join(ortDir, file)))
}
// Notices of everything bundled into the worker or copied to dist/ort/, from the installed packages.
const bundled = new Map([['onnxruntime-web', dirname(ortDir)]])
for (const id of Object.keys(output[0].modules)) {
  const m = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(id)
  if (m) bundled.set(m[2], m[1])
}
const notices = ['# Third-party software in this package', '', 'dist/worker/worker.js bundles, and dist/ort/ copies, the packages below.', '']
for (const [name, dir] of [...bundled].sort(([a], [b]) => a.localeCompare(b))) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|notice)/i.test(f))
  notices.push(`## ${name} ${pkg.version} (${pkg.license})`, '', file ? readFileSync(join(dir, file), 'utf8').trim() : `${pkg.license}; the package ships no license file (${pkg.repository?.url ?? pkg.homepage ?? ''}).`, '')
}
writeFileSync('dist/THIRD_PARTY_LICENSES.md', notices.join('\n'))
console.log(`built dist/ (worker ${(worker.length / 1e6).toFixed(2)} MB; ${ORT_FILES.length} onnxruntime-web files and brotli copies of the .wasm in dist/ort/)`)
