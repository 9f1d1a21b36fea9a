import { describe, expect, it } from 'vitest'
import { checkOptions, checkRerankArgs } from '../../src/client/validate.js'
import { codeOf } from '../helpers/errors.js'
import type { WinnowOptions } from '../../src/types.js'

describe('checkRerankArgs', () => {
  it('accepts strings', () => {
    expect(checkRerankArgs('q', ['a', 'b'], undefined)).toEqual({ texts: ['a', 'b'], ids: [undefined, undefined] })
  })

  it('accepts { id, text } objects and carries the ids', () => {
    expect(checkRerankArgs('q', [{ id: 'x', text: 'a' }, { id: 'y', text: 'b' }], 1)).toEqual({ texts: ['a', 'b'], ids: ['x', 'y'] })
  })

  it('accepts a mix of strings and objects', () => {
    expect(checkRerankArgs('q', ['a', { id: 'x', text: 'b' }, ''], 5)).toEqual({ texts: ['a', 'b', ''], ids: [undefined, 'x', undefined] })
  })

  it('accepts an empty array and topK 0', () => {
    expect(checkRerankArgs('q', [], undefined)).toEqual({ texts: [], ids: [] })
    expect(checkRerankArgs('', [], 0)).toEqual({ texts: [], ids: [] })
  })

  it.each([
    ['a non-string query', 5, ['a'], undefined],
    ['a null query', null, ['a'], undefined],
    ['non-array documents', 'q', 'a', undefined],
    ['documents as an object', 'q', { 0: 'a', length: 1 }, undefined],
    ['a number in documents', 'q', ['a', 3], undefined],
    ['null in documents', 'q', [null], undefined],
    ['an object without text', 'q', [{ id: 'x' }], undefined],
    ['an object with a non-string text', 'q', [{ id: 'x', text: 5 }], undefined],
    ['an object with a non-string id', 'q', [{ id: 1, text: 'a' }], undefined],
    ['an object without id', 'q', [{ text: 'a' }], undefined],
    ['topK -1', 'q', ['a'], -1],
    ['topK 1.5', 'q', ['a'], 1.5],
    ["topK '3'", 'q', ['a'], '3'],
    ['topK NaN', 'q', ['a'], Number.NaN],
  ])('rejects %s with INVALID_INPUT', (_name, query, documents, topK) => {
    expect(codeOf(() => checkRerankArgs(query, documents, topK))).toBe('INVALID_INPUT')
  })
})

describe('checkOptions', () => {
  it('accepts empty options', () => {
    expect(codeOf(() => checkOptions({}))).toBe('returned')
  })

  it('accepts a full valid set of options', () => {
    const options: WinnowOptions = {
      reranker: { model: 'Xenova/ms-marco-MiniLM-L-6-v2', dtype: { webgpu: 'q4', wasm: 'q8' }, maxLength: 256, maxQueryLength: 32, batchTokens: 2048 },
      device: 'webgpu',
      modelBaseUrl: '/models/',
      allowRemoteModels: false,
      remoteHost: 'https://huggingface.co/',
      wasmBaseUrl: '/ort/',
      threads: 4,
      cache: false,
      onProgress: () => {},
      signal: new AbortController().signal,
    }
    expect(codeOf(() => checkOptions(options))).toBe('returned')
    for (const device of ['auto', 'webgpu', 'wasm'] as const) expect(codeOf(() => checkOptions({ device }))).toBe('returned')
    expect(codeOf(() => checkOptions({ modelBaseUrl: null, allowRemoteModels: true }))).toBe('returned') // the hub only
    for (const hangTimeoutMs of [500, 60_000, Number.POSITIVE_INFINITY]) expect(codeOf(() => checkOptions({ hangTimeoutMs }))).toBe('returned')
  })

  it.each([
    ['null options', null],
    ['a string as options', 'wasm'],
    ['a bad device', { device: 'gpu' }],
    ['a non-string modelBaseUrl', { modelBaseUrl: new URL('https://x.test/models/') }],
    ['modelBaseUrl null without allowRemoteModels (nowhere to load from)', { modelBaseUrl: null }],
    ['a null wasmBaseUrl', { wasmBaseUrl: null, allowRemoteModels: true }],
    ['a non-string wasmBaseUrl', { wasmBaseUrl: 1 }],
    ['a non-string remoteHost', { remoteHost: true }],
    ['threads 0', { threads: 0 }],
    ['threads 1.5', { threads: 1.5 }],
    ['a non-function onProgress', { onProgress: 'log' }],
    ['hangTimeoutMs 0', { hangTimeoutMs: 0 }],
    ['hangTimeoutMs under 500 ms', { hangTimeoutMs: 100 }],
    ['hangTimeoutMs NaN', { hangTimeoutMs: Number.NaN }],
    ['hangTimeoutMs as a string', { hangTimeoutMs: '60000' }],
    ['a null reranker', { reranker: null }],
    ['reranker.maxLength 0', { reranker: { maxLength: 0 } }],
    ['reranker.maxQueryLength -1', { reranker: { maxQueryLength: -1 } }],
    ['reranker.batchTokens 10.5', { reranker: { batchTokens: 10.5 } }],
    ['an empty model', { reranker: { model: '' } }],
    ['a blank model', { reranker: { model: '   ' } }],
    ['a non-string model', { reranker: { model: 42 } }],
  ])('rejects %s with INVALID_INPUT', (_name, options) => {
    expect(codeOf(() => checkOptions(options as unknown as WinnowOptions))).toBe('INVALID_INPUT')
  })
})
