/// <reference types="node" />
/**
 * The models on onnxruntime-node, for everything that runs them outside the worker: the CLI's
 * `index --embedder`, eval/ and bench/. One place sets transformers.js's global `env` for Node
 * (local model folder, remote or not, cache) and loads the embedder and the reranker through the
 * same `loadEmbedder` / `loadCrossEncoder` the worker uses, behind one {@link SerialQueue} (one
 * model runs one batch at a time, as in the worker).
 *
 * Imports @huggingface/transformers (an optional peer dependency): the CLI reaches this module only
 * through a dynamic import (see src/cli/embedderRuntime.ts). eval/ and bench/ import it from dist/.
 */

import { env } from '@huggingface/transformers'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Checkpoint } from '../core/checkpoint.js'
import type { Dtype } from '../types.js'
import type { PairScores } from './crossEncoder.js'
import { embedderPort, type EmbedderPort } from './embedderPort.js'
import { loadCrossEncoder, type LoadedCrossEncoder } from './loadCrossEncoder.js'
import { loadEmbedder, type LoadedEmbedder } from './loadEmbedder.js'
import { SerialQueue } from './queue.js'

/** Where transformers.js finds models in Node. */
export interface NodeRuntimeOptions {
  /** Folder of local model folders (`<modelsDir>/<model id>/config.json`); relative to the working directory. */
  modelsDir: string
  /** Fetch models missing there from the hub. Default false. */
  allowRemote?: boolean
  /** Hub to fetch from when `allowRemote` (default transformers.js's, https://huggingface.co). */
  remoteHost?: string
  /** Folder for downloaded files (transformers.js's `cacheDir`); default transformers.js's own. */
  cacheDir?: string
}

/** What {@link loadNodeModels} loads: the runtime, and each model that is asked for. */
export interface NodeModelsOptions extends NodeRuntimeOptions {
  /** A bi-encoder (feature-extraction model). */
  embedder?: { model: string; dtype: Dtype; queryPrefix?: string; documentPrefix?: string }
  /** A cross-encoder (sequence-classification model). */
  reranker?: { model: string; dtype: Dtype }
}

/** A loaded embedder: the port a collection takes, and what a snapshot records of it. */
export interface NodeEmbedderModel {
  model: string
  dtype: Dtype
  port: EmbedderPort
  loaded: LoadedEmbedder
  dims: number
  pooling: string
  queryPrefix: string
  documentPrefix: string
}

/** A loaded reranker: `score` runs through the shared queue. */
export interface NodeRerankerModel {
  model: string
  dtype: Dtype
  loaded: LoadedCrossEncoder
  /** Tokens per pair the model keeps. */
  maxLength: number
  /** Raw logits per passage, in input order; `checkpoint` runs between batches (throw from it to cancel). */
  score(query: string, passages: readonly string[], checkpoint?: Checkpoint): Promise<PairScores>
}

/** The loaded models and the handle that frees them. */
export interface NodeModels {
  embedder: NodeEmbedderModel | null
  reranker: NodeRerankerModel | null
  /** The one queue both models run on. */
  queue: SerialQueue
  /** Frees every model loaded here. */
  dispose(): Promise<void>
}

/** Queue id of reranker runs: a Node caller has no calls to cancel by id. */
const RERANK = 1

/**
 * Points transformers.js's global `env` at `modelsDir` (and the hub only when `allowRemote`). The
 * only place outside the worker's own runtime (./runtime.ts) that sets it.
 *
 * @example
 * configureNodeRuntime({ modelsDir: '.cache/models' })
 */
export function configureNodeRuntime(options: NodeRuntimeOptions): void {
  env.localModelPath = resolve(options.modelsDir) + '/'
  env.allowLocalModels = true
  env.allowRemoteModels = options.allowRemote === true
  if (options.remoteHost) {
    // The hub's own URL scheme (transformers.js's default template, set again in case this process changed it).
    env.remoteHost = options.remoteHost.replace(/\/*$/, '/')
    env.remotePathTemplate = '{model}/resolve/{revision}/'
  }
  if (options.cacheDir) env.cacheDir = resolve(options.cacheDir)
}

/**
 * Configures the runtime (see {@link configureNodeRuntime}), then loads the embedder and the
 * reranker asked for, on the CPU, one after the other. If one fails, the ones already loaded are
 * freed before the error is thrown.
 *
 * @example
 * const models = await loadNodeModels({ modelsDir: '.cache/models', embedder: { model: 'Xenova/all-MiniLM-L6-v2', dtype: 'q8' } })
 * const vectors = await models.embedder!.port.embed(['a passage'], async () => {})
 * await models.dispose()
 */
export async function loadNodeModels(options: NodeModelsOptions): Promise<NodeModels> {
  configureNodeRuntime(options)
  const modelsDir = resolve(options.modelsDir)
  const queue = new SerialQueue()
  const disposers: (() => Promise<void>)[] = []
  const dispose = async () => {
    for (const free of disposers.splice(0)) await free()
  }
  try {
    let embedder: NodeEmbedderModel | null = null
    if (options.embedder) {
      const { model, dtype } = options.embedder
      const loaded = await loadEmbedder({
        model,
        dtype,
        device: 'cpu',
        queryPrefix: options.embedder.queryPrefix,
        documentPrefix: options.embedder.documentPrefix,
        readModelJson: async (m, path) => {
          const file = join(modelsDir, m, path)
          return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined
        },
      })
      disposers.push(() => loaded.dispose())
      const s = loaded.embedder.settings
      embedder = {
        model,
        dtype,
        port: embedderPort(loaded, model, queue),
        loaded,
        dims: s.dims,
        pooling: s.pooling,
        queryPrefix: loaded.conventions.queryPrefix,
        documentPrefix: loaded.conventions.documentPrefix,
      }
    }
    let reranker: NodeRerankerModel | null = null
    if (options.reranker) {
      const { model, dtype } = options.reranker
      const loaded = await loadCrossEncoder({ model, dtype, device: 'cpu' })
      disposers.push(() => loaded.dispose())
      const { encoder } = loaded
      reranker = {
        model,
        dtype,
        loaded,
        maxLength: encoder.settings.maxLength,
        score: (query, passages, checkpoint) =>
          queue.run(RERANK, (queueCheckpoint) =>
            encoder.score(query, passages, async () => {
              await queueCheckpoint()
              await checkpoint?.()
            }),
          ),
      }
    }
    return { embedder, reranker, queue, dispose }
  } catch (error) {
    await dispose().catch(() => {})
    throw error
  }
}
