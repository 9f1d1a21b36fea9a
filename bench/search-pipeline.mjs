// npm run bench:search — the search pipeline in Chromium with the MiniLM-L6-shaped cross-encoder:
// what a search costs with and without reranking, and whether `rerankBudgetMs` keeps its word.
//
// SciFact (5,183 abstracts, title + text, default 256-token chunking) in a persistent collection;
// keyword first stage (the embedder's cost is not what this measures); the reranker at q8 on WASM
// with 2 threads. For each setting, the same test claims are searched and the worker's own timings
// (hits.route.timings) are collected: first stage, rerank, total; and, for budgets, how many
// candidates were reranked and how the rerank time compares with the budget. Saves
// bench/results/<date>-search.json. Never part of the tests.
//
//   npm run bench:search [-- --queries 20 --dtype q8 --model minilm-l6-random-cross-encoder]
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { chromium } from '@playwright/test'
import { CHROMIUM_OPTIONS, serveBuiltApp } from './browser.mjs'
import { benchArgs, ensureBenchModel, readCorpus, readQrels, readQueries } from './lib/common.mjs'

const args = benchArgs({
  queries: { type: 'string', default: '20' },
  dtype: { type: 'string', default: 'q8' },
  model: { type: 'string', default: 'minilm-l6-random-cross-encoder' },
})
const PORT = 4177
const Q = Number(args.queries)

const corpus = readCorpus(args.data)
const docs = corpus.map((d) => ({ id: d._id, title: d.title, text: d.text }))
const tested = new Set(readQrels(args.data, 'test').map(([qid]) => qid))
const queries = readQueries(args.data).filter((q) => tested.has(q._id)).slice(0, Q).map((q) => q.text)

ensureBenchModel(args.model)
const server = await serveBuiltApp(PORT)

const browser = await chromium.launch(CHROMIUM_OPTIONS)
const quantile = (values, p) => {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]
}
const round = (x) => Math.round(x * 10) / 10

const result = {
  date: new Date().toISOString().slice(0, 10),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.version}, Chromium ${browser.version()}`,
  model: args.model,
  dtype: args.dtype,
  queries: queries.length,
}
try {
  const page = await browser.newPage()
  await page.goto(`http://127.0.0.1:${PORT}/test/browser/pages/harness.html`)
  await page.waitForFunction(() => window.harnessReady === true)
  Object.assign(
    result,
    await page.evaluate(
      async ({ model, dtype, docs, query }) => {
        let t = performance.now()
        window.winnow = await window.winnowApi.createWinnow({ reranker: { model, dtype }, device: 'wasm', threads: 2 })
        const createMs = performance.now() - t
        window.docs = await window.winnow.collection('bench-search')
        if ((await window.docs.count()) === 0) await window.docs.add(docs)
        const info = await window.docs.info()
        // The first search waits for the reranker's calibration run if it has not finished yet.
        t = performance.now()
        const first = await window.docs.search(query, { k: 5 })
        return { createMs: Math.round(createMs), passages: info.chunks, threads: window.winnow.device.threads, firstSearchMs: Math.round(performance.now() - t), firstRoute: first.route }
      },
      { model: args.model, dtype: args.dtype, docs, query: queries[0] },
    ),
  )
  const settings = [
    { name: 'first stage only', options: { k: 10, rerank: false } },
    { name: 'rerank 50 (default)', options: { k: 10 } },
    { name: 'rerank 20', options: { k: 10, candidates: 20 } },
    { name: 'budget 1000 ms', options: { k: 10, rerankBudgetMs: 1000 } },
    { name: 'budget 300 ms', options: { k: 10, rerankBudgetMs: 300 } },
    { name: 'budget 100 ms', options: { k: 10, rerankBudgetMs: 100 } },
    { name: 'rerank 50 + mmr + maxPerDocument 1', options: { k: 10, mmr: true, maxPerDocument: 1 } },
  ]
  result.settings = []
  for (const { name, options } of settings) {
    const runs = await page.evaluate(
      async ({ queries, options }) => {
        const out = []
        for (const q of queries) {
          let firstStageAt = null
          const t = performance.now()
          const hits = await window.docs.search(q, { ...options, onFirstStage: () => (firstStageAt = performance.now() - t) })
          out.push({ pageMs: performance.now() - t, firstStageAt, route: hits.route })
        }
        return out
      },
      { queries, options },
    )
    const rerankMs = runs.map((r) => r.route.timings.rerankMs)
    const row = {
      name,
      options,
      totalP50: round(quantile(runs.map((r) => r.pageMs), 0.5)),
      totalP95: round(quantile(runs.map((r) => r.pageMs), 0.95)),
      firstStageP50: round(quantile(runs.map((r) => r.firstStageAt), 0.5)),
      rerankP50: round(quantile(rerankMs, 0.5)),
      rerankP95: round(quantile(rerankMs, 0.95)),
      rerankedMean: round(runs.reduce((n, r) => n + r.route.reranked, 0) / runs.length),
      paths: Object.fromEntries([...new Set(runs.map((r) => r.route.path))].map((p) => [p, runs.filter((r) => r.route.path === p).length])),
    }
    if (options.rerankBudgetMs) {
      const b = options.rerankBudgetMs
      row.withinBudget = runs.filter((r) => r.route.timings.rerankMs <= b).length / runs.length
      row.within120 = runs.filter((r) => r.route.timings.rerankMs <= b * 1.2).length / runs.length
      row.estimateErrorP50 = round(quantile(runs.map((r) => r.route.timings.rerankMs - r.route.budget.estimatedMs), 0.5))
      row.tokensPerSecond = Math.round(runs.at(-1).route.budget.tokensPerSecond)
    }
    result.settings.push(row)
    console.log(JSON.stringify(row))
  }
  await page.evaluate(() => window.winnow.dispose())
} finally {
  await browser.close()
  server.kill()
}

console.log(`\n${result.machine}; ${result.model} ${result.dtype}, ${result.threads} threads; ${result.passages} passages; ${result.queries} claims`)
console.log(`createWinnow ${result.createMs} ms; first search (waits for the calibration run) ${result.firstSearchMs} ms\n`)
console.log('| setting | reranked | total p50 | p95 | first stage p50 | rerank p50 | rerank p95 | within budget |')
console.log('|---|---|---|---|---|---|---|---|')
for (const r of result.settings) {
  const budget = r.withinBudget === undefined ? '' : `${Math.round(r.withinBudget * 100)}% (≤ 1.2×: ${Math.round(r.within120 * 100)}%)`
  console.log(`| ${r.name} | ${r.rerankedMean} | ${r.totalP50} ms | ${r.totalP95} ms | ${r.firstStageP50} ms | ${r.rerankP50} ms | ${r.rerankP95} ms | ${budget} |`)
}
mkdirSync('bench/results', { recursive: true })
writeFileSync(`bench/results/${result.date}-search.json`, `${JSON.stringify(result, null, 2)}\n`)
