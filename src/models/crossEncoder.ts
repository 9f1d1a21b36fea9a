import { Tensor } from '@huggingface/transformers'
import { planBatches } from '../core/batching.js'
import { fitPair, writePair, type PairFit, type PairTemplate } from '../core/pairs.js'
import { rawLogit, type ScoreHead } from '../core/scores.js'

/** The tokenizer calls the cross-encoder needs (a transformers.js tokenizer satisfies it). */
export interface PairTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): number[]
}

/** A model callable with int64 tensors, returning `logits` (a transformers.js model satisfies it). */
export interface LogitsModel {
  (inputs: Record<string, Tensor>): Promise<{ logits: Tensor }>
}

/** Fixed settings of a loaded cross-encoder. */
export interface CrossEncoderSettings {
  template: PairTemplate
  head: ScoreHead
  maxLength: number
  /** Optional bound on query tokens before the longest-first split; undefined: none (the reference). */
  maxQueryLength?: number | undefined
  batchTokens: number
  maxBatchRows: number
  /** Whether the ONNX graph takes token_type_ids (BERT does, RoBERTa/XLM-R do not). */
  usesTokenTypes: boolean
}

/** Raw scores of one call, in input order. */
export interface PairScores {
  logits: Float32Array
  /** Whether the query was cut in any pair (longest-first may cut it for a long passage only). */
  queryTruncated: boolean
  documentTruncated: boolean[]
  /** Passage tokens each pair kept (after truncation), in input order: what the model read of it. */
  documentTokens: Uint32Array
  /** Batches run, for diagnostics and tests. */
  batches: number
}

/** Passages tokenized between two checkpoints. */
const TOKENIZE_CHUNK = 256

/** Characters per kept token beyond which a passage is pre-cut before tokenizing (see `tokenizePassage`). */
const CHARS_PER_TOKEN_BOUND = 32

/**
 * Scores (query, passage) pairs with a sequence-classification model. Each pair is encoded as a
 * pair (segment ids from the tokenizer's own template); a pair that does not fit is truncated
 * longest-first like sentence-transformers' CrossEncoder (see `fitPair`), after cutting the query
 * to `maxQueryLength` when one is set; pairs are batched by a padded-token budget, longest first.
 *
 * @example
 * const scores = await encoder.score('what causes leaks?', passages, async () => signal.throwIfAborted())
 */
export class CrossEncoder {
  constructor(
    private readonly tokenizer: PairTokenizer,
    private readonly model: LogitsModel,
    readonly settings: CrossEncoderSettings,
  ) {}

  /**
   * Scores every passage against the query. `checkpoint` runs before each batch (and every
   * {@link TOKENIZE_CHUNK} passages while tokenizing); throwing from it stops the call (cancellation).
   */
  async score(query: string, documents: readonly string[], checkpoint: () => void | Promise<void> = () => {}): Promise<PairScores> {
    const s = this.settings
    const room = s.maxLength - s.template.prefix.length - s.template.middle.length - s.template.suffix.length
    const queryIds = this.tokenizer.encode(query, { add_special_tokens: false })
    // A pre-cut passage must stay longer than the query, so that longest-first sees the same order
    // of lengths as with the whole passage (see `tokenizePassage`).
    const keep = Math.max(room, queryIds.length)
    const docIds: number[][] = []
    const fits: PairFit[] = []
    for (let i = 0; i < documents.length; i++) {
      if (i % TOKENIZE_CHUNK === 0) await checkpoint()
      const doc = documents[i]!
      const ids = this.tokenizePassage(doc, keep)
      docIds.push(ids)
      fits.push(fitPair(queryIds.length, ids.length, s.template, s))
    }
    const logits = new Float32Array(documents.length)
    const batches = planBatches(
      fits.map((f) => f.length),
      { maxTokens: s.batchTokens, maxRows: s.maxBatchRows },
    )
    for (const batch of batches) {
      await checkpoint()
      const width = fits[batch[0]!]!.length // longest first
      const size = batch.length * width
      const ids = new BigInt64Array(size)
      const types = new BigInt64Array(size)
      const mask = new BigInt64Array(size)
      batch.forEach((docIndex, row) => writePair(ids, types, mask, row, width, queryIds, docIds[docIndex]!, fits[docIndex]!, s.template))
      const dims = [batch.length, width]
      const inputs: Record<string, Tensor> = {
        input_ids: new Tensor('int64', ids, dims),
        attention_mask: new Tensor('int64', mask, dims),
      }
      if (s.usesTokenTypes) inputs.token_type_ids = new Tensor('int64', types, dims)
      const output = await this.model(inputs)
      const data = readFloat32(output.logits)
      batch.forEach((docIndex, row) => {
        logits[docIndex] = rawLogit(data, row, s.head)
      })
    }
    return {
      logits,
      queryTruncated: fits.some((f) => f.queryTruncated),
      documentTruncated: fits.map((f) => f.documentTruncated),
      documentTokens: Uint32Array.from(fits, (f) => f.documentLength),
      batches: batches.length,
    }
  }

  /**
   * Tokenizes a passage, pre-cutting very long text: at most `keep` tokens matter (`keep` is at
   * least the room of a pair, so a passage can never keep more; and at least the query's length,
   * so a cut passage, `keep + 1` tokens, is still longer than the query, as the whole one is, and
   * longest-first cuts both the same way), so tokenizing megabytes would be wasted work.
   * Word-level tokenizers are local (a token depends only on its word), so the tokens before the
   * cut are exact; if the cut text yields too few tokens, the whole text is tokenized after all.
   */
  private tokenizePassage(text: string, keep: number): number[] & { cut?: boolean } {
    const bound = keep * CHARS_PER_TOKEN_BOUND
    if (text.length > bound) {
      const ids: number[] & { cut?: boolean } = this.tokenizer.encode(text.slice(0, bound), { add_special_tokens: false })
      if (ids.length > keep + 1) {
        ids.length = keep + 1 // the last token may be a fragment of a word split by the cut: never kept
        ids.cut = true
        return ids
      }
    }
    return this.tokenizer.encode(text, { add_special_tokens: false })
  }
}

function readFloat32(tensor: Tensor): ArrayLike<number> {
  if (tensor.type === 'float32') return tensor.data as Float32Array
  return tensor.to('float32').data as Float32Array
}
