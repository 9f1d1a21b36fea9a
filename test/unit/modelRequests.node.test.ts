/**
 * What a normal model load asks the server for. The fixture models are served over (fake) HTTP the
 * way the worker reads a self-hosted `modelBaseUrl` — `configureRuntime`, its FetchRecorder, and the
 * worker's reader of optional files — and every request is logged with its status: a 404 is a red
 * line in the browser's console, so a normal load must cause none.
 */
import { env } from '@huggingface/transformers'
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { loadCrossEncoder } from '../../src/models/loadCrossEncoder.js'
import { loadEmbedder, POOLING_CONFIG_PATH } from '../../src/models/loadEmbedder.js'
import { configureRuntime, readOptionalModelJson, type ModelJsonSource } from '../../src/models/runtime.js'
import type { FetchRecorder } from '../../src/models/fetchRecorder.js'

/** The onnxruntime env transformers.js runs on in Node (onnxruntime-node's CommonJS copy of onnxruntime-common). */
const ortEnv = (createRequire(import.meta.url)('onnxruntime-node') as { env: { logLevel?: string } }).env
const FIXTURES = fileURLToPath(new URL('../fixtures/models/', import.meta.url))
const BASE = 'http://models.test/models/'
/** Served from the embedder fixture's folder under a name winnow does not know. */
const UNLISTED = 'unlisted-embedder'

interface Logged {
  method: string
  url: string
  status: number
}
const served: Logged[] = []

/** A static file server over the fixture folder, answering Range requests as a CDN would. */
const serve: typeof fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
  const method = init?.method ?? 'GET'
  const log = (status: number) => served.push({ method, url, status })
  if (!url.startsWith(BASE)) {
    log(0)
    throw new TypeError(`fetch failed: ${url} is not on the test server`)
  }
  const path = url.slice(BASE.length).replace(/^unlisted-embedder\//, 'tiny-random-embedder/')
  const file = `${FIXTURES}${decodeURIComponent(path)}`
  if (!existsSync(file) || !statSync(file).isFile()) {
    log(404)
    return new Response('Not Found', { status: 404, headers: { 'content-type': 'text/plain' } })
  }
  const body = readFileSync(file)
  const type = file.endsWith('.json') ? 'application/json' : 'application/octet-stream'
  const range = /^bytes=(\d+)-(\d*)$/.exec(new Headers(init?.headers).get('range') ?? '')
  if (range) {
    const start = Number(range[1])
    const end = range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1
    log(206)
    return new Response(method === 'HEAD' ? null : body.subarray(start, end + 1), {
      status: 206,
      headers: { 'content-type': type, 'content-length': String(end - start + 1), 'content-range': `bytes ${start}-${end}/${body.length}` },
    })
  }
  log(200)
  return new Response(method === 'HEAD' ? null : body, { status: 200, headers: { 'content-type': type, 'content-length': String(body.length) } })
}

const source: ModelJsonSource = { modelBaseUrl: BASE, allowRemoteModels: false, cache: false }
let recorder: FetchRecorder
const disposers: (() => Promise<unknown>)[] = []

beforeAll(() => {
  vi.stubGlobal('fetch', serve)
  ortEnv.logLevel = 'verbose' // so that the test sees configureRuntime set it
  recorder = configureRuntime({ modelBaseUrl: BASE, allowRemoteModels: false, device: 'wasm', threads: 1, cache: false })
  // In Node, transformers.js hands onnxruntime a file path, so downloads land in a cache folder.
  env.cacheDir = mkdtempSync(join(tmpdir(), 'winnow-model-cache-'))
})
afterAll(async () => {
  for (const dispose of disposers) await dispose()
  vi.unstubAllGlobals()
})

const loadEmbedderOverHttp = (model: string) =>
  loadEmbedder({ model, dtype: 'q8', device: 'cpu', recorder, readModelJson: (m, path) => readOptionalModelJson(source, m, path) })

describe('a normal load of the fixture models over HTTP', () => {
  it('asks for nothing that is missing: no 404, no 1_Pooling/config.json', async () => {
    served.length = 0
    const embedder = await loadEmbedderOverHttp('tiny-random-embedder')
    disposers.push(() => embedder.dispose())
    const reranker = await loadCrossEncoder({ model: 'tiny-random-cross-encoder', dtype: 'q8', device: 'cpu', recorder })
    disposers.push(() => reranker.dispose())
    expect(embedder.embedder.settings.pooling).toBe('mean')
    // Both models really came over this server...
    expect(served.some((r) => r.url === `${BASE}tiny-random-embedder/onnx/model_quantized.onnx`)).toBe(true)
    expect(served.some((r) => r.url === `${BASE}tiny-random-cross-encoder/onnx/model_quantized.onnx`)).toBe(true)
    // ...and nothing was asked for that is not there.
    expect(served.filter((r) => r.status >= 400 || r.status === 0)).toEqual([])
    expect(served.filter((r) => r.url.includes('1_Pooling'))).toEqual([])
    expect(recorder.failures).toEqual([])
  })

  it('asks an unknown model for its 1_Pooling/config.json, once, outside the load-failure record', async () => {
    served.length = 0
    const unlisted = await loadEmbedderOverHttp(UNLISTED)
    disposers.push(() => unlisted.dispose())
    expect(unlisted.embedder.settings.pooling).toBe('mean') // absent: the default
    // Its prefixes are unknown too: config_sentence_transformers.json is asked for once as well.
    expect(served.filter((r) => r.status >= 400)).toEqual([
      { method: 'GET', url: `${BASE}${UNLISTED}/${POOLING_CONFIG_PATH}`, status: 404 },
      { method: 'GET', url: `${BASE}${UNLISTED}/config_sentence_transformers.json`, status: 404 },
    ])
    // An optional file's absence must not read as the cause of a later load failure.
    expect(recorder.failures).toEqual([])
  })
})

describe('configureRuntime', () => {
  it("sets onnxruntime's own log level to 'error', so its warnings are not printed as console errors", () => {
    expect(ortEnv.logLevel).toBe('error')
  })
})
