/// <reference types="node" />
/**
 * A stand-in for the Hugging Face hub on 127.0.0.1, for tests that must not reach the internet
 * (vitest and Playwright alike: plain TypeScript, Node built-ins only, no project imports).
 *
 * It serves local model folders under hub ids the way huggingface.co does:
 * - `GET|HEAD /<org>/<name>/resolve/<revision>/<file>`; any revision serves the folder, and each
 *   request records the one asked for.
 * - Files stored with Git LFS on the real hub (`.onnx` and external-data files by default) answer
 *   with `X-Linked-Etag: "<sha256>"` and `X-Linked-Size`, and, like the hub, with a 302 to a
 *   content URL (`/cdn/<sha256>`) that serves the bytes. Other files answer 200 with
 *   `ETag: "<git blob sha1>"`.
 * - `Content-Length`, `Accept-Ranges: bytes`, `Range: bytes=a-b` → 206 (416 when unsatisfiable),
 *   `X-Repo-Commit`, CORS headers (so a page may fetch from it too).
 * - A missing file is 404 with `X-Error-Code: EntryNotFound`; an unknown model 404 with
 *   `X-Error-Code: RepoNotFound` (the real hub says 401 for those when not logged in).
 *
 * Faults for tests (mutable between requests through `hub.faults`): close the connection part way
 * through a file, serve wrong bytes of the right length, answer a status code, or refuse every
 * connection.
 *
 * @example
 * const hub = await startStandInHub({ models: { 'Xenova/ms-marco-MiniLM-L-6-v2': 'test/fixtures/models/tiny-random-cross-encoder' } })
 * // npx winnow-rerank models pull Xenova/ms-marco-MiniLM-L-6-v2 --dtype q8 --out public/models --host ${hub.url}
 * hub.requests.map((r) => `${r.method} ${r.file} ${r.status}`)
 * await hub.close()
 */

import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { join, resolve, sep } from 'node:path'

/** Which files a fault applies to: an exact path inside the model folder, or `'*'` for every file. */
export type FileMatch = string

/** Fault modes; each entry with `times` stops after that many matching requests (default: always). */
export interface StandInHubFaults {
  /** Close the connection after `afterBytes` bytes of a matching file's body. */
  cut?: { file: FileMatch; afterBytes: number; times?: number }[]
  /** Serve bytes of the right length but wrong content (every byte flipped). */
  corrupt?: { file: FileMatch; times?: number }[]
  /** Answer a matching file (GET and HEAD) with this status and no body. */
  status?: { file: FileMatch; code: number; times?: number }[]
  /** Destroy every connection as soon as it is accepted (an unreachable hub). */
  refuse?: boolean
}

/** What {@link startStandInHub} takes. */
export interface StandInHubOptions {
  /** Hub id → local folder, e.g. `{ 'Xenova/ms-marco-MiniLM-L-6-v2': 'test/fixtures/models/tiny-random-cross-encoder' }`. */
  models: Record<string, string>
  faults?: StandInHubFaults
  /** Which files count as LFS files. Default: `.onnx` and ONNX external-data files (`*.onnx_data*`). */
  isLfs?: (file: string) => boolean
  /** Answer LFS files with a 302 to `/cdn/<sha256>` as the real hub does (default true); false serves them directly. */
  redirectLfs?: boolean
}

/** One request the hub saw. */
export interface StandInHubRequest {
  method: string
  /** The raw request path, query included. */
  url: string
  /** The `Range` header, when sent. */
  range?: string
  status: number
  /** Hub id, revision and file for `/resolve/` and `/cdn/` requests (the CDN knows only the file). */
  model?: string
  revision?: string
  file?: string
  /** Whether this request was answered through a fault. */
  fault?: 'cut' | 'corrupt' | 'status'
}

