/**
 * Model families through the public API in Chromium: every fixture of test/fixtures/models/families
 * (tools/models/families.py: the real family's config, tokenizer type and ONNX inputs/outputs around
 * a random one-layer stand-in) reranks or embeds like its PyTorch reference on WASM and on WebGPU
 * (SwiftShader), fp16 runs on WASM, q4f16 is refused without shader-f16, and families winnow cannot
 * run fail at load with UNSUPPORTED_MODEL.
 */
import { expect, test, type Page } from '@playwright/test'
import { env } from '@huggingface/transformers'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { loadCrossEncoder } from '../../src/models/loadCrossEncoder.js'
import type { Dtype } from '../../src/types.js'
import { errorCode, maxAbsDiff, openHarness } from './helpers.js'

interface PairRef { query: string; document: string; logit: number }
interface TextRef { text: string; embedding: number[] }
interface Reference { inputs: string[]; pooling?: string; pairs?: PairRef[]; texts?: TextRef[] }

const RERANKERS = ['xlm-roberta-cross-encoder', 'deberta-v2-cross-encoder', 'modernbert-cross-encoder', 'electra-cross-encoder']
const EMBEDDERS = ['xlm-roberta-embedder', 'bert-cls-embedder', 'bert-mean-embedder', 'mpnet-embedder', 'distilbert-embedder', 'nomic-bert-embedder']
const FIXTURES = new URL('../fixtures/models/families/', import.meta.url)
const ref = (name: string): Reference => JSON.parse(readFileSync(new URL(`${name}/reference.json`, FIXTURES), 'utf8'))

/** Each reference pair reranked alone through createWinnow().rerank(). */
async function rerankLogits(page: Page, name: string, device: string, dtype: string) {
  return page.evaluate(
    async ({ model, pairs, device, dtype }) => {
      const winnow = await (window as any).winnowApi.createWinnow({ reranker: { model, dtype }, device })
      const logits: number[] = []
      for (const p of pairs) logits.push((await winnow.rerank(p.query, [p.document]))[0].logit)
      const out = { logits, reranker: winnow.reranker, device: winnow.device }
      await winnow.dispose()
      return out
    },
    { model: `families/${name}`, pairs: ref(name).pairs!, device, dtype },
  )
}

/** The same pairs on onnxruntime-node through the same src/ code (q8's integer kernels are the runtime's own). */
async function nodeLogits(name: string, dtype: Dtype): Promise<number[]> {
  env.allowRemoteModels = false
  env.allowLocalModels = true
  env.localModelPath = fileURLToPath(new URL('../fixtures/models/', import.meta.url))
  const { encoder, dispose } = await loadCrossEncoder({ model: `families/${name}`, dtype, device: 'cpu' })
  const logits: number[] = []
  for (const p of ref(name).pairs!) logits.push((await encoder.score(p.query, [p.document])).logits[0]!)
  await dispose()
  return logits
}

/** Every reference text stored in a collection and searched by vector with two of them: the cosines. */
async function vectorCosines(page: Page, name: string, device: string, dtype: string) {
  const texts = ref(name).texts!.map((t) => t.text)
  return page.evaluate(
    async ({ model, texts, device, dtype }) => {
      const winnow = await (window as any).winnowApi.createWinnow({ reranker: false, embedder: { model, dtype }, device })
      const docs = await winnow.collection(`fam-${model.replace(/\W/g, '-')}-${device}-${dtype}`, { chunking: false })
      await docs.clear()
      await docs.add(texts.map((text: string, i: number) => ({ id: String(i), text })))
      const scores: { query: number; doc: number; score: number }[] = []
      for (const query of [0, 1]) {
        for (const hit of await docs.search(texts[query], { mode: 'vector', k: texts.length })) scores.push({ query, doc: Number(hit.id), score: hit.score })
      }
      const out = { scores, embedder: winnow.embedder, device: winnow.device }
      await winnow.dispose()
      return out
    },
    { model: `families/${name}`, texts, device, dtype },
  )
}

