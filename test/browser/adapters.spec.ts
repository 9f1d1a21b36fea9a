/**
 * The framework adapters (winnow-rerank/ai-sdk, /langchain, /llamaindex) in Chromium, each driven
 * through its framework's own call path, bundled by Vite into test/browser/pages/adapters.html:
 * the AI SDK's `rerank()`, LangChain's `ContextualCompressionRetriever.invoke()` and
 * `BaseRetriever.invoke()`, LlamaIndex's `RetrieverQueryEngine` (`retrieve()` and `query()`). The
 * tiny cross-encoder has random weights, so every order and score is checked against
 * `winnow.rerank()` (or `collection.search()`) on the same texts, never for meaning.
 */
import { expect, test, type Page } from '@playwright/test'
import { TINY } from './helpers.js'

const PAGE = '/test/browser/pages/adapters.html'

const PASSAGES = [
  'A memory leak happens when a program keeps references it no longer needs.',
  'The garbage collector frees memory that is no longer reachable from the roots.',
  'An unbounded cache behaves like a memory leak: entries are kept forever.',
  'Intervals that are never cleared keep their closures alive.',
  'A dedicated worker runs scripts off the main thread; terminate it to release its memory.',
  'Detached DOM nodes referenced from JavaScript leak the memory of the whole subtree.',
  'paris is the capital city of france',
  'the quick brown fox jumps over the lazy dog',
]
const QUERY = 'why does memory leak'

async function openAdapters(page: Page): Promise<void> {
  await page.goto(PAGE)
  await page.waitForFunction(() => (window as unknown as { adaptersReady?: boolean }).adaptersReady === true)
}

/** winnow.rerank()'s order must not be the input's (its first items), or an adapter returning its input unchanged would pass. */
function expectNotInputOrder(indices: number[]): void {
  expect(indices).not.toEqual(indices.map((_, i) => i))
}

