/**
 * The embedder on onnxruntime-node for `index --embedder`. This module reaches
 * @huggingface/transformers (an optional peer dependency) through the Node model loader
 * (src/models/node.ts); the CLI loads it with a dynamic import, only on that path, so every other
 * command runs without transformers.js installed.
 */

import type { EmbedderPort } from '../models/embedderPort.js'
import { loadNodeModels } from '../models/node.js'
import type { SnapshotEmbedder } from '../snapshot/format.js'
import type { Dtype } from '../types.js'

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
 * worker uses (see src/models/node.ts).
 *
 * @example
 * const { embedder, dispose } = await loadRuntimeEmbedder({ model: 'Xenova/all-MiniLM-L6-v2', dtype: 'q8', modelsDir: '/app/models', allowRemote: false })
 */
export async function loadRuntimeEmbedder(options: RuntimeEmbedderOptions): Promise<{ embedder: { port: EmbedderPort; info: SnapshotEmbedder }; dispose: () => Promise<void> }> {
  const { model, dtype } = options
  const models = await loadNodeModels({
    modelsDir: options.modelsDir,
    allowRemote: options.allowRemote,
    remoteHost: options.remoteHost,
    embedder: { model, dtype, queryPrefix: options.queryPrefix, documentPrefix: options.documentPrefix },
  })
  const e = models.embedder!
  return {
    embedder: { port: e.port, info: { model, dtype, dims: e.dims, pooling: e.pooling, queryPrefix: e.queryPrefix, documentPrefix: e.documentPrefix } },
    dispose: () => models.dispose(),
  }
}
