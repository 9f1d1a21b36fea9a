import { existsSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { ORT_WASM_FILES } from '../../src/models/runtime.js'
import { ORT_FILES, ortDistDir, winnow } from '../../src/vite/plugin.js'
import { request, viteMiddleware } from './pluginHelpers.js'

describe('vite plugin', () => {
  it('ships exactly the onnxruntime files the runtime loads', () => {
    expect([...ORT_FILES].sort()).toEqual(Object.values(ORT_WASM_FILES).flatMap((f) => [f.mjs, f.wasm]).sort())
  })

  it('finds the files in the installed onnxruntime-web', () => {
    const dir = ortDistDir()
    for (const file of ORT_FILES) {
      expect(existsSync(join(dir, file))).toBe(true)
      expect(statSync(join(dir, file)).size).toBeGreaterThan(0)
    }
  })

  it('keeps winnow out of pre-bundling, builds ES workers and gives workers the external-WASM resolver and the chain rewrite', () => {
    const plugin = winnow()
    expect(plugin.name).toBe('winnow')
    const config = (plugin.config as () => { optimizeDeps: unknown; worker: { format: string; plugins: () => { name: string }[] } })()
    expect(config.optimizeDeps).toEqual({ exclude: ['winnow-rerank'] })
    expect(config.worker.format).toBe('es')
    expect(config.worker.plugins().map((p) => p.name)).toEqual(['winnow:ort-external-wasm', 'winnow:transformers-chains'])
  })

  it("rewrites transformers.js's chains in a worker bundled from source, and leaves other modules alone", () => {
    const rewrite = (winnow().config as unknown as () => { worker: { plugins: () => { transform: Function }[] } })().worker.plugins()[1]!
    const id = createRequire(import.meta.url).resolve('@huggingface/transformers').replace(/transformers\.node\.(c|m)js$/, 'transformers.web.js')
    const out = rewrite.transform(readFileSync(id, 'utf8'), id)
    expect(out.code).toContain('webInferenceChain = webInferenceChain.catch(() => {}).then(run)')
    expect(out.code).toContain('webInitChain = webInitChain.catch(() => {}).then(load)')
    expect(rewrite.transform('webInferenceChain = webInferenceChain.then(run)', '/x/src/other.js')).toBeNull()
    expect(() => rewrite.transform('export {}', id)).toThrow(/transformers.js changed/)
  })

  it("resolves transformers.js's onnxruntime-web/webgpu to the build that loads its WASM from wasmPaths", async () => {
    const resolver = (winnow().config as unknown as () => { worker: { plugins: () => { resolveId: Function }[] } })().worker.plugins()[0]!
    const ortWeb = createRequire(createRequire(import.meta.url).resolve('@huggingface/transformers')).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm')
    const context = { resolve: async () => ({ id: join(dirname(ortWeb), 'ort.webgpu.bundle.min.mjs') }) }
    const out = await resolver.resolveId.call(context, 'onnxruntime-web/webgpu', '/x/transformers.web.js', {})
    expect(out.id.endsWith('/dist/ort.webgpu.min.mjs')).toBe(true)
    expect(existsSync(out.id)).toBe(true)
    expect(readFileSync(out.id, 'utf8')).not.toMatch(/new URL\(\s*["'][^"']+\.wasm["']\s*,\s*import\.meta\.url/)
    expect(await resolver.resolveId.call(context, 'onnxruntime-web', '/x/a.js', {})).toBeNull()
  })

  it('serves .wasm compressed to a browser that accepts it, with the exact bytes once decoded', () => {
    const middleware = viteMiddleware(winnow)
    const original = readFileSync(join(ortDistDir(), 'ort-wasm-simd-threaded.wasm'))
    const gz = request(middleware, '/ort/ort-wasm-simd-threaded.wasm', 'gzip, deflate')
    expect(gz.res.headers['content-encoding']).toBe('gzip')
    expect(gz.res.headers['vary']).toBe('Accept-Encoding')
    expect(gz.res.headers['content-type']).toBe('application/wasm')
    expect(Number(gz.res.headers['content-length'])).toBe(gz.res.body!.length)
    expect(gz.res.body!.length).toBeLessThan(original.length / 3)
    expect(gunzipSync(gz.res.body!).equals(original)).toBe(true)

    const plain = request(middleware, '/ort/ort-wasm-simd-threaded.wasm', '')
    expect(plain.res.headers['content-encoding']).toBeUndefined()
    expect(plain.res.body!.equals(original)).toBe(true)

    const mjs = request(middleware, '/ort/ort-wasm-simd-threaded.mjs', 'gzip, br')
    expect(mjs.res.headers['content-type']).toBe('text/javascript')
    expect(mjs.res.headers['cross-origin-embedder-policy']).toBe('require-corp')
    expect(request(middleware, '/index.html', 'br').passed).toBe(true)
  })

  it('serves uncompressed when compress is off', () => {
    const { res } = request(viteMiddleware(winnow, { compress: false }), '/ort/ort-wasm-simd-threaded.wasm', 'gzip, br')
    expect(res.headers['content-encoding']).toBeUndefined()
  })
})
