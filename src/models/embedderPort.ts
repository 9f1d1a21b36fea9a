import type { LoadedEmbedder } from './loadEmbedder.js'
import type { Checkpoint } from '../core/checkpoint.js'
import type { EmbedderConventions } from './conventions.js'
import type { Pooling } from './embedder.js'
import type { SerialQueue } from './queue.js'

/** The embedder as the collection sees it (the worker wires the model in). */
export interface EmbedderPort {
  readonly model: string
  readonly dims: number
  /** Most model tokens a passage may have (chunk windows are sized to fit). */
  readonly maxTokens: number
  /**
   * The prefixes and pooling the embedder applies by default. Absent (a test's stand-in): the
   * collection adds no prefixes and asks for no pooling.
   */
  readonly conventions?: EmbedderConventions
  /** The conventions the caller chose explicitly; a collection recorded with others refuses them. */
  readonly explicit?: Partial<EmbedderConventions>
  /** Whether `embed` can pool other than `conventions.pooling` (false: the graph pools itself). */
  readonly canRepool?: boolean
  embed(texts: readonly string[], checkpoint: Checkpoint, onBatch?: (done: number) => void, options?: { pooling?: Pooling }): Promise<Float32Array>
  countWordTokens(word: string): number
  /** Model tokens of a whole text (a prefix); without it a prefix is counted word by word. */
  countTextTokens?(text: string): number
}

/** Texts per queued embedding task: queries and reranks slip in between, so a big add never blocks them for long. */
const EMBED_SLICE = 32
/** Queue id for embedding slices: they are cancelled through their call's checkpoint, not by id. */
const UNCANCELLABLE = -1

/**
 * The embedder as a collection sees it: embeds in slices of {@link EMBED_SLICE} texts, each a task
 * of the worker's one model queue, checking the call's checkpoint between slices. Also used by the
 * Node eval, with a queue of its own.
 *
 * @example
 * const port = embedderPort(loaded, 'Xenova/all-MiniLM-L6-v2', new SerialQueue())
 * const vectors = await port.embed(['a passage'], async () => {})
 */
export function embedderPort(loaded: LoadedEmbedder, model: string, queue: SerialQueue): EmbedderPort {
  const { embedder } = loaded
  const specials = embedder.settings.template.prefix.length + embedder.settings.template.suffix.length
  return {
    model,
    dims: embedder.settings.dims,
    maxTokens: embedder.settings.maxLength - specials,
    conventions: loaded.conventions,
    explicit: loaded.explicit,
    canRepool: embedder.poolsTokens,
    countWordTokens: (word) => embedder.countWordTokens(word),
    countTextTokens: (text) => embedder.countTextTokens(text),
    embed: async (texts, checkpoint, onBatch, options) => {
      const dims = embedder.settings.dims
      const out = new Float32Array(texts.length * dims)
      for (let from = 0; from < texts.length; from += EMBED_SLICE) {
        await checkpoint()
        const slice = texts.slice(from, from + EMBED_SLICE)
        const { vectors } = await queue.run(UNCANCELLABLE, (queueCheckpoint) =>
          embedder.embed(slice, async () => {
            await queueCheckpoint()
            await checkpoint()
          }, undefined, options),
        )
        out.set(vectors, from * dims)
        onBatch?.(from + slice.length)
      }
      return out
    },
  }
}
