// npm run eval — retrieval quality on a BEIR dataset (nDCG@k, MRR@k, Recall@100, MAP@100), through the compiled
// library in dist/. Never part of the tests; the data is read in place, never copied.
//
//   npm run eval -- --data ../shared/datasets/scifact --mode keyword|vector|hybrid [--split test] [--json out.json]
//     [--k 10] [--candidates 100] [--queries N]
//     [--embedder <model>] (vector, hybrid; default Xenova/all-MiniLM-L6-v2) [--rerank <model>] [--dtype q8]
//     [--models <dir>] (local model folders; default .cache/models) [--allow-remote] (hub ids over the network)
//     [--browser] (run in Chromium through the public API: worker, IndexedDB, onnxruntime-web WASM)
//     [--threads N] (--browser: WASM threads; default the library's)
//     [--k1 1.2 --b 0.75] [--stop-words english|none|nltk] [--stemmer english|none]
//     [--fold-accents true|false] [--min-token-length 1] [--segment-size 1000]
//     [--grid]       sweep k1 × b on the split and print the best settings (tune on --split train)
//     [--variants]   compare analyzer choices and parameter settings side by side
//
// BEIR layout: corpus.jsonl ({_id, title, text}), queries.jsonl ({_id, text}), qrels/<split>.tsv
// (query-id, corpus-id, score; one header line). Metrics follow pytrec_eval (src/core/metrics.ts);
// the mean is over every query with judgments, a query with no results counting 0.
import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { evaluateRun } from '../dist/core/metrics.js'
import { DEFAULT_BM25, buildPostings, scoreBm25 } from '../dist/rank/bm25.js'
import { pairTokens, ThroughputMeter } from '../dist/rank/throughput.js'
import { createAnalyzer } from '../dist/text/analyzer.js'
import { CollectionEngine } from '../dist/collection/engine.js'
import { searchCollection } from '../dist/search/searchCollection.js'
import { MemoryBackend } from '../dist/store/memory.js'
import { createCoordination } from '../dist/store/coordination.js'
import { loadNodeModels } from '../dist/models/node.js'

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    mode: { type: 'string', default: 'keyword' },
    split: { type: 'string', default: 'test' },
    out: { type: 'string' },
    json: { type: 'string' },
    k: { type: 'string', default: '10' },
    candidates: { type: 'string' },
    queries: { type: 'string' },
    embedder: { type: 'string', default: 'Xenova/all-MiniLM-L6-v2' },
    rerank: { type: 'string' },
    dtype: { type: 'string', default: 'q8' },
    models: { type: 'string', default: '.cache/models' },
    'allow-remote': { type: 'boolean', default: false },
    k1: { type: 'string' },
    b: { type: 'string' },
    'stop-words': { type: 'string', default: 'english' },
    stemmer: { type: 'string', default: 'english' },
    'fold-accents': { type: 'string', default: 'true' },
    'min-token-length': { type: 'string', default: '1' },
    'segment-size': { type: 'string', default: '1000' },
    grid: { type: 'boolean', default: false },
    chunking: { type: 'string', default: 'off' },
    variants: { type: 'boolean', default: false },
    browser: { type: 'boolean', default: false },
    threads: { type: 'string' },
  },
})

const MODES = ['keyword', 'vector', 'hybrid']
const CANDIDATES = 100 // deep enough for Recall@100

// NLTK's English list (179 words), for comparison with Lucene's 33 only.
const NLTK_STOP_WORDS = `i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves
he him his himself she she's her hers herself it it's its itself they them their theirs themselves what which who whom this
that that'll these those am is are was were be been being have has had having do does did doing a an the and but if or because
as until while of at by for with about against between into through during before after above below to from up down in out on
off over under again further then once here there when where why how all any both each few more most other some such no nor
not only own same so than too very s t can will just don don't should should've now d ll m o re ve y ain aren aren't couldn
couldn't didn didn't doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn
needn't shan shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn wouldn't`.split(/\s+/)

function fail(message) {
  console.error(`eval: ${message}`)
  process.exit(1)
}

