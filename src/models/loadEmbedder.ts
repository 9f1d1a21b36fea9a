import { AutoModel, AutoTokenizer, Tensor, type PreTrainedModel } from '@huggingface/transformers'
import { WinnowError } from '../errors.js'
import type { Dtype, LoadProgress } from '../types.js'
import { resolvePrefixes, type EmbedderConventions, type PrefixSource } from './conventions.js'
import { Embedder, type HiddenStateModel, type Pooling, type TextTemplate, type TextTokenizer } from './embedder.js'
import type { FetchRecorder } from './fetchRecorder.js'
import { readSupportedConfig } from './families.js'
import { explainLoadFailure } from './loadFailure.js'
import { usableLength, type LengthConfig } from './modelLimits.js'
import { ProgressTracker } from './progress.js'
import { largestTokenId, tokenizerMismatch, type VocabularyTokenizer } from './vocabulary.js'
import { defaultBatchTokens } from '../core/batching.js'

/** What {@link loadEmbedder} needs. */
export interface EmbedderLoadOptions {
  model: string
  dtype: Dtype
  /** transformers.js device name: `webgpu` or `wasm` in browsers, `cpu` in Node. */
  device: 'webgpu' | 'wasm' | 'cpu'
  /** Max tokens per text, capped by the model's own limits. Default 512. */
  maxLength?: number
  /** Padded tokens per batch (rows × longest row). Default 1024 on CPUs, 4096 on WebGPU (see `defaultBatchTokens`). */
  batchTokens?: number
  /** Default 64. */
  maxBatchRows?: number
  /**
   * Default, in this order: the graph's own pooling when it outputs `sentence_embedding`; the
   * pooling of a well-known model (see {@link knownPooling}); what the model's sentence-transformers
   * `1_Pooling/config.json` says (read through `readModelJson`, only when nothing before told);
   * else `'mean'`. When given, nothing is read.
   */
  pooling?: Pooling
  /**
   * Text put before every search query / every passage. Default, in this order: the prefixes of a
   * well-known model (see `knownPrefixes`); the `prompts` of the model's
   * `config_sentence_transformers.json` (read only for a model winnow does not know); else none.
   */
  queryPrefix?: string
  documentPrefix?: string
  onProgress?: (event: LoadProgress) => void
  /** Sees every request of the load, to explain failures (browser only). */
  recorder?: FetchRecorder
  /** Lists the dtypes whose files exist, to explain a missing one. */
  probeDtypes?: (model: string) => Promise<Dtype[]>
  /**
   * Reads an optional JSON file of the model folder (`path` relative to it, e.g.
   * `1_Pooling/config.json`): resolves `undefined` when the file does not exist, rejects when it
   * cannot tell. Without it the pooling default is `'mean'`.
   */
  readModelJson?: (model: string, path: string) => Promise<unknown>
}

/** A loaded embedder and the handle to free it. */
export interface LoadedEmbedder {
  embedder: Embedder
  dispose(): Promise<void>
  /** The prefixes and pooling this embedder applies by default (a collection may have recorded others). */
  conventions: EmbedderConventions
  /** Which of them the caller chose (a collection built with other values refuses them). */
  explicit: Partial<EmbedderConventions>
  /** Where the prefixes came from. */
  prefixSource: PrefixSource
}

/** sentence-transformers' pooling module config, relative to the model folder. */
export const POOLING_CONFIG_PATH = '1_Pooling/config.json'

const DEFAULT_MAX_LENGTH = 512
const DEFAULT_MAX_BATCH_ROWS = 64

/** Token-level outputs, best first: pooled by winnow, honouring `pooling` and the padding mask. */
const TOKEN_OUTPUTS = ['last_hidden_state', 'token_embeddings']
/** The output of graphs exported with sentence-transformers' own pooling (and Dense/Normalize) baked in. */
const POOLED_OUTPUT = 'sentence_embedding'

