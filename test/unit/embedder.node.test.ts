import { AutoModel, AutoTokenizer, env, Tensor, type PreTrainedModel } from '@huggingface/transformers'
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WinnowError } from '../../src/errors.js'
import { failure } from '../helpers/errors.js'
import { DTYPE_FILES } from '../../src/models/dtype.js'
import { Embedder, type EmbedderSettings, type HiddenStateModel, type TextTokenizer } from '../../src/models/embedder.js'
import { chooseOutput, deriveTextTemplate, knownPooling, loadEmbedder, poolingFromConfig, POOLING_CONFIG_PATH, type LoadedEmbedder } from '../../src/models/loadEmbedder.js'
import type { Dtype } from '../../src/types.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/models/', import.meta.url))
const TINY = 'tiny-random-embedder'
/** The same files under a name winnow does not know (see knownPooling), so its pooling config is read. */
const UNLISTED = 'unlisted-embedder'
// A folder of links: the fixture under its own name and under UNLISTED.
const MODELS = `${mkdtempSync(join(tmpdir(), 'winnow-embedder-'))}/`
symlinkSync(`${FIXTURES}${TINY}`, `${MODELS}${TINY}`, 'dir')
symlinkSync(`${FIXTURES}${TINY}`, `${MODELS}${UNLISTED}`, 'dir')
env.allowRemoteModels = false
env.allowLocalModels = true
env.localModelPath = MODELS

interface ReferenceText {
  text: string
  input_ids: number[]
  embedding: number[]
}
const reference: ReferenceText[] = JSON.parse(readFileSync(`${MODELS}${TINY}/reference.json`, 'utf8')).texts
const texts = reference.map((r) => r.text)
const LONG = 'the quick brown fox jumps over the lazy dog. '.repeat(50)
const DIMS = 32

/** Dtypes whose weight file exists in a fixture model folder. */
const probeDtypes = async (model: string): Promise<Dtype[]> =>
  (Object.keys(DTYPE_FILES) as Dtype[]).filter((d) => existsSync(`${MODELS}${model}/onnx/${DTYPE_FILES[d]}`))

/** Reads optional JSON files of a fixture model folder, as the worker does over HTTP. */
const readModelJson = async (model: string, path: string): Promise<unknown> => {
  const file = `${MODELS}${model}/${path}`
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined
}

/**
 * Copies a fixture model folder, adding to its fp32 graph a `sentence_embedding` output (an
 * Identity of `last_hidden_state`): a graph that, by its output's name, pools itself. The ONNX
 * protobuf is edited in place: repeated fields may be appended to a message, so the new node and
 * output go at the end of the graph, whose length in the model is rewritten.
 */
async function writePooledGraph(from: string, to: string): Promise<void> {
  const { copyFileSync, mkdirSync, readdirSync, writeFileSync } = await import('node:fs')
  mkdirSync(`${to}/onnx`, { recursive: true })
  for (const name of readdirSync(from)) if (/\.(json|txt)$/.test(name)) copyFileSync(`${from}/${name}`, `${to}/${name}`)
  const varint = (n: number): number[] => {
    const out: number[] = []
    while (n > 127) {
      out.push((n & 127) | 128)
      n = Math.floor(n / 128)
    }
    return [...out, n]
  }
  const field = (number: number, payload: number[]): number[] => [...varint((number << 3) | 2), ...varint(payload.length), ...payload]
  const text = (s: string): number[] => [...Buffer.from(s, 'utf8')]
  const node = [...field(1, text('last_hidden_state')), ...field(2, text('sentence_embedding')), ...field(3, text('winnow_test_pool')), ...field(4, text('Identity'))]
  const floatTensor = [...field(1, [0x08, 0x01])] // TypeProto.tensor_type { elem_type: FLOAT }
  const output = [...field(1, text('sentence_embedding')), ...field(2, floatTensor)]
  const model = readFileSync(`${from}/onnx/model.onnx`)
  const parts: Buffer[] = []
  let at = 0
  const readVarint = (): number => {
    let value = 0
    let scale = 1
    for (;;) {
      const byte = model[at++]!
      value += (byte & 127) * scale
      if (byte < 128) return value
      scale *= 128
    }
  }
  while (at < model.length) {
    const start = at
    const tag = readVarint()
    const wire = tag & 7
    if (wire === 0) readVarint()
    else if (wire === 1) at += 8
    else if (wire === 5) at += 4
    else if (wire === 2) {
      const length = readVarint()
      if (tag >> 3 === 7) {
        const graph = Buffer.concat([model.subarray(at, at + length), Buffer.from(field(1, node)), Buffer.from(field(12, output))])
        parts.push(Buffer.from([...varint(tag), ...varint(graph.length)]), graph)
        at += length
        continue
      }
      at += length
    } else throw new Error(`unexpected wire type ${wire} in model.onnx`)
    parts.push(model.subarray(start, at))
  }
  writeFileSync(`${to}/onnx/model.onnx`, Buffer.concat(parts))
}

