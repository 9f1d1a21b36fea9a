/**
 * winnow: retrieve and rerank entirely on the user's device.
 *
 * The main-thread entry. It re-exports the public API only and must never import
 * @huggingface/transformers or onnxruntime-web: those live in the worker (a test checks the build).
 *
 * @example
 * import { createWinnow, WinnowError } from 'winnow-rerank'
 * const winnow = await createWinnow({ modelBaseUrl: '/models/' })
 * const ranked = await winnow.rerank('what causes memory leaks?', passages, { topK: 5 })
 */
export { createWinnow, DEFAULT_RERANKER, type Winnow } from './client/createWinnow.js'
export type { Collection } from './client/collectionHandle.js'
export { httpRetriever, type HttpRetrieverOptions } from './client/httpRetriever.js'
export { highlight, type HighlightOptions } from './text/highlight.js'
export { highlightNodes, type HighlightNodesOptions } from './text/highlightDom.js'
export { WinnowError, ERROR_CODES, type WinnowErrorCode, type WinnowErrorDetails } from './errors.js'
export type {
  SnapshotOutcome,
  SnapshotProgress,
  AddOptions,
  AddProgress,
  AddResult,
  AnalyzerOptions,
  ChunkingOptions,
  CollectionInfo,
  CollectionOptions,
  DocumentInput,
  EmbedderInfo,
  EmbedderOptions,
  Filter,
  Fusion,
  MetadataValue,
  SearchHit,
  SearchMode,
  SearchOptions,
  SearchResults,
  SearchRoute,
  RemoteCandidate,
  RemoteSearchOptions,
  Retriever,
  RetrieverFunction,
  RetrieverRequest,
  Snippet,
  SnippetOptions,
  RerankModel,
  RerankOption,
  RerankFusion,
  RerankStage,
  StorageInfo,
  StoredDocument,
  DeviceInfo,
  DevicePreference,
  Dtype,
  DtypeChoice,
  LoadProgress,
  RerankerInfo,
  RerankerOptions,
  RerankInput,
  RerankOptions,
  RerankResult,
  WinnowOptions,
  TrustedScriptURLLike,
  VectorIndexInfo,
  VectorIndexOptions,
} from './types.js'
