/**
 * The nginx configuration in docs/guides/deployment.md, run by a real nginx (Debian's, with the
 * brotli_static module; .ci/run installs both) over the files the Vite plugin emits at build time:
 * the .wasm arrives compressed (brotli, else gzip, else as is), with the cross-origin isolation
 * headers and the WASM content type, and a missing model file is a 404, not the app's index.html.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ortDistDir, winnow } from '../../src/vite/plugin.js'

const root = resolve(__dirname, '../..')
const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx'
const BROTLI_MODULE = '/usr/lib/nginx/modules/ngx_http_brotli_static_module.so'
const PORT = Number(process.env.WINNOW_NGINX_PORT ?? 4195)

let site = ''
let nginx: ChildProcess | undefined

/** A raw GET (node's fetch would decode the body and hide the encoding). */
function get(path: string, acceptEncoding?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port: PORT, path, headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {} }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', fail)
    req.end()
  })
}

beforeAll(async () => {
  site = mkdtempSync(join(tmpdir(), 'winnow-nginx-'))
  const dist = join(site, 'dist')
  // What `vite build` writes: the plugin's generateBundle, with emitFile writing to disk.
  const plugin = winnow()
  ;(plugin.generateBundle as (this: unknown) => void).call({
    emitFile: ({ fileName, source }: { fileName: string; source: Buffer }) => {
      mkdirSync(dirname(join(dist, fileName)), { recursive: true })
      writeFileSync(join(dist, fileName), source)
    },
  })
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>app</title>')
  mkdirSync(join(dist, 'models/m'), { recursive: true })
  writeFileSync(join(dist, 'models/m/config.json'), '{}')

  const doc = readFileSync(join(root, 'docs/guides/deployment.md'), 'utf8')
  const server = /<!-- deployment:nginx -->\s*```nginx\n([\s\S]*?)```/.exec(doc)?.[1]
  expect(server).toBeTruthy()
  const conf = [
    `load_module ${BROTLI_MODULE};`,
    'daemon off;',
    'user root;',
    `pid ${site}/nginx.pid;`,
    `error_log ${site}/error.log warn;`,
    'events {}',
    'http {',
    `  access_log off; client_body_temp_path ${site}/tmp; proxy_temp_path ${site}/tmp; fastcgi_temp_path ${site}/tmp; uwsgi_temp_path ${site}/tmp; scgi_temp_path ${site}/tmp;`,
    server!.replace('listen 8080;', `listen 127.0.0.1:${PORT};`).replace('root /srv/my-app/dist;', `root ${dist};`),
    '}',
  ].join('\n')
  mkdirSync(join(site, 'tmp'))
  writeFileSync(join(site, 'nginx.conf'), conf)
  nginx = spawn(NGINX, ['-c', join(site, 'nginx.conf'), '-p', site], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  nginx.stderr!.on('data', (d) => (stderr += d))
  for (let i = 0; i < 100; i++) {
    if (await get('/').then(() => true, () => false)) return
    if (nginx.exitCode !== null) break
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`nginx did not start (${NGINX}; install Debian's nginx and libnginx-mod-http-brotli-static): ${stderr}`)
}, 60_000)

afterAll(() => {
  nginx?.kill()
  if (site) rmSync(site, { recursive: true, force: true })
})

describe("the deployment guide's nginx configuration", () => {
  const original = () => readFileSync(join(ortDistDir(), 'ort-wasm-simd-threaded.wasm'))

  it('serves the WASM runtime in brotli to a browser that accepts it, byte-exact once decoded', async () => {
    const res = await get('/ort/ort-wasm-simd-threaded.wasm', 'gzip, deflate, br, zstd')
    expect(res.status).toBe(200)
    expect(res.headers['content-encoding']).toBe('br')
    expect(res.headers['content-type']).toBe('application/wasm')
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin')
    expect(res.headers['cross-origin-embedder-policy']).toBe('require-corp')
    expect(res.body.length).toBeLessThan(original().length / 4)
    expect(brotliDecompressSync(res.body).equals(original())).toBe(true)
  })

  it('falls back to gzip, then to the plain file', async () => {
    const gz = await get('/ort/ort-wasm-simd-threaded.wasm', 'gzip')
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(gz.body).equals(original())).toBe(true)
    const plain = await get('/ort/ort-wasm-simd-threaded.wasm')
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.body.equals(original())).toBe(true)
  })

  it('isolates the page and answers a missing model file with a 404, not the app', async () => {
    const page = await get('/')
    expect(page.headers['cross-origin-embedder-policy']).toBe('require-corp')
    expect((await get('/models/m/config.json')).status).toBe(200)
    const missing = await get('/models/m/onnx/model_quantized.onnx')
    expect(missing.status).toBe(404)
    expect(missing.body.toString()).not.toContain('<title>app</title>')
    expect((await get('/some/route')).body.toString()).toContain('<title>app</title>') // the SPA fallback elsewhere
  })
})