test('AI SDK: rerank() with winnowReranker ranks strings and objects as winnow.rerank() does, maps topN, abort, options and errors', async ({ page }) => {
  await openAdapters(page)
  const out = await page.evaluate(
    async ({ passages, query, model }) => {
      const { winnowApi, ai } = (window as any).adaptersApi
      const winnow = await winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' }, device: 'wasm' })
      const reranker = ai.winnowReranker(winnow)
      const direct = await winnow.rerank(query, passages)
      const top3 = await winnow.rerank(query, passages, { topK: 3 })
      const sdk = await ai.rerank({ model: reranker, query, documents: passages, topN: 3 })
      const sdkAll = await ai.rerank({ model: reranker, query, documents: passages })
      // Objects: `text` when it is a string, else the object's JSON; or the caller's documentText.
      const objects = passages.map((text: string, i: number) => (i % 2 === 0 ? { id: `d${i}`, text } : { id: `d${i}`, body: text }))
      const objectTexts = objects.map((o: any) => (typeof o.text === 'string' ? o.text : JSON.stringify(o)))
      const sdkObjects = await ai.rerank({ model: reranker, query, documents: objects })
      const directObjects = await winnow.rerank(query, objectTexts)
      const custom = ai.winnowReranker(winnow, { documentText: (o: any) => o.text ?? o.body })
      const sdkCustom = await ai.rerank({ model: custom, query, documents: objects, topN: 4 })
      // rerankFusion through providerOptions: relevanceScore is the fused score.
      const fusion = { method: 'rrf', k: 10, weight: 0.7 }
      const sdkFused = await ai.rerank({ model: reranker, query, documents: passages, providerOptions: { winnow: { rerankFusion: fusion } } })
      const directFused = await winnow.rerank(query, passages, { rerankFusion: fusion })
      async function failure(call: () => Promise<unknown>) {
        try {
          await call()
          return { code: 'resolved' }
        } catch (e: any) {
          return { code: e instanceof winnowApi.WinnowError ? e.code : `not a WinnowError: ${e}`, details: e.details ?? null }
        }
      }
      const controller = new AbortController()
      controller.abort()
      const aborted = await failure(() => ai.rerank({ model: reranker, query, documents: passages, abortSignal: controller.signal }))
      const badTopN = await failure(() => ai.rerank({ model: reranker, query, documents: passages, topN: -1, maxRetries: 0 }))
      const badOption = await failure(() => ai.rerank({ model: reranker, query, documents: passages, providerOptions: { winnow: { topK: 2 } } }))
      const empty = await ai.rerank({ model: reranker, query, documents: [] })
      const modelId = reranker.modelId
      await winnow.dispose()
      return { direct, top3, sdk: { ranking: sdk.ranking, reranked: sdk.rerankedDocuments, meta: sdk.providerMetadata, modelId: sdk.response.modelId }, sdkAll: sdkAll.ranking, sdkObjects: sdkObjects.ranking, directObjects, sdkCustom: sdkCustom.ranking, sdkFused: sdkFused.ranking, directFused, aborted, badTopN, badOption, empty: empty.ranking, modelId, objects }
    },
    { passages: PASSAGES, query: QUERY, model: TINY },
  )
  expectNotInputOrder(out.direct.map((r: any) => r.index))
  // topN 3: the best three by winnow's own scores, with those scores.
  expect(out.sdk.ranking.map((r: any) => [r.originalIndex, r.score])).toEqual(out.top3.map((r: any) => [r.index, r.score]))
  expect(out.sdk.reranked).toEqual(out.top3.map((r: any) => PASSAGES[r.index]))
  expect(out.sdk.ranking).toHaveLength(3)
  expect(out.sdk.meta.winnow.results.map((r: any) => r.logit)).toEqual(out.top3.map((r: any) => r.logit))
  expect(out.sdk.modelId).toBe(TINY)
  expect(out.modelId).toBe(TINY)
  expect(out.sdkAll.map((r: any) => [r.originalIndex, r.score])).toEqual(out.direct.map((r: any) => [r.index, r.score]))
  // Scores descend, as the SDK's ranking promises.
  const scores = out.sdkAll.map((r: any) => r.score)
  expect(scores).toEqual([...scores].sort((a, b) => b - a))
  // Objects: the documents come back as given, ordered by the texts winnow read.
  expect(out.sdkObjects.map((r: any) => [r.originalIndex, r.score])).toEqual(out.directObjects.map((r: any) => [r.index, r.score]))
  expect(out.sdkObjects.map((r: any) => r.document)).toEqual(out.directObjects.map((r: any) => out.objects[r.index]))
  expect(out.sdkCustom.map((r: any) => [r.originalIndex, r.score])).toEqual(out.direct.slice(0, 4).map((r: any) => [r.index, r.score]))
  expect(out.sdkFused.map((r: any) => [r.originalIndex, r.score])).toEqual(out.directFused.map((r: any) => [r.index, r.fusedScore]))
  expect(out.aborted.code).toBe('ABORTED')
  expect(out.badTopN.code).toBe('INVALID_INPUT')
  expect(out.badOption).toMatchObject({ code: 'INVALID_INPUT', details: { field: 'providerOptions.winnow.topK' } })
  expect(out.empty).toEqual([])
})

test("AI SDK: the RAG demo's retrieveWithAiSdk reranks the collection's first stage as winnow.rerank() does and builds the prompt from it", async ({ page }) => {
  await openAdapters(page)
  const out = await page.evaluate(
    async ({ passages, query, model }) => {
      const { winnowApi, ai } = (window as any).adaptersApi
      const winnow = await winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' }, device: 'wasm' })
      await winnow.deleteCollection('adapters-ai-sdk')
      const collection = await winnow.collection('adapters-ai-sdk', { chunking: false })
      await collection.add(passages.map((text: string, i: number) => ({ id: `file-${i}.md`, text })))
      const { passages: kept, prompt } = await ai.retrieveWithAiSdk(winnow, collection, query, { k: 3 })
      const firstStage = await collection.search(query, { k: 50, rerank: false })
      const direct = await winnow.rerank(query, firstStage.map((h: any) => h.text), { topK: 3 })
      const nothing = await ai.retrieveWithAiSdk(winnow, collection, 'zzzz qqqq', { k: 3 })
      await winnow.deleteCollection('adapters-ai-sdk')
      await winnow.dispose()
      return { kept: kept.map((p: any) => [p.hit.chunkId, p.score]), prompt, expected: direct.map((r: any) => [firstStage[r.index].chunkId, r.score]), texts: direct.map((r: any) => firstStage[r.index].text), order: direct.map((r: any) => r.index), nothing }
    },
    { passages: PASSAGES, query: QUERY, model: TINY },
  )
  expect(out.kept).toHaveLength(3)
  expectNotInputOrder(out.order)
  expect(out.kept).toEqual(out.expected)
  // The prompt cites the kept passages best first.
  const at = out.texts.map((t: string) => out.prompt.indexOf(t))
  expect(at.every((i: number) => i > 0)).toBe(true)
  expect(at).toEqual([...at].sort((a, b) => a - b))
  expect(out.nothing).toEqual({ passages: [], prompt: '' })
})

