import { env } from '@huggingface/transformers'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkOptions } from '../../src/client/validate.js'
import { deviceLostError, WinnowError } from '../../src/errors.js'
import { failure } from '../helpers/errors.js'
import { isDeviceLostError } from '../../src/models/device.js'
import { FetchRecorder } from '../../src/models/fetchRecorder.js'
import { loadCrossEncoder } from '../../src/models/loadCrossEncoder.js'
import { loadEmbedder } from '../../src/models/loadEmbedder.js'
import { explainLoadFailure } from '../../src/models/loadFailure.js'
import { largestTokenId, tokenizerMismatch } from '../../src/models/vocabulary.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/models/', import.meta.url))
const CE = 'tiny-random-cross-encoder'
const EMB = 'tiny-random-embedder'

describe('tokenizerMismatch / largestTokenId', () => {
  it('takes the largest id over the vocabulary and the special tokens', () => {
    expect(largestTokenId({ get_vocab: () => new Map([['[PAD]', 0], ['a', 7]]) })).toBe(7)
    expect(largestTokenId({ get_vocab: () => ({ a: 3, b: 1 }), all_special_ids: [0, 12] })).toBe(12)
    expect(largestTokenId({ get_vocab: () => new Map() })).toBe(-1)
  })

  it('refuses a tokenizer that produces ids past config.vocab_size, naming both sizes', () => {
    const error = tokenizerMismatch('m', 401, 302)!
    expect(error).toBeInstanceOf(WinnowError)
    expect(error.code).toBe('MODEL_LOAD_FAILED')
    expect(error.details).toMatchObject({ model: 'm', tokenizerVocabSize: 402, configVocabSize: 302 })
    expect(error.message).toMatch(/does not match the model/)
    // The largest id exactly at vocab_size is already one row too far.
    expect(tokenizerMismatch('m', 302, 302)?.code).toBe('MODEL_LOAD_FAILED')
  })

  it('accepts a tokenizer that fits (a padded embedding table is fine) and a config without a size', () => {
    expect(tokenizerMismatch('m', 301, 302)).toBeNull()
    expect(tokenizerMismatch('m', 30521, 30528)).toBeNull()
    expect(tokenizerMismatch('m', 401, undefined)).toBeNull()
    expect(tokenizerMismatch('m', 401, 0)).toBeNull()
  })
})

describe('isDeviceLostError / deviceLostError', () => {
  it('recognises the ways onnxruntime-web and Dawn report a lost device', () => {
    expect(
      isDeviceLostError(
        new Error(
          "failed to call OrtRun(). ERROR_CODE: 1, ERROR_MESSAGE: ... Failed to download data from buffer. wgpu::MapAsyncStatus value: 4, message: Failed to execute 'mapAsync' on 'GPUBuffer': The Device was lost before mapping was resolved.",
        ),
      ),
    ).toBe(true)
    expect(isDeviceLostError(new Error('[Device] is lost.'))).toBe(true)
    expect(isDeviceLostError('Device was destroyed.')).toBe(true)
  })

  it('does not take model or input faults for a lost device', () => {
    expect(isDeviceLostError(new Error('Non-zero status code returned while running Gather node. indices element out of data bounds'))).toBe(false)
    expect(isDeviceLostError(new Error('failed to call OrtRun(). ERROR_CODE: 6, ERROR_MESSAGE: out of memory'))).toBe(false)
    expect(isDeviceLostError(new Error('WebGPU is not supported in current environment'))).toBe(false)
    expect(isDeviceLostError(new Error('no available backend found. ERR: [webgpu] device creation failed'))).toBe(false)
  })

  it('builds DEVICE_LOST with the loss reason, telling the caller to call again', () => {
    const error = deviceLostError({ reason: 'unknown', message: 'GPU reset' })
    expect(error.code).toBe('DEVICE_LOST')
    expect(error.details).toEqual({ reason: 'unknown', message: 'GPU reset' })
    expect(error.message).toMatch(/lost \(unknown: GPU reset\).*WASM.*call again/)
  })
})

