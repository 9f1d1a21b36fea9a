/**
 * A model server on 127.0.0.1 that cuts transfers short, as a real server or proxy does when it
 * dies mid-response: it announces a file's full Content-Length, sends part of it and closes the
 * connection (`close-early`), or sends part of a chunked response and closes without the last
 * chunk (`chunked-close`). Vite's preview server cannot do either, and a Playwright route cannot
 * close a connection. It serves the fixture models under /models/ with CORS (the test pages load
 * from it cross-origin), answers HEAD and Range requests whole, and cuts only full GETs of
 * `cutFile` while `mode` is not `ok`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'

export type CutMode = 'ok' | 'close-early' | 'chunked-close'

export interface CutServer {
  /** `http://127.0.0.1:<port>/models/`: a `modelBaseUrl`. */
  base: string
  mode: CutMode
  /** The file cut, relative to the fixture root: `<model>/<path>`. */
  cutFile: string
  /** How many transfers were cut so far. */
  cuts: number
  close(): Promise<void>
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Accept-Ranges',
  'Cross-Origin-Resource-Policy': 'cross-origin',
}

/**
 * Starts the server on a free port of 127.0.0.1.
 *
 * @example
 * const server = await startCutServer()
 * server.mode = 'close-early'; server.cutFile = 'tiny-random-cross-encoder/onnx/model.onnx'
 */
export async function startCutServer(root = fileURLToPath(new URL('../fixtures/models/', import.meta.url))): Promise<CutServer> {
  const state: CutServer = { base: '', mode: 'ok', cutFile: '', cuts: 0, close: async () => {} }
  const server = createServer((req, res) => {
    for (const [k, v] of Object.entries(CORS)) res.setHeader(k, v)
    if (req.method === 'OPTIONS') return void res.writeHead(204).end()
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const rel = path.startsWith('/models/') ? path.slice('/models/'.length) : ''
    const file = `${root}${rel}`
    if (!rel || rel.includes('..') || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found')
    const bytes = readFileSync(file)
    const type = rel.endsWith('.json') ? 'application/json' : 'application/octet-stream'
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''))
    if (range) {
      const start = Number(range[1])
      const end = Math.min(bytes.length - 1, range[2] ? Number(range[2]) : bytes.length - 1)
      res.writeHead(206, { 'Content-Type': type, 'Content-Range': `bytes ${start}-${end}/${bytes.length}`, 'Content-Length': end - start + 1 })
      return void res.end(req.method === 'HEAD' ? undefined : bytes.subarray(start, end + 1))
    }
    if (req.method === 'HEAD') return void res.writeHead(200, { 'Content-Type': type, 'Content-Length': bytes.length }).end()
    if (state.mode === 'ok' || rel !== state.cutFile) return void res.writeHead(200, { 'Content-Type': type, 'Content-Length': bytes.length }).end(bytes)
    state.cuts++
    const part = bytes.subarray(0, bytes.length >> 1)
    // close-early: the full length announced, half sent. chunked-close: no length, half sent in chunks, no final chunk.
    res.writeHead(200, state.mode === 'close-early' ? { 'Content-Type': type, 'Content-Length': bytes.length } : { 'Content-Type': type })
    res.write(part, () => setTimeout(() => res.socket?.destroy(), 50))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/`
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return state
}
