/// <reference types="node" />
/**
 * `winnow-rerank/vite`: the Vite plugin for apps that use winnow. It
 * - ships onnxruntime-web's WASM files with the app under `ort/` (never fetched from a CDN), with
 *   brotli and gzip copies beside the `.wasm` files (a 14 MB file is 2.4 MB in brotli),
 * - serves the app cross-origin isolated (COOP/COEP) in dev and preview, so WASM can use threads,
 *   and serves the WASM files compressed there,
 * - keeps winnow out of dependency pre-bundling, which would break its `new Worker(new URL(...))`,
 * - makes a worker that bundles transformers.js from source use onnxruntime-web's build that loads
 *   its WASM from `ort/`, so the bundler emits no second, never-requested copy of the `.wasm`,
 * - rewrites transformers.js's session and inference chains in such a worker so that one failed
 *   load or run does not fail every later one (see `transformersChain.ts`).
 * Production servers must send the same two headers for threads, and serve the precompressed
 * files (see docs/guides/deployment.md).
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve as resolvePath } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import type { Connect, Plugin } from 'vite'
import { isTransformersBuild, recoverTransformersChains } from './transformersChain.js'

/** Options of {@link winnow}. */
export interface WinnowPluginOptions {
  /** Folder (relative to the app's base) for the onnxruntime-web files; pass the same as `wasmBaseUrl`. Default `'ort/'`. */
  ortPath?: string
  /** Send COOP `same-origin` and COEP `require-corp` from the dev and preview servers. Default `true`. */
  crossOriginIsolation?: boolean
  /**
   * Emit `<file>.wasm.br` and `<file>.wasm.gz` beside each `.wasm` at build time, and serve the
   * WASM files compressed from dev and preview. Default `true`.
   */
  compress?: boolean
}

/**
 * The onnxruntime-web files winnow loads: the asyncify build for WebGPU, the plain one for WASM
 * (each device downloads only its own). Kept in sync with ORT_WASM_FILES in models/runtime.ts.
 */
export const ORT_FILES = [
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
] as const

/**
 * Where the onnxruntime-web files winnow loads are: `dist/ort/` of the installed package (copied
 * there, with brotli copies, when the package is built), or, in winnow's own repository, the
 * onnxruntime-web copy that transformers.js resolves.
 *
 * @example
 * ortDistDir() // '/app/node_modules/winnow-rerank/dist/ort'
 */
export function ortDistDir(): string {
  const packaged = fileURLToPath(new URL('../ort/', import.meta.url))
  if (existsSync(join(packaged, ORT_FILES[3]))) return packaged
  const here = createRequire(import.meta.url)
  const transformers = here.resolve('@huggingface/transformers')
  return dirname(createRequire(transformers).resolve(`onnxruntime-web/${ORT_FILES[3]}`))
}

/** Response headers that make a page cross-origin isolated. */
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } as const

/** The encodings a `.wasm` file is precompressed in, best first, with their file suffixes. */
const ENCODINGS = [
  { name: 'br', suffix: '.br' },
  { name: 'gzip', suffix: '.gz' },
] as const

/**
 * The bytes of one ORT file in one encoding: a precompressed copy from the given folders when one
 * exists (the package ships brotli at its best quality, which takes a minute to make), else
 * computed here (a second or two).
 */
function encoded(file: string, encoding: 'br' | 'gzip', folders: readonly string[], memo: Map<string, Buffer | null>): Buffer | null {
  const key = `${file}:${encoding}`
  if (memo.has(key)) return memo.get(key)!
  let out: Buffer | null = null
  const suffix = encoding === 'br' ? '.br' : '.gz'
  const found = folders.map((d) => join(d, file + suffix)).find((f) => existsSync(f))
  if (found) out = readFileSync(found)
  else if (encoding === 'gzip') out = gzipSync(readFileSync(join(ortDistDir(), file)), { level: 9 })
  // No packaged copy (winnow's own repository): a quick brotli, ~15% larger than the packaged one.
  else out = brotliCompressSync(readFileSync(join(ortDistDir(), file)), { params: { [constants.BROTLI_PARAM_QUALITY]: 6 } })
  memo.set(key, out)
  return out
}