/**
 * Loads tokenizer, config and ONNX weights of a bi-encoder (a feature-extraction model), derives
 * the special tokens around one text, the pooling and the vector length, and runs one probe text
 * so a graph that cannot run fails here rather than on the first `embed`. Failures become
 * MODEL_LOAD_FAILED or UNSUPPORTED_DTYPE exactly as for the reranker.
 *
 * `maxLength` defaults to min(512, the position table's usable length (`max_position_embeddings`,
 * less the padding offset of RoBERTa-like models: see `positionLimit`), the tokenizer's
 * `model_max_length`); a given value is capped the same way. sentence-transformers models often train with shorter
 * texts (all-MiniLM-L6-v2: 256 tokens), so pass `maxLength` for those to save time.
 *
 * @example
 * const { embedder, dispose } = await loadEmbedder({ model: 'Xenova/all-MiniLM-L6-v2', dtype: 'q8', device: 'wasm' })
 * const { vectors } = await embedder.embed(['what causes memory leaks?'])
 * await dispose()
 */
export async function loadEmbedder(options: EmbedderLoadOptions): Promise<LoadedEmbedder> {
  const progress = new ProgressTracker(options.model, options.onProgress ?? (() => {}))
  options.recorder?.clear()
  let modelLoad: Promise<PreTrainedModel> | undefined
  try {
    if (options.pooling !== undefined && options.pooling !== 'mean' && options.pooling !== 'cls') {
      throw new WinnowError('INVALID_INPUT', `pooling must be 'mean' or 'cls', got ${JSON.stringify(options.pooling)}`)
    }
    const tokenizing = AutoTokenizer.from_pretrained(options.model, { progress_callback: progress.listener })
    tokenizing.catch(() => {}) // awaited below, unless the model's family is refused first
    // config.json first: a decoder (LLM embedder) is UNSUPPORTED_MODEL before any weights are requested.
    const modelConfig = await readSupportedConfig(options.model, 'embedder', progress.listener)
    modelLoad = AutoModel.from_pretrained(options.model, { config: modelConfig, dtype: options.dtype, device: options.device, progress_callback: progress.listener })
    const [tokenizer, loaded] = await Promise.all([tokenizing, modelLoad])
    const config = loaded.config as unknown as LengthConfig & { vocab_size?: number }
    const mismatch = tokenizerMismatch(options.model, largestTokenId(tokenizer as unknown as VocabularyTokenizer), config.vocab_size)
    if (mismatch) throw mismatch
    const tok = tokenizer as unknown as TextTokenizer & { model_max_length?: number; pad_token_id?: number | null }
    const session = (loaded as unknown as { sessions: Record<string, { inputNames: string[]; outputNames: string[] }> }).sessions.model
    const output = chooseOutput(session?.outputNames ?? [], options.pooling !== undefined)
    const pooling = options.pooling ?? (await decidePooling(options, output === POOLED_OUTPUT))
    const prefixes = await resolvePrefixes(options)
    const template = deriveTextTemplate(tok.encode('a', { add_special_tokens: true }), tok.encode('a', { add_special_tokens: false }))
    const maxLength = usableLength(options.maxLength, DEFAULT_MAX_LENGTH, config, tok.model_max_length)
    if (!(maxLength > template.prefix.length + template.suffix.length)) {
      throw new WinnowError('INVALID_INPUT', `maxLength ${maxLength} leaves no room for text after the special tokens`, { maxLength })
    }
    const usesTokenTypes = Boolean(session?.inputNames.includes('token_type_ids'))
    const padTokenId = typeof tok.pad_token_id === 'number' && tok.pad_token_id >= 0 ? tok.pad_token_id : 0
    const probe = [...template.prefix, ...tok.encode('a', { add_special_tokens: false }), ...template.suffix]
    const dims = await probeDims(loaded as unknown as HiddenStateModel, output, probe, usesTokenTypes)
    const embedder = new Embedder(tok, loaded as unknown as HiddenStateModel, {
      maxLength,
      batchTokens: options.batchTokens ?? defaultBatchTokens(options.device),
      maxBatchRows: options.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS,
      pooling,
      normalize: true,
      dims,
      usesTokenTypes,
      template,
      padTokenId,
      output,
    })
    progress.ready()
    const explicit: Partial<EmbedderConventions> = {}
    if (options.queryPrefix !== undefined) explicit.queryPrefix = options.queryPrefix
    if (options.documentPrefix !== undefined) explicit.documentPrefix = options.documentPrefix
    if (options.pooling !== undefined) explicit.pooling = options.pooling
    return {
      embedder,
      dispose: () => loaded.dispose().then(() => undefined),
      conventions: { queryPrefix: prefixes.queryPrefix, documentPrefix: prefixes.documentPrefix, pooling },
      explicit,
      prefixSource: prefixes.source,
    }
  } catch (error) {
    // The weights may still be arriving when the tokenizer or the pooling config failed: free them
    // whenever they land rather than delay the error until then.
    void modelLoad?.then((m) => m.dispose()).catch(() => {})
    throw await explainLoadFailure(error, options)
  }
}

