/**
 * `index --embedder`: checks that the model is there and is a bi-encoder before loading anything,
 * then loads transformers.js with a dynamic import (it is an optional peer dependency) and checks
 * the loaded model's output width. Every failure is a WinnowError whose message says what to do.
 */

import { existsSync, readFileSync, statSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { WinnowError } from '../errors.js'
import type { EmbedderPort } from '../models/embedderPort.js'
import type { SnapshotEmbedder } from '../snapshot/format.js'
import type { Dtype } from '../types.js'
import { isMissingPackage, type CliContext } from './cliContext.js'
import { CONFIG_FILE, modelFileList } from './modelFiles.js'

/** What {@link loadNodeEmbedder} takes. */
export interface NodeEmbedderOptions {
  model: string
  dtype: Dtype
  /** `--models` as typed (for messages). */
  modelsFlag: string
  /** `--models` resolved to an absolute path. */
  modelsDir: string
  allowRemote: boolean
  remoteHost?: string
  /** `--query-prefix` / `--document-prefix`: override the model's conventions. */
  queryPrefix?: string
  documentPrefix?: string
}

/** A loaded embedder for a snapshot build. */
export interface NodeEmbedder {
  embedder: { port: EmbedderPort; info: SnapshotEmbedder }
  dispose: () => Promise<void>
}

/** The message when transformers.js (or the onnxruntime-node it brings) is not installed. */
export const MISSING_TRANSFORMERS =
  '--embedder needs @huggingface/transformers (it brings onnxruntime-node), which is not installed: npm install --save-dev @huggingface/transformers'

/**
 * Checks, then loads, the embedder (see the module comment).
 *
 * @example
 * const { embedder, dispose } = await loadNodeEmbedder({ model: 'Xenova/all-MiniLM-L6-v2', dtype: 'q8', modelsFlag: 'models', modelsDir: '/app/models', allowRemote: false }, context)
 */
export async function loadNodeEmbedder(options: NodeEmbedderOptions, context: CliContext): Promise<NodeEmbedder> {
  const { model, dtype } = options
  const folder = join(options.modelsDir, model)
  if (!options.allowRemote) checkLocalModel(options)
  const configPath = join(folder, CONFIG_FILE)
  if (existsSync(configPath)) refuseCrossEncoder(model, readConfig(configPath, options))

  let runtime
  try {
    runtime = await context.importEmbedderRuntime()
  } catch (error) {
    if (isMissingPackage(error, ['@huggingface/transformers', 'onnxruntime'])) {
      throw new WinnowError('MODEL_LOAD_FAILED', MISSING_TRANSFORMERS, { reason: 'missing-dependency' }, { cause: error })
    }
    throw error
  }
  const loaded = await runtime.loadRuntimeEmbedder({ model, dtype, modelsDir: options.modelsDir, allowRemote: options.allowRemote, remoteHost: options.remoteHost, queryPrefix: options.queryPrefix, documentPrefix: options.documentPrefix })
  // A classifier head (a cross-encoder whose config did not say so) gives 1 or 2 values per text.
  if (loaded.embedder.info.dims <= 2) {
    await loaded.dispose()
    throw crossEncoderError(model, `its output has ${loaded.embedder.info.dims} value${loaded.embedder.info.dims === 1 ? '' : 's'} per text, not an embedding`)
  }
  return loaded
}

/**
 * Whether a model config describes a cross-encoder (a sequence classifier) rather than a
 * bi-encoder: its `architectures` name a `*ForSequenceClassification` class.
 *
 * @example
 * crossEncoderArchitecture({ architectures: ['BertForSequenceClassification'] }) // 'BertForSequenceClassification'
 * crossEncoderArchitecture({ architectures: ['BertModel'] })                     // null
 */
export function crossEncoderArchitecture(config: unknown): string | null {
  const architectures = (config as { architectures?: unknown } | null)?.architectures
  if (!Array.isArray(architectures)) return null
  return (architectures.find((a) => typeof a === 'string' && /ForSequenceClassification$/.test(a)) as string | undefined) ?? null
}

function refuseCrossEncoder(model: string, config: unknown): void {
  const architecture = crossEncoderArchitecture(config)
  if (architecture) throw crossEncoderError(model, `config.json: ${architecture}`)
}

function crossEncoderError(model: string, evidence: string): WinnowError {
  return new WinnowError(
    'INVALID_INPUT',
    `--embedder ${model} is a cross-encoder (${evidence}): it scores (query, passage) pairs and cannot embed passages. ` +
      `Pass a bi-encoder (a feature-extraction model such as Xenova/all-MiniLM-L6-v2) as --embedder, ` +
      `and use ${model} at query time as the reranker: createWinnow({ reranker: { model: '${model}' } })`,
    { model, reason: 'cross-encoder' },
  )
}

/** The model folder must hold every file the loader requests (else transformers.js fails obscurely). */
function checkLocalModel(options: NodeEmbedderOptions): void {
  const { model, dtype, modelsDir } = options
  const shown = display(options.modelsFlag)
  const pull = `winnow-rerank models pull ${model} --dtype ${dtype} --out ${options.modelsFlag}`
  if (!existsSync(modelsDir)) {
    const elsewhere = ['public/models', 'models'].find((dir) => dir !== options.modelsFlag && existsSync(join(dir, model, CONFIG_FILE)))
    throw new WinnowError(
      'MODEL_LOAD_FAILED',
      `the --models folder ${shown} does not exist, so --embedder ${model} cannot load` +
        (elsewhere ? `; ${model} is in ${display(elsewhere)}: pass --models ${elsewhere}` : `; download the model with: ${pull}`) +
        ` (or pass --models <dir>, or --allow-remote to fetch it from the hub)`,
      { reason: 'no-models-folder', models: modelsDir },
    )
  }
  if (!statSync(modelsDir).isDirectory()) {
    throw new WinnowError('INVALID_INPUT', `--models ${shown} is a file, not a folder of models`, { models: modelsDir })
  }
  const folder = join(modelsDir, model)
  const configPath = join(folder, CONFIG_FILE)
  const config = existsSync(configPath) ? readConfig(configPath, options) : {}
  const missing = modelFileList(config, [dtype]).required.filter((file) => !existsSync(join(folder, file)))
  if (missing.length > 0) {
    const where = display(join(options.modelsFlag, model))
    throw new WinnowError(
      'MODEL_LOAD_FAILED',
      missing.includes(CONFIG_FILE)
        ? `no model ${model} in ${shown} (${where}/${CONFIG_FILE} does not exist); download it with: ${pull} (or pass --allow-remote)`
        : `${where} lacks ${missing.join(', ')} (needed for --dtype ${dtype}); download them with: ${pull}`,
      { reason: 'missing-files', model, missing },
    )
  }
}

function readConfig(path: string, options: NodeEmbedderOptions): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new WinnowError('MODEL_LOAD_FAILED', `${display(join(options.modelsFlag, options.model, CONFIG_FILE))} is not valid JSON (${(error as Error).message}); pull the model again`, {
      reason: 'bad-config',
    })
  }
}

/** A relative path as the user would type it: `./models` rather than `models`. */
function display(path: string): string {
  return isAbsolute(path) || path.startsWith('.') ? path : `./${path}`
}