// ---------------------------------------------------------------- data

function readJsonl(path) {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line))
}

/** corpus: [{ id, text }], queries: [{ id, text }] (judged ones only), qrels: Map<qid, Map<docId, gain>>. */
function loadBeir(dir, split) {
  const corpus = readJsonl(`${dir}/corpus.jsonl`).map((d) => ({
    id: String(d._id),
    text: `${d.title ?? ''}\n${d.text ?? ''}`,
    title: d.title ?? '',
    body: d.text ?? '',
  }))
  const qrels = new Map()
  const lines = readFileSync(`${dir}/qrels/${split}.tsv`, 'utf8').trim().split('\n')
  for (const line of lines.slice(1)) {
    const [qid, docId, score] = line.split('\t')
    if (!qrels.has(qid)) qrels.set(qid, new Map())
    qrels.get(qid).set(docId, Number(score))
  }
  const queries = readJsonl(`${dir}/queries.jsonl`)
    .map((q) => ({ id: String(q._id), text: q.text }))
    .filter((q) => qrels.has(q.id))
  if (queries.length !== qrels.size) fail(`${qrels.size - queries.length} judged queries are missing from queries.jsonl`)
  return { corpus, queries, qrels }
}

// ---------------------------------------------------------------- retrieval

/**
 * The retrieval step, and the only one that knows how: ranked doc ids (best first, at most
 * options.k) per query id, straight from the BM25 scorer: the fast path for --grid and --variants.
 * The figure to quote comes from retrieveWithCollection below.
 */
export function retrieve(corpus, queries, mode, options = {}) {
  if (mode !== 'keyword') throw new Error(`mode ${mode} is not yet supported; only keyword works for now`)
  const index = keywordIndex(corpus, options.analyzer, options.segmentSize ?? 1000)
  const results = new Map()
  for (const query of queries) {
    const { slots } = scoreBm25({ ...index.input, terms: index.queryTerms(query.text), k: options.k ?? CANDIDATES, params: options.params })
    results.set(query.id, Array.from(slots, (slot) => corpus[slot].id))
  }
  return results
}

const indexCache = new Map()

/** One chunk per document (title + text), split into segments as the store will keep them. */
function keywordIndex(corpus, analyzerOptions, segmentSize) {
  const key = JSON.stringify([analyzerOptions, segmentSize, corpus.length])
  const cached = indexCache.get(key)
  if (cached) return cached
  const analyzer = createAnalyzer(analyzerOptions)
  const lengths = new Uint32Array(corpus.length)
  const segments = []
  let total = 0
  for (let start = 0; start < corpus.length; start += segmentSize) {
    // seq = position in the corpus, and so is the slot; slotOf below is the identity.
    const chunks = corpus.slice(start, start + segmentSize).map((doc, i) => ({ seq: start + i, terms: analyzer.terms(doc.text) }))
    const segment = buildPostings(chunks)
    segment.lengths.forEach((length, i) => {
      lengths[start + i] = length
      total += length
    })
    segments.push(segment.postings)
  }
  const input = {
    docCount: corpus.length,
    avgLength: total / corpus.length,
    slotOf: Int32Array.from(corpus, (_, i) => i),
    lengths,
  }
  const queryTerms = (text) => {
    const weights = new Map()
    for (const term of analyzer.terms(text)) weights.set(term, (weights.get(term) ?? 0) + 1)
    return [...weights].map(([term, weight]) => {
      const postings = segments.map((segment) => segment.get(term)).filter((p) => p !== undefined)
      return { term, weight, postings, df: postings.reduce((sum, p) => sum + p.seqs.length, 0) }
    })
  }
  const index = { input, queryTerms }
  indexCache.set(key, index)
  return index
}

/**
 * The retrieval a user gets: documents added to a collection (in-memory twin of the IndexedDB store,
 * same engine) and searched with collection.search(). Chunk hits are folded into documents, a
 * document ranking where its best chunk does.
 */