test('LangChain: ContextualCompressionRetriever with WinnowDocumentCompressor, and WinnowRetriever over a collection, order and score as winnow does', async ({ page }) => {
  await openAdapters(page)
  const out = await page.evaluate(
    async ({ passages, query, model }) => {
      const { winnowApi, langchain: lc } = (window as any).adaptersApi
      const winnow = await winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' }, device: 'wasm' })
      const docs = passages.map((text: string, i: number) => new lc.Document({ pageContent: text, metadata: { source: `s${i}` }, id: `doc-${i}` }))
      // 1. A compressor behind LangChain's own contextual compression retriever.
      const compression = new lc.ContextualCompressionRetriever({
        baseRetriever: new lc.FixedLangChainRetriever(docs),
        baseCompressor: new lc.WinnowDocumentCompressor({ winnow, topK: 3 }),
      })
      const compressed = await compression.invoke(query)
      const top3 = await winnow.rerank(query, passages, { topK: 3 })
      // 2. A retriever over a collection, alone and as the first stage in front of the compressor.
      await winnow.deleteCollection('adapters-langchain')
      const collection = await winnow.collection('adapters-langchain', { chunking: false })
      await collection.add(passages.map((text: string, i: number) => ({ id: `p${i}`, title: `Passage ${i}`, text, metadata: { lang: 'en', n: i } })))
      const searched = await collection.search(query, { k: 4, candidates: 8 })
      const retrieved = await new lc.WinnowRetriever({ collection, searchOptions: { k: 4, candidates: 8 } }).invoke(query)
      const firstStage = await collection.search(query, { k: 8, rerank: false })
      const pipeline = await new lc.ContextualCompressionRetriever({
        baseRetriever: new lc.WinnowRetriever({ collection, searchOptions: { k: 8, rerank: false } }),
        baseCompressor: new lc.WinnowDocumentCompressor({ winnow, topK: 3 }),
      }).invoke(query)
      const pipelineDirect = await winnow.rerank(query, firstStage.map((h: any) => h.text), { topK: 3 })
      const plain = (d: any) => ({ pageContent: d.pageContent, metadata: d.metadata, id: d.id })
      async function code(call: () => Promise<unknown>) {
        try {
          await call()
          return 'resolved'
        } catch (e: any) {
          return e instanceof winnowApi.WinnowError ? e.code : `not a WinnowError: ${e}`
        }
      }
      const controller = new AbortController()
      controller.abort()
      const abortedInvoke = await code(() => new lc.WinnowRetriever({ collection }).invoke(query, { signal: controller.signal }))
      const abortedCompressor = await code(() =>
        new lc.ContextualCompressionRetriever({ baseRetriever: new lc.FixedLangChainRetriever(docs), baseCompressor: new lc.WinnowDocumentCompressor({ winnow, signal: controller.signal }) }).invoke(query),
      )
      const badTopK = await code(() => new lc.WinnowDocumentCompressor({ winnow, topK: 1.5 }).compressDocuments(docs, query))
      await winnow.deleteCollection('adapters-langchain')
      await winnow.dispose()
      return {
        compressed: compressed.map(plain),
        originals: docs.map(plain),
        top3,
        searched: [...searched],
        retrieved: retrieved.map(plain),
        firstStage: [...firstStage],
        pipeline: pipeline.map(plain),
        pipelineDirect,
        abortedInvoke,
        abortedCompressor,
        badTopK,
      }
    },
    { passages: PASSAGES, query: QUERY, model: TINY },
  )
  // The compressor: best three by winnow's scores, same ids and content, metadata kept plus the score.
  expectNotInputOrder(out.top3.map((r: any) => r.index))
  expect(out.compressed).toEqual(
    out.top3.map((r: any) => ({
      pageContent: PASSAGES[r.index],
      id: `doc-${r.index}`,
      metadata: { source: `s${r.index}`, relevanceScore: r.score, rerankLogit: r.logit },
    })),
  )
  // The retriever: collection.search()'s hits, in its order, as Documents.
  expect(out.searched.length).toBe(4)
  expect(out.retrieved.map((d: any) => d.id)).toEqual(out.searched.map((h: any) => h.chunkId))
  expect(out.retrieved.map((d: any) => d.pageContent)).toEqual(out.searched.map((h: any) => h.text))
  out.retrieved.forEach((d: any, i: number) => {
    const h = out.searched[i]
    expect(d.metadata).toEqual({ lang: 'en', n: Number(h.id.slice(1)), id: h.id, chunkId: h.chunkId, chunkIndex: 0, score: h.score, rerankScore: h.rerankScore, firstStageScore: h.firstStageScore, rankBefore: h.rankBefore, section: h.section, path: h.path, title: h.title, start: h.start, end: h.end })
    expect(typeof d.metadata.rerankScore).toBe('number')
  })
  // Retriever (first stage only) + compressor: winnow.rerank() over the first stage's passages.
  // (keyword search: only the passages that share a term with the query)
  expect(out.firstStage.length).toBeGreaterThan(3)
  expect(out.pipeline.map((d: any) => [d.id, d.metadata.relevanceScore])).toEqual(out.pipelineDirect.map((r: any) => [out.firstStage[r.index].chunkId, r.score]))
  expect(out.pipeline.every((d: any) => d.metadata.rerankScore === undefined)).toBe(true)
  expect(out.abortedInvoke).toBe('ABORTED')
  expect(out.abortedCompressor).toBe('ABORTED')
  expect(out.badTopK).toBe('INVALID_INPUT')
})

