/**
 * Model families through winnow's loaders in Node (onnxruntime-node through transformers.js): each
 * fixture of test/fixtures/models/families (tools/models/families.py: the real family's config,
 * tokenizer type and ONNX input/output names around a random one-layer stand-in) is tokenized to
 * the ids of the generator's reference tokenizer (the sentencepiece library for XLM-R and DeBERTa)
 * and scores or embeds like its PyTorch reference; families winnow cannot run are refused from
 * config.json alone.
 */
import { env, type Tensor } from '@huggingface/transformers'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { WinnowError } from '../../src/errors.js'
import { CrossEncoder, type LogitsModel, type PairTokenizer } from '../../src/models/crossEncoder.js'
import { DTYPE_FILES } from '../../src/models/dtype.js'
import { Embedder, type HiddenStateModel, type TextTokenizer } from '../../src/models/embedder.js'
import { sequenceClassificationTypes, unsupportedFamily } from '../../src/models/families.js'
import { loadCrossEncoder, type LoadedCrossEncoder } from '../../src/models/loadCrossEncoder.js'
import { loadEmbedder, type LoadedEmbedder } from '../../src/models/loadEmbedder.js'
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

/**
 * Largest score error allowed for quantized weights of these random stand-ins (measured at most:
 * logits 0.023 at q8 and 0.41 at q4 on DeBERTa; cosines 0.11 for the BERT CLS embedder at q8 and q4).
 */
const QUANTISATION_ERROR = { q8: 0.05, q4: 0.5 } as const
const COSINE_QUANTISATION_ERROR = 0.15

/**
 * Pairs (i, j) whose reference scores differ by more than `margin` but come out tied or the other
 * way round in `scores`; `checked` counts the pairs that far apart. Scores within `margin` of the
 * reference can still swap a closer pair, so only those further apart must keep their order.
 */
function orderViolations(reference: readonly number[], scores: ArrayLike<number>, margin: number): { checked: number; violations: [number, number][] } {
  const violations: [number, number][] = []
  let checked = 0
  for (let i = 0; i < reference.length; i++) {
    for (let j = 0; j < reference.length; j++) {
      if (reference[i]! - reference[j]! <= margin) continue
      checked++
      if (!(scores[i]! > scores[j]!)) violations.push([i, j])
    }
  }
  return { checked, violations }
}

/** Cosines of every pair of texts (i < j), from unit vectors laid end to end. */
function pairCosines(vectors: ArrayLike<number>, dims: number): number[] {
  const count = vectors.length / dims
  const out: number[] = []
  for (let i = 0; i < count; i++) {
    for (let j = i + 1; j < count; j++) {
      let dot = 0
      for (let d = 0; d < dims; d++) dot += vectors[i * dims + d]! * vectors[j * dims + d]!
      out.push(dot)
    }
  }
  return out
}

/** What one model call was fed: the input names, and each row cut to its attention mask. */
interface Fed { names: string[]; dims: number[]; rows: { ids: number[]; types?: number[] }[] }
const int64 = (t: Tensor) => Array.from(t.data as BigInt64Array, Number)

/** Records a call's inputs; every row's mask must be 1 … 1 then 0 … 0 (padding only at the end). */
function record(inputs: Record<string, Tensor>, calls: Fed[]): void {
  const [rowCount, width] = inputs.input_ids!.dims as [number, number]
  const ids = int64(inputs.input_ids!)
  const mask = int64(inputs.attention_mask!)
  const types = inputs.token_type_ids ? int64(inputs.token_type_ids) : undefined
  const rows: Fed['rows'] = []
  for (let r = 0; r < rowCount; r++) {
    const rowMask = mask.slice(r * width, (r + 1) * width)
    const length = rowMask.indexOf(0) === -1 ? width : rowMask.indexOf(0)
    expect(rowMask).toEqual([...Array<number>(length).fill(1), ...Array<number>(width - length).fill(0)])
    const row: Fed['rows'][number] = { ids: ids.slice(r * width, r * width + length) }
    if (types) row.types = types.slice(r * width, r * width + length)
    rows.push(row)
  }
  calls.push({ names: Object.keys(inputs).sort(), dims: [rowCount, width], rows })
}

/** The loaded encoder again, over a spy that records what the model is fed (as truncation.node.test.ts does). */
function spiedCrossEncoder(loaded: LoadedCrossEncoder): { encoder: CrossEncoder; calls: Fed[] } {
  const calls: Fed[] = []
  const { model, tokenizer } = loaded.encoder as unknown as { model: LogitsModel; tokenizer: PairTokenizer }
  const spy: LogitsModel = (inputs) => (record(inputs, calls), model(inputs))
  return { encoder: new CrossEncoder(tokenizer, spy, loaded.encoder.settings), calls }
}

function spiedEmbedder(loaded: LoadedEmbedder): { embedder: Embedder; calls: Fed[] } {
  const calls: Fed[] = []
  const { model, tokenizer } = loaded.embedder as unknown as { model: HiddenStateModel; tokenizer: TextTokenizer }
  const spy: HiddenStateModel = (inputs) => (record(inputs, calls), model(inputs))
  return { embedder: new Embedder(tokenizer, spy, loaded.embedder.settings), calls }
}

/** Rows in a canonical order: a batch is sorted by length, not by input. */
const sortedRows = (rows: readonly object[]) => rows.map((r) => JSON.stringify(r)).sort()

async function rejection(p: Promise<unknown>): Promise<WinnowError> {
  const e = await p.then(() => new Error('resolved'), (err: unknown) => err)
  if (!(e instanceof WinnowError)) throw new Error(`expected a WinnowError, got ${String(e)}`)
  return e
}

