import { AutoModelForSequenceClassification, AutoTokenizer, type PreTrainedModel } from '@huggingface/transformers'
import { derivePairTemplate } from '../core/pairs.js'
import { scoreHeadFromConfig } from '../core/scores.js'
import type { Dtype, LoadProgress } from '../types.js'
import { CrossEncoder, type LogitsModel, type PairTokenizer } from './crossEncoder.js'
import type { FetchRecorder } from './fetchRecorder.js'
import { readSupportedConfig } from './families.js'
import { explainLoadFailure } from './loadFailure.js'
import { usableLength, type LengthConfig } from './modelLimits.js'
import { ProgressTracker } from './progress.js'
import { largestTokenId, tokenizerMismatch, type VocabularyTokenizer } from './vocabulary.js'
import { defaultBatchTokens } from '../core/batching.js'

/** What {@link loadCrossEncoder} needs. */
export interface CrossEncoderLoadOptions {
  model: string
  dtype: Dtype
  /** transformers.js device name: `webgpu` or `wasm` in browsers, `cpu` in Node. */
  device: 'webgpu' | 'wasm' | 'cpu'
  maxLength?: number
  maxQueryLength?: number
  batchTokens?: number
  maxBatchRows?: number
  onProgress?: (event: LoadProgress) => void
  /** Sees every request of the load, to explain failures (browser only). */
  recorder?: FetchRecorder
  /** Lists the dtypes whose files exist, to explain a missing one. */
  probeDtypes?: (model: string) => Promise<Dtype[]>
}

/** A loaded reranker model and the handle to free it. */
export interface LoadedCrossEncoder {
  encoder: CrossEncoder
  numLabels: number
  dispose(): Promise<void>
}

const DEFAULT_MAX_LENGTH = 512
const DEFAULT_MAX_BATCH_ROWS = 64

/**
 * Loads tokenizer, config and ONNX weights of a cross-encoder and derives its pair template and
 * score head. Failures become MODEL_LOAD_FAILED (with the URL and status that failed) or
 * UNSUPPORTED_DTYPE (naming the dtypes that exist).
 *
 * @example
 * const { encoder } = await loadCrossEncoder({ model: 'Xenova/ms-marco-MiniLM-L-6-v2', dtype: 'q8', device: 'wasm' })
 */
export async function loadCrossEncoder(options: CrossEncoderLoadOptions): Promise<LoadedCrossEncoder> {
  const progress = new ProgressTracker(options.model, options.onProgress ?? (() => {}))
  options.recorder?.clear()
  let model: PreTrainedModel | undefined
  try {
    const tokenizing = AutoTokenizer.from_pretrained(options.model, { progress_callback: progress.listener })
    tokenizing.catch(() => {}) // awaited below, unless the model's family is refused first
    // config.json first: a family winnow cannot run is UNSUPPORTED_MODEL before any weights are requested.
    const modelConfig = await readSupportedConfig(options.model, 'reranker', progress.listener)
    const loading = AutoModelForSequenceClassification.from_pretrained(options.model, {
      config: modelConfig,
      dtype: options.dtype,
      device: options.device,
      progress_callback: progress.listener,
    })
    // If the tokenizer fails first, the weights still arriving must be freed when they land.
    tokenizing.catch(() => loading.then((m) => m.dispose()).catch(() => {}))
    const [tokenizer, loaded] = await Promise.all([tokenizing, loading])
    model = loaded
    const config = model.config as unknown as LengthConfig & {
      id2label?: Record<string, string>
      num_labels?: number
      vocab_size?: number
    }
    const mismatch = tokenizerMismatch(options.model, largestTokenId(tokenizer as unknown as VocabularyTokenizer), config.vocab_size)
    if (mismatch) throw mismatch
    const head = scoreHeadFromConfig(config)
    const tok = tokenizer as unknown as PairTokenizer & {
      (text: string, options: { text_pair: string; return_token_type_ids: boolean }): {
        input_ids: { tolist(): unknown[][] }
        token_type_ids?: { tolist(): unknown[][] }
      }
      model_max_length?: number
    }
    const probe = tok('a', { text_pair: 'b', return_token_type_ids: true })
    const template = derivePairTemplate(
      probe.input_ids.tolist()[0]!.map(Number),
      probe.token_type_ids ? probe.token_type_ids.tolist()[0]!.map(Number) : null,
      tok.encode('a', { add_special_tokens: false }),
      tok.encode('b', { add_special_tokens: false }),
    )
    const maxLength = usableLength(options.maxLength, DEFAULT_MAX_LENGTH, config, tok.model_max_length)
    const session = (model as unknown as { sessions: Record<string, { inputNames: string[] }> }).sessions.model
    const encoder = new CrossEncoder(tok, model as unknown as LogitsModel, {
      template,
      head,
      maxLength,
      maxQueryLength: options.maxQueryLength, // undefined: longest-first like the reference
      batchTokens: options.batchTokens ?? defaultBatchTokens(options.device),
      maxBatchRows: options.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS,
      usesTokenTypes: Boolean(session?.inputNames.includes('token_type_ids')),
    })
    progress.ready()
    const owned = model
    return { encoder, numLabels: head.numLabels, dispose: () => owned.dispose().then(() => undefined) }
  } catch (error) {
    await model?.dispose().catch(() => {})
    throw await explainLoadFailure(error, options)
  }
}
