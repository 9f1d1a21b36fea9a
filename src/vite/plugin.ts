/// <reference types="node" />
/**
 * `winnow/vite`: the Vite plugin for apps that use winnow. It
 * - ships onnxruntime-web's WASM files with the app under `ort/` (never fetched from a CDN),
 * - serves the app cross-origin isolated (COOP/COEP) in dev and preview, so WASM can use threads,
 * - keeps winnow out of dependency pre-bundling, which would break its `new Worker(new URL(...))`.
 * Production servers must send the same two headers for threads (see the README).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Connect, Plugin } from 'vite'

/** Options of {@link winnow}. */
export interface WinnowPluginOptions {
  /** Folder (relative to the app's base) for the onnxruntime-web files; pass the same as `wasmBaseUrl`. Default `'ort/'`. */
  ortPath?: string
  /** Send COOP `same-origin` and COEP `require-corp` from the dev and preview servers. Default `true`. */
  crossOriginIsolation?: boolean
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
 * Where the installed onnxruntime-web keeps its dist files (the copy transformers.js resolves).
 *
 * @example
 * ortDistDir() // '/app/node_modules/onnxruntime-web/dist'
 */
export function ortDistDir(): string {
  const here = createRequire(import.meta.url)
  const transformers = here.resolve('@huggingface/transformers')
  return dirname(createRequire(transformers).resolve(`onnxruntime-web/${ORT_FILES[1]}`))
}

/** Response headers that make a page cross-origin isolated. */
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } as const

/**
 * @example
 * // vite.config.ts
 * import { winnow } from 'winnow-rerank/vite'
 * export default { plugins: [winnow()] }
 */
export function winnow(options: WinnowPluginOptions = {}): Plugin {
  const ortPath = (options.ortPath ?? 'ort/').replace(/^\/+/, '').replace(/\/?$/, '/')
  const isolate = options.crossOriginIsolation ?? true
  let base = '/'
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    if (isolate) for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v)
    const path = (req.url ?? '').split('?')[0]!
    const file = ORT_FILES.find((f) => path === `${base}${ortPath}${f}`)
    if (!file) return next()
    res.setHeader('Content-Type', file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript')
    res.setHeader('Cache-Control', 'public, max-age=3600')
    res.end(readFileSync(join(ortDistDir(), file)))
  }
  return {
    name: 'winnow',
    config: () => ({ optimizeDeps: { exclude: ['winnow-rerank'] }, worker: { format: 'es' } }),
    configResolved(config) {
      base = config.base.endsWith('/') ? config.base : config.base + '/'
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
      }
    },
  }
}
