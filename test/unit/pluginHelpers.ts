/** Drives the Vite plugin's dev/preview middleware the way Vite installs it, without a server. */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export type Middleware = (req: { url: string; method: string; headers: Record<string, string> }, res: FakeResponse, next: () => void) => void

export class FakeResponse {
  headers: Record<string, string> = {}
  body: Buffer | undefined
  ended = false
  setHeader(k: string, v: string) {
    this.headers[k.toLowerCase()] = v
  }
  end(body?: Buffer) {
    this.body = body
    this.ended = true
  }
}

/** The plugin's preview middleware, as Vite would install it. */
export function viteMiddleware(factory: (options?: object) => unknown, options: object = {}, outDir = mkdtempSync(join(tmpdir(), 'winnow-plugin-'))): Middleware {
  const plugin = factory(options) as Record<string, unknown>
  ;(plugin.configResolved as (c: unknown) => void)({ base: '/', root: '/', build: { outDir } })
  let middleware: Middleware | undefined
  ;(plugin.configurePreviewServer as (s: unknown) => void)({ middlewares: { use: (m: Middleware) => (middleware = m) } })
  return middleware!
}

export function request(middleware: Middleware, url: string, acceptEncoding = '') {
  const res = new FakeResponse()
  let passed = false
  middleware({ url, method: 'GET', headers: { 'accept-encoding': acceptEncoding } }, res, () => (passed = true))
  return { res, passed }
}

