import { Tensor } from '@huggingface/transformers'
import { planBatches } from '../core/batching.js'
import { WinnowError } from '../errors.js'

/** How token vectors become one text vector: the attention-masked mean, or the first ([CLS]) token. */
export type Pooling = 'mean' | 'cls'

/** The special tokens a tokenizer puts around one text (`[CLS] … [SEP]` for BERT). */
export interface TextTemplate {
  prefix: readonly number[]
  suffix: readonly number[]
}

/** Fixed settings of a loaded embedder. */
export interface EmbedderSettings {
  /** Max tokens per text including special tokens; longer texts are cut and reported. */
  maxLength: number
  /** Max padded tokens per batch (rows × longest row). */
  batchTokens: number
  maxBatchRows: number
  /** Applied to token-level outputs; a graph that pools itself (see `output`) is read as is. */
  pooling: Pooling
  /** Vectors are always unit length, so a dot product is the cosine. */
  normalize: true
  /** Length of each vector. */
  dims: number
  /** Whether the ONNX graph takes token_type_ids (BERT does, RoBERTa/XLM-R do not). */
  usesTokenTypes: boolean
  template: TextTemplate
  /** Fills padded positions; they are masked out, so it only has to be a valid id. */
  padTokenId: number
  /**
   * The graph output read: token vectors `[rows, tokens, dims]` (e.g. `last_hidden_state`) are
   * pooled here; a `[rows, dims]` output (e.g. `sentence_embedding`) was pooled by the graph.
   */
  output: string
}

/** The tokenizer call the embedder needs (a transformers.js tokenizer satisfies it). */
export interface TextTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): number[]
}

/** A model callable with int64 tensors, returning named outputs (a transformers.js model satisfies it). */
export interface HiddenStateModel {
  (inputs: Record<string, Tensor>): Promise<Record<string, Tensor>>
}

/** The result of {@link Embedder.embed}. */
export interface Embeddings {
  /** `texts.length × dims` floats; row i is the unit vector of text i. */
  vectors: Float32Array
  /** Whether text i was cut to `maxLength` tokens. */
  truncated: boolean[]
}

/** Per-call settings of {@link Embedder.embed}. */
export interface EmbedOptions {
  /**
   * Pooling for this call (default `settings.pooling`): a collection embeds with the pooling it
   * recorded. A graph that pools itself cannot pool otherwise: asking it to is INVALID_INPUT.
   */
  pooling?: Pooling
}

/** Texts tokenized between two checkpoints. */
const TOKENIZE_CHUNK = 256

/** Characters per kept token beyond which a text is pre-cut before tokenizing (as in the cross-encoder). */
const CHARS_PER_TOKEN_BOUND = 32

/** Distinct words whose token counts are remembered; chunking a corpus meets far fewer. */
const WORD_CACHE_LIMIT = 20_000

/** Longer "words" (URLs, base64, minified code) are counted but not cached: they rarely repeat. */
const WORD_CACHE_MAX_CHARS = 64

/** The output of graphs that pool themselves (sentence-transformers' pooling baked in). */
const POOLED_OUTPUT_NAME = 'sentence_embedding'

/** torch.nn.functional.normalize's epsilon, so a zero vector stays zero instead of NaN. */
const NORM_EPSILON = 1e-12

/**
 * Turns texts into unit vectors with a bi-encoder (feature-extraction model). Texts are tokenized
 * once, cut to `maxLength`, grouped into length-sorted batches capped by padded tokens, run, pooled
 * (padding excluded) and L2-normalised; vectors come back in input order.
 *
 * @example
 * const { vectors, truncated } = await embedder.embed(['first passage', 'second'], async () => signal.throwIfAborted())
 * const second = vectors.subarray(embedder.settings.dims, 2 * embedder.settings.dims)
 */
export class Embedder {
  private readonly wordTokens = new Map<string, number>()

  constructor(
    private readonly tokenizer: TextTokenizer,
    private readonly model: HiddenStateModel,
    readonly settings: EmbedderSettings,
  ) {}