describe.each(RERANKERS)('reranker family %s', (name) => {
  const reference = ref(name)
  const model = `families/${name}`
  const pairs = reference.pairs!

  it('feeds the reference token ids (and token types) with the graph’s own inputs, and scores within 1e-4 of PyTorch (fp32), alone and batched', async () => {
    const loaded = await loadCrossEncoder({ model, dtype: 'fp32', device: 'cpu', probeDtypes })
    disposers.push(() => loaded.dispose())
    const s = loaded.encoder.settings
    expect(s.usesTokenTypes).toBe(reference.inputs.includes('token_type_ids'))
    expect(loaded.numLabels).toBe(1)
    const { encoder, calls } = spiedCrossEncoder(loaded)
    const expected = (p: PairRef) => (s.usesTokenTypes ? { ids: p.input_ids, types: p.token_type_ids } : { ids: p.input_ids })
    if (s.usesTokenTypes) for (const p of pairs) expect(p.token_type_ids).toHaveLength(p.input_ids.length)
    const alone: number[] = []
    for (const p of pairs) {
      calls.length = 0
      alone.push((await encoder.score(p.query, [p.document])).logits[0]!)
      expect(calls).toHaveLength(1)
      expect(calls[0]!.names).toEqual([...reference.inputs].sort())
      expect(calls[0]!.dims).toEqual([1, p.input_ids.length])
      expect(calls[0]!.rows).toEqual([expected(p)])
    }
    expect(maxAbsDiff(alone, pairs.map((p) => p.logit))).toBeLessThan(1e-4)
    // several pairs of one query in one padded batch (pad ids and masks of the family)
    const query = pairs[0]!.query
    const same = pairs.filter((p) => p.query === query)
    expect(new Set(same.map((p) => p.input_ids.length)).size).toBeGreaterThan(1) // so some rows are padded
    calls.length = 0
    const batched = await encoder.score(query, same.map((p) => p.document))
    expect(batched.batches).toBe(1)
    expect(calls).toHaveLength(1)
    expect(sortedRows(calls[0]!.rows)).toEqual(sortedRows(same.map(expected)))
    expect(maxAbsDiff(batched.logits, same.map((p) => p.logit))).toBeLessThan(1e-4)
  })

  it('q8 and q4 stay within their quantisation error of PyTorch and keep the order of reference pairs further apart than it', async () => {
    const reference = pairs.map((p) => p.logit)
    for (const dtype of ['q8', 'q4'] as const) {
      const loaded = await loadCrossEncoder({ model, dtype, device: 'cpu', probeDtypes })
      disposers.push(() => loaded.dispose())
      const logits: number[] = []
      for (const p of pairs) logits.push((await loaded.encoder.score(p.query, [p.document])).logits[0]!)
      const order = orderViolations(reference, logits, QUANTISATION_ERROR[dtype])
      expect(order.violations).toEqual([])
      // every family has q8 pairs further apart than 0.05; at q4 only DeBERTa and ModernBERT have some over 0.5
      if (dtype === 'q8') expect(order.checked).toBeGreaterThan(0)
      expect(maxAbsDiff(logits, reference)).toBeLessThan(QUANTISATION_ERROR[dtype])
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

  it('takes the pooling from 1_Pooling/config.json, feeds the reference token ids with the graph’s own inputs, and embeds within 1e-4 of PyTorch (fp32), batched', async () => {
    const loaded = await loadEmbedder({ model, dtype: 'fp32', device: 'cpu', probeDtypes, readModelJson })
    disposers.push(() => loaded.dispose())
    const s = loaded.embedder.settings
    expect(s.pooling).toBe(reference.pooling)
    expect(s.usesTokenTypes).toBe(reference.inputs.includes('token_type_ids'))
    expect(s.output).toBe('last_hidden_state')
    const dims = texts[0]!.embedding.length
    expect(s.dims).toBe(dims)
    const { embedder, calls } = spiedEmbedder(loaded)
    // one segment: token types, where the graph takes them, are all 0
    const expected = (t: TextRef) => (s.usesTokenTypes ? { ids: t.input_ids, types: t.input_ids.map(() => 0) } : { ids: t.input_ids })
    for (const t of texts) {
      calls.length = 0
      await embedder.embed([t.text])
      expect(calls).toHaveLength(1)
      expect(calls[0]!.names).toEqual([...reference.inputs].sort())
      expect(calls[0]!.rows).toEqual([expected(t)])
    }
    calls.length = 0
    const { vectors } = await embedder.embed(texts.map((t) => t.text))
    expect(sortedRows(calls.flatMap((c) => c.rows))).toEqual(sortedRows(texts.map(expected)))
    const delta = maxAbsDiff(vectors, texts.flatMap((t) => t.embedding))
    expect(delta).toBeLessThan(1e-4)
  })

  it('q8 and q4 give cosines within their quantisation error of PyTorch’s and keep the order of text pairs further apart than it', async () => {
    const reference = pairCosines(texts.flatMap((t) => t.embedding), texts[0]!.embedding.length)
    for (const dtype of ['q8', 'q4'] as const) {
      const loaded = await loadEmbedder({ model, dtype, device: 'cpu', probeDtypes, readModelJson })
      disposers.push(() => loaded.dispose())
      const { vectors } = await loaded.embedder.embed(texts.map((t) => t.text))
      const cosines = pairCosines(vectors, loaded.embedder.settings.dims)
      // The BERT CLS and nomic_bert stand-ins' cosines all lie within 0.15 of each other
      // (0.87–0.99, 0.91–1.00): for them only the bound below applies.
      expect(orderViolations(reference, cosines, COSINE_QUANTISATION_ERROR).violations).toEqual([])
      expect(maxAbsDiff(cosines, reference)).toBeLessThan(COSINE_QUANTISATION_ERROR)
    }
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
