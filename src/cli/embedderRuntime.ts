/**
 * The embedder on onnxruntime-node for `index --embedder`. This is the only CLI module that
 * imports @huggingface/transformers (an optional peer dependency); the CLI loads it with a dynamic
 * import, only on that path, so every other command runs without transformers.js installed.
 */

import { env } from '@huggingface/transformers'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadEmbedder } from '../models/loadEmbedder.js'
import type { EmbedderPort } from '../models/embedderPort.js'
import type { SnapshotEmbedder } from '../snapshot/format.js'
import type { Dtype } from '../types.js'
import { embedderPort } from '../models/embedderPort.js'
import { SerialQueue } from '../models/queue.js'

/** What {@link loadRuntimeEmbedder} takes. */
export interface RuntimeEmbedderOptions {
  model: string
  dtype: Dtype
  /** Absolute folder of local model folders. */
  modelsDir: string
  allowRemote: boolean
  /** Hub to fetch from when `allowRemote` (default https://huggingface.co). */
  remoteHost?: string
  /** Override the model's query / document prefix (default: its conventions, see conventions.ts). */
  queryPrefix?: string
  documentPrefix?: string
}

/**
 * Loads a bi-encoder from `modelsDir` (or the hub) on the CPU, through the same `loadEmbedder` the
 * worker uses.
 *
 * @example
 * const { embedder, dispose } = await loadRuntimeEmbedder({ model: 'Xenova/all-MiniLM-L6-v2', dtype: 'q8', modelsDir: '/app/models', allowRemote: false })
 */
export async function loadRuntimeEmbedder(options: RuntimeEmbedderOptions): Promise<{ embedder: { port: EmbedderPort; info: SnapshotEmbedder }; dispose: () => Promise<void> }> {
  const { model, dtype, modelsDir } = options
  env.localModelPath = modelsDir + '/'
  env.allowLocalModels = true
  env.allowRemoteModels = options.allowRemote
  if (options.remoteHost) {
    // The hub's own URL scheme (transformers.js's default template, set again in case this process changed it).
    env.remoteHost = options.remoteHost.replace(/\/*$/, '/')
    env.remotePathTemplate = '{model}/resolve/{revision}/'
  }
  const loaded = await loadEmbedder({
    model,
    dtype,
    device: 'cpu',
    queryPrefix: options.queryPrefix,
    documentPrefix: options.documentPrefix,
    readModelJson: async (m, path) => {
      const file = join(modelsDir, m, path)
      return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined
    },
  })
  const s = loaded.embedder.settings
  return {
    embedder: { port: embedderPort(loaded, model, new SerialQueue()), info: { model, dtype, dims: s.dims, pooling: s.pooling, queryPrefix: loaded.conventions.queryPrefix, documentPrefix: loaded.conventions.documentPrefix } },
    dispose: () => loaded.dispose(),
  }
}
