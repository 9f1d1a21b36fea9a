import { WinnowError } from '../errors.js'

/** The slice of a transformers.js tokenizer that {@link largestTokenId} reads. */
export interface VocabularyTokenizer {
  get_vocab(): Map<string, number> | Record<string, number>
  all_special_ids?: readonly number[]
}

/** The tokenizer files whose cached copies are dropped when they do not match the model. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'config.json'] as const

/**
 * The largest token id a tokenizer can produce: over its vocabulary and its special tokens.
 *
 * @example
 * largestTokenId({ get_vocab: () => new Map([['[PAD]', 0], ['hello', 301]]) }) // 301
 */
export function largestTokenId(tokenizer: VocabularyTokenizer): number {
  const vocab = tokenizer.get_vocab()
  let largest = -1
  for (const id of vocab instanceof Map ? vocab.values() : Object.values(vocab)) if (id > largest) largest = id
  for (const id of tokenizer.all_special_ids ?? []) if (id > largest) largest = id
  return largest
}

/**
 * MODEL_LOAD_FAILED when the tokenizer can produce token ids the model has no embedding for (its
 * `config.json` `vocab_size`): a tokenizer.json of another model. Such ids fail only when a text
 * contains one of the extra tokens, with an index error on WASM and silently wrong scores on
 * WebGPU, so the load refuses them. Returns null when they fit or the config gives no size.
 *
 * @example
 * tokenizerMismatch('m', 401, 302) // WinnowError('MODEL_LOAD_FAILED', ..., { tokenizerVocabSize: 402, configVocabSize: 302 })
 * tokenizerMismatch('m', 301, 302) // null
 */
export function tokenizerMismatch(model: string, largestId: number, vocabSize: unknown): WinnowError | null {
  if (typeof vocabSize !== 'number' || !(vocabSize > 0) || largestId < vocabSize) return null
  return new WinnowError(
    'MODEL_LOAD_FAILED',
    `the tokenizer of ${model} does not match the model: it produces token ids up to ${largestId}, but config.json has vocab_size ${vocabSize}. ` +
      'tokenizer.json (or config.json) is from another model; serve the files of one model together.',
    { model, tokenizerVocabSize: largestId + 1, configVocabSize: vocabSize, files: [...TOKENIZER_FILES] },
  )
}
