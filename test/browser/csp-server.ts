/// <reference types="node" />
/**
 * A static server for the Content-Security-Policy tests: node:http on 127.0.0.1 (port 0), serving a
 * built folder and the model fixtures with the same security headers on EVERY response — the page,
 * its scripts, the worker scripts, onnxruntime's glue and WASM, the service worker — as a static
 * host configured "headers for /*" does. (A worker's policy comes from its own response, so headers
 * on the HTML alone would test nothing inside the workers.)
 *
 * The policy carries `report-uri /__csp-report` besides what the test gives: every violation in
 * any context (page, winnow's worker, onnxruntime's thread workers, the service worker) is POSTed
 * back here, including the ones no `securitypolicyviolation` listener could see.
 *
 * @example
 * const server = await startCspServer({ root: 'dist-app', csp: STRICT_CSP })
 * await page.goto(`${server.url}/demo/`)
 * expect(server.reports).toEqual([])
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, resolve } from 'node:path'

/** The policy of issue #22: no blob:, no data:, no 'unsafe-eval'. */
export const STRICT_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; style-src 'self'"

/** {@link STRICT_CSP} with Trusted Types required, and winnow's policy allowed. */
export const STRICT_CSP_TT = `${STRICT_CSP}; require-trusted-types-for 'script'; trusted-types winnow-rerank`

/** Response headers that make a page cross-origin isolated. */
export const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } as const

/** One CSP violation report as Chromium POSTs it to `report-uri`. */
export interface CspReport {
  'document-uri'?: string
  'blocked-uri'?: string
  'violated-directive'?: string
  'effective-directive'?: string
  'original-policy'?: string
  'source-file'?: string
}

export interface CspServer {
  url: string
  /** Every violation reported so far. */
  reports: CspReport[]
  /** Every path requested, in order. */
  requests: string[]
  /** Changes the policy sent from now on. */
  setCsp(csp: string): void
  close(): Promise<void>
}

export interface CspServerOptions {
  /** The built folder served at `/`. */
  root: string
  csp: string
  /** Send COOP/COEP too. Default true. */
  isolate?: boolean
  /** Folders served under `/models/` (first match wins). Default: the committed fixtures. */
  models?: string[]
  /** Map of URL path prefixes to folders, checked before `root` (e.g. `{ '/models/': ... }`). */
  mounts?: Record<string, string>
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.pdf': 'application/pdf',
}

const REPORT_PATH = '/__csp-report'

/** Starts the server; see {@link CspServer}. */
export async function startCspServer(options: CspServerOptions): Promise<CspServer> {
  const root = resolve(options.root)
  const models = (options.models ?? ['test/fixtures/models']).map((d) => resolve(d))
  const mounts = Object.entries(options.mounts ?? {}).map(([prefix, dir]) => [prefix, resolve(dir)] as const)
  let csp = options.csp
  const reports: CspReport[] = []
  const requests: string[] = []

  const headers = (res: ServerResponse) => {
    res.setHeader('Content-Security-Policy', `${csp}; report-uri ${REPORT_PATH}`)
    if (options.isolate ?? true) for (const [k, v] of Object.entries(ISOLATION)) res.setHeader(k, v)
    res.setHeader('Cache-Control', 'no-cache')
  }

  const fileFor = (path: string): string | null => {
    const candidates: string[] = []
    if (path.startsWith('/models/')) for (const dir of models) candidates.push(join(dir, path.slice('/models/'.length)))
    for (const [prefix, dir] of mounts) if (path.startsWith(prefix)) candidates.push(join(dir, path.slice(prefix.length)))
    candidates.push(join(root, path))
    for (let file of candidates) {
      if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html')
      if (existsSync(file) && statSync(file).isFile()) return file
    }
    return null
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!))
    if (req.method === 'POST' && path === REPORT_PATH) {
      let body = ''
      req.on('data', (chunk) => (body += chunk))
      req.on('end', () => {
        try {
          const parsed = JSON.parse(body)
          reports.push(parsed['csp-report'] ?? parsed)
        } catch {
          reports.push({ 'blocked-uri': `unparsable report: ${body.slice(0, 200)}` })
        }
        res.statusCode = 204
        res.end()
      })
      return
    }
    requests.push(req.url ?? '/')
    headers(res)
    if (path.includes('..')) {
      res.statusCode = 400
      return res.end()
    }
    const file = fileFor(path)
    if (!file) {
      res.statusCode = 404
      res.setHeader('Content-Type', 'text/plain')
      return res.end('not found')
    }
    const size = statSync(file).size
    res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream')
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
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file))
  }

  const server = createServer(handle)
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    reports,
    requests,
    setCsp: (next) => void (csp = next),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections?.()
        server.close(() => done())
      }),
  }
}
