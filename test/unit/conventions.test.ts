import { describe, expect, it } from 'vitest'
import { conflictingConventions, isConventions, knownPrefixes, prefixesFromConfig, resolvePrefixes, SENTENCE_TRANSFORMERS_CONFIG_PATH } from '../../src/models/conventions.js'
import { checkOptions } from '../../src/client/validate.js'
import { codeOf } from './helpers.js'

const REPRESENT = 'Represent this sentence for searching relevant passages: '
const E5 = { queryPrefix: 'query: ', documentPrefix: 'passage: ' }
const NONE = { queryPrefix: '', documentPrefix: '' }
const QUERY_ONLY = { queryPrefix: REPRESENT, documentPrefix: '' }

describe('knownPrefixes', () => {
  it('knows the prefixes of common embedders by the last segment of their id, mirrors included', () => {
    const cases: [string, typeof E5 | undefined][] = [
      ['intfloat/e5-small-v2', E5],
      ['Xenova/e5-small-v2', E5],
      ['Xenova/e5-base-v2', E5],
      ['intfloat/e5-large', E5],
      ['intfloat/multilingual-e5-small', E5],
      ['Xenova/multilingual-e5-base', E5],
      ['onnx-community/multilingual-e5-large', E5],
      ['intfloat/multilingual-e5-large-instruct', undefined], // an instruction per task: read its files
      ['intfloat/e5-mistral-7b-instruct', undefined],
      ['BAAI/bge-small-en-v1.5', QUERY_ONLY],
      ['Xenova/bge-base-en-v1.5', QUERY_ONLY],
      ['Xenova/bge-large-en-v1.5', QUERY_ONLY],
      ['Xenova/bge-small-en', QUERY_ONLY],
      ['Xenova/bge-m3', NONE],
      ['BAAI/bge-small-zh-v1.5', undefined], // a Chinese instruction: not guessed
      ['nomic-ai/nomic-embed-text-v1.5', { queryPrefix: 'search_query: ', documentPrefix: 'search_document: ' }],
      ['nomic-ai/nomic-embed-text-v1', { queryPrefix: 'search_query: ', documentPrefix: 'search_document: ' }],
      ['Snowflake/snowflake-arctic-embed-xs', QUERY_ONLY],
      ['Snowflake/snowflake-arctic-embed-s', QUERY_ONLY],
      ['Snowflake/snowflake-arctic-embed-m-v1.5', QUERY_ONLY],
      ['Snowflake/snowflake-arctic-embed-l-v2.0', { queryPrefix: 'query: ', documentPrefix: '' }], // not v1's instruction
      ['Snowflake/snowflake-arctic-embed-m-v2.0', { queryPrefix: 'query: ', documentPrefix: '' }],
      ['Snowflake/snowflake-arctic-embed-m-v2.5', undefined], // not known: read its config_sentence_transformers.json
      ['mixedbread-ai/mxbai-embed-large-v1', QUERY_ONLY],
      ['mixedbread-ai/mxbai-embed-xsmall-v1', NONE],
      ['Xenova/all-MiniLM-L6-v2', NONE],
      ['sentence-transformers/all-mpnet-base-v2', NONE],
      ['all-minilm-l6-v2/', NONE],
      ['Xenova/paraphrase-multilingual-MiniLM-L12-v2', NONE],
      ['Xenova/multi-qa-MiniLM-L6-cos-v1', NONE],
      ['Xenova/gte-small', NONE],
      ['thenlper/gte-base', NONE],
      ['Alibaba-NLP/gte-base-en-v1.5', NONE],
      ['jinaai/jina-embeddings-v2-small-en', NONE],
      ['tiny-random-embedder', NONE],
      ['my-org/custom-embedder', undefined],
    ]
    expect(cases.map(([model]) => [model, knownPrefixes(model)])).toEqual(cases)
  })

  it('returns a copy: changing it does not change the table', () => {
    const first = knownPrefixes('Xenova/e5-small-v2')!
    first.queryPrefix = 'changed'
    expect(knownPrefixes('Xenova/e5-small-v2')).toEqual(E5)
  })
})

describe('prefixesFromConfig (config_sentence_transformers.json)', () => {
  it('reads the query prompt of an arctic-embed-style config', () => {
    expect(prefixesFromConfig({ prompts: { query: REPRESENT }, default_prompt_name: null, similarity_fn_name: null })).toEqual(QUERY_ONLY)
  })
  it('reads document, passage, corpus or search_document for passages, in that order', () => {
    expect(prefixesFromConfig({ prompts: { query: 'q: ', document: 'd: ', passage: 'p: ' } })).toEqual({ queryPrefix: 'q: ', documentPrefix: 'd: ' })
    expect(prefixesFromConfig({ prompts: { query: 'q: ', passage: 'p: ', corpus: 'c: ' } })).toEqual({ queryPrefix: 'q: ', documentPrefix: 'p: ' })
    expect(prefixesFromConfig({ prompts: { corpus: 'c: ' } })).toEqual({ queryPrefix: '', documentPrefix: 'c: ' })
    expect(prefixesFromConfig({ prompts: { search_query: 'search_query: ', search_document: 'search_document: ', clustering: 'clustering: ' } })).toEqual({
      queryPrefix: 'search_query: ',
      documentPrefix: 'search_document: ',
    })
  })
  it('falls back to the default prompt, else none', () => {
    expect(prefixesFromConfig({ prompts: { query: 'q: ', document: 'd: ' }, default_prompt_name: 'document' })).toEqual({ queryPrefix: 'q: ', documentPrefix: 'd: ' })
    expect(prefixesFromConfig({ prompts: { retrieval: 'r: ' }, default_prompt_name: 'retrieval' })).toEqual({ queryPrefix: 'r: ', documentPrefix: 'r: ' })
    expect(prefixesFromConfig({ prompts: {}, default_prompt_name: 'missing' })).toEqual(NONE)
    expect(prefixesFromConfig({ __version__: { sentence_transformers: '2.2.2' } })).toEqual(NONE)
    expect(prefixesFromConfig(null)).toEqual(NONE)
    expect(prefixesFromConfig({ prompts: { query: 7 } })).toEqual(NONE)
  })
})