  /**
   * Embeds every text. `checkpoint` runs before each batch (and every {@link TOKENIZE_CHUNK} texts
   * while tokenizing); throwing from it stops the call, which rejects with that error. `onBatch`
   * reports texts embedded so far after each batch.
   */
  async embed(
    texts: readonly string[],
    checkpoint: () => void | Promise<void> = () => {},
    onBatch?: (done: number, total: number) => void,
    options: EmbedOptions = {},
  ): Promise<Embeddings> {
    const s = this.settings
    const pooling = options.pooling ?? s.pooling
    if (pooling !== s.pooling && !this.poolsTokens) {
      throw new WinnowError('INVALID_INPUT', `this embedding model pools inside its graph (${s.output}) with ${s.pooling} pooling; it cannot pool with ${pooling}`, { pooling, graph: s.pooling })
    }
    const specials = s.template.prefix.length + s.template.suffix.length
    const room = s.maxLength - specials
    const ids: number[][] = []
    const truncated: boolean[] = []
    const lengths: number[] = []
    for (let i = 0; i < texts.length; i++) {
      if (i % TOKENIZE_CHUNK === 0) await checkpoint()
      const tokens = this.tokenizeText(texts[i]!, room)
      truncated.push(tokens.length > room)
      if (tokens.length > room) tokens.length = room
      ids.push(tokens)
      lengths.push(tokens.length + specials)
    }
    const vectors = new Float32Array(texts.length * s.dims)
    const scratch = new Float64Array(s.dims)
    let done = 0
    for (const batch of planBatches(lengths, { maxTokens: s.batchTokens, maxRows: s.maxBatchRows })) {
      await checkpoint()
      const width = lengths[batch[0]!]! // longest first
      // Only an empty text under a tokenizer without special tokens has no token: it keeps the zero vector.
      if (width > 0) await this.runBatch(batch, width, ids, lengths, vectors, scratch, pooling)
      done += batch.length
      onBatch?.(done, texts.length)
    }
    return { vectors, truncated }
  }

  /** Whether token vectors are pooled here (so any pooling can be asked for), not by the graph. */
  get poolsTokens(): boolean {
    return this.settings.output !== POOLED_OUTPUT_NAME
  }

  /**
   * Model tokens of a whole text, without special tokens (e.g. a prefix that every passage carries).
   *
   * @example
   * embedder.countTextTokens('passage: ') // 3 with bert-base-uncased: passage : (and nothing for the space)
   */
  countTextTokens(text: string): number {
    return text === '' ? 0 : this.tokenizer.encode(text, { add_special_tokens: false }).length
  }

  /**
   * Model tokens in one whitespace-free word, without special tokens; chunking sizes its windows
   * with it. Counts are cached (least recently used words are forgotten beyond a cap).
   *
   * @example
   * embedder.countWordTokens('unbelievably') // 3 with bert-base-uncased: un ##bel ##ievably
   */
  countWordTokens(word: string): number {
    const cached = this.wordTokens.get(word)
    if (cached !== undefined) {
      // Re-inserting moves the word to the young end of the Map's insertion order.
      this.wordTokens.delete(word)
      this.wordTokens.set(word, cached)
      return cached
    }
    const count = this.tokenizer.encode(word, { add_special_tokens: false }).length
    if (word.length <= WORD_CACHE_MAX_CHARS) {
      if (this.wordTokens.size >= WORD_CACHE_LIMIT) this.wordTokens.delete(this.wordTokens.keys().next().value!)
      this.wordTokens.set(word, count)
    }
    return count
  }

