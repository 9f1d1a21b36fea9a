/**
 * `models pull` must fetch exactly what winnow's loaders request. These tests pull fixture models
 * from the stand-in hub, serve the pulled folder the way an app serves `public/models` at
 * `/models/`, load the model through the library's own Node code (configureRuntime +
 * loadCrossEncoder / loadEmbedder, with the FetchRecorder seeing every request) and compare the
 * requested files with the pulled ones. They also check the file list against transformers.js's
 * own ModelRegistry for every dtype.
 */
import { env, ModelRegistry } from '@huggingface/transformers'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, type Dirent } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative, resolve, sep } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { modelFileList, OPTIONAL_FILES, parseDtypes, PULL_DTYPES, TOKENIZER_FILES } from '../../src/cli/modelFiles.js'
import { DTYPE_FILES } from '../../src/models/dtype.js'
import type { FetchRecorder } from '../../src/models/fetchRecorder.js'
import { loadCrossEncoder } from '../../src/models/loadCrossEncoder.js'
import { loadEmbedder, POOLING_CONFIG_PATH } from '../../src/models/loadEmbedder.js'
import { SENTENCE_TRANSFORMERS_CONFIG_PATH } from '../../src/models/conventions.js'
import { configureRuntime } from '../../src/models/runtime.js'
import { startStandInHub, type StandInHub } from '../helpers/standInHub.js'

const CE = 'test/fixtures/models/tiny-random-cross-encoder'
const EMB = 'test/fixtures/models/tiny-random-embedder'

let hub: StandInHub
let site: Server
let siteUrl: string
let out: string

/** A copy of a fixture model with extra files (path → content) and config.json fields. */
function variant(fixture: string, extra: Record<string, string>, configFields: Record<string, unknown> = {}): string {
  const folder = mkdtempSync(join(tmpdir(), 'winnow-model-'))
  cpSync(fixture, folder, { recursive: true })
  const config = JSON.parse(readFileSync(join(fixture, 'config.json'), 'utf8'))
  writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...config, ...configFields }))
  for (const [path, content] of Object.entries(extra)) {
    mkdirSync(join(folder, path, '..'), { recursive: true })
    writeFileSync(join(folder, path), content)
  }
  return folder
}

function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)).split(sep).join('/'))
    .sort()
}

/** The files of `model` the recorder saw requested under the served /models/ folder. */
function requestedFiles(recorder: FetchRecorder, model: string): string[] {
  const prefix = `${siteUrl}/models/${model}/`
  expect(recorder.requested.every((url) => url.startsWith(prefix))).toBe(true)
  return [...new Set(recorder.requested.map((url) => decodeURIComponent(url.slice(prefix.length))))].sort()
}

async function pull(model: string, dtype: string): Promise<number> {
  const sink = { write: () => true, isTTY: false }
  return main(['models', 'pull', model, '--dtype', dtype, '--out', out, '--host', hub.url], { stderr: sink, stdout: sink, env: {} })
}

/** Serves the pulled folder as an app serves public/: `<site>/models/<model>/<file>`, 404 otherwise. */
function serveFolder(root: string): Server {
  return createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!)
    const file = resolve(root, '.' + path.replace(/^\/models\//, '/'))
    if (!path.startsWith('/models/') || !file.startsWith(root + sep) || !existsSync(file)) return void res.writeHead(404).end()
    const bytes = readFileSync(file)
    res.writeHead(200, { 'Content-Length': String(bytes.length), 'Content-Type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' })
    res.end(req.method === 'HEAD' ? undefined : bytes)
  })
}