describe('resolvePrefixes: options, then the table, then the model files, then none', () => {
  const reader = (files: Record<string, unknown>) => {
    const read: string[] = []
    return {
      read,
      readModelJson: async (model: string, path: string) => {
        read.push(`${model}/${path}`)
        return files[`${model}/${path}`]
      },
    }
  }

  it('uses the table for a known id without reading anything', async () => {
    const r = reader({ [`Xenova/e5-small-v2/${SENTENCE_TRANSFORMERS_CONFIG_PATH}`]: { prompts: { query: 'wrong: ' } } })
    expect(await resolvePrefixes({ model: 'Xenova/e5-small-v2', readModelJson: r.readModelJson })).toEqual({ ...E5, source: 'known model' })
    expect(r.read).toEqual([])
  })

  it("reads an unknown model's config_sentence_transformers.json", async () => {
    const r = reader({ [`my-org/emb/${SENTENCE_TRANSFORMERS_CONFIG_PATH}`]: { prompts: { query: 'find: ', document: 'text: ' } } })
    expect(await resolvePrefixes({ model: 'my-org/emb', readModelJson: r.readModelJson })).toEqual({ queryPrefix: 'find: ', documentPrefix: 'text: ', source: 'model files' })
    expect(r.read).toEqual([`my-org/emb/${SENTENCE_TRANSFORMERS_CONFIG_PATH}`])
  })

  it('uses no prefixes for an unknown model without the file, or without a reader', async () => {
    expect(await resolvePrefixes({ model: 'my-org/emb', readModelJson: reader({}).readModelJson })).toEqual({ ...NONE, source: 'none' })
    expect(await resolvePrefixes({ model: 'my-org/emb' })).toEqual({ ...NONE, source: 'none' })
  })

  it('lets each explicit option win, and reads nothing when both are given', async () => {
    expect(await resolvePrefixes({ model: 'Xenova/e5-small-v2', queryPrefix: '' })).toEqual({ queryPrefix: '', documentPrefix: 'passage: ', source: 'options' })
    const r = reader({ [`my-org/emb/${SENTENCE_TRANSFORMERS_CONFIG_PATH}`]: { prompts: { query: 'find: ', document: 'text: ' } } })
    expect(await resolvePrefixes({ model: 'my-org/emb', documentPrefix: 'doc: ', readModelJson: r.readModelJson })).toEqual({ queryPrefix: 'find: ', documentPrefix: 'doc: ', source: 'options' })
    r.read.length = 0
    expect(await resolvePrefixes({ model: 'my-org/emb', queryPrefix: 'a', documentPrefix: 'b', readModelJson: r.readModelJson })).toEqual({ queryPrefix: 'a', documentPrefix: 'b', source: 'options' })
    expect(r.read).toEqual([])
  })

  it('refuses a prefix that is not a string with INVALID_INPUT', async () => {
    expect(await codeOf(resolvePrefixes({ model: 'x', queryPrefix: 3 as unknown as string }))).toBe('INVALID_INPUT')
  })
})

describe('conventions records', () => {
  const stored = { queryPrefix: 'query: ', documentPrefix: 'passage: ', pooling: 'mean' as const }
  it('names the explicit settings that disagree with the recorded ones', () => {
    expect(conflictingConventions(stored, {})).toEqual([])
    expect(conflictingConventions(stored, { queryPrefix: 'query: ', pooling: 'mean' })).toEqual([])
    expect(conflictingConventions(stored, { queryPrefix: '', pooling: 'cls' })).toEqual(['queryPrefix', 'pooling'])
    expect(conflictingConventions(stored, { documentPrefix: 'doc: ' })).toEqual(['documentPrefix'])
  })
  it('recognises a well-formed record only', () => {
    expect(isConventions(stored)).toBe(true)
    expect(isConventions(undefined)).toBe(false)
    expect(isConventions(null)).toBe(false)
    expect(isConventions({ queryPrefix: '', documentPrefix: '', pooling: 'max' })).toBe(false)
    expect(isConventions({ queryPrefix: '', pooling: 'mean' })).toBe(false)
  })
})

describe('createWinnow options', () => {
  it('accepts string prefixes, empty ones included', () => {
    expect(() => checkOptions({ embedder: { model: 'Xenova/e5-small-v2', queryPrefix: 'query: ', documentPrefix: '' } })).not.toThrow()
  })
  it('refuses a prefix that is not a string, or absurdly long, with INVALID_INPUT', async () => {
    const code = async (embedder: object) => codeOf((async () => checkOptions({ embedder: { model: 'm', ...embedder } as never }))())
    expect(await code({ queryPrefix: 1 })).toBe('INVALID_INPUT')
    expect(await code({ documentPrefix: null })).toBe('INVALID_INPUT')
    expect(await code({ documentPrefix: 'x'.repeat(1001) })).toBe('INVALID_INPUT')
    expect(() => checkOptions({ embedder: { model: 'm', queryPrefix: 1 as unknown as string } })).toThrow(/embedder\.queryPrefix must be a string/)
  })
})