  private async runBatch(
    batch: readonly number[],
    width: number,
    ids: readonly number[][],
    lengths: readonly number[],
    vectors: Float32Array,
    scratch: Float64Array,
    pooling: Pooling,
  ): Promise<void> {
    const s = this.settings
    const size = batch.length * width
    const inputIds = new BigInt64Array(size).fill(BigInt(s.padTokenId))
    const mask = new BigInt64Array(size)
    batch.forEach((textIndex, row) => {
      let at = row * width
      for (const id of s.template.prefix) inputIds[at++] = BigInt(id)
      for (const id of ids[textIndex]!) inputIds[at++] = BigInt(id)
      for (const id of s.template.suffix) inputIds[at++] = BigInt(id)
      mask.fill(1n, row * width, row * width + lengths[textIndex]!)
    })
    const dims = [batch.length, width]
    const inputs: Record<string, Tensor> = {
      input_ids: new Tensor('int64', inputIds, dims),
      attention_mask: new Tensor('int64', mask, dims),
    }
    // One segment: every tokenizer's single-text template gives it type 0.
    if (s.usesTokenTypes) inputs.token_type_ids = new Tensor('int64', new BigInt64Array(size), dims)
    const outputs = await this.model(inputs)
    try {
      const out = outputs[s.output]
      if (!out) throw new WinnowError('INTERNAL', `the embedding model returned no ${s.output} output`)
      const data = readFloat32(out)
      const tokenLevel = out.dims.length === 3
      if (out.dims[out.dims.length - 1] !== s.dims || (!tokenLevel && out.dims.length !== 2)) {
        throw new WinnowError('INTERNAL', `unexpected ${s.output} shape [${out.dims.join(', ')}] for ${s.dims}-dimensional embeddings`)
      }
      batch.forEach((textIndex, row) => {
        if (tokenLevel) poolRow(data, row, width, lengths[textIndex]!, s.dims, pooling, scratch)
        else for (let d = 0; d < s.dims; d++) scratch[d] = data[row * s.dims + d]!
        writeNormalized(scratch, vectors, textIndex * s.dims)
      })
    } finally {
      // Frees onnxruntime's output buffers now rather than at garbage collection (large on WebGPU/WASM heaps).
      for (const tensor of Object.values(outputs)) tensor.dispose()
    }
  }

  /**
   * Tokenizes a text without special tokens, pre-cutting very long text: only `room` tokens can be
   * kept, so tokenizing megabytes would be wasted work. The result is longer than `room` exactly
   * when the text does not fit. Word-level tokenizers are local (a token depends only on its word),
   * so the tokens before the cut are exact; if the cut text yields too few tokens, the whole text is
   * tokenized after all.
   */
  private tokenizeText(text: string, room: number): number[] {
    const bound = room * CHARS_PER_TOKEN_BOUND
    if (text.length > bound) {
      const ids = this.tokenizer.encode(text.slice(0, bound), { add_special_tokens: false })
      if (ids.length > room) return ids // cut by the caller; the last ids may be fragments of a split word
    }
    return this.tokenizer.encode(text, { add_special_tokens: false })
  }
}

/**
 * Pools one row of `[rows, width, dims]` token vectors into `out`. Rows are right-padded, so the
 * attention mask of a row is exactly its first `length` positions: the mean runs over those only.
 */
function poolRow(data: ArrayLike<number>, row: number, width: number, length: number, dims: number, pooling: Pooling, out: Float64Array): void {
  out.fill(0)
  const first = row * width * dims
  const count = pooling === 'cls' ? Math.min(1, length) : length
  for (let t = 0; t < count; t++) {
    const at = first + t * dims
    for (let d = 0; d < dims; d++) out[d]! += data[at + d]!
  }
  if (count > 1) for (let d = 0; d < dims; d++) out[d]! /= count
}

/** Writes `v / max(‖v‖, ε)` into `target` at `offset` (as torch's F.normalize). */
function writeNormalized(v: Float64Array, target: Float32Array, offset: number): void {
  let sum = 0
  for (let d = 0; d < v.length; d++) sum += v[d]! * v[d]!
  const scale = 1 / Math.max(Math.sqrt(sum), NORM_EPSILON)
  for (let d = 0; d < v.length; d++) target[offset + d] = v[d]! * scale
}

function readFloat32(tensor: Tensor): ArrayLike<number> {
  if (tensor.type === 'float32') return tensor.data as Float32Array
  return tensor.to('float32').data as Float32Array
}