/**
 * The pooling a sentence-transformers `1_Pooling/config.json` asks for, or the list of enabled
 * modes when winnow cannot do them (max, weighted mean, last token, several concatenated).
 *
 * @example
 * poolingFromConfig({ word_embedding_dimension: 384, pooling_mode_cls_token: true }) // 'cls'
 * poolingFromConfig({ pooling_mode_max_tokens: true }) // { unsupported: ['pooling_mode_max_tokens'] }
 */
export function poolingFromConfig(config: unknown): Pooling | { unsupported: string[] } {
  const record = config !== null && typeof config === 'object' ? (config as Record<string, unknown>) : {}
  const enabled = Object.keys(record).filter((k) => k.startsWith('pooling_mode_') && record[k] === true)
  if (enabled.length === 1 && enabled[0] === 'pooling_mode_mean_tokens') return 'mean'
  if (enabled.length === 1 && enabled[0] === 'pooling_mode_cls_token') return 'cls'
  return { unsupported: enabled }
}

/**
 * Which graph output to read. A graph that pools itself (`sentence_embedding`, exported with
 * sentence-transformers' pooling and any Dense/Normalize layers) is authoritative unless the caller
 * chose a pooling; otherwise token vectors are pooled by winnow. Falls back to the first output.
 *
 * @example
 * chooseOutput(['token_embeddings', 'sentence_embedding'], false) // 'sentence_embedding'
 * chooseOutput(['token_embeddings', 'sentence_embedding'], true)  // 'token_embeddings'
 */
export function chooseOutput(outputNames: readonly string[], poolingChosen: boolean): string {
  if (!poolingChosen && outputNames.includes(POOLED_OUTPUT)) return POOLED_OUTPUT
  return TOKEN_OUTPUTS.find((name) => outputNames.includes(name)) ?? outputNames[0] ?? TOKEN_OUTPUTS[0]!
}

/**
 * Finds the special tokens around one text by locating the bare encoding of a probe inside its
 * full encoding.
 *
 * @example
 * deriveTextTemplate([101, 1037, 102], [1037]) // { prefix: [101], suffix: [102] }
 */
export function deriveTextTemplate(full: readonly number[], bare: readonly number[]): TextTemplate {
  for (let at = 0; bare.length > 0 && at + bare.length <= full.length; at++) {
    if (bare.every((id, i) => full[at + i] === id)) return { prefix: full.slice(0, at), suffix: full.slice(at + bare.length) }
  }
  throw new WinnowError('MODEL_LOAD_FAILED', 'cannot locate a text inside the tokenizer’s own encoding of it', { full, bare })
}

/**
 * Pooling of well-known embedders, by the last segment of the model id (case-insensitive), so
 * `Xenova/all-MiniLM-L6-v2`, `sentence-transformers/all-MiniLM-L6-v2` and a self-hosted
 * `all-MiniLM-L6-v2` folder all match. Their transformers.js-layout folders on the hub carry no
 * `1_Pooling/config.json` (model cards pass the pooling in code instead), so asking for it would
 * only put a 404 in the console on every load.
 */