export async function retrieveWithCollection(corpus, queries, mode, options = {}) {
  const backend = new MemoryBackend()
  const coordination = createCoordination({})
  const store = await backend.open('eval')
  const settings = { analyzer: options.analyzer, chunking: options.chunking ? {} : false }
  const models = await loadModels(mode, options)
  const engine = await CollectionEngine.open('eval', { store, coordination, embedder: models.embedder, rerankerTokens: models.rerankerTokens }, settings)
  const none = async () => {}
  const started = performance.now()
  for (let i = 0; i < corpus.length; i += 1000) {
    await engine.add(corpus.slice(i, i + 1000).map((d) => ({ id: d.id, title: d.title || undefined, text: d.body })), none)
    if (models.embedder) process.stderr.write(`\rembedded ${Math.min(corpus.length, i + 1000)} / ${corpus.length} documents`)
  }
  if (models.embedder) process.stderr.write('\n')
  const indexSeconds = (performance.now() - started) / 1000
  const info = engine.info()
  const results = new Map()
  const depth = options.depth ?? CANDIDATES
  const queryStarted = performance.now()
  let reranked = 0
  for (const query of queries) {
    // Chunks are folded into documents below, so gather more chunks than documents wanted.
    const k = options.chunking ? depth * 4 : depth
    const request = { query: query.text, mode, k, snippet: false, rerank: models.reranker !== null }
    if (models.reranker) request.candidates = Math.max(k, options.candidates ?? CANDIDATES)
    const { hits, route } = await searchCollection(engine, request, none, models.extras)
    reranked += route.reranked
    const ranked = []
    for (const hit of hits) if (!ranked.includes(hit.id) && ranked.length < depth) ranked.push(hit.id)
    results.set(query.id, ranked)
  }
  const querySeconds = (performance.now() - queryStarted) / 1000
  engine.close()
  coordination.close()
  await models.dispose()
  return { results, indexSeconds, querySeconds, chunks: info.chunks, reranked, models: models.names }
}

/**
 * The embedder (vector, hybrid) and reranker (--rerank) on onnxruntime-node, through the same src/
 * code the worker runs (src/models/node.ts): local folders under --models, hub ids with --allow-remote.
 */
async function loadModels(mode, options) {
  const none = { embedder: null, reranker: null, rerankerTokens: undefined, extras: {}, names: {}, dispose: async () => {} }
  if (mode === 'keyword' && !options.rerank) return none
  const models = await loadNodeModels({
    modelsDir: options.models ?? '.cache/models',
    allowRemote: Boolean(options.allowRemote),
    embedder: mode !== 'keyword' ? { model: options.embedder, dtype: options.dtype } : undefined,
    reranker: options.rerank ? { model: options.rerank, dtype: options.dtype } : undefined,
  })
  const out = { ...none, names: {}, dispose: () => models.dispose() }
  if (models.embedder) {
    out.embedder = models.embedder.port
    out.names.embedder = `${options.embedder} (${options.dtype})`
  }
  const reranker = models.reranker
  if (reranker) {
    const s = reranker.loaded.encoder.settings
    out.reranker = reranker.loaded
    out.rerankerTokens = Math.max(16, s.maxLength - s.template.prefix.length - s.template.middle.length - s.template.suffix.length - 32)
    // The pipeline's reranker port; the meter follows every run as the worker's does (it matters only to rerankBudgetMs).
    const meter = new ThroughputMeter()
    const port = {
      model: reranker.model,
      dtype: reranker.dtype,
      maxLength: reranker.maxLength,
      meter,
      score: async (query, passages) => {
        const started = performance.now()
        const scores = await reranker.score(query, passages)
        meter.record(passages.reduce((sum, p) => sum + pairTokens(query, p, reranker.maxLength), 0), performance.now() - started)
        return { logits: scores.logits, documentTokens: scores.documentTokens }
      },
    }
    // As the worker's pool with this one model: any stage naming another model fails.
    const one = (stage) => stage.model === null || stage.model === reranker.model
    out.extras = { hasReranker: true, reranker: async (stage) => (one(stage) ? port : Promise.reject(new Error('one reranker only'))) }
    out.names.reranker = `${options.rerank} (${options.dtype})`
  }
  return out
}

