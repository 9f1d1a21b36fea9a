import { describe, expect, it } from 'vitest'
import { positionLimit, usableLength } from '../../src/models/modelLimits.js'

// config.json excerpts of real models (model_type, max_position_embeddings, pad_token_id)
const configs = {
  'BAAI/bge-reranker-base (xlm-roberta)': [{ model_type: 'xlm-roberta', max_position_embeddings: 514, pad_token_id: 1 }, 512],
  'BAAI/bge-reranker-v2-m3 (xlm-roberta)': [{ model_type: 'xlm-roberta', max_position_embeddings: 8194, pad_token_id: 1 }, 8192],
  'intfloat/multilingual-e5-small (bert)': [{ model_type: 'bert', max_position_embeddings: 512, pad_token_id: 0 }, 512],
  'cross-encoder/ms-marco-MiniLM-L-6-v2 (bert)': [{ model_type: 'bert', max_position_embeddings: 512, pad_token_id: 0 }, 512],
  'roberta-base': [{ model_type: 'roberta', max_position_embeddings: 514, pad_token_id: 1 }, 512],
  'camembert-base': [{ model_type: 'camembert', max_position_embeddings: 514, pad_token_id: 1 }, 512],
  'all-mpnet-base-v2 (mpnet)': [{ model_type: 'mpnet', max_position_embeddings: 514, pad_token_id: 1 }, 512],
  'allenai/longformer-base-4096': [{ model_type: 'longformer', max_position_embeddings: 4098, pad_token_id: 1 }, 4096],
  'mxbai-rerank-xsmall-v1 (deberta-v2)': [{ model_type: 'deberta-v2', max_position_embeddings: 512, pad_token_id: 0 }, 512],
  'gte-reranker-modernbert-base (modernbert)': [{ model_type: 'modernbert', max_position_embeddings: 8192, pad_token_id: 50283 }, 8192],
} as const

describe('positionLimit', () => {
  for (const [name, [config, limit]] of Object.entries(configs)) {
    it(`${name}: ${limit}`, () => expect(positionLimit(config)).toBe(limit))
  }

  it('reads the padding index from the config, defaulting to 1; MPNet always uses 1', () => {
    expect(positionLimit({ model_type: 'roberta', max_position_embeddings: 130, pad_token_id: 0 })).toBe(129)
    expect(positionLimit({ model_type: 'roberta', max_position_embeddings: 130 })).toBe(128)
    expect(positionLimit({ model_type: 'roberta', max_position_embeddings: 130, pad_token_id: null })).toBe(128)
    expect(positionLimit({ model_type: 'mpnet', max_position_embeddings: 514, pad_token_id: 0 })).toBe(512)
  })

  it('is Infinity without a position table', () => {
    expect(positionLimit({ model_type: 'roberta' })).toBe(Infinity)
    expect(positionLimit({})).toBe(Infinity)
  })
})

describe('usableLength', () => {
  const xlmr = { model_type: 'xlm-roberta', max_position_embeddings: 514, pad_token_id: 1 }
  it('caps the default by the position table when the tokenizer sets no model_max_length', () => {
    expect(usableLength(undefined, 512, xlmr, undefined)).toBe(512)
    expect(usableLength(1024, 512, xlmr, undefined)).toBe(512)
    expect(usableLength(undefined, 512, { model_type: 'roberta', max_position_embeddings: 130, pad_token_id: 1 }, undefined)).toBe(128)
  })
  it('takes the smallest of the request, the table and model_max_length', () => {
    expect(usableLength(256, 512, xlmr, 512)).toBe(256)
    expect(usableLength(undefined, 512, { model_type: 'bert', max_position_embeddings: 128 }, 128)).toBe(128)
    expect(usableLength(undefined, 512, { model_type: 'bert', max_position_embeddings: 512 }, 100)).toBe(100)
    expect(usableLength(undefined, 512, { model_type: 'bert', max_position_embeddings: 512 }, 0)).toBe(512) // not set
    expect(usableLength(undefined, 512, { model_type: 'modernbert', max_position_embeddings: 8192 }, 1e30)).toBe(512)
  })
})
