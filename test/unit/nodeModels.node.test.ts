/**
 * src/models/node.ts, the one Node-side loader (CLI, eval, bench): it sets transformers.js's env
 * for Node and loads the models on one queue, with the same code as the worker.
 */
import { env } from '@huggingface/transformers'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { configureNodeRuntime, loadNodeModels } from '../../src/models/node.js'
import { failure } from '../helpers/errors.js'

const MODELS = fileURLToPath(new URL('../fixtures/models/', import.meta.url))
const none = async () => {}

describe('configureNodeRuntime', () => {
  it('points transformers.js at the folder, remote only when asked, with the hub template', () => {
    configureNodeRuntime({ modelsDir: MODELS, allowRemote: true, remoteHost: 'http://127.0.0.1:9/hub', cacheDir: '/tmp/winnow-cache' })
    expect(env.localModelPath).toBe(MODELS)
    expect(env.allowLocalModels).toBe(true)
    expect(env.allowRemoteModels).toBe(true)
    expect(env.remoteHost).toBe('http://127.0.0.1:9/hub/')
    expect(env.remotePathTemplate).toBe('{model}/resolve/{revision}/')
    expect(env.cacheDir).toBe('/tmp/winnow-cache')
    configureNodeRuntime({ modelsDir: MODELS })
    expect(env.allowRemoteModels).toBe(false)
  })
})

describe('loadNodeModels', () => {
  it('loads the embedder and the reranker; the ports give what the models give', async () => {
    const models = await loadNodeModels({
      modelsDir: MODELS,
      embedder: { model: 'tiny-random-embedder', dtype: 'fp32' },
      reranker: { model: 'tiny-random-cross-encoder', dtype: 'fp32' },
    })
    try {
      const e = models.embedder!
      expect(e).toMatchObject({ model: 'tiny-random-embedder', dtype: 'fp32', dims: 32, pooling: 'mean', queryPrefix: '', documentPrefix: '' })
      expect(e.port.model).toBe('tiny-random-embedder')
      const texts = ['paris is the capital of france', 'a quick brown fox']
      expect(Array.from(await e.port.embed(texts, none))).toEqual(Array.from((await e.loaded.embedder.embed(texts)).vectors))
      const r = models.reranker!
      expect(r.maxLength).toBe(r.loaded.encoder.settings.maxLength)
      const queued = await r.score('capital of france', texts)
      const direct = await r.loaded.encoder.score('capital of france', texts)
      expect(Array.from(queued.logits)).toEqual(Array.from(direct.logits))
      expect(Array.from(queued.documentTokens)).toEqual(Array.from(direct.documentTokens))
      // A throwing checkpoint stops the run.
      await expect(r.score('q', texts, async () => { throw new Error('stop') })).rejects.toThrow('stop')
    } finally {
      await models.dispose()
    }
  })

  it('loads nothing it is not asked for', async () => {
    const models = await loadNodeModels({ modelsDir: MODELS })
    expect(models.embedder).toBeNull()
    expect(models.reranker).toBeNull()
    await models.dispose()
  })

  it('fails as the worker loaders do (after freeing the models it had loaded)', async () => {
    const e = await failure(
      loadNodeModels({
        modelsDir: MODELS,
        embedder: { model: 'tiny-random-embedder', dtype: 'fp32' },
        reranker: { model: 'no-such-model', dtype: 'fp32' },
      }),
    )
    expect(e.code).toBe('MODEL_LOAD_FAILED')
  })
})
