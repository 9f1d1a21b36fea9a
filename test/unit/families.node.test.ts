/**
 * Model families through winnow's loaders in Node (onnxruntime-node through transformers.js): each
 * fixture of test/fixtures/models/families (tools/models/families.py: the real family's config,
 * tokenizer type and ONNX input/output names around a random one-layer stand-in) is tokenized to
 * the ids of the generator's reference tokenizer (the sentencepiece library for XLM-R and DeBERTa)
 * and scores or embeds like its PyTorch reference; families winnow cannot run are refused from
 * config.json alone.
 */
import { env } from '@huggingface/transformers'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { WinnowError } from '../../src/errors.js'
import { DTYPE_FILES } from '../../src/models/dtype.js'
import { sequenceClassificationTypes, unsupportedFamily } from '../../src/models/families.js'
import { loadCrossEncoder } from '../../src/models/loadCrossEncoder.js'
import { loadEmbedder } from '../../src/models/loadEmbedder.js'
import type { Dtype } from '../../src/types.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/models/families/', import.meta.url))
const MODELS = `${mkdtempSync(join(tmpdir(), 'winnow-families-'))}/`
mkdirSync(`${MODELS}families`)
env.allowRemoteModels = false
env.allowLocalModels = true
env.localModelPath = MODELS

interface PairRef { query: string; document: string; input_ids: number[]; token_type_ids?: number[]; logit: number }
interface TextRef { text: string; input_ids: number[]; embedding: number[] }
interface Reference { family: string; inputs: string[]; output: string; pairs?: PairRef[]; texts?: TextRef[]; pooling?: 'mean' | 'cls' }

const RERANKERS = ['xlm-roberta-cross-encoder', 'deberta-v2-cross-encoder', 'modernbert-cross-encoder', 'electra-cross-encoder']
const EMBEDDERS = ['xlm-roberta-embedder', 'bert-cls-embedder', 'bert-mean-embedder', 'mpnet-embedder', 'distilbert-embedder', 'nomic-bert-embedder']
for (const name of [...RERANKERS, ...EMBEDDERS]) symlinkSync(`${FIXTURES}${name}`, `${MODELS}families/${name}`, 'dir')

/** Config-only folders of families winnow refuses: nothing but config.json is ever needed. */
const REFUSED: Record<string, object> = {
  'qwen3-reranker': { model_type: 'qwen3', architectures: ['Qwen3ForCausalLM'], vocab_size: 151669 },
  'qwen3-embedder': { model_type: 'qwen3', architectures: ['Qwen3ForCausalLM'], vocab_size: 151669 },
  'gte-multilingual-reranker': { model_type: 'new', architectures: ['NewForSequenceClassification'], vocab_size: 250048 },
  'jina-bert-reranker': { model_type: 'jina_bert', architectures: ['JinaBertForSequenceClassification'] },
}
for (const [name, config] of Object.entries(REFUSED)) {
  mkdirSync(`${MODELS}families/${name}`)
  writeFileSync(`${MODELS}families/${name}/config.json`, JSON.stringify(config))
}

const ref = (name: string): Reference => JSON.parse(readFileSync(`${FIXTURES}${name}/reference.json`, 'utf8'))
const probeDtypes = async (model: string): Promise<Dtype[]> =>
  (Object.keys(DTYPE_FILES) as Dtype[]).filter((d) => existsSync(`${MODELS}${model}/onnx/${DTYPE_FILES[d]}`))
const readModelJson = async (model: string, path: string): Promise<unknown> => {
  const file = `${MODELS}${model}/${path}`
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined
}
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0)
const disposers: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const d of disposers) await d()
})

async function rejection(p: Promise<unknown>): Promise<WinnowError> {
  const e = await p.then(() => new Error('resolved'), (err: unknown) => err)
  if (!(e instanceof WinnowError)) throw new Error(`expected a WinnowError, got ${String(e)}`)
  return e
}

