// The frameworks' own entry points, bundled by Vite for the page, with winnow's adapters and API,
// so test/browser/adapters.spec.ts runs each framework's call path in Chromium.
import { rerank } from 'ai'
import { ContextualCompressionRetriever } from '@langchain/classic/retrievers/contextual_compression'
import { Document } from '@langchain/core/documents'
import { BaseRetriever as LangChainBaseRetriever } from '@langchain/core/retrievers'
import { MockLLM } from '@llamaindex/core/llms/mock'
import { RetrieverQueryEngine } from '@llamaindex/core/query-engine'
import { getResponseSynthesizer } from '@llamaindex/core/response-synthesizers'
import { BaseRetriever as LlamaBaseRetriever } from '@llamaindex/core/retriever'
import { MetadataMode, TextNode, type NodeWithScore } from '@llamaindex/core/schema'
import type { QueryBundle } from '@llamaindex/core/query-engine'
import * as winnowApi from '../../../src/index.ts'
import { winnowReranker } from '../../../src/adapters/ai-sdk.ts'
import * as langchain from '../../../src/adapters/langchain.ts'
import * as llamaindex from '../../../src/adapters/llamaindex.ts'
import { retrieveWithAiSdk } from '../../../demo/rag/aiSdk.ts'

/** A LangChain retriever returning fixed Documents: the first stage in front of the compressor. */
class FixedLangChainRetriever extends LangChainBaseRetriever {
  override lc_namespace = ['winnow-test']
  constructor(private readonly documents: Document[]) {
    super()
  }
  override async _getRelevantDocuments(): Promise<Document[]> {
    return this.documents
  }
}

/** A LlamaIndex retriever returning fixed nodes with first-stage scores. */
class FixedLlamaRetriever extends LlamaBaseRetriever {
  constructor(private readonly nodes: NodeWithScore[]) {
    super()
  }
  async _retrieve(_params: QueryBundle): Promise<NodeWithScore[]> {
    return this.nodes
  }
}

Object.assign(window, {
  adaptersApi: {
    winnowApi,
    ai: { rerank, winnowReranker, retrieveWithAiSdk },
    langchain: { ...langchain, ContextualCompressionRetriever, Document, FixedLangChainRetriever },
    llamaindex: { ...llamaindex, RetrieverQueryEngine, getResponseSynthesizer, MockLLM, TextNode, MetadataMode, FixedLlamaRetriever },
  },
  adaptersReady: true,
})