/**
 * The same evaluation through the public API in Chromium: createWinnow() → collection() → add() →
 * search(), so the worker, IndexedDB (a fresh profile) and onnxruntime-web WASM are all in the loop.
 * Models are fetched from the local model server (test fixtures, .cache/models, --models) or, with
 * --allow-remote, the hub.
 */
export async function retrieveInBrowser(corpus, queries, mode, options = {}) {
  const { mkdtempSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { chromium } = await import('@playwright/test')
  const { CHROMIUM_OPTIONS, serveBuiltApp } = await import('../bench/browser.mjs')
  if (options.models && options.models !== '.cache/models') process.env.WINNOW_MODELS_DIR = options.models
  const port = 4179
  const server = await serveBuiltApp(port)
  const profile = mkdtempSync(join(tmpdir(), 'winnow-eval-'))
  const context = await chromium.launchPersistentContext(profile, CHROMIUM_OPTIONS)
  try {
    const page = await context.newPage()
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`))
    await page.goto(`http://127.0.0.1:${port}/test/browser/pages/harness.html`)
    await page.waitForFunction(() => window.harnessReady === true)
    const config = {
      reranker: options.rerank ? { model: options.rerank, dtype: options.dtype } : false,
      ...(mode === 'keyword' ? {} : { embedder: { model: options.embedder, dtype: options.dtype } }),
      device: 'wasm',
      allowRemoteModels: Boolean(options.allowRemote),
      ...(options.threads ? { threads: options.threads } : {}),
    }
    const device = await page.evaluate(async ({ config, analyzer, chunking }) => {
      window.evalWinnow = await window.winnowApi.createWinnow(config)
      window.evalDocs = await window.evalWinnow.collection('eval', { analyzer, chunking: chunking ? {} : false })
      const d = window.evalWinnow.device
      return d.kind === 'wasm' ? `wasm ${d.threads}T` : d.kind
    }, { config, analyzer: options.analyzer, chunking: options.chunking })
    const started = performance.now()
    for (let i = 0; i < corpus.length; i += 500) {
      const batch = corpus.slice(i, i + 500).map((d) => ({ id: d.id, title: d.title || undefined, text: d.body }))
      await page.evaluate((items) => window.evalDocs.add(items), batch)
      process.stderr.write(`\rindexed ${Math.min(corpus.length, i + 500)} / ${corpus.length} documents`)
    }
    process.stderr.write('\n')
    const indexSeconds = (performance.now() - started) / 1000
    const depth = options.depth ?? CANDIDATES
    const k = options.chunking ? depth * 4 : depth
    const queryStarted = performance.now()
    const runs = []
    for (let i = 0; i < queries.length; i += 50) {
      const slice = queries.slice(i, i + 50)
      runs.push(
        ...(await page.evaluate(
          async ({ slice, mode, k, rerank, candidates }) => {
            const out = []
            for (const q of slice) {
              const hits = await window.evalDocs.search(q.text, { mode, k, snippet: false, rerank, ...(rerank ? { candidates: Math.max(k, candidates) } : {}) })
              out.push({ id: q.id, ids: hits.map((h) => h.id), reranked: hits.route.reranked })
            }
            return out
          },
          { slice, mode, k, rerank: Boolean(options.rerank), candidates: options.candidates ?? CANDIDATES },
        )),
      )
    }
    const querySeconds = (performance.now() - queryStarted) / 1000
    const info = await page.evaluate(async () => {
      const i = await window.evalDocs.info()
      await window.evalWinnow.dispose()
      return i
    })
    const results = new Map()
    let reranked = 0
    for (const r of runs) {
      reranked += r.reranked
      const ranked = []
      for (const id of r.ids) if (!ranked.includes(id) && ranked.length < depth) ranked.push(id)
      results.set(r.id, ranked)
    }
    const names = {}
    if (mode !== 'keyword') names.embedder = `${options.embedder} (${options.dtype})`
    if (options.rerank) names.reranker = `${options.rerank} (${options.dtype})`
    return { results, indexSeconds, querySeconds, chunks: info.chunks, reranked, models: names, device }
  } finally {
    await context.close()
    server.kill()
    rmSync(profile, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------- metrics and runs

/** trec_eval conventions (src/core/metrics.ts): nDCG@k and MRR@k, Recall@100, MAP@100, over every judged query. */
function evaluate(results, qrels, k = Number(args.k)) {
  const m = evaluateRun(results, qrels, { k, recallK: 100, mapK: 100 })
  return { k, ndcg: m.ndcg, mrr: m.mrr, recall: m.recall, map: m.map, perQuery: Object.fromEntries(m.perQuery) }
}

function run(data, mode, options) {
  const started = performance.now()
  const results = retrieve(data.corpus, data.queries, mode, options)
  const metrics = evaluate(results, data.qrels)
  return { ...metrics, seconds: (performance.now() - started) / 1000 }
}

function analyzerFromArgs() {
  const stop = args['stop-words']
  const stopWords = stop === 'english' ? 'english' : stop === 'none' ? false : stop === 'nltk' ? NLTK_STOP_WORDS : fail(`unknown --stop-words ${stop}`)
  const stemmer = args.stemmer === 'english' ? 'english' : args.stemmer === 'none' ? false : fail(`unknown --stemmer ${args.stemmer}`)
  return { stopWords, stemmer, foldAccents: args['fold-accents'] !== 'false', minTokenLength: Number(args['min-token-length']) }
}

function paramsFromArgs() {
  return { k1: args.k1 === undefined ? DEFAULT_BM25.k1 : Number(args.k1), b: args.b === undefined ? DEFAULT_BM25.b : Number(args.b) }
}

const fixed = (x) => x.toFixed(4)

function printTable(rows) {
  const k = rows[0]?.k ?? 10
  const head = ['variant', `nDCG@${k}`, `MRR@${k}`, 'Recall@100', 'MAP@100', 'seconds']
  const body = rows.map((r) => [r.name, fixed(r.ndcg), fixed(r.mrr), fixed(r.recall), fixed(r.map), r.seconds.toFixed(2)])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)))
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  console.log(line(head))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  body.forEach((row) => console.log(line(row)))
}

function variantRuns(data, mode, segmentSize) {
  const base = { stopWords: 'english', stemmer: 'english', foldAccents: true, minTokenLength: 1 }
  const variants = [
    [`default (Lucene stop words, Porter, k1 ${DEFAULT_BM25.k1} b ${DEFAULT_BM25.b})`, base, DEFAULT_BM25],
    ['k1 0.9 b 0.4 (Anserini)', base, { k1: 0.9, b: 0.4 }],
    ['k1 2.0 b 0.9', base, { k1: 2, b: 0.9 }],
    ['stop words: none', { ...base, stopWords: false }, DEFAULT_BM25],
    ['stop words: NLTK (179)', { ...base, stopWords: NLTK_STOP_WORDS }, DEFAULT_BM25],
    ['stemmer: none', { ...base, stemmer: false }, DEFAULT_BM25],
    ['minTokenLength 2', { ...base, minTokenLength: 2 }, DEFAULT_BM25],
    ['foldAccents: false', { ...base, foldAccents: false }, DEFAULT_BM25],
    ['analyzer false (language-neutral)', false, DEFAULT_BM25],
  ]
  return variants.map(([name, analyzer, params]) => ({ name, analyzer, params, ...run(data, mode, { analyzer, params, segmentSize }) }))
}

function gridRuns(data, mode, analyzer, segmentSize) {
  const rows = []
  for (const k1 of [0.5, 0.7, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 2.0]) {
    for (const b of [0.2, 0.3, 0.4, 0.5, 0.6, 0.65, 0.75, 0.85, 0.9]) {
      rows.push({ name: `k1 ${k1} b ${b}`, params: { k1, b }, ...run(data, mode, { analyzer, params: { k1, b }, segmentSize }) })
    }
  }
  return rows
}

// ---------------------------------------------------------------- main

if (!args.data) fail('--data <BEIR dataset folder> is required, e.g. --data ../shared/datasets/scifact')
if (!MODES.includes(args.mode)) fail(`--mode must be one of ${MODES.join(', ')}`)
if (args.browser && (args.variants || args.grid || args.k1 !== undefined || args.b !== undefined)) fail('--variants, --grid, --k1 and --b run in Node only')
if (args.mode !== 'keyword' && (args.variants || args.grid || args.k1 !== undefined || args.b !== undefined)) fail('--variants, --grid, --k1 and --b tune BM25: use them with --mode keyword')

const data = loadBeir(args.data, args.split)
if (args.queries !== undefined) data.queries = data.queries.slice(0, Number(args.queries))
if (args.queries !== undefined) data.qrels = new Map(data.queries.map((q) => [q.id, data.qrels.get(q.id)]))
const segmentSize = Number(args['segment-size'])
console.log(`${args.data} split=${args.split}: ${data.corpus.length} documents, ${data.queries.length} judged queries, mode=${args.mode}`)

let rows
if (args.variants) {
  rows = variantRuns(data, args.mode, segmentSize)
  printTable(rows)
} else if (args.grid) {
  const analyzer = analyzerFromArgs()
  rows = gridRuns(data, args.mode, analyzer, segmentSize)
  const best = [...rows].sort((a, b) => b.ndcg - a.ndcg).slice(0, 10)
  console.log(`best 10 by nDCG@${args.k}:`)
  printTable(best)
} else if (args.k1 !== undefined || args.b !== undefined) {
  // Parameter experiments go straight to the scorer; collections always use DEFAULT_BM25.
  const analyzer = analyzerFromArgs()
  const params = paramsFromArgs()
  rows = [{ name: `keyword k1 ${params.k1} b ${params.b}`, analyzer, params, ...run(data, args.mode, { analyzer, params, segmentSize }) }]
  printTable(rows)
} else {
  const analyzer = analyzerFromArgs()
  const chunking = args.chunking === 'on'
  const out = await (args.browser ? retrieveInBrowser : retrieveWithCollection)(data.corpus.map((d) => ({ id: d.id, title: d.title, body: d.body })), data.queries, args.mode, {
    analyzer,
    chunking,
    depth: Math.max(CANDIDATES, Number(args.k)),
    candidates: args.candidates === undefined ? undefined : Number(args.candidates),
    embedder: args.embedder,
    rerank: args.rerank,
    dtype: args.dtype,
    models: args.models,
    allowRemote: args['allow-remote'],
    threads: args.threads === undefined ? undefined : Number(args.threads),
  })
  const metrics = evaluate(out.results, data.qrels)
  const modelNote = [out.models.embedder && `embedder ${out.models.embedder}`, out.models.reranker && `rerank ${out.models.reranker}`].filter(Boolean).join(', ')
  const name = `${args.browser ? `Chromium ${out.device} ` : ''}collection.search ${args.mode}, chunking ${chunking ? 'on' : 'off'}${modelNote ? `, ${modelNote}` : ''}`
  rows = [{ name, analyzer, chunking, chunks: out.chunks, indexSeconds: out.indexSeconds, querySeconds: out.querySeconds, ...metrics, seconds: out.indexSeconds + out.querySeconds }]
  printTable(rows)
  console.log(`indexed ${data.corpus.length} documents as ${out.chunks} chunks in ${out.indexSeconds.toFixed(2)} s; ${data.queries.length} queries in ${out.querySeconds.toFixed(2)} s`)
}

const outFile = args.json ?? args.out
if (outFile) {
  const dataset = args.data.split('/').filter(Boolean).pop()
  const summary = rows.map(({ perQuery, ...row }) => (rows.length === 1 ? { ...row, perQuery } : row))
  writeFileSync(outFile, `${JSON.stringify({ dataset, split: args.split, mode: args.mode, date: new Date().toISOString(), runs: summary }, null, 2)}\n`)
  console.log(`wrote ${outFile}`)
}