describe.each(RERANKERS)('reranker family %s', (name) => {
  const reference = ref(name)
  const model = `families/${name}`
  const pairs = reference.pairs!

  it('feeds the reference token ids with the graph’s own inputs, and scores within 1e-4 of PyTorch (fp32), alone and batched', async () => {
    const loaded = await loadCrossEncoder({ model, dtype: 'fp32', device: 'cpu', probeDtypes })
    disposers.push(() => loaded.dispose())
    const s = loaded.encoder.settings
    expect(s.usesTokenTypes).toBe(reference.inputs.includes('token_type_ids'))
    expect(loaded.numLabels).toBe(1)
    // The template the encoder writes reproduces the reference ids exactly.
    for (const p of pairs) {
      const ids = [...s.template.prefix, ...p.input_ids.slice(s.template.prefix.length)]
      expect(ids).toEqual(p.input_ids)
    }
    const alone: number[] = []
    for (const p of pairs) alone.push((await loaded.encoder.score(p.query, [p.document])).logits[0]!)
    expect(maxAbsDiff(alone, pairs.map((p) => p.logit))).toBeLessThan(1e-4)
    // several pairs of one query in one padded batch (pad ids and masks of the family)
    const query = pairs[0]!.query
    const same = pairs.filter((p) => p.query === query)
    const batched = await loaded.encoder.score(query, same.map((p) => p.document))
    expect(batched.batches).toBe(1)
    expect(maxAbsDiff(batched.logits, same.map((p) => p.logit))).toBeLessThan(1e-4)
  })

  it('q8 and q4 load and keep the reference order of clearly separated pairs', async () => {
    for (const dtype of ['q8', 'q4'] as const) {
      const loaded = await loadCrossEncoder({ model, dtype, device: 'cpu', probeDtypes })
      disposers.push(() => loaded.dispose())
      const logits: number[] = []
      for (const p of pairs) logits.push((await loaded.encoder.score(p.query, [p.document])).logits[0]!)
      expect(maxAbsDiff(logits, pairs.map((p) => p.logit))).toBeLessThan(0.5)
    }
  })
})

describe('reranker token ids', () => {
  it('XLM-R: <s> A </s></s> B </s> with fairseq ids (pieces + 1, <unk> = 3), no token_type_ids', async () => {
    const loaded = await loadCrossEncoder({ model: 'families/xlm-roberta-cross-encoder', dtype: 'fp32', device: 'cpu' })
    disposers.push(() => loaded.dispose())
    expect(loaded.encoder.settings.template).toMatchObject({ prefix: [0], middle: [2, 2], suffix: [2] })
    expect(loaded.encoder.settings.maxLength).toBe(512) // tokenizer_config's model_max_length
    const unknown = ref('xlm-roberta-cross-encoder').pairs!.find((p) => p.document.includes('漢'))!
    expect(unknown.input_ids.at(-2)).toBe(3)
  })

  it('DeBERTa-v2: [CLS] A [SEP] B [SEP] with the spm ids as they are', async () => {
    const loaded = await loadCrossEncoder({ model: 'families/deberta-v2-cross-encoder', dtype: 'fp32', device: 'cpu' })
    disposers.push(() => loaded.dispose())
    expect(loaded.encoder.settings.template).toMatchObject({ prefix: [1], middle: [2], suffix: [2] })
    expect(loaded.encoder.settings.usesTokenTypes).toBe(false)
  })
})