function cosineError(name: string, scores: { query: number; doc: number; score: number }[]): number {
  const e = ref(name).texts!.map((t) => t.embedding)
  const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0)
  expect(scores.length).toBe(2 * e.length)
  return scores.reduce((m, s) => Math.max(m, Math.abs(s.score - cos(e[s.query]!, e[s.doc]!))), 0)
}

for (const device of ['wasm', 'webgpu'] as const) {
  test(`rerankers of every family score like PyTorch on ${device} (fp32, within 1e-4)`, async ({ page }) => {
    await openHarness(page)
    for (const name of RERANKERS) {
      const run = await rerankLogits(page, name, device, 'fp32')
      const delta = maxAbsDiff(run.logits, ref(name).pairs!.map((p) => p.logit))
      console.log(`[figure] ${device} fp32 ${name}: max |Δ| vs PyTorch = ${delta.toExponential(2)}`)
      expect(run.device.kind).toBe(device)
      expect(run.reranker).toMatchObject({ dtype: 'fp32', numLabels: 1, maxLength: 512 })
      expect(delta).toBeLessThan(1e-4)
    }
  })

  test(`embedders of every family give PyTorch's cosines on ${device} (fp32, within 1e-4), with the pooling of 1_Pooling/config.json`, async ({ page }) => {
    await openHarness(page)
    for (const name of EMBEDDERS) {
      const run = await vectorCosines(page, name, device, 'fp32')
      const delta = cosineError(name, run.scores)
      console.log(`[figure] ${device} fp32 ${name}: max |Δ cosine| vs PyTorch = ${delta.toExponential(2)}`)
      expect(run.device.kind).toBe(device)
      expect(run.embedder).toMatchObject({ dtype: 'fp32', pooling: ref(name).pooling, dims: 16 })
      expect(delta).toBeLessThan(1e-4)
    }
  })
}

test('q4 on WebGPU (SwiftShader) equals q4 on WASM for the XLM-R reranker and the BERT CLS embedder', async ({ page }) => {
  await openHarness(page)
  const gpu = await rerankLogits(page, 'xlm-roberta-cross-encoder', 'webgpu', 'q4')
  const cpu = await rerankLogits(page, 'xlm-roberta-cross-encoder', 'wasm', 'q4')
  const d = maxAbsDiff(gpu.logits, cpu.logits)
  console.log(`[figure] q4 xlm-roberta reranker webgpu vs wasm max |Δ| = ${d.toExponential(2)}`)
  expect(d).toBeLessThan(1e-4)
  const egpu = await vectorCosines(page, 'bert-cls-embedder', 'webgpu', 'q4')
  const ecpu = await vectorCosines(page, 'bert-cls-embedder', 'wasm', 'q4')
  const de = maxAbsDiff(egpu.scores.map((s) => s.score), ecpu.scores.map((s) => s.score))
  console.log(`[figure] q4 bert-cls embedder webgpu vs wasm max |Δ cosine| = ${de.toExponential(2)}`)
  expect(de).toBeLessThan(1e-4)
})

