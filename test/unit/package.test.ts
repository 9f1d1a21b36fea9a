import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { brotliDecompressSync, gzipSync } from 'node:zlib'
import { request, viteMiddleware } from './pluginHelpers.js'
import { TRANSFORMERS_CHAINS } from '../../src/vite/transformersChain.js'
import { beforeAll, describe, expect, it } from 'vitest'

const root = resolve(__dirname, '../..')
/** The main-thread entry's goal in bytes of gzip (README's Performance table, bench/size.mjs). */
const ENTRY_GZIP_GOAL = 15_000

/** Every module reachable from `entry` through static and dynamic imports, and the bare specifiers they use. */
function importGraph(entry: string): { files: string[]; bare: Set<string> } {
  const files: string[] = []
  const bare = new Set<string>()
  const todo = [entry]
  while (todo.length) {
    const file = todo.pop()!
    if (files.includes(file)) continue
    files.push(file)
    // comments (JSDoc examples) mention 'winnow' imports; only code counts
    const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
    for (const m of code.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|import\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1] ?? m[2] ?? m[3]!
      if (spec.startsWith('.')) todo.push(join(dirname(file), spec))
      else bare.add(spec)
    }
  }
  return { files, bare }
}

describe('the built package', () => {
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build-lib.mjs'], { cwd: root, stdio: 'pipe' })
  }, 120_000)

  it('keeps transformers.js and onnxruntime out of the main-thread entry', () => {
    const { files, bare } = importGraph(join(root, 'dist/index.js'))
    expect([...bare]).toEqual(['comlink'])
    expect(files.some((f) => f.includes('/worker/') && !f.endsWith('protocol.js'))).toBe(false)
    for (const f of files) expect(readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '')).not.toMatch(/@huggingface\/transformers|onnxruntime/)
    const gzip = files.reduce((n, f) => n + gzipSync(readFileSync(f)).length, 0)
    console.log(`[figure] main-thread entry: ${files.length} modules, ${gzip} bytes gzip (excluding comlink)`)
  })

  it('keeps the main-thread entry within its goal: ≤ 15 kB gzip, measured as bench/size.mjs does', async () => {
    // dist/index.js and everything it imports (comlink included), bundled and minified with rolldown
    // as an app's bundler would, every chunk counted, gzip level 9: README's and performance.md's figure.
    const { rolldown } = await import('rolldown')
    const bundle = await rolldown({ input: join(root, 'dist/index.js'), cwd: root, logLevel: 'silent' })
    const { output } = await bundle.generate({ format: 'esm', minify: true })
    await bundle.close()
    const code = output.flatMap((o) => (o.type === 'chunk' ? [o.code] : [])).join('\n')
    const gzipBytes = gzipSync(code, { level: 9 }).length
    console.log(`[figure] main-thread entry bundled: ${Buffer.byteLength(code)} bytes minified, ${gzipBytes} bytes gzip (goal ≤ 15,000)`)
    expect(gzipBytes).toBeLessThanOrEqual(ENTRY_GZIP_GOAL)
  }, 60_000)

  it('points the worker URL at a compiled worker that exists and exposes the service', () => {
    const spawn = readFileSync(join(root, 'dist/client/spawn.js'), 'utf8')
    const url = /new URL\('([^']+)', import\.meta\.url\)/.exec(spawn)?.[1]
    expect(url).toBe('../worker/worker.js')
    const worker = join(root, 'dist/client', url!)
    expect(existsSync(worker)).toBe(true)
    // The worker is one self-contained module: transformers.js, onnxruntime-web's JS, idb, comlink
    // and stemmer are bundled in, so an app installs none of them for it (and never onnxruntime-node).
    const graph = importGraph(worker)
    expect(graph.files).toEqual([worker])
    expect([...graph.bare]).toEqual([])
    const code = readFileSync(worker, 'utf8')
    expect(code).toContain('WorkerService')
    expect(code).toContain('ort-wasm-simd-threaded') // onnxruntime-web's JS, loading its glue from wasmPaths
    // No asset URL a bundler would copy: the .wasm files are served from ort/ only.
    expect(code).not.toMatch(/new URL\(\s*["'][^"']+\.wasm["']\s*,\s*import\.meta\.url/)
  })

  it('bundles transformers.js with session and inference chains that recover after a failure', () => {
    const code = readFileSync(join(root, 'dist/worker/worker.js'), 'utf8')
    for (const { from, to } of TRANSFORMERS_CHAINS) {
      expect(code).toContain(to)
      expect(code).not.toContain(from)
    }
  })

  it('exports the entry and the Vite plugin with types', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    for (const target of Object.values(pkg.exports) as { types: string; default: string }[]) {
      expect(existsSync(join(root, target.default))).toBe(true)
      expect(existsSync(join(root, target.types))).toBe(true)
    }
  })
})