/** A running stand-in hub. */
export interface StandInHub {
  /** `http://127.0.0.1:<port>`, without a trailing slash: pass as `--host` or `HF_ENDPOINT`. */
  url: string
  requests: StandInHubRequest[]
  /** Current fault modes; replace or edit between requests. */
  faults: StandInHubFaults
  /** `{ sha256, gitSha1, size }` of a file as served, for assertions. */
  fileInfo(model: string, file: string): { sha256: string; gitSha1: string; size: number }
  close(): Promise<void>
}

const DEFAULT_LFS = (file: string) => /\.onnx$|\.onnx_data(_\d+)?$/.test(file)

interface FileEntry {
  bytes: Buffer
  sha256: string
  gitSha1: string
  lfs: boolean
}

/**
 * Starts the stand-in hub on 127.0.0.1 on a free port.
 *
 * @example
 * const hub = await startStandInHub({ models: { 'org/model': 'path/to/folder' }, faults: { cut: [{ file: 'onnx/model_quantized.onnx', afterBytes: 1000, times: 1 }] } })
 */
export async function startStandInHub(options: StandInHubOptions): Promise<StandInHub> {
  const isLfs = options.isLfs ?? DEFAULT_LFS
  const redirectLfs = options.redirectLfs ?? true
  const folders = new Map(Object.entries(options.models).map(([id, folder]) => [id, resolve(folder)]))
  const requests: StandInHubRequest[] = []
  const sockets = new Set<Socket>()
  // Files are read on each request (tests may change a folder between runs) and hashed once per content.
  const hashes = new Map<string, { sha256: string; gitSha1: string }>()

  const readEntry = (model: string, file: string): FileEntry | null => {
    const folder = folders.get(model)
    if (!folder) return null
    const path = resolve(join(folder, file))
    if (!path.startsWith(folder + sep)) return null
    try {
      if (!statSync(path).isFile()) return null
    } catch {
      return null
    }
    const bytes = readFileSync(path)
    const key = `${path}:${bytes.length}:${createHash('md5').update(bytes).digest('hex')}`
    let hash = hashes.get(key)
    if (!hash) {
      hash = {
        sha256: createHash('sha256').update(bytes).digest('hex'),
        gitSha1: createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex'),
      }
      hashes.set(key, hash)
    }
    return { bytes, ...hash, lfs: isLfs(file) }
  }

  const hub: StandInHub = {
    url: '',
    requests,
    faults: options.faults ?? {},
    fileInfo(model, file) {
      const entry = readEntry(model, file)
      if (!entry) throw new Error(`stand-in hub: no ${file} in ${model}`)
      return { sha256: entry.sha256, gitSha1: entry.gitSha1, size: entry.bytes.length }
    },
    close: () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => done())
      }),
  }

  /** The first fault entry of a kind that matches `file` and has uses left; counts the use. */
  const takeFault = <T extends { file: FileMatch; times?: number }>(list: T[] | undefined, file: string): T | undefined => {
    const entry = list?.find((f) => (f.file === '*' || f.file === file) && (f.times === undefined || f.times > 0))
    if (entry && entry.times !== undefined) entry.times--
    return entry
  }

  const commit = (model: string) => createHash('sha1').update(`commit:${model}`).digest('hex')

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // A kept-alive connection from before `refuse` was set: drop it too.
    if (hub.faults.refuse) return void req.socket.destroy()
    const record: StandInHubRequest = { method: req.method ?? 'GET', url: req.url ?? '/', status: 0 }
    if (typeof req.headers.range === 'string') record.range = req.headers.range
    requests.push(record)
    res.setHeader('Access-Control-Allow-Origin', '*')
    res.setHeader('Access-Control-Expose-Headers', 'X-Linked-Etag, X-Linked-Size, X-Repo-Commit, X-Error-Code, ETag, Content-Length, Content-Range, Accept-Ranges, Location')
    const send = (status: number, headers: Record<string, string> = {}, body?: Buffer) => {
      record.status = status
      res.writeHead(status, headers)
      res.end(req.method === 'HEAD' ? undefined : body)
    }
    if (req.method === 'OPTIONS') {
      return send(204, { 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Allow-Headers': 'Range, Authorization, User-Agent', 'Access-Control-Max-Age': '600' })
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405)

    const path = (req.url ?? '/').split('?')[0]!
    // Content URL of an LFS file: /cdn/<model id, encoded>/<revision>/<file path>
    const cdn = /^\/cdn\/([^/]+)\/([^/]+)\/(.+)$/.exec(path)
    const resolved = cdn ? null : /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path)
    const match = cdn ?? resolved
    if (!match) return send(404, { 'X-Error-Code': 'RepoNotFound' })
    const model = decodeURIComponent(match[1]!)
    const revision = decodeURIComponent(match[2]!)
    const file = match[3]!.split('/').map(decodeURIComponent).join('/')
    Object.assign(record, { model, revision, file })
    if (!folders.has(model)) return send(404, { 'X-Error-Code': 'RepoNotFound', 'X-Error-Message': 'Repository not found' })

    const statusFault = takeFault(hub.faults.status, file)
    if (statusFault) {
      record.fault = 'status'
      return send(statusFault.code)
    }
    const entry = readEntry(model, file)
    if (!entry) return send(404, { 'X-Error-Code': 'EntryNotFound', 'X-Error-Message': 'Entry not found', 'X-Repo-Commit': commit(model) })

    const size = entry.bytes.length
    if (resolved && entry.lfs && redirectLfs) {
      const location = `/cdn/${encodeURIComponent(model)}/${encodeURIComponent(revision)}/${file}`
      return send(302, {
        Location: location,
        'X-Linked-Etag': `"${entry.sha256}"`,
        'X-Linked-Size': String(size),
        'X-Repo-Commit': commit(model),
        ETag: `"${entry.sha256}"`,
        'Content-Length': '0',
      })
    }

    const headers: Record<string, string> = {
      'Accept-Ranges': 'bytes',
      'Content-Type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      ETag: `"${entry.lfs ? entry.sha256 : entry.gitSha1}"`,
    }
    if (resolved) {
      headers['X-Repo-Commit'] = commit(model)
      if (entry.lfs) Object.assign(headers, { 'X-Linked-Etag': `"${entry.sha256}"`, 'X-Linked-Size': String(size) })
    }

    let start = 0
    let end = size - 1
    let status = 200
    const range = typeof req.headers.range === 'string' ? /^bytes=(\d*)-(\d*)$/.exec(req.headers.range.trim()) : null
    if (req.headers.range !== undefined) {
      if (range && (range[1] !== '' || range[2] !== '')) {
        if (range[1] === '') {
          start = Math.max(0, size - Number(range[2]))
        } else {
          start = Number(range[1])
          if (range[2] !== '') end = Math.min(end, Number(range[2]))
        }
        if (start >= size || start > end) return send(416, { ...headers, 'Content-Range': `bytes */${size}` })
        status = 206
        headers['Content-Range'] = `bytes ${start}-${end}/${size}`
      }
      // A malformed Range is ignored, as the hub does: the whole file follows.
    }
    let body = entry.bytes.subarray(start, end + 1)
    headers['Content-Length'] = String(body.length)

    if (req.method === 'GET') {
      if (takeFault(hub.faults.corrupt, file)) {
        record.fault = 'corrupt'
        body = Buffer.from(body.map((b) => b ^ 0xff))
      }
      const cut = takeFault(hub.faults.cut, file)
      if (cut) {
        record.fault = 'cut'
        record.status = status
        res.writeHead(status, headers)
        // Send part of the body, then drop the connection: the client sees a premature close. The
        // pause lets the bytes sent reach the client before the close does, as on a real network.
        res.write(body.subarray(0, Math.min(cut.afterBytes, Math.max(0, body.length - 1))), () => setTimeout(() => res.destroy(), 20))
        return
      }
    }
    send(status, headers, body)
  })

  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    if (hub.faults.refuse) socket.destroy()
  })
  await new Promise<void>((done, fail) => {
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => done())
  })
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return hub
}