/**
 * Makes transformers.js's `import 'onnxruntime-web/webgpu'` load onnxruntime-web's build that
 * imports its WASM glue from `wasmPaths` (which winnow sets to `ort/`). The default build embeds
 * the glue and names its `.wasm` with `new URL(..., import.meta.url)`, so bundlers emit a 27 MB copy
 * that is never requested. Matters where the worker is bundled from source; the published worker
 * is already bundled this way.
 */
function externalOrtWasm(): Plugin {
  return {
    name: 'winnow:ort-external-wasm',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (source !== 'onnxruntime-web/webgpu') return null
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true })
      if (!resolved || !/ort\.webgpu\.bundle\.min\.mjs$/.test(resolved.id)) return resolved
      const external = resolved.id.replace(/ort\.webgpu\.bundle\.min\.mjs$/, 'ort.webgpu.min.mjs')
      return existsSync(external) ? { ...resolved, id: external } : resolved
    },
  }
}

/**
 * Rewrites transformers.js's module-level promise chains so that a failed session load or run does
 * not reject every later one (see {@link recoverTransformersChains}); fails the build if they are
 * not found.
 */
function recoverChains(): Plugin {
  return {
    name: 'winnow:transformers-chains',
    transform(code, id) {
      if (!isTransformersBuild(id)) return null
      return { code: recoverTransformersChains(code, id), map: null }
    },
  }
}

/**
 * @example
 * // vite.config.ts
 * import { winnow } from 'winnow-rerank/vite'
 * export default { plugins: [winnow()] }
 */
export function winnow(options: WinnowPluginOptions = {}): Plugin {
  const ortPath = (options.ortPath ?? 'ort/').replace(/^\/+/, '').replace(/\/?$/, '/')
  const isolate = options.crossOriginIsolation ?? true
  const compress = options.compress ?? true
  let base = '/'
  let outDir = ''
  const memo = new Map<string, Buffer | null>()
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    if (isolate) for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v)
    const path = (req.url ?? '').split('?')[0]!
    const file = ORT_FILES.find((f) => path === `${base}${ortPath}${f}`)
    if (!file) return next()
    res.setHeader('Content-Type', file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript')
    res.setHeader('Cache-Control', 'public, max-age=3600')
    if (compress && file.endsWith('.wasm')) {
      res.setHeader('Vary', 'Accept-Encoding')
      const accepted = String(req.headers['accept-encoding'] ?? '')
      const folders = [...(outDir ? [join(outDir, ortPath)] : []), ortDistDir()]
      for (const { name } of ENCODINGS) {
        if (!new RegExp(`\\b${name}\\b`).test(accepted)) continue
        const body = encoded(file, name, folders, memo)
        if (!body) continue
        res.setHeader('Content-Encoding', name)
        res.setHeader('Content-Length', String(body.length))
        return res.end(req.method === 'HEAD' ? undefined : body)
      }
    }
    res.end(readFileSync(join(ortDistDir(), file)))
  }
  return {
    name: 'winnow',
    config: () => ({ optimizeDeps: { exclude: ['winnow-rerank'] }, worker: { format: 'es', plugins: () => [externalOrtWasm(), recoverChains()] } }),
    configResolved(config) {
      base = config.base.endsWith('/') ? config.base : config.base + '/'
      outDir = resolvePath(config.root, config.build.outDir)
    },
    configureServer(server) {
      server.middlewares.use(middleware)
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware)
    },
    generateBundle() {
      const dir = ortDistDir()
      for (const file of ORT_FILES) {
        this.emitFile({ type: 'asset', fileName: ortPath + file, source: readFileSync(join(dir, file)) })
        if (!compress || !file.endsWith('.wasm')) continue
        for (const { name, suffix } of ENCODINGS) {
          const body = encoded(file, name, [dir], memo)
          if (body) this.emitFile({ type: 'asset', fileName: ortPath + file + suffix, source: body })
        }
      }
    },
  }
}