const row = (vectors: Float32Array, i: number, dims = DIMS) => Array.from(vectors.subarray(i * dims, (i + 1) * dims))
const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0)
const maxDiff = (a: readonly number[], b: readonly number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)))
const normalize = (v: readonly number[]) => {
  const n = Math.sqrt(dot(v, v))
  return v.map((x) => x / n)
}

async function embedAlone(embedder: Embedder, items: readonly string[]): Promise<number[][]> {
  const out: number[][] = []
  for (const t of items) out.push(row((await embedder.embed([t])).vectors, 0, embedder.settings.dims))
  return out
}

let fp32: LoadedEmbedder
let rawModel: PreTrainedModel
const disposers: (() => Promise<unknown>)[] = []

/** Token vectors [tokens, DIMS] of one sequence, straight from transformers.js (no winnow code). */
async function hiddenStates(ids: readonly number[]): Promise<number[][]> {
  const dims = [1, ids.length]
  const ones = new BigInt64Array(ids.length).fill(1n)
  const out = await (rawModel as unknown as HiddenStateModel)({
    input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), dims),
    attention_mask: new Tensor('int64', ones, dims),
    token_type_ids: new Tensor('int64', new BigInt64Array(ids.length), dims),
  })
  const data = out.last_hidden_state!.data as Float32Array
  return ids.map((_, t) => Array.from(data.subarray(t * DIMS, (t + 1) * DIMS)))
}

const meanOf = (rows: number[][]) => rows[0]!.map((_, d) => rows.reduce((s, r) => s + r[d]!, 0) / rows.length)

beforeAll(async () => {
  fp32 = await loadEmbedder({ model: TINY, dtype: 'fp32', device: 'cpu', readModelJson })
  rawModel = await AutoModel.from_pretrained(TINY, { dtype: 'fp32', device: 'cpu' })
  disposers.push(() => fp32.dispose(), () => rawModel.dispose())
})
afterAll(async () => {
  for (const d of disposers) await d()
})

