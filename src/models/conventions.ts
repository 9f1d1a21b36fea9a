import { WinnowError } from '../errors.js'
import type { EmbedderConventions } from '../types.js'
import type { Pooling } from './embedder.js'

/**
 * How a bi-encoder expects its inputs: the text put before every search query and before every
 * passage (e5's `"query: "` / `"passage: "`, bge's query instruction, nomic's task prefixes).
 * Retrieval models are trained with these; without them quality drops noticeably.
 */
export interface EmbeddingPrefixes {
  queryPrefix: string
  documentPrefix: string
}

/**
 * What a collection records about the embedder that made its vectors (prefixes and pooling), so
 * that a reopen or a snapshot embeds queries the way the documents were embedded.
 */
export type { EmbedderConventions }

/** Where the prefixes a loaded embedder uses came from. */
export type PrefixSource = 'options' | 'known model' | 'model files' | 'none'

/** sentence-transformers' model settings, relative to the model folder; its `prompts` hold the prefixes. */
export const SENTENCE_TRANSFORMERS_CONFIG_PATH = 'config_sentence_transformers.json'

/** bge (English), mxbai-embed-large-v1 and snowflake-arctic-embed v1/v1.5: the query instruction. */
const REPRESENT_QUERY = 'Represent this sentence for searching relevant passages: '

const NONE: EmbeddingPrefixes = { queryPrefix: '', documentPrefix: '' }

/**
 * Prefixes of well-known embedders, by the last segment of the model id (case-insensitive), as
 * their model cards and sentence-transformers configs give them; see docs/reference/models.md for
 * the sources. Models listed here need no request for `config_sentence_transformers.json` (their
 * transformers.js mirrors on the hub, Xenova/… and onnx-community/…, do not carry it). The "none"
 * rows matter as much: they say that winnow knows the model and that it uses no prefix.
 */
const KNOWN_PREFIXES: readonly (readonly [RegExp, EmbeddingPrefixes])[] = [
  // intfloat e5 v1/v2 and multilingual-e5 (not the -instruct variants, whose query is an instruction).
  [/^(multilingual-)?e5-(small|base|large)(-v2)?$/, { queryPrefix: 'query: ', documentPrefix: 'passage: ' }],
  // BAAI bge English v1 and v1.5: an instruction for short queries, nothing for passages.
  [/^bge-(small|base|large)-en(-v1\.5)?$/, { queryPrefix: REPRESENT_QUERY, documentPrefix: '' }],
  // bge-m3 needs no instruction.
  [/^bge-m3$/, NONE],
  // nomic-embed-text: task prefixes on both sides.
  [/^nomic-embed-text-v1(\.5)?$/, { queryPrefix: 'search_query: ', documentPrefix: 'search_document: ' }],
  // Snowflake arctic-embed v1, m-long and m-v1.5: the query instruction (config prompts.query)…
  [/^snowflake-arctic-embed-(xs|s|m|l|m-long|m-v1\.5)$/, { queryPrefix: REPRESENT_QUERY, documentPrefix: '' }],
  // …while the multilingual 2.0 models take "query: " (their cards' query_prefix and prompts.query).
  [/^snowflake-arctic-embed-(m|l)-v2\.0$/, { queryPrefix: 'query: ', documentPrefix: '' }],
  // mixedbread mxbai-embed-large-v1: the query instruction; mxbai-embed-xsmall-v1: none.
  [/^mxbai-embed-large-v1$/, { queryPrefix: REPRESENT_QUERY, documentPrefix: '' }],
  [/^mxbai-embed-xsmall-v1$/, NONE],
  // No prefixes: sentence-transformers' own models, thenlper and Alibaba gte, jina v2.
  [/^(all-(minilm|mpnet|distilroberta|roberta)-.*|paraphrase-.*|multi-qa-.*-(cos|dot)-v\d+)$/, NONE],
  [/^(gte-(small|base|large)|gte-(base|large)-en-v1\.5|jina-embeddings-v2-.*)$/, NONE],
  // This project's generated test and benchmark models.
  [/^(tiny-random-embedder|minilm-l6-random-embedder)$/, NONE],
]

/**
 * The prefixes of a well-known embedder, or `undefined` when winnow does not know the model.
 *
 * @example
 * knownPrefixes('Xenova/e5-small-v2')       // { queryPrefix: 'query: ', documentPrefix: 'passage: ' }
 * knownPrefixes('Xenova/all-MiniLM-L6-v2')  // { queryPrefix: '', documentPrefix: '' }
 * knownPrefixes('my-org/custom-embedder')   // undefined: read its config_sentence_transformers.json
 */
export function knownPrefixes(model: string): EmbeddingPrefixes | undefined {
  const name = (model.replace(/\/+$/, '').split('/').pop() ?? '').toLowerCase()
  const found = KNOWN_PREFIXES.find(([pattern]) => pattern.test(name))?.[1]
  return found ? { ...found } : undefined
}