const KNOWN_POOLING: readonly (readonly [RegExp, Pooling])[] = [
  // sentence-transformers' own families: all-*, paraphrase-*, multi-qa-*-cos-* pool the mean…
  [/^(all-(minilm|mpnet|distilroberta|roberta)-.*|paraphrase-.*|multi-qa-.*-cos-v\d+)$/, 'mean'],
  // …while the multi-qa-*-dot-* models read the CLS token.
  [/^multi-qa-.*-dot-v\d+$/, 'cls'],
  // BAAI bge (every size and language, bge-m3 included), mixedbread (but mxbai-embed-xsmall-v1,
  // which averages: its pooling file is read), Snowflake arctic-embed: CLS.
  [/^(bge-.*|mxbai-embed-(?!xsmall-).*|snowflake-arctic-embed-.*)$/, 'cls'],
  // thenlper gte (not Alibaba's gte-*-v1.5, which reads CLS), e5 v1/v2, nomic-embed-text, jina v2: mean.
  [/^(gte-(small|base|large)|(multilingual-)?e5-(small|base|large)(-v2)?|nomic-embed-text-v1(\.5)?|jina-embeddings-v2-.*)$/, 'mean'],
  // This project's generated test and benchmark models (make_models.py), shaped like all-MiniLM-L6-v2
  // and mean-pooled in their PyTorch references.
  [/^(tiny-random-embedder|minilm-l6-random-embedder)$/, 'mean'],
]

/**
 * The pooling of a well-known embedder, or `undefined` when winnow does not know the model.
 *
 * @example
 * knownPooling('Xenova/all-MiniLM-L6-v2') // 'mean'
 * knownPooling('Xenova/bge-small-en-v1.5') // 'cls'
 * knownPooling('my-org/custom-embedder')   // undefined: read its 1_Pooling/config.json
 */
export function knownPooling(model: string): Pooling | undefined {
  const name = (model.replace(/\/+$/, '').split('/').pop() ?? '').toLowerCase()
  return KNOWN_POOLING.find(([pattern]) => pattern.test(name))?.[1]
}

/**
 * The pooling when the caller chose none, asking for `1_Pooling/config.json` only when nothing else
 * tells: a graph that pools itself needs no pooling from winnow (its mode is then reported as the
 * known one, else `'mean'`), and a well-known model's is in {@link knownPooling}.
 */
async function decidePooling(options: EmbedderLoadOptions, graphPools: boolean): Promise<Pooling> {
  const known = knownPooling(options.model)
  if (known !== undefined) return known
  if (graphPools || !options.readModelJson) return 'mean'
  return resolvePooling(await options.readModelJson(options.model, POOLING_CONFIG_PATH), options.model)
}

/** `'mean'` without a config; the config's mode; an error for modes winnow cannot pool. */
function resolvePooling(config: unknown, model: string): Pooling {
  if (config === undefined) return 'mean'
  const found = poolingFromConfig(config)
  if (typeof found === 'string') return found
  throw new WinnowError(
    'MODEL_LOAD_FAILED',
    `${model}'s ${POOLING_CONFIG_PATH} asks for ${found.unsupported.join(' + ') || 'no pooling mode'}, which winnow cannot do; pass pooling: 'mean' or 'cls' to override.`,
    { model, pooling: found.unsupported },
  )
}

/** Runs one short text to learn the vector length (a pooled output may differ from hidden_size). */
async function probeDims(model: HiddenStateModel, output: string, ids: readonly number[], usesTokenTypes: boolean): Promise<number> {
  const dims = [1, ids.length]
  const inputs: Record<string, Tensor> = {
    input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), dims),
    attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), dims),
  }
  if (usesTokenTypes) inputs.token_type_ids = new Tensor('int64', new BigInt64Array(ids.length), dims)
  const outputs = await model(inputs)
  try {
    const out = outputs[output]
    const rank = out?.dims.length
    if (!out || (rank !== 2 && rank !== 3)) {
      throw new WinnowError('MODEL_LOAD_FAILED', `the model's ${output} output is not [rows, dims] or [rows, tokens, dims]; is it a feature-extraction model?`, {
        output,
        shape: out?.dims,
      })
    }
    return out.dims[rank - 1]!
  } finally {
    for (const tensor of Object.values(outputs)) tensor.dispose()
  }
}
