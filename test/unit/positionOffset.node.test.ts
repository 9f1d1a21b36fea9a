import { AutoModel, env, Tensor } from '@huggingface/transformers'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { loadCrossEncoder } from '../../src/models/loadCrossEncoder.js'
import { loadEmbedder } from '../../src/models/loadEmbedder.js'

// Tiny RoBERTa-shaped models (tools/make_position_fixtures.py): position ids from pad_token_id + 1 = 2,
// a table of 34 rows, no model_max_length: the usable length is 34 − 1 − 1 = 32, not 34.
const MODELS = fileURLToPath(new URL('../fixtures/models/', import.meta.url))
env.allowRemoteModels = false
env.allowLocalModels = true
env.localModelPath = MODELS
const RERANKER = 'families/position-offset-roberta'
const EMBEDDER = 'families/position-offset-roberta-embedder'
const ref = (model: string) => JSON.parse(readFileSync(`${MODELS}${model}/reference.json`, 'utf8'))
const disposers: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const d of disposers) await d()
})

describe('usable length of a RoBERTa-like model (Node)', () => {
  it('the fixture: config table 34, no model_max_length, and 33 tokens really fail in the graph', async () => {
    const config = JSON.parse(readFileSync(`${MODELS}${RERANKER}/config.json`, 'utf8'))
    expect(config).toMatchObject({ model_type: 'roberta', max_position_embeddings: 34, pad_token_id: 1 })
    expect(JSON.parse(readFileSync(`${MODELS}${RERANKER}/tokenizer_config.json`, 'utf8')).model_max_length).toBeUndefined()
    const model = await AutoModel.from_pretrained(RERANKER, { dtype: 'fp32', device: 'cpu' })
    disposers.push(() => model.dispose())
    const run = (n: number) => {
      const ids = [0, ...Array(n - 2).fill(55), 2]
      return model({
        input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, n]),
        attention_mask: new Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
      })
    }
    await expect(run(32)).resolves.toBeDefined()
    await expect(run(33)).rejects.toThrow(/idx|indices|out of|bounds/i)
  })

  it('the reranker uses 32 tokens and scores full-length and cut pairs like PyTorch', async () => {
    const { encoder, dispose } = await loadCrossEncoder({ model: RERANKER, dtype: 'fp32', device: 'cpu' })
    disposers.push(dispose)
    expect(encoder.settings.maxLength).toBe(32)
    expect(encoder.settings.usesTokenTypes).toBe(false)
    expect(encoder.settings.template).toMatchObject({ prefix: [0], middle: [2, 2], suffix: [2] })
    const pairs = ref(RERANKER).pairs as { query: string; document: string; input_ids: number[]; logit: number }[]
    expect(pairs.map((p) => p.input_ids.length)).toEqual([13, 32, 32])
    for (const p of pairs) {
      const r = await encoder.score(p.query, [p.document])
      expect(Math.abs(r.logits[0]! - p.logit)).toBeLessThan(1e-4)
    }
    // all three in one padded batch (padding gets position 1, as in RoBERTa)
    const q = pairs[2]!.query
    const batch = await encoder.score(q, [pairs[2]!.document, 'paris'])
    expect(batch.documentTruncated).toEqual([true, false])
    expect(Math.abs(batch.logits[0]! - pairs[2]!.logit)).toBeLessThan(1e-4)
    // an explicit maxLength over the table is capped too
    const asked = await loadCrossEncoder({ model: RERANKER, dtype: 'fp32', device: 'cpu', maxLength: 34 })
    disposers.push(asked.dispose)
    expect(asked.encoder.settings.maxLength).toBe(32)
  })

  it('the embedder uses 32 tokens and embeds a cut text like PyTorch', async () => {
    const { embedder, dispose } = await loadEmbedder({ model: EMBEDDER, dtype: 'fp32', device: 'cpu', pooling: 'mean' })
    disposers.push(dispose)
    expect(embedder.settings.maxLength).toBe(32)
    const texts = ref(EMBEDDER).texts as { text: string; input_ids: number[]; embedding: number[] }[]
    expect(texts.map((t) => t.input_ids.length)).toEqual([7, 32, 32])
    const { vectors, truncated } = await embedder.embed(texts.map((t) => t.text))
    expect(truncated).toEqual([false, false, true])
    const dims = embedder.settings.dims
    texts.forEach((t, i) => {
      const got = Array.from(vectors.subarray(i * dims, (i + 1) * dims))
      expect(Math.max(...got.map((x, j) => Math.abs(x - t.embedding[j]!)))).toBeLessThan(1e-4)
    })
  })
})
