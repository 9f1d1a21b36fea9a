/**
 * The RAG demo's retrieval written with the Vercel AI SDK: winnow's collection gathers candidates,
 * the SDK's `rerank()` orders them with winnow's on-device cross-encoder (winnow-rerank/ai-sdk),
 * and the best passages become the prompt. The page itself (main.ts) calls `collection.search()`,
 * which reranks in the same worker with the same model; this file is the path an app already built
 * on the AI SDK would take. It is type-checked with the demo (`npx tsc -p demo/rag`) and run in
 * Chromium by test/browser/adapters.spec.ts.
 *
 * @example
 * const { passages, prompt } = await retrieveWithAiSdk(winnow, collection, 'how do I feed the levain?', { k: 5 })
 * const { text } = await generateText({ model: yourLocalModel, prompt }) // any AI SDK language model
 */
import { rerank } from 'ai'
import type { Collection, SearchHit, SearchOptions, Winnow } from '../../src/index.ts'
import { winnowReranker } from '../../src/adapters/ai-sdk.ts'
import { assembleContext } from './context.ts'

/** Options of {@link retrieveWithAiSdk}. */
export interface AiSdkRetrieveOptions {
  /** Passages kept after reranking. Default 5. */
  k?: number
  /** First-stage candidates reranked. Default 50. */
  candidates?: number
  /** The first stage: `mode`, `filter`, `minVectorScore`. Default: the collection's. */
  firstStage?: Pick<SearchOptions, 'mode' | 'filter' | 'minVectorScore'>
  /** Prompt budget in tokens. Default 1536. */
  budgetTokens?: number
  signal?: AbortSignal
}

/** A passage the AI SDK's `rerank()` kept, with its first-stage hit and its reranker score. */
export interface AiSdkPassage {
  hit: SearchHit
  /** The SDK's ranking score: winnow's cross-encoder score, 0..1. */
  score: number
}

/**
 * Retrieves with the collection's first stage only (`rerank: false`), reranks the candidates with
 * the AI SDK's `rerank()` and `winnowReranker(winnow)` (object documents: the SDK hands back the
 * same objects, and winnow reads their `text`), and assembles the prompt from the best `k`.
 */
export async function retrieveWithAiSdk(
  winnow: Winnow,
  collection: Collection,
  question: string,
  options: AiSdkRetrieveOptions = {},
): Promise<{ passages: AiSdkPassage[]; prompt: string }> {
  const { k = 5, candidates = 50, firstStage = {}, budgetTokens = 1536, signal } = options
  const hits = await collection.search(question, { ...firstStage, k: candidates, rerank: false, snippet: false, ...(signal ? { signal } : {}) })
  if (hits.length === 0) return { passages: [], prompt: '' }
  const { ranking } = await rerank({
    model: winnowReranker(winnow),
    query: question,
    documents: hits.map((hit, index) => ({ text: hit.text, index })),
    topN: k,
    ...(signal ? { abortSignal: signal } : {}),
  })
  const passages = ranking.map((r) => ({ hit: hits[r.document.index]!, score: r.score }))
  const { prompt } = assembleContext(
    question,
    passages.map(({ hit }) => ({ text: hit.text, file: hit.id, position: `chars ${hit.start}–${hit.end}` })),
    { budgetTokens },
  )
  return { passages, prompt }
}