beforeAll(async () => {
  hub = await startStandInHub({
    models: {
      // One id per load: transformers.js caches files and metadata by model id within a process.
      'winnow-test/reranker': CE,
      'winnow-test/reranker-q4': CE,
      'winnow-test/reranker-external': variant(CE, { 'onnx/model_quantized.onnx_data': 'chunk 0' }, { 'transformers.js_config': { use_external_data_format: true } }),
      'winnow-test/embedder': variant(EMB, { [POOLING_CONFIG_PATH]: JSON.stringify({ word_embedding_dimension: 32, pooling_mode_cls_token: true }) }),
      'winnow-test/embedder-plain': EMB,
      'winnow-test/embedder-remote': EMB,
    },
  })
  out = mkdtempSync(join(tmpdir(), 'winnow-pulled-'))
  site = serveFolder(out)
  await new Promise<void>((done) => site.listen(0, '127.0.0.1', done))
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`
  // transformers.js caches downloads on disk in Node: keep them out of node_modules and away from other tests.
  env.cacheDir = mkdtempSync(join(tmpdir(), 'winnow-tjs-cache-'))
  env.useFSCache = true
})
afterAll(async () => {
  await hub.close()
  site.close()
})

const runtime = () => configureRuntime({ modelBaseUrl: `${siteUrl}/models/`, allowRemoteModels: false, threads: 1, cache: false, device: 'wasm' })

describe('models pull fetches exactly what the library requests', () => {
  it.each([
    ['winnow-test/reranker', 'q8'],
    ['winnow-test/reranker-q4', 'q4'],
    ['winnow-test/reranker-external', 'q8'],
  ])('cross-encoder %s at %s', async (model, dtype) => {
    expect(await pull(model, dtype)).toBe(0)
    const recorder = runtime()
    const loaded = await loadCrossEncoder({ model, dtype: dtype as 'q8', device: 'cpu', recorder })
    await loaded.dispose()
    expect(recorder.failures).toEqual([])
    expect(requestedFiles(recorder, model)).toEqual(tree(join(out, model)))
    if (model.endsWith('external')) expect(tree(join(out, model))).toContain('onnx/model_quantized.onnx_data')
  })

  it.each([
    ['winnow-test/embedder', 'q8', 'cls'],
    ['winnow-test/embedder-plain', 'fp32', 'mean'],
  ])('embedder %s at %s, with the pooling config when the model has one', async (model, dtype, pooling) => {
    expect(await pull(model, dtype)).toBe(0)
    const recorder = runtime()
    // What the worker does for the optional pooling config: one GET beside the model files.
    const readModelJson = async (m: string, path: string) => {
      const response = await recorder.fetch(`${siteUrl}/models/${m}/${path}`)
      return response.status === 404 ? undefined : response.json()
    }
    const loaded = await loadEmbedder({ model, dtype: dtype as 'q8', device: 'cpu', recorder, readModelJson })
    expect(loaded.embedder.settings.pooling).toBe(pooling)
    await loaded.dispose()
    const requested = requestedFiles(recorder, model)
    const pulled = tree(join(out, model))
    const optional = (f: string) => f === POOLING_CONFIG_PATH || f === SENTENCE_TRANSFORMERS_CONFIG_PATH
    expect(requested.filter((f) => !optional(f))).toEqual(pulled.filter((f) => !optional(f)))
    // The optional configs are requested either way (these ids are unknown to winnow); each is pulled exactly when the hub has it.
    expect(requested).toContain(POOLING_CONFIG_PATH)
    expect(requested).toContain(SENTENCE_TRANSFORMERS_CONFIG_PATH)
    expect(pulled.includes(POOLING_CONFIG_PATH)).toBe(pooling === 'cls')
    expect(pulled.includes(SENTENCE_TRANSFORMERS_CONFIG_PATH)).toBe(false)
    expect(recorder.failures.map((f) => [f.url.slice(siteUrl.length), f.status])).toEqual([
      ...(pooling === 'cls' ? [] : [[`/models/${model}/${POOLING_CONFIG_PATH}`, 404]]),
      [`/models/${model}/${SENTENCE_TRANSFORMERS_CONFIG_PATH}`, 404],
    ])
  })
})

describe('the file list', () => {
  const configs: [string, Record<string, unknown>][] = [
    ['plain', { model_type: 'bert' }],
    ['one data file', { model_type: 'bert', 'transformers.js_config': { use_external_data_format: true } }],
    ['data files per dtype', { model_type: 'bert', 'transformers.js_config': { use_external_data_format: { 'model_quantized.onnx': 3, 'model.onnx': false } } }],
    ['data files per session', { model_type: 'bert', 'transformers.js_config': { use_external_data_format: { model: 2 } } }],
  ]
  it.each(configs)('matches transformers.js ModelRegistry.get_model_files for every dtype (%s)', async (_name, config) => {
    for (const dtype of PULL_DTYPES) {
      const theirs = await ModelRegistry.get_model_files('winnow-test/unused', { config: config as never, dtype })
      const ours = modelFileList(config, [dtype]).required.filter((f) => !(TOKENIZER_FILES as readonly string[]).includes(f))
      expect(ours).toEqual(theirs)
    }
  })

  it('maps each dtype to transformers.js’s file name and adds the data files any device asks for', () => {
    expect(modelFileList({}, ['fp32', 'fp16', 'q8', 'q4', 'q4f16']).required).toEqual([
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'onnx/model.onnx',
      'onnx/model_fp16.onnx',
      'onnx/model_quantized.onnx',
      'onnx/model_q4.onnx',
      'onnx/model_q4f16.onnx',
    ])
    expect(Object.values(DTYPE_FILES).map((f) => `onnx/${f}`)).toEqual(modelFileList({}, PULL_DTYPES).required.slice(3))
    const byDevice = { 'transformers.js_config': { device_config: { webgpu: { use_external_data_format: { 'model_q4.onnx': 1 } } } } }
    expect(modelFileList(byDevice, ['q4']).required.slice(3)).toEqual(['onnx/model_q4.onnx', 'onnx/model_q4.onnx_data'])
    expect(OPTIONAL_FILES).toEqual([POOLING_CONFIG_PATH, SENTENCE_TRANSFORMERS_CONFIG_PATH])
  })

  it('parses --dtype lists and names the valid dtypes for a wrong one', () => {
    expect(parseDtypes('q8, q4,q8')).toEqual(['q8', 'q4'])
    expect(() => parseDtypes('q8,bnb4')).toThrow("unknown dtype 'bnb4' in --dtype; valid dtypes: fp32, fp16, q8, q4, q4f16")
    expect(() => parseDtypes(',')).toThrow('--dtype is empty')
  })
})

describe('index --embedder --allow-remote', () => {
  it('fetches a model missing from --models from HF_ENDPOINT', async () => {
    const snapshot = mkdtempSync(join(tmpdir(), 'winnow-remote-index-'))
    const lines: string[] = []
    const sink = { write: (line: string) => lines.push(line), isTTY: false }
    const args = ['index', 'test/fixtures/site/markdown', '--out', snapshot, '--embedder', 'winnow-test/embedder-remote', '--models', join(snapshot, 'none'), '--allow-remote', '--chunk-tokens', '32', '--quiet']
    const code = await main(args, { stderr: sink, stdout: sink, env: { HF_ENDPOINT: hub.url, WINNOW_DEBUG: '1' } })
    expect(lines).toEqual([])
    expect(code).toBe(0)
    const fetched = new Set(hub.requests.filter((r) => r.model === 'winnow-test/embedder-remote' && r.method === 'GET').map((r) => r.file))
    expect(fetched).toEqual(new Set(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model_quantized.onnx']))
    expect(JSON.parse(readFileSync(join(snapshot, 'manifest.json'), 'utf8')).collection.embedder).toMatchObject({ model: 'winnow-test/embedder-remote', dims: 32 })
  })
})