describe('loadEmbedder (Node, tiny fixture)', () => {
  it('derives the BERT single-text template, mean pooling, 32 dims and the model length limit', () => {
    expect(fp32.embedder.settings).toEqual({
      maxLength: 128, // 512 by default, capped by the model
      batchTokens: 1024, // the CPU default (defaultBatchTokens)
      maxBatchRows: 64,
      pooling: 'mean', // no 1_Pooling/config.json in the fixture
      normalize: true,
      dims: DIMS,
      usesTokenTypes: true,
      template: { prefix: [2], suffix: [3] },
      padTokenId: 0,
      output: 'last_hidden_state',
    })
  })

  it('embeds the reference texts in one batch within 1e-4 of PyTorch fp32, as unit vectors', async () => {
    const progress: [number, number][] = []
    const { vectors, truncated } = await fp32.embedder.embed(texts, undefined, (done, total) => progress.push([done, total]))
    expect(vectors).toHaveLength(texts.length * DIMS)
    expect(progress).toEqual([[texts.length, texts.length]]) // one batch
    expect(truncated).toEqual(texts.map(() => false))
    reference.forEach((r, i) => {
      expect(maxDiff(row(vectors, i), r.embedding)).toBeLessThan(1e-4)
      expect(Math.abs(Math.sqrt(dot(row(vectors, i), row(vectors, i))) - 1)).toBeLessThan(1e-6)
    })
  })

  it('embeds each reference text alone within 1e-4 of PyTorch fp32', async () => {
    const alone = await embedAlone(fp32.embedder, texts)
    alone.forEach((v, i) => expect(maxDiff(v, reference[i]!.embedding)).toBeLessThan(1e-4))
  })

  it('feeds the model exactly the reference token ids, padded and masked', async () => {
    const calls: { ids: number[]; mask: number[]; types: number[]; dims: number[] }[] = []
    const spy: HiddenStateModel = async (inputs) => {
      calls.push({
        ids: Array.from(inputs.input_ids!.data as BigInt64Array, Number),
        mask: Array.from(inputs.attention_mask!.data as BigInt64Array, Number),
        types: Array.from(inputs.token_type_ids!.data as BigInt64Array, Number),
        dims: inputs.input_ids!.dims.slice(),
      })
      return (rawModel as unknown as HiddenStateModel)(inputs)
    }
    const tokenizer = await AutoTokenizer.from_pretrained(TINY)
    const spied = new Embedder(tokenizer as unknown as TextTokenizer, spy, fp32.embedder.settings)
    const [short, long] = [...reference].sort((a, b) => a.input_ids.length - b.input_ids.length).filter((_, i, all) => i === 0 || i === all.length - 1)
    const { vectors } = await spied.embed([short!.text, long!.text])
    expect(calls).toHaveLength(1)
    const width = long!.input_ids.length
    const n = short!.input_ids.length
    expect(n).toBeLessThan(width)
    expect(calls[0]!.dims).toEqual([2, width])
    const slice = (a: number[], r: number) => a.slice(r * width, (r + 1) * width)
    expect(slice(calls[0]!.ids, 0)).toEqual(long!.input_ids) // longest first
    expect(slice(calls[0]!.ids, 1)).toEqual([...short!.input_ids, ...Array(width - n).fill(0)])
    expect(slice(calls[0]!.mask, 1)).toEqual([...Array(n).fill(1), ...Array(width - n).fill(0)])
    expect(calls[0]!.types.every((t) => t === 0)).toBe(true)
    // back in input order, and padding does not leak into the shorter text's mean
    expect(maxDiff(row(vectors, 0), short!.embedding)).toBeLessThan(1e-4)
    expect(maxDiff(row(vectors, 1), long!.embedding)).toBeLessThan(1e-4)
  })

  it('restores input order across several length-sorted batches', async () => {
    const small = await loadEmbedder({ model: TINY, dtype: 'fp32', device: 'cpu', batchTokens: 48 })
    disposers.push(() => small.dispose())
    // Lengths shuffled so that sorting really reorders them.
    const order = [3, 9, 0, 7, 1, 5, 8, 2, 6, 4]
    const shuffled = order.map((i) => texts[i]!)
    const lengths = order.map((i) => reference[i]!.input_ids.length)
    expect(lengths).not.toEqual([...lengths].sort((a, b) => b - a))
    const progress: number[] = []
    const { vectors } = await small.embedder.embed(shuffled, undefined, (done) => progress.push(done))
    expect(progress.length).toBeGreaterThanOrEqual(3)
    expect(progress.length).toBeLessThan(shuffled.length) // some batch holds several padded rows
    expect(progress.at(-1)).toBe(shuffled.length)
    order.forEach((refIndex, i) => expect(maxDiff(row(vectors, i), reference[refIndex]!.embedding)).toBeLessThan(1e-4))
  })

  it('embeds nothing to an empty result', async () => {
    const r = await fp32.embedder.embed([])
    expect(r.vectors).toHaveLength(0)
    expect(r.truncated).toEqual([])
  })

  describe('checkpoints', () => {
    it('awaits the checkpoint before tokenizing and before every batch', async () => {
      const small = await loadEmbedder({ model: TINY, dtype: 'fp32', device: 'cpu', batchTokens: 48 })
      disposers.push(() => small.dispose())
      const events: string[] = []
      await small.embedder.embed(
        texts,
        async () => {
          await Promise.resolve()
          events.push('checkpoint')
        },
        () => events.push('batch'),
      )
      const batches = events.filter((e) => e === 'batch').length
      expect(batches).toBeGreaterThanOrEqual(2)
      // one before tokenizing (10 texts < one chunk), then one before each batch
      expect(events).toEqual(['checkpoint', ...Array.from({ length: batches }, () => ['checkpoint', 'batch']).flat()])
    })

    it('stops embedding when the checkpoint throws, rejecting with its error', async () => {
      let modelCalls = 0
      const tokenizer = await AutoTokenizer.from_pretrained(TINY)
      const counting: HiddenStateModel = (inputs) => {
        modelCalls++
        return (rawModel as unknown as HiddenStateModel)(inputs)
      }
      const embedder = new Embedder(tokenizer as unknown as TextTokenizer, counting, { ...fp32.embedder.settings, batchTokens: 48 })
      const stop = new WinnowError('ABORTED', 'stop')
      let calls = 0
      const checkpoint = async () => {
        if (++calls === 3) throw stop // after the first batch ran
      }
      await expect(embedder.embed(texts, checkpoint)).rejects.toBe(stop)
      expect(calls).toBe(3)
      expect(modelCalls).toBe(1)
    })
  })

  describe('truncation (maxLength 16)', () => {
    let short: LoadedEmbedder
    beforeAll(async () => {
      short = await loadEmbedder({ model: TINY, dtype: 'fp32', device: 'cpu', maxLength: 16 })
      disposers.push(() => short.dispose())
    })

    it('flags a long text, not a short one, and embeds exactly its first 14 tokens', async () => {
      expect(short.embedder.settings.maxLength).toBe(16)
      const r = await short.embedder.embed([LONG, 'dogs and cats'])
      expect(r.truncated).toEqual([true, false])
      const tokenizer = await AutoTokenizer.from_pretrained(TINY)
      const kept = tokenizer.encode(LONG, { add_special_tokens: false }).slice(0, 14)
      const expected = normalize(meanOf(await hiddenStates([2, ...kept, 3])))
      expect(maxDiff(row(r.vectors, 0), expected)).toBeLessThan(1e-5)
      const whole = normalize(meanOf(await hiddenStates(tokenizer.encode('dogs and cats'))))
      expect(maxDiff(row(r.vectors, 1), whole)).toBeLessThan(1e-5)
    })

    it('pre-cuts a huge text to exactly the tokens a token cut keeps', async () => {
      expect(LONG.length).toBeGreaterThan(14 * 32) // takes the pre-cut path
      const slice = LONG.slice(0, 200) // under the pre-cut bound, yet more tokens than fit
      const [huge, manual] = await Promise.all([short.embedder.embed([LONG]), short.embedder.embed([slice])])
      expect(huge.truncated).toEqual([true])
      expect(manual.truncated).toEqual([true])
      expect(maxDiff(row(huge.vectors, 0), row(manual.vectors, 0))).toBeLessThan(1e-6)
    })

    it('tokenizes the whole text when the pre-cut part yields too few tokens', async () => {
      const padded = ' '.repeat(2000) + 'dogs and cats'
      const [a, b] = await Promise.all([short.embedder.embed([padded]), short.embedder.embed(['dogs and cats'])])
      expect(a.truncated).toEqual([false])
      expect(maxDiff(row(a.vectors, 0), row(b.vectors, 0))).toBeLessThan(1e-6)
    })
  })

  it('counts the tokens of a word like the tokenizer, and caches the count', async () => {
    const tokenizer = await AutoTokenizer.from_pretrained(TINY)
    let encodes = 0
    const counting: TextTokenizer = {
      encode: (text, options) => {
        encodes++
        return tokenizer.encode(text, options)
      },
    }
    const embedder = new Embedder(counting, rawModel as unknown as HiddenStateModel, fp32.embedder.settings)
    const words = ['circular', 'prevent', 'references.', 'xyzzy', 'Garbage', 'a', '']
    const expected = words.map((w) => tokenizer.encode(w, { add_special_tokens: false }).length)
    expect(new Set(expected).size).toBeGreaterThanOrEqual(3) // the words really differ in token count
    expect(words.map((w) => embedder.countWordTokens(w))).toEqual(expected)
    expect(words.map((w) => fp32.embedder.countWordTokens(w))).toEqual(expected)
    const after = encodes
    expect(words.map((w) => embedder.countWordTokens(w))).toEqual(expected)
    expect(encodes).toBe(after) // served from the cache
  })

  describe('pooling', () => {
    it("'cls' embeds the normalised first-token hidden state, unlike 'mean'", async () => {
      const cls = await loadEmbedder({ model: TINY, dtype: 'fp32', device: 'cpu', pooling: 'cls' })
      disposers.push(() => cls.dispose())
      expect(cls.embedder.settings.pooling).toBe('cls')
      const { vectors } = await cls.embedder.embed(texts)
      for (let i = 0; i < reference.length; i++) {
        const expected = normalize((await hiddenStates(reference[i]!.input_ids))[0]!)
        expect(maxDiff(row(vectors, i), expected)).toBeLessThan(1e-5)
        expect(maxDiff(row(vectors, i), reference[i]!.embedding)).toBeGreaterThan(1e-2)
      }
    })

    it("follows an unknown model's 1_Pooling/config.json, and an explicit pooling wins without reading it", async () => {
      const read: string[] = []
      const clsConfig = async (model: string, path: string) => {
        read.push(`${model}/${path}`)
        return { word_embedding_dimension: DIMS, pooling_mode_cls_token: true, pooling_mode_mean_tokens: false }
      }
      const detected = await loadEmbedder({ model: UNLISTED, dtype: 'fp32', device: 'cpu', readModelJson: clsConfig })
      disposers.push(() => detected.dispose())
      // Its prefixes are unknown too: config_sentence_transformers.json is read for them (conventions.test.ts).
      expect(read).toEqual([`${UNLISTED}/${POOLING_CONFIG_PATH}`, `${UNLISTED}/config_sentence_transformers.json`])
      expect(detected.embedder.settings.pooling).toBe('cls')
      const expected = normalize((await hiddenStates(reference[0]!.input_ids))[0]!)
      expect(maxDiff(row((await detected.embedder.embed([texts[0]!])).vectors, 0), expected)).toBeLessThan(1e-5)

      read.length = 0
      const explicit = await loadEmbedder({ model: UNLISTED, dtype: 'fp32', device: 'cpu', pooling: 'mean', readModelJson: clsConfig })
      disposers.push(() => explicit.dispose())
      expect(read.filter((path) => path.endsWith(POOLING_CONFIG_PATH))).toEqual([])
      expect(explicit.embedder.settings.pooling).toBe('mean')
    })

    it('asks for no 1_Pooling/config.json when the model is well known, and uses its known pooling', async () => {
      const read: string[] = []
      const clsConfig = async (model: string, path: string) => {
        read.push(`${model}/${path}`)
        return { pooling_mode_cls_token: true }
      }
      // The fixture is one of the known models (mean), so even a reader that would say 'cls' is not asked.
      const known = await loadEmbedder({ model: TINY, dtype: 'fp32', device: 'cpu', readModelJson: clsConfig })
      disposers.push(() => known.dispose())
      expect(read).toEqual([])
      expect(known.embedder.settings.pooling).toBe('mean')
      expect(maxDiff(row((await known.embedder.embed([texts[0]!])).vectors, 0), reference[0]!.embedding)).toBeLessThan(1e-4)
    })

    it('knows the pooling of common hub embedders by the last segment of their id', () => {
      const cases: [string, 'mean' | 'cls' | undefined][] = [
        ['Xenova/all-MiniLM-L6-v2', 'mean'],
        ['sentence-transformers/all-MiniLM-L6-v2', 'mean'],
        ['all-minilm-l6-v2/', 'mean'],
        ['Xenova/all-mpnet-base-v2', 'mean'],
        ['Xenova/paraphrase-multilingual-MiniLM-L12-v2', 'mean'],
        ['Xenova/multi-qa-MiniLM-L6-cos-v1', 'mean'],
        ['Xenova/multi-qa-mpnet-base-dot-v1', 'cls'],
        ['Xenova/bge-small-en-v1.5', 'cls'],
        ['Xenova/bge-base-en-v1.5', 'cls'],
        ['Xenova/bge-m3', 'cls'],
        ['mixedbread-ai/mxbai-embed-large-v1', 'cls'],
        ['mixedbread-ai/mxbai-embed-xsmall-v1', undefined], // averages, unlike its siblings: its 1_Pooling/config.json is read
        ['Snowflake/snowflake-arctic-embed-xs', 'cls'],
        ['Snowflake/snowflake-arctic-embed-l-v2.0', 'cls'],
        ['Xenova/gte-small', 'mean'],
        ['Alibaba-NLP/gte-base-en-v1.5', undefined], // CLS, unlike thenlper's gte: not guessed from the name
        ['Xenova/e5-small-v2', 'mean'],
        ['Xenova/multilingual-e5-small', 'mean'],
        ['intfloat/e5-mistral-7b-instruct', undefined], // last-token pooling
        ['nomic-ai/nomic-embed-text-v1.5', 'mean'],
        ['jinaai/jina-embeddings-v2-small-en', 'mean'],
        ['my-org/custom-embedder', undefined],
        [UNLISTED, undefined],
      ]
      expect(cases.map(([model]) => [model, knownPooling(model)])).toEqual(cases)
    })

    it('asks for no 1_Pooling/config.json when the graph pools itself', async () => {
      // The fixture's graph with a sentence_embedding output added: the mean of last_hidden_state.
      const read: string[] = []
      const reader = async (model: string, path: string) => {
        read.push(`${model}/${path}`)
        return undefined
      }
      const pooledName = 'pooled-embedder'
      const folder = `${MODELS}${pooledName}`
      if (!existsSync(folder)) await writePooledGraph(`${FIXTURES}${TINY}`, folder)
      const pooled = await loadEmbedder({ model: pooledName, dtype: 'fp32', device: 'cpu', readModelJson: reader })
      disposers.push(() => pooled.dispose())
      expect(read.filter((path) => path.endsWith(POOLING_CONFIG_PATH))).toEqual([])
      expect(pooled.embedder.settings.output).toBe('sentence_embedding')
      const { vectors } = await pooled.embedder.embed([texts[0]!])
      expect(maxDiff(row(vectors, 0), reference[0]!.embedding)).toBeLessThan(1e-4)
    })

    it('refuses a pooling mode it cannot do unless pooling is given', async () => {
      const maxConfig = async () => ({ pooling_mode_max_tokens: true })
      const e = await failure(loadEmbedder({ model: UNLISTED, dtype: 'fp32', device: 'cpu', readModelJson: maxConfig }))
      expect(e.code).toBe('MODEL_LOAD_FAILED')
      expect(e.details.pooling).toEqual(['pooling_mode_max_tokens'])
      const overridden = await loadEmbedder({ model: UNLISTED, dtype: 'fp32', device: 'cpu', pooling: 'cls', readModelJson: maxConfig })
      disposers.push(() => overridden.dispose())
      expect(overridden.embedder.settings.pooling).toBe('cls')
    })

    it('parses sentence-transformers pooling configs', () => {
      expect(poolingFromConfig({ pooling_mode_mean_tokens: true, pooling_mode_cls_token: false })).toBe('mean')
      expect(poolingFromConfig({ pooling_mode_cls_token: true })).toBe('cls')
      expect(poolingFromConfig({ pooling_mode_cls_token: true, pooling_mode_max_tokens: true })).toEqual({
        unsupported: ['pooling_mode_cls_token', 'pooling_mode_max_tokens'],
      })
      expect(poolingFromConfig(null)).toEqual({ unsupported: [] })
    })
  })

  describe('graph outputs', () => {
    it('reads a pooled sentence_embedding unless a pooling was chosen, else token vectors', () => {
      expect(chooseOutput(['last_hidden_state'], false)).toBe('last_hidden_state')
      expect(chooseOutput(['token_embeddings', 'sentence_embedding'], false)).toBe('sentence_embedding')
      expect(chooseOutput(['token_embeddings', 'sentence_embedding'], true)).toBe('token_embeddings')
      expect(chooseOutput(['hidden'], false)).toBe('hidden')
    })

    it('normalises a [rows, dims] output without pooling it, in input order', async () => {
      // A fake graph that pools itself: row vector = [first id, length, 0], so each row is recognisable.
      const fake: HiddenStateModel = async (inputs) => {
        const [rows, width] = inputs.input_ids!.dims as [number, number]
        const ids = inputs.input_ids!.data as BigInt64Array
        const mask = inputs.attention_mask!.data as BigInt64Array
        const out = new Float32Array(rows * 3)
        for (let r = 0; r < rows; r++) {
          out[r * 3] = Number(ids[r * width + 1]!)
          for (let t = 0; t < width; t++) out[r * 3 + 1]! += Number(mask[r * width + t]!)
        }
        return { sentence_embedding: new Tensor('float32', out, [rows, 3]) }
      }
      const tokenizer = await AutoTokenizer.from_pretrained(TINY)
      const settings: EmbedderSettings = { ...fp32.embedder.settings, dims: 3, output: 'sentence_embedding', batchTokens: 12 }
      const embedder = new Embedder(tokenizer as unknown as TextTokenizer, fake, settings)
      const items = ['a', 'circular references prevent', 'memory']
      const { vectors } = await embedder.embed(items)
      items.forEach((text, i) => {
        const ids = tokenizer.encode(text, { add_special_tokens: false })
        expect(maxDiff(row(vectors, i, 3), normalize([ids[0]!, ids.length + 2, 0]))).toBeLessThan(1e-6)
      })
    })
  })

  it('derives the special tokens around a text', () => {
    expect(deriveTextTemplate([101, 7, 8, 102], [7, 8])).toEqual({ prefix: [101], suffix: [102] })
    expect(deriveTextTemplate([0, 7, 2], [7])).toEqual({ prefix: [0], suffix: [2] })
    expect(() => deriveTextTemplate([101, 102], [7])).toThrow(WinnowError)
  })

  // Dynamic int8 quantization moves this random model's vectors a little (cosine >= 0.998 measured
  // on every reference text); 0.99 leaves room for other onnxruntime builds.
  it('q8 weights give vectors within cosine 0.99 of fp32', async () => {
    const q8 = await loadEmbedder({ model: TINY, dtype: 'q8', device: 'cpu' })
    disposers.push(() => q8.dispose())
    const a = (await fp32.embedder.embed(texts)).vectors
    const b = (await q8.embedder.embed(texts)).vectors
    texts.forEach((_, i) => expect(dot(row(a, i), row(b, i))).toBeGreaterThan(0.99))
    expect(maxDiff(Array.from(a), Array.from(b))).toBeGreaterThan(1e-4) // really other weights
  })

  it('reports a missing dtype as UNSUPPORTED_DTYPE naming the dtypes that exist', async () => {
    const e = await failure(loadEmbedder({ model: TINY, dtype: 'q4f16', device: 'cpu', probeDtypes }))
    expect(e.code).toBe('UNSUPPORTED_DTYPE')
    expect(e.details.available).toEqual(['fp32', 'q8', 'q4'])
    expect(e.details.dtype).toBe('q4f16')
  })

  it('reports a missing model folder as MODEL_LOAD_FAILED', async () => {
    const e = await failure(loadEmbedder({ model: 'no-such-model', dtype: 'fp32', device: 'cpu', probeDtypes, readModelJson }))
    expect(e.code).toBe('MODEL_LOAD_FAILED')
    expect(e.details.model).toBe('no-such-model')
  })

  it('reports a pooling config that cannot be read as MODEL_LOAD_FAILED', async () => {
    const unreadable = async () => {
      throw new Error('HTTP 500')
    }
    const e = await failure(loadEmbedder({ model: UNLISTED, dtype: 'fp32', device: 'cpu', readModelJson: unreadable }))
    expect(e.code).toBe('MODEL_LOAD_FAILED')
    expect(e.details.cause).toBe('HTTP 500')
  })

  it('rejects an unknown pooling as INVALID_INPUT', async () => {
    const e = await failure(loadEmbedder({ model: TINY, dtype: 'fp32', device: 'cpu', pooling: 'max' as never }))
    expect(e.code).toBe('INVALID_INPUT')
  })
})