/** Prompt names sentence-transformers' `encode_query` / `encode_document` look for, in order. */
const QUERY_PROMPTS = ['query', 'search_query']
const DOCUMENT_PROMPTS = ['document', 'passage', 'corpus', 'search_document']

/**
 * The prefixes a sentence-transformers `config_sentence_transformers.json` asks for: its
 * `prompts` under the names `encode_query` / `encode_document` use (`query`; `document`, `passage`,
 * `corpus`; nomic-style `search_query` / `search_document` too), else its `default_prompt_name`'s
 * prompt, else none.
 *
 * @example
 * prefixesFromConfig({ prompts: { query: 'Represent this sentence for searching relevant passages: ' }, default_prompt_name: null })
 * // { queryPrefix: 'Represent this sentence for searching relevant passages: ', documentPrefix: '' }
 */
export function prefixesFromConfig(config: unknown): EmbeddingPrefixes {
  const record = config !== null && typeof config === 'object' ? (config as Record<string, unknown>) : {}
  const prompts = record.prompts !== null && typeof record.prompts === 'object' ? (record.prompts as Record<string, unknown>) : {}
  const prompt = (name: unknown): string | undefined => (typeof name === 'string' && typeof prompts[name] === 'string' ? (prompts[name] as string) : undefined)
  const fallback = prompt(record.default_prompt_name) ?? ''
  const first = (names: readonly string[]) => names.map(prompt).find((p) => p !== undefined)
  return { queryPrefix: first(QUERY_PROMPTS) ?? fallback, documentPrefix: first(DOCUMENT_PROMPTS) ?? fallback }
}

/** What {@link resolvePrefixes} takes. */
export interface PrefixRequest {
  model: string
  /** Explicit options; each wins over anything the model says. */
  queryPrefix?: string
  documentPrefix?: string
  /** Reads an optional JSON file of the model folder (`undefined`: it does not exist). */
  readModelJson?: (model: string, path: string) => Promise<unknown>
}

/**
 * The prefixes an embedder uses, in this order: explicit options; the built-in table for a known
 * model id ({@link knownPrefixes}, no request); the model's `config_sentence_transformers.json`
 * prompts (asked for only when the model is unknown and an option is missing); else none.
 *
 * @example
 * await resolvePrefixes({ model: 'Xenova/e5-small-v2' })                       // { queryPrefix: 'query: ', documentPrefix: 'passage: ', source: 'known model' }
 * await resolvePrefixes({ model: 'Xenova/e5-small-v2', queryPrefix: '' })      // { queryPrefix: '', documentPrefix: 'passage: ', source: 'options' }
 */
export async function resolvePrefixes(request: PrefixRequest): Promise<EmbeddingPrefixes & { source: PrefixSource }> {
  const { queryPrefix, documentPrefix } = request
  for (const [key, value] of [['queryPrefix', queryPrefix], ['documentPrefix', documentPrefix]] as const) {
    if (value !== undefined && typeof value !== 'string') throw new WinnowError('INVALID_INPUT', `embedder.${key} must be a string, got ${typeof value}`)
  }
  if (queryPrefix !== undefined && documentPrefix !== undefined) return { queryPrefix, documentPrefix, source: 'options' }
  let fromModel = knownPrefixes(request.model)
  let source: PrefixSource = fromModel ? 'known model' : 'none'
  if (!fromModel && request.readModelJson) {
    const config = await request.readModelJson(request.model, SENTENCE_TRANSFORMERS_CONFIG_PATH)
    if (config !== undefined) {
      fromModel = prefixesFromConfig(config)
      source = 'model files'
    }
  }
  if (queryPrefix !== undefined || documentPrefix !== undefined) source = 'options'
  return { queryPrefix: queryPrefix ?? fromModel?.queryPrefix ?? '', documentPrefix: documentPrefix ?? fromModel?.documentPrefix ?? '', source }
}

/**
 * The conventions of a collection written before winnow recorded them: no prefixes (none were
 * applied then) and the pooling the embedder loads with, exactly as before.
 */
export function legacyConventions(pooling: Pooling): EmbedderConventions {
  return { queryPrefix: '', documentPrefix: '', pooling }
}

/**
 * The settings in which `explicit` (what the caller passed) disagrees with `stored`, by name.
 *
 * @example
 * conflictingConventions({ queryPrefix: 'query: ', documentPrefix: 'passage: ', pooling: 'mean' }, { queryPrefix: '' }) // ['queryPrefix']
 */
export function conflictingConventions(stored: EmbedderConventions, explicit: Partial<EmbedderConventions>): (keyof EmbedderConventions)[] {
  return (['queryPrefix', 'documentPrefix', 'pooling'] as const).filter((key) => explicit[key] !== undefined && explicit[key] !== stored[key])
}

/** Whether a stored value is a well-formed conventions record (older manifests have none). */
export function isConventions(value: unknown): value is EmbedderConventions {
  const v = value as Partial<EmbedderConventions> | null
  return v !== null && typeof v === 'object' && typeof v.queryPrefix === 'string' && typeof v.documentPrefix === 'string' && (v.pooling === 'mean' || v.pooling === 'cls')
}
