/**
 * winnow-rerank/ai-sdk: winnow's on-device cross-encoder as a reranking model for the Vercel AI
 * SDK's `rerank()` (the reranking-model specification 'v4' of @ai-sdk/provider 4, which `ai` 7
 * calls; `ai` 6 calls 'v3' models only).
 *
 * This module imports nothing from the AI SDK at run time (only its types) and winnow's main entry.
 *
 * @example
 * import { rerank } from 'ai'
 * import { createWinnow } from 'winnow-rerank'
 * import { winnowReranker } from 'winnow-rerank/ai-sdk'
 *
 * const winnow = await createWinnow({ reranker: { model: 'Xenova/ms-marco-MiniLM-L-6-v2' } })
 * const { ranking } = await rerank({ model: winnowReranker(winnow), query, documents, topN: 5 })
 */
import type { JSONObject, JSONValue, RerankingModelV4, RerankingModelV4CallOptions, RerankingModelV4Result, SharedV4Warning } from '@ai-sdk/provider'
import { WinnowError, type RerankOptions, type Winnow } from '../index.js'

/** What the reranking model needs of a winnow instance. */
export type WinnowRerankerSource = Pick<Winnow, 'rerank' | 'reranker'>

/** Options of {@link winnowReranker}; each may also be given per call as `providerOptions.winnow`. */
export interface WinnowRerankerOptions {
  /**
   * The text the cross-encoder reads for an object document (the SDK passes objects when
   * `documents` are objects). Default: its `text` property when that is a string, else
   * `JSON.stringify(document)`.
   */
  documentText?: (document: JSONObject, index: number) => string
  /** As `rerank()`'s `lengthCorrection`: `'auto'` or a slope. */
  lengthCorrection?: RerankOptions['lengthCorrection']
  /** As `rerank()`'s `rerankFusion`: blend with the documents' given order; `relevanceScore` is then the fused score. */
  rerankFusion?: RerankOptions['rerankFusion']
}

/** The keys accepted in `providerOptions.winnow`. */
const PROVIDER_OPTION_KEYS = ['lengthCorrection', 'rerankFusion'] as const

/** The default text of an object document: its `text` when a string, else its JSON. */
export function defaultDocumentText(document: JSONObject): string {
  return typeof document.text === 'string' ? document.text : JSON.stringify(document)
}

/**
 * A reranking model for the AI SDK's `rerank()` that scores with `winnow.rerank()` in winnow's
 * worker: nothing leaves the device. `topN` becomes `topK`, `abortSignal` the call's `signal`
 * (rejecting with winnow's `ABORTED`), and each entry of `ranking` is `{ index, relevanceScore }`
 * with `relevanceScore` = winnow's `score` (the cross-encoder's 0..1 probability; the fused score
 * with `rerankFusion`). `providerMetadata.winnow.results` carries each ranked document's `logit` and
 * `truncated` flags, in ranking order. winnow's errors (`INVALID_INPUT` for a bad `topN`, `ABORTED`,
 * `WORKER_CRASHED`, …) reach the caller as the `WinnowError` itself; the SDK does not retry them.
 *
 * @example
 * const { rerankedDocuments } = await rerank({ model: winnowReranker(winnow), query: 'q', documents: ['a', 'b'] })
 */
export function winnowReranker(winnow: WinnowRerankerSource, options: WinnowRerankerOptions = {}): RerankingModelV4 {
  const documentText = options.documentText ?? defaultDocumentText
  return {
    specificationVersion: 'v4',
    provider: 'winnow',
    get modelId() {
      return winnow.reranker?.model ?? 'none'
    },
    async doRerank(call: RerankingModelV4CallOptions): Promise<RerankingModelV4Result> {
      const perCall = callOptions(call.providerOptions?.winnow)
      const texts =
        call.documents.type === 'text'
          ? call.documents.values
          : call.documents.values.map((document, index) => {
              const text = documentText(document, index)
              if (typeof text !== 'string') throw new WinnowError('INVALID_INPUT', `documentText must return a string; for document ${index} it returned ${typeof text}`, { index })
              return text
            })
      const rerankOptions: RerankOptions = {}
      const lengthCorrection = perCall.lengthCorrection ?? options.lengthCorrection
      const rerankFusion = perCall.rerankFusion ?? options.rerankFusion
      if (call.topN !== undefined) rerankOptions.topK = call.topN
      if (call.abortSignal) rerankOptions.signal = call.abortSignal
      if (lengthCorrection !== undefined) rerankOptions.lengthCorrection = lengthCorrection
      if (rerankFusion !== undefined) rerankOptions.rerankFusion = rerankFusion
      const results = await winnow.rerank(call.query, texts, rerankOptions)
      const warnings: SharedV4Warning[] = []
      if (call.headers && Object.keys(call.headers).length > 0) {
        warnings.push({ type: 'unsupported', feature: 'headers', details: 'winnow reranks on the device: there is no HTTP request to send them with' })
      }
      return {
        ranking: results.map((r) => ({ index: r.index, relevanceScore: r.fusedScore ?? r.score })),
        providerMetadata: {
          winnow: {
            results: results.map((r) => {
              const entry: { [key: string]: JSONValue } = { index: r.index, score: r.score, logit: r.logit, truncated: { query: r.truncated.query, document: r.truncated.document } }
              if (r.lengthAdjustment !== undefined) entry.lengthAdjustment = r.lengthAdjustment
              if (r.fusedScore !== undefined) entry.fusedScore = r.fusedScore
              return entry
            }),
          },
        },
        warnings,
        response: { modelId: winnow.reranker?.model ?? 'none', timestamp: new Date() },
      }
    },
  }
}

/** `providerOptions.winnow`, checked: only the keys winnow knows; their values are checked by `rerank()`. */
function callOptions(value: JSONObject | undefined): Pick<WinnowRerankerOptions, 'lengthCorrection' | 'rerankFusion'> {
  if (value === undefined) return {}
  for (const key of Object.keys(value)) {
    if (!(PROVIDER_OPTION_KEYS as readonly string[]).includes(key)) {
      throw new WinnowError('INVALID_INPUT', `providerOptions.winnow.${key} is not an option; use ${PROVIDER_OPTION_KEYS.join(' or ')}`, { field: `providerOptions.winnow.${key}` })
    }
  }
  return value as Pick<WinnowRerankerOptions, 'lengthCorrection' | 'rerankFusion'>
}