test('LlamaIndex: RetrieverQueryEngine with WinnowNodePostprocessor and WinnowRetriever, order and score as winnow does', async ({ page }) => {
  await openAdapters(page)
  const out = await page.evaluate(
    async ({ passages, query, model }) => {
      const { winnowApi, llamaindex: li } = (window as any).adaptersApi
      const winnow = await winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' }, device: 'wasm' })
      const nodes = passages.map((text: string, i: number) => ({ node: new li.TextNode({ id_: `n${i}`, text, metadata: { source: `s${i}` } }), score: 1 - i / 10 }))
      const synthesizer = li.getResponseSynthesizer('compact', { llm: new li.MockLLM({ responseMessage: 'mock answer' }) })
      // 1. The postprocessor in LlamaIndex's query engine, behind a fixed first stage.
      const engine = new li.RetrieverQueryEngine(new li.FixedLlamaRetriever(nodes), synthesizer, [new li.WinnowNodePostprocessor({ winnow, topN: 3 })])
      const retrieved = await engine.retrieve(query)
      const response = await engine.query({ query })
      const top3 = await winnow.rerank(query, passages, { topK: 3 })
      // metadataMode ALL: the cross-encoder reads the metadata lines before the text.
      const withMeta = await new li.WinnowNodePostprocessor({ winnow, metadataMode: li.MetadataMode.ALL }).postprocessNodes(nodes, query)
      const withMetaDirect = await winnow.rerank(query, nodes.map((n: any) => n.node.getContent(li.MetadataMode.ALL)))
      // 2. The retriever over a collection, alone and as the first stage in front of the postprocessor.
      await winnow.deleteCollection('adapters-llamaindex')
      const collection = await winnow.collection('adapters-llamaindex', { chunking: false })
      await collection.add(passages.map((text: string, i: number) => ({ id: `p${i}`, title: `Passage ${i}`, text, metadata: { n: i } })))
      const searched = await collection.search(query, { k: 4, candidates: 8 })
      const alone = await new li.RetrieverQueryEngine(new li.WinnowRetriever({ collection, searchOptions: { k: 4, candidates: 8 } }), synthesizer).retrieve(query)
      const firstStage = await collection.search(query, { k: 8, rerank: false })
      const pipeline = await new li.RetrieverQueryEngine(new li.WinnowRetriever({ collection, searchOptions: { k: 8, rerank: false } }), synthesizer, [
        new li.WinnowNodePostprocessor({ winnow, topN: 3 }),
      ]).retrieve(query)
      const pipelineDirect = await winnow.rerank(query, firstStage.map((h: any) => h.text), { topK: 3 })
      async function code(call: () => Promise<unknown>) {
        try {
          await call()
          return 'resolved'
        } catch (e: any) {
          return e instanceof winnowApi.WinnowError ? e.code : `not a WinnowError: ${e}`
        }
      }
      const controller = new AbortController()
      controller.abort()
      const noQuery = await code(() => new li.WinnowNodePostprocessor({ winnow }).postprocessNodes(nodes))
      const aborted = await code(() => new li.RetrieverQueryEngine(new li.FixedLlamaRetriever(nodes), synthesizer, [new li.WinnowNodePostprocessor({ winnow, signal: controller.signal })]).retrieve(query))
      const abortedRetriever = await code(() => new li.WinnowRetriever({ collection, signal: controller.signal }).retrieve(query))
      const view = (n: any) => ({ id: n.node.id_, text: n.node.text, metadata: n.node.metadata, start: n.node.startCharIdx, end: n.node.endCharIdx, score: n.score, same: nodes.some((o: any) => o.node === n.node) })
      await winnow.deleteCollection('adapters-llamaindex')
      await winnow.dispose()
      return {
        retrieved: retrieved.map(view),
        response: { text: response.toString(), sources: (response.sourceNodes ?? []).map(view) },
        top3,
        withMeta: withMeta.map(view),
        withMetaDirect,
        metaText: nodes[0]!.node.getContent(li.MetadataMode.ALL),
        searched: [...searched],
        alone: alone.map(view),
        firstStage: [...firstStage],
        pipeline: pipeline.map(view),
        pipelineDirect,
        noQuery,
        aborted,
        abortedRetriever,
      }
    },
    { passages: PASSAGES, query: QUERY, model: TINY },
  )
  expectNotInputOrder(out.top3.map((r: any) => r.index))
  // The same node objects, best three by winnow's scores, with winnow's scores (not the first stage's).
  expect(out.retrieved.map((n: any) => [n.id, n.score])).toEqual(out.top3.map((r: any) => [`n${r.index}`, r.score]))
  expect(out.retrieved.every((n: any) => n.same)).toBe(true)
  expect(out.response.text).toBe('mock answer')
  expect(out.response.sources.map((n: any) => [n.id, n.score])).toEqual(out.top3.map((r: any) => [`n${r.index}`, r.score]))
  expect(out.withMeta.map((n: any) => [n.id, n.score])).toEqual(out.withMetaDirect.map((r: any) => [`n${r.index}`, r.score]))
  expect(out.metaText).toBe(`source: s0\n\n${PASSAGES[0]}`)
  // The retriever: collection.search()'s hits as TextNodes.
  expect(out.alone.map((n: any) => [n.id, n.text, n.score])).toEqual(out.searched.map((h: any) => [h.chunkId, h.text, h.score]))
  out.alone.forEach((n: any, i: number) => {
    const h = out.searched[i]
    expect(n.metadata).toEqual({ n: Number(h.id.slice(1)), id: h.id, chunkId: h.chunkId, chunkIndex: 0, firstStageScore: h.firstStageScore, rankBefore: h.rankBefore, section: h.section, path: h.path, title: h.title, rerankScore: h.rerankScore })
    expect([n.start, n.end]).toEqual([h.start, h.end])
  })
  expect(out.pipeline.map((n: any) => [n.id, n.score])).toEqual(out.pipelineDirect.map((r: any) => [out.firstStage[r.index].chunkId, r.score]))
  expect(out.noQuery).toBe('INVALID_INPUT')
  expect(out.aborted).toBe('ABORTED')
  expect(out.abortedRetriever).toBe('ABORTED')
})
