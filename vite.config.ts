import { existsSync, readFileSync, statSync } from 'node:fs'
import { join, normalize, resolve } from 'node:path'
import { defineConfig, type Connect, type Plugin } from 'vite'
import { winnow } from './src/vite/plugin.ts'

/**
 * Serves local model folders at /models/: the committed tiny fixtures and, when generated
 * (`npm run models:bench`), the MiniLM-shaped ones. Stands in for a self-hosted model folder, and
 * under /hub/ for the Hugging Face hub's URL layout.
 */
function localModels(): Plugin {
  // WINNOW_MODELS_DIR adds a folder (npm run eval -- --browser --models <dir>).
  const roots = [resolve('test/fixtures/models'), resolve('.cache/models'), ...(process.env.WINNOW_MODELS_DIR ? [resolve(process.env.WINNOW_MODELS_DIR)] : [])]
  const serve: Connect.NextHandleFunction = (req, res, next) => {
    let path = decodeURIComponent((req.url ?? '').split('?')[0]!)
    // /hub/<org>/<name>/resolve/<revision>/<file> plays the Hugging Face hub for allowRemoteModels tests.
    const hub = /^\/hub\/[^/]+\/([^/]+)\/resolve\/[^/]+\/(.+)$/.exec(path)
    if (hub) path = `/models/${hub[1]}/${hub[2]}`
    if (!path.startsWith('/models/')) return next()
    const rel = normalize(path.slice('/models/'.length))
    if (rel.startsWith('..')) return next()
    for (const root of roots) {
      const file = join(root, rel)
      if (existsSync(file) && statSync(file).isFile()) {
        const size = statSync(file).size
        res.setHeader('Content-Type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream')
        res.setHeader('Accept-Ranges', 'bytes')
        const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''))
        if (range) {
          const start = Number(range[1])
          const end = Math.min(size - 1, range[2] ? Number(range[2]) : size - 1)
          res.statusCode = 206
          res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`)
          res.setHeader('Content-Length', String(end - start + 1))
          return res.end(req.method === 'HEAD' ? undefined : readFileSync(file).subarray(start, end + 1))
        }
        res.setHeader('Content-Length', String(size))
        if (req.method === 'HEAD') return res.end()
        return res.end(readFileSync(file))
      }
    }
    res.statusCode = 404
    res.end('not found')
  }
  return {
    name: 'local-models',
    configureServer: (server) => void server.middlewares.use(serve),
    configurePreviewServer: (server) => void server.middlewares.use(serve),
  }
}

export default defineConfig({
  plugins: [winnow(), localModels()],
  // Orama's persistence plugin (bench/pages/peers.js) depends on dpack, whose main entry imports
  // Node's `stream`; its browser entry does not.
  resolve: { alias: [{ find: /^dpack$/, replacement: 'dpack/browser.js' }] },
  build: {
    outDir: 'dist-app',
    target: 'es2022',
    rollupOptions: {
      input: {
        demo: resolve('demo/index.html'),
        harness: resolve('test/browser/pages/harness.html'),
        contract: resolve('test/browser/pages/contract.html'),
        peers: resolve('bench/pages/peers.html'),
        naive: resolve('bench/pages/naive.html'),
        rag: resolve('demo/rag/index.html'),
        reliability: resolve('test/reliability/pages/fuzz.html'),
        'docs-search': resolve('demo/docs-search/index.html'),
      },
    },
  },
  preview: { port: 4173, strictPort: true },
  server: { port: 5173 },
})