describe('the framework adapters (winnow-rerank/ai-sdk, /langchain, /llamaindex)', () => {
  /** Each subpath, the bare specifiers its code and types may import (its framework's), and what it exports. */
  const ADAPTERS = [
    { subpath: './ai-sdk', file: 'dist/adapters/ai-sdk.js', framework: /^@ai-sdk\/provider$/, exports: ['winnowReranker'] },
    { subpath: './langchain', file: 'dist/adapters/langchain.js', framework: /^@langchain\/core\//, exports: ['WinnowDocumentCompressor', 'WinnowRetriever'] },
    { subpath: './llamaindex', file: 'dist/adapters/llamaindex.js', framework: /^@llamaindex\/core\//, exports: ['WinnowNodePostprocessor', 'WinnowRetriever'] },
  ]

  beforeAll(() => {
    if (!existsSync(join(root, 'dist/adapters/llamaindex.js'))) execFileSync(process.execPath, ['scripts/build-lib.mjs'], { cwd: root, stdio: 'pipe' })
  }, 120_000)

  it('are listed in package.json exports with types, and their frameworks are optional peers', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    for (const { subpath, file } of ADAPTERS) expect(pkg.exports[subpath]).toEqual({ types: `./${file.replace(/\.js$/, '.d.ts')}`, default: `./${file}` })
    for (const peer of ['@ai-sdk/provider', '@langchain/core', '@llamaindex/core']) {
      expect(pkg.peerDependencies[peer]).toBeTypeOf('string')
      expect(pkg.peerDependenciesMeta[peer]).toEqual({ optional: true })
      expect(pkg.dependencies[peer]).toBeUndefined()
    }
  })

  it("import only their framework and winnow's main entry, which imports none of them", () => {
    const main = importGraph(join(root, 'dist/index.js'))
    expect(main.files.some((f) => f.includes('/adapters/'))).toBe(false)
    expect([...main.bare]).toEqual(['comlink'])
    for (const { file, framework } of ADAPTERS) {
      const entry = join(root, file)
      const graph = importGraph(entry)
      // Relative imports lead into the main entry's modules only (through ../index.js).
      for (const f of graph.files) if (f !== entry) expect(main.files).toContain(f)
      const code = readFileSync(entry, 'utf8')
      const relative = [...code.matchAll(/from\s*['"](\.[^'"]+)['"]/g)].map((m) => m[1])
      expect(relative.every((spec) => spec === '../index.js')).toBe(true)
      for (const spec of graph.bare) expect(spec === 'comlink' || framework.test(spec)).toBe(true)
      // The types name the framework's packages and winnow's entry only.
      const types = readFileSync(entry.replace(/\.js$/, '.d.ts'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '')
      for (const m of types.matchAll(/from\s*['"]([^'"]+)['"]/g)) expect(m[1] === '../index.js' || framework.test(m[1]!)).toBe(true)
    }
  })

  it('resolve through the exports map and load in Node with their frameworks', async () => {
    for (const { subpath, exports } of ADAPTERS) {
      const mod = await import(`winnow-rerank/${subpath.slice(2)}`)
      for (const name of exports) expect(mod[name]).toBeTypeOf('function')
    }
    const { WinnowDocumentCompressor } = await import('winnow-rerank/langchain')
    const { BaseDocumentCompressor } = await import('@langchain/core/retrievers/document_compressors')
    expect(BaseDocumentCompressor.isBaseDocumentCompressor(new WinnowDocumentCompressor({ winnow: { rerank: async () => [] } }))).toBe(true)
  })

  it('are in the packed tarball with every other export target', () => {
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))
    const files = new Set((packed.files as { path: string }[]).map((f) => f.path))
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    for (const target of Object.values(pkg.exports) as { types: string; default: string }[]) {
      expect(files).toContain(target.default.replace(/^\.\//, ''))
      expect(files).toContain(target.types.replace(/^\.\//, ''))
    }
    for (const { file } of ADAPTERS) expect(files).toContain(file)
  })
})

describe('the packaged Vite plugin', () => {
  it('finds dist/ort/ and serves its precompressed brotli copy, byte-exact once decoded', async () => {
    const plugin = await import(join(root, 'dist/vite/plugin.js'))
    expect(plugin.ortDistDir()).toBe(join(root, 'dist/ort/'))
    const { res } = request(viteMiddleware(plugin.winnow), '/ort/ort-wasm-simd-threaded.wasm', 'gzip, deflate, br, zstd')
    expect(res.headers['content-encoding']).toBe('br')
    const original = readFileSync(join(root, 'dist/ort/ort-wasm-simd-threaded.wasm'))
    expect(res.body!.length).toBeLessThan(original.length / 4)
    expect(brotliDecompressSync(res.body!).equals(original)).toBe(true)
  })
})
