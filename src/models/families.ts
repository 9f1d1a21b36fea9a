import { AutoConfig, AutoModelForSequenceClassification, type PretrainedConfig } from '@huggingface/transformers'
import { WinnowError } from '../errors.js'

/** The fields of a model's config.json that decide whether winnow can run it. */
export interface FamilyConfig {
  model_type?: unknown
  architectures?: unknown
  is_decoder?: unknown
}

/** What a model is loaded as: a cross-encoder reranker or a bi-encoder embedder. */
export type ModelRole = 'reranker' | 'embedder'

/** Architectures of generative models: decoders (causal LMs) and encoder-decoders. */
const GENERATIVE_ARCHITECTURE = /(ForCausalLM|LMHeadModel|ForConditionalGeneration|ForSeq2SeqLM)$/

/**
 * Model types of decoder-only language models (LLM-based rerankers such as Qwen3-Reranker or
 * bge-reranker-v2-gemma, and LLM embedders such as Qwen3-Embedding or gte-Qwen2), also when their
 * config names no causal-LM architecture.
 */
const DECODER_TYPES = new Set([
  'gpt2', 'gpt_neo', 'gpt_neox', 'gptj', 'llama', 'mistral', 'mixtral', 'qwen2', 'qwen2_moe', 'qwen3', 'qwen3_moe', 'gemma', 'gemma2',
  'gemma3', 'gemma3_text', 'phi', 'phi3', 'olmo', 'olmo2', 'stablelm', 'falcon', 'minicpm', 'granite', 'smollm3', 'exaone', 'cohere',
])

/**
 * Why winnow cannot run a model in `role`, or null when it can. A decoder (causal language model)
 * is never run: LLM rerankers score with the next-token logits of a prompt ("yes"/"no"), LLM
 * embedders pool the last token of an instruction prompt, and winnow does neither. A reranker must
 * also be a model type transformers.js has a sequence-classification class for (bert, roberta,
 * xlm-roberta, deberta-v2, modernbert, mpnet, distilbert, electra, …); an embedder of a type
 * transformers.js does not know (e.g. gte's `new`) is run through its generic encoder class, which
 * works for any graph with encoder inputs.
 *
 * @example
 * unsupportedFamily({ model_type: 'qwen3', architectures: ['Qwen3ForCausalLM'] }, 'reranker', 'Qwen/Qwen3-Reranker-0.6B')
 * // WinnowError('UNSUPPORTED_MODEL', …, { model, role: 'reranker', modelType: 'qwen3', reason: 'decoder', … })
 * unsupportedFamily({ model_type: 'xlm-roberta' }, 'reranker', 'BAAI/bge-reranker-base') // null
 */
export function unsupportedFamily(config: FamilyConfig, role: ModelRole, model: string): WinnowError | null {
  const modelType = typeof config.model_type === 'string' ? config.model_type : ''
  const architectures = Array.isArray(config.architectures) ? config.architectures.filter((a): a is string => typeof a === 'string') : []
  const details = { model, role, modelType, architectures }
  const generative = architectures.find((a) => GENERATIVE_ARCHITECTURE.test(a))
  if (DECODER_TYPES.has(modelType) || generative || config.is_decoder === true) {
    const what = role === 'reranker' ? 'LLM rerankers score with the next-token logits of a prompt' : 'LLM embedders pool the last token of an instruction prompt'
    return new WinnowError(
      'UNSUPPORTED_MODEL',
      `${model} is a ${modelType || 'generative'} ${generative ? `(${generative}) ` : ''}language model, not an encoder: ${what}, which winnow does not do. ` +
        `Use an encoder ${role === 'reranker' ? 'cross-encoder (BERT, XLM-RoBERTa, DeBERTa-v2, ModernBERT, …)' : 'embedder (BERT, XLM-RoBERTa, MPNet, nomic_bert, …)'}.`,
      { ...details, reason: 'decoder' },
    )
  }
  if (role === 'reranker' && !sequenceClassificationTypes().has(modelType)) {
    return new WinnowError(
      'UNSUPPORTED_MODEL',
      `${model} has model_type ${JSON.stringify(modelType || null)} in its config.json, which transformers.js cannot run as a sequence classifier (a cross-encoder). ` +
        `Supported model types: ${[...sequenceClassificationTypes()].sort().join(', ')}.`,
      { ...details, reason: 'no-sequence-classification' },
    )
  }
  return null
}

/** The model types transformers.js maps to a sequence-classification class (its own table). */
export function sequenceClassificationTypes(): Set<string> {
  const mappings = (AutoModelForSequenceClassification as unknown as { MODEL_CLASS_MAPPINGS?: Map<string, unknown>[] }).MODEL_CLASS_MAPPINGS ?? []
  return new Set(mappings.flatMap((m) => [...m.keys()]))
}

/**
 * Reads the model's config.json (through transformers.js, so from its cache when it has one) and
 * throws UNSUPPORTED_MODEL when winnow cannot run the model in `role` (see {@link unsupportedFamily}),
 * before any weights are requested. Pass the config it returns to transformers.js's
 * `from_pretrained({ config })`, which then does not read the file again.
 *
 * @example
 * const config = await readSupportedConfig('Xenova/bge-reranker-base', 'reranker')
 * const model = await AutoModelForSequenceClassification.from_pretrained('Xenova/bge-reranker-base', { config, dtype: 'q8' })
 */
export async function readSupportedConfig(model: string, role: ModelRole, progress?: (event: never) => void): Promise<PretrainedConfig> {
  const config = await AutoConfig.from_pretrained(model, progress ? { progress_callback: progress as never } : {})
  const refusal = unsupportedFamily(config as unknown as FamilyConfig, role, model)
  if (refusal) throw refusal
  return config
}