test('q8 rerankers on WASM agree with q8 on onnxruntime-node (within 5e-2, same order)', async ({ page }) => {
  await openHarness(page)
  const order = (xs: number[]) => xs.map((x, i) => [x, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i)
  for (const name of RERANKERS) {
    const run = await rerankLogits(page, name, 'wasm', 'q8')
    const native = await nodeLogits(name, 'q8')
    const delta = maxAbsDiff(run.logits, native)
    console.log(`[figure] q8 ${name} wasm vs onnxruntime-node max |Δ| = ${delta.toExponential(2)}`)
    expect(run.reranker.dtype).toBe('q8')
    expect(delta).toBeLessThan(5e-2)
    expect(order(run.logits)).toEqual(order(native))
  }
})

test('fp16 runs on WASM within fp16 tolerance of PyTorch; q4f16 runs on WASM and is UNSUPPORTED_DTYPE on WebGPU without shader-f16', async ({ page }) => {
  await openHarness(page)
  const fp16 = await rerankLogits(page, 'xlm-roberta-cross-encoder', 'wasm', 'fp16')
  const d16 = maxAbsDiff(fp16.logits, ref('xlm-roberta-cross-encoder').pairs!.map((p) => p.logit))
  console.log(`[figure] wasm fp16 xlm-roberta reranker: max |Δ| vs PyTorch fp32 = ${d16.toExponential(2)}`)
  expect(fp16.reranker.dtype).toBe('fp16')
  expect(d16).toBeLessThan(2e-3)
  const e16 = await vectorCosines(page, 'bert-cls-embedder', 'wasm', 'fp16')
  const de16 = cosineError('bert-cls-embedder', e16.scores)
  console.log(`[figure] wasm fp16 bert-cls embedder: max |Δ cosine| vs PyTorch fp32 = ${de16.toExponential(2)}`)
  expect(e16.embedder.dtype).toBe('fp16')
  expect(de16).toBeLessThan(2e-3)

  const q4f16 = await rerankLogits(page, 'xlm-roberta-cross-encoder', 'wasm', 'q4f16')
  const native = await nodeLogits('xlm-roberta-cross-encoder', 'q4f16')
  console.log(`[figure] wasm q4f16 xlm-roberta reranker vs onnxruntime-node max |Δ| = ${maxAbsDiff(q4f16.logits, native).toExponential(2)}`)
  expect(q4f16.reranker.dtype).toBe('q4f16')
  expect(maxAbsDiff(q4f16.logits, native)).toBeLessThan(1e-2)

  const adapter = await page.evaluate(async () => {
    const a = await (navigator as any).gpu.requestAdapter()
    return { f16: a.features.has('shader-f16'), fallback: Boolean(a.info?.isFallbackAdapter) }
  })
  expect(adapter.f16).toBe(false) // SwiftShader: the case this test is about
  for (const role of ['reranker', 'embedder']) {
    const options = role === 'reranker' ? `reranker: { model: 'families/xlm-roberta-cross-encoder', dtype: 'q4f16' }` : `reranker: false, embedder: { model: 'families/bert-cls-embedder', dtype: 'q4f16' }`
    const refused = await errorCode(page, `await api.createWinnow({ ${options}, device: 'webgpu' })`)
    expect(refused.code).toBe('UNSUPPORTED_DTYPE')
    expect(refused.details).toMatchObject({ dtype: 'q4f16', device: 'webgpu' })
  }
})

test('families winnow cannot run are UNSUPPORTED_MODEL at load, naming model_type, with no weights requested', async ({ page }) => {
  const requests = await openHarness(page)
  const configs: Record<string, object> = {
    'qwen3-reranker': { model_type: 'qwen3', architectures: ['Qwen3ForCausalLM'] },
    'gte-multilingual-reranker': { model_type: 'new', architectures: ['NewForSequenceClassification'] },
  }
  for (const [name, config] of Object.entries(configs)) {
    await page.route(`**/models/unsupported/${name}/config.json`, (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(config) }))
  }
  const reranker = await errorCode(page, `await api.createWinnow({ reranker: { model: 'unsupported/gte-multilingual-reranker' }, device: 'wasm', cache: false })`)
  expect(reranker.code).toBe('UNSUPPORTED_MODEL')
  expect(reranker.details).toMatchObject({ role: 'reranker', modelType: 'new', reason: 'no-sequence-classification' })
  const decoder = await errorCode(page, `await api.createWinnow({ reranker: { model: 'unsupported/qwen3-reranker' }, device: 'wasm', cache: false })`)
  expect(decoder.code).toBe('UNSUPPORTED_MODEL')
  expect(decoder.details).toMatchObject({ role: 'reranker', modelType: 'qwen3', reason: 'decoder' })
  const embedder = await errorCode(page, `await api.createWinnow({ reranker: false, embedder: { model: 'unsupported/qwen3-reranker' }, device: 'wasm', cache: false })`)
  expect(embedder.code).toBe('UNSUPPORTED_MODEL')
  expect(embedder.details).toMatchObject({ role: 'embedder', modelType: 'qwen3', reason: 'decoder' })
  expect(requests.filter((u) => u.includes('/models/unsupported/') && u.includes('/onnx/'))).toEqual([])
})