describe('onDeviceChange option', () => {
  it('must be a function', () => {
    expect(() => checkOptions({ onDeviceChange: () => {} })).not.toThrow()
    expect(() => checkOptions({ onDeviceChange: 'reload' as never })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
  })
})

describe('explainLoadFailure on damaged files', () => {
  const context = (recorder?: FetchRecorder) => ({ model: 'org/m', dtype: 'q8' as const, recorder })

  it('an unparsable ONNX file is MODEL_LOAD_FAILED naming the URL it came from, never INTERNAL', async () => {
    const recorder = new FetchRecorder(async () => new Response('x'))
    await recorder.fetch('https://app.test/models/org/m/config.json')
    await recorder.fetch('https://app.test/models/org/m/onnx/model_quantized.onnx')
    const error = await explainLoadFailure(
      new Error("Can't create a session. ERROR_CODE: 7, ERROR_MESSAGE: Failed to load model because protobuf parsing failed."),
      context(recorder),
    )
    expect(error.code).toBe('MODEL_LOAD_FAILED')
    expect(error.details).toMatchObject({
      damaged: true,
      file: 'onnx/model_quantized.onnx',
      url: 'https://app.test/models/org/m/onnx/model_quantized.onnx',
    })
    expect(error.message).toMatch(/model_quantized\.onnx is damaged \(truncated/)
  })

  it('names the file without a URL when it came from the cache', async () => {
    const error = await explainLoadFailure(new Error("Can't create a session. ERROR_CODE: 10, ERROR_MESSAGE: invalid graph"), context())
    expect(error.details).toMatchObject({ damaged: true, file: 'onnx/model_quantized.onnx' })
    expect(error.details.url).toBeUndefined()
  })

  it('unparsable JSON is MODEL_LOAD_FAILED saying a JSON file is damaged', async () => {
    const error = await explainLoadFailure(new SyntaxError('Unterminated string in JSON at position 3361'), context())
    expect(error.code).toBe('MODEL_LOAD_FAILED')
    expect(error.details).toMatchObject({ damaged: true })
    expect(error.message).toMatch(/JSON files .* damaged/)
  })

  it('a transfer cut short is MODEL_LOAD_FAILED, damaged and cut, naming the URL, the file and the bytes, whatever the loader threw', async () => {
    let pulls = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulls++ === 0) controller.enqueue(new Uint8Array(30))
        else controller.error(new TypeError('network error'))
      },
    })
    const recorder = new FetchRecorder(async () => new Response(body, { headers: { 'content-length': '90' } }))
    const response = await recorder.fetch('https://hub.test/org/m/resolve/main/onnx/model_quantized.onnx')
    const thrown = await response.arrayBuffer().catch((e: unknown) => e)
    const error = await explainLoadFailure(thrown, context(recorder))
    expect(error.code).toBe('MODEL_LOAD_FAILED')
    expect(error.details).toMatchObject({
      damaged: true,
      cut: true,
      url: 'https://hub.test/org/m/resolve/main/onnx/model_quantized.onnx',
      file: 'onnx/model_quantized.onnx',
      received: 30,
      expected: 90,
    })
    expect(error.message).toMatch(/cut short after 30 of 90 bytes/)
  })

  it('other failures are not called damaged', async () => {
    const error = await explainLoadFailure(new Error('something else'), context())
    expect(error.code).toBe('MODEL_LOAD_FAILED')
    expect(error.details.damaged).toBeUndefined()
  })
})

describe('loaders over faulty model folders (Node, onnxruntime-node)', () => {
  let root = ''
  const saved = { allowRemoteModels: env.allowRemoteModels, allowLocalModels: env.allowLocalModels, localModelPath: env.localModelPath }

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'winnow-faults-'))
    env.allowRemoteModels = false
    env.allowLocalModels = true
    env.localModelPath = `${root}/`
    for (const model of [CE, EMB]) {
      // A tokenizer with 100 words the model has no embedding rows for (ids 302..401).
      cpSync(join(FIXTURES, model), join(root, `${model}-big-vocab`), { recursive: true })
      const tokenizer = JSON.parse(readFileSync(join(FIXTURES, model, 'tokenizer.json'), 'utf8'))
      for (let i = 0; i < 100; i++) tokenizer.model.vocab[`zzword${i}`] = 302 + i
      writeFileSync(join(root, `${model}-big-vocab`, 'tokenizer.json'), JSON.stringify(tokenizer))
      // Weights cut in half.
      cpSync(join(FIXTURES, model), join(root, `${model}-truncated`), { recursive: true })
      const weights = readFileSync(join(FIXTURES, model, 'onnx/model.onnx'))
      writeFileSync(join(root, `${model}-truncated`, 'onnx/model.onnx'), weights.subarray(0, weights.length >> 1))
      cpSync(join(FIXTURES, model), join(root, model), { recursive: true })
    }
  })

  afterAll(() => {
    Object.assign(env, saved)
    rmSync(root, { recursive: true, force: true })
  })

  const loaders = {
    reranker: (model: string) => loadCrossEncoder({ model, dtype: 'fp32', device: 'cpu' }),
    embedder: (model: string) => loadEmbedder({ model, dtype: 'fp32', device: 'cpu' }),
  }
  const models = { reranker: CE, embedder: EMB }

  for (const kind of ['reranker', 'embedder'] as const) {
    it(`${kind}: a tokenizer larger than config.vocab_size fails the load with MODEL_LOAD_FAILED`, async () => {
      const error = await failure(loaders[kind](`${models[kind]}-big-vocab`))
      expect(error.code).toBe('MODEL_LOAD_FAILED')
      expect(error.details).toMatchObject({ tokenizerVocabSize: 402, configVocabSize: 302 })
    })

    it(`${kind}: truncated weights fail the load with MODEL_LOAD_FAILED saying the file is damaged`, async () => {
      const error = await failure(loaders[kind](`${models[kind]}-truncated`))
      expect(error.code).toBe('MODEL_LOAD_FAILED')
      expect(error.details).toMatchObject({ damaged: true, file: 'onnx/model.onnx' })
    })

    it(`${kind}: the intact folder still loads (the check accepts a matching tokenizer)`, async () => {
      const loaded = await loaders[kind](models[kind])
      await loaded.dispose()
    })
  }
})