describe.each(EMBEDDERS)('embedder family %s', (name) => {
  const reference = ref(name)
  const model = `families/${name}`
  const texts = reference.texts!

  it('takes the pooling from 1_Pooling/config.json and embeds within 1e-4 of PyTorch (fp32), batched', async () => {
    const loaded = await loadEmbedder({ model, dtype: 'fp32', device: 'cpu', probeDtypes, readModelJson })
    disposers.push(() => loaded.dispose())
    const s = loaded.embedder.settings
    expect(s.pooling).toBe(reference.pooling)
    expect(s.usesTokenTypes).toBe(reference.inputs.includes('token_type_ids'))
    expect(s.output).toBe('last_hidden_state')
    const dims = texts[0]!.embedding.length
    expect(s.dims).toBe(dims)
    for (const t of texts) expect([...s.template.prefix, ...t.input_ids.slice(s.template.prefix.length, -s.template.suffix.length), ...s.template.suffix]).toEqual(t.input_ids)
    const { vectors } = await loaded.embedder.embed(texts.map((t) => t.text))
    const delta = maxAbsDiff(vectors, texts.flatMap((t) => t.embedding))
    expect(delta).toBeLessThan(1e-4)
  })
})

describe('fp16 and q4f16 weights on the CPU', () => {
  it('fp16 scores like the reference within fp16 tolerance; q4f16 loads and runs', async () => {
    const pairs = ref('xlm-roberta-cross-encoder').pairs!
    for (const [dtype, tolerance] of [['fp16', 2e-3], ['q4f16', 0.5]] as const) {
      const loaded = await loadCrossEncoder({ model: 'families/xlm-roberta-cross-encoder', dtype, device: 'cpu', probeDtypes })
      disposers.push(() => loaded.dispose())
      const logits: number[] = []
      for (const p of pairs) logits.push((await loaded.encoder.score(p.query, [p.document])).logits[0]!)
      expect(maxAbsDiff(logits, pairs.map((p) => p.logit))).toBeLessThan(tolerance)
    }
    const texts = ref('bert-cls-embedder').texts!
    const fp16 = await loadEmbedder({ model: 'families/bert-cls-embedder', dtype: 'fp16', device: 'cpu', readModelJson })
    disposers.push(() => fp16.dispose())
    const { vectors } = await fp16.embedder.embed(texts.map((t) => t.text))
    expect(maxAbsDiff(vectors, texts.flatMap((t) => t.embedding))).toBeLessThan(2e-3)
  })
})

describe('families winnow cannot run', () => {
  it.each([
    ['qwen3-reranker', 'reranker', 'qwen3', 'decoder'],
    ['gte-multilingual-reranker', 'reranker', 'new', 'no-sequence-classification'],
    ['jina-bert-reranker', 'reranker', 'jina_bert', 'no-sequence-classification'],
    ['qwen3-embedder', 'embedder', 'qwen3', 'decoder'],
  ] as const)('%s as a %s is UNSUPPORTED_MODEL naming model_type %s, from config.json alone', async (name, role, modelType, reason) => {
    const model = `families/${name}`
    const load = role === 'reranker' ? loadCrossEncoder({ model, dtype: 'q8', device: 'cpu', probeDtypes }) : loadEmbedder({ model, dtype: 'q8', device: 'cpu', readModelJson })
    const e = await rejection(load)
    expect(e.code).toBe('UNSUPPORTED_MODEL')
    expect(e.details).toMatchObject({ model, role, modelType, reason })
    expect(e.message).toContain(modelType)
  })

  it('an unknown encoder type stays loadable as an embedder (transformers.js runs it through its generic encoder class)', () => {
    expect(unsupportedFamily({ model_type: 'new', architectures: ['NewModel'] }, 'embedder', 'Alibaba-NLP/gte-base-en-v1.5')).toBeNull()
    expect(unsupportedFamily({ model_type: 'xlm-roberta', architectures: ['XLMRobertaForSequenceClassification'] }, 'reranker', 'BAAI/bge-reranker-v2-m3')).toBeNull()
    expect(unsupportedFamily({ model_type: 'gemma', architectures: ['GemmaForCausalLM'] }, 'reranker', 'BAAI/bge-reranker-v2-gemma')?.details.reason).toBe('decoder')
    for (const t of ['bert', 'xlm-roberta', 'deberta-v2', 'modernbert', 'mpnet', 'distilbert', 'electra', 'roberta']) expect(sequenceClassificationTypes().has(t)).toBe(true)
  })
})
