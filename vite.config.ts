import { existsSync, readFileSync, statSync } from 'node:fs'
import { join, normalize, resolve } from 'node:path'
import { defineConfig, type Connect, type Plugin } from 'vite'
import { winnow } from './src/vite/plugin.ts'

/**
 * The hub ids the stand-in hub answers with a random-weight fixture, so the demos' "download the
 * real models from the hub" path can be tested on a machine without the hub. Every such response
 * carries `X-Winnow-Stand-In: <fixture>`, which the demos read to say they are not the real weights.
 */
const HUB_STAND_INS: Readonly<Record<string, string>> = {
  'Xenova/ms-marco-MiniLM-L-6-v2': 'tiny-random-cross-encoder',
  'Xenova/all-MiniLM-L6-v2': 'tiny-random-embedder',
}

/**
 * Serves local model folders at /models/: the committed tiny fixtures, when generated
 * (`npm run models:bench`) the MiniLM-shaped ones, and public/models (where
 * `winnow-rerank models pull --out public/models` puts real ones). Stands in for a self-hosted
 * model folder, and under /hub/ for the Hugging Face hub's URL layout.
 */
function localModels(): Plugin {
  // WINNOW_MODELS_DIR adds a folder (npm run eval -- --browser --models <dir>).
  const roots = [resolve('test/fixtures/models'), resolve('.cache/models'), resolve('public/models'), ...(process.env.WINNOW_MODELS_DIR ? [resolve(process.env.WINNOW_MODELS_DIR)] : [])]
  const serve: Connect.NextHandleFunction = (req, res, next) => {
    let path = decodeURIComponent((req.url ?? '').split('?')[0]!)
    // /hub/<org>/<name>/resolve/<revision>/<file> plays the Hugging Face hub for allowRemoteModels
    // tests: the real ids of HUB_STAND_INS get their fixture, any other id the folder <name>.
    const hub = /^\/hub\/([^/]+)\/([^/]+)\/resolve\/[^/]+\/(.+)$/.exec(path)
    if (hub) {
      const standIn = HUB_STAND_INS[`${hub[1]}/${hub[2]}`]
      if (standIn) res.setHeader('X-Winnow-Stand-In', standIn)
      path = `/models/${standIn ?? hub[2]}/${hub[3]}`
    }
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
        adapters: resolve('test/browser/pages/adapters.html'),
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
