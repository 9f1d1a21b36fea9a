/**
 * How many tokens a model can take, from its config.json and tokenizer_config.json, shared by the
 * reranker and the embedder loaders.
 */

/** The config.json fields that bound a model's input length. */
export interface LengthConfig {
  model_type?: string
  max_position_embeddings?: number
  pad_token_id?: number | null
}

/**
 * Model types whose learned position ids start at `padding_idx + 1` (fairseq's
 * `make_positions`, Hugging Face's `create_position_ids_from_input_ids`): the first
 * `padding_idx + 1` rows of the position table are never used by a token, so the usable length is
 * `max_position_embeddings − padding_idx − 1` (RoBERTa, XLM-R: 514 → 512). The value is the
 * padding index the model uses: `null` reads the config's `pad_token_id` (default 1, as in their
 * configs); MPNet hard-codes 1 whatever the config says.
 */
const POSITION_OFFSET: Readonly<Record<string, number | null>> = {
  roberta: null,
  'xlm-roberta': null,
  'xlm-roberta-xl': null,
  camembert: null,
  longformer: null,
  'data2vec-text': null,
  'roberta-prelayernorm': null,
  esm: null,
  mpnet: 1,
}

/**
 * The most tokens the model's position table allows, or `Infinity` when the config does not say
 * (rotary or relative positions without a `max_position_embeddings`).
 *
 * @example
 * positionLimit({ model_type: 'bert', max_position_embeddings: 512 })                       // 512
 * positionLimit({ model_type: 'xlm-roberta', max_position_embeddings: 514, pad_token_id: 1 }) // 512
 */
export function positionLimit(config: LengthConfig): number {
  const table = config.max_position_embeddings
  if (typeof table !== 'number' || !(table > 0)) return Infinity
  const type = config.model_type ?? ''
  if (!(type in POSITION_OFFSET)) return table
  const fixed = POSITION_OFFSET[type]
  const pad = fixed ?? (typeof config.pad_token_id === 'number' && config.pad_token_id >= 0 ? config.pad_token_id : 1)
  return Math.max(0, table - pad - 1)
}

/**
 * The max tokens per input: the requested length (or `fallback`), capped by the position table
 * ({@link positionLimit}) and by the tokenizer's `model_max_length` when it sets a positive one.
 *
 * @example
 * usableLength(undefined, 512, { model_type: 'roberta', max_position_embeddings: 514, pad_token_id: 1 }, undefined) // 512
 * usableLength(1000, 512, { model_type: 'bert', max_position_embeddings: 128 }, 128) // 128
 */
export function usableLength(requested: number | undefined, fallback: number, config: LengthConfig, modelMaxLength: number | undefined): number {
  return Math.min(
    requested ?? fallback,
    positionLimit(config),
    typeof modelMaxLength === 'number' && modelMaxLength > 0 ? modelMaxLength : Infinity,
  )
}
