// npm run bench — reranking speed on real text with the MiniLM-L6-shaped cross-encoder.
//
// For each configuration: 50 SciFact passages (title + abstract) for one test claim, reranked
// through winnow's public API in Chromium (WASM, 1 and 2 threads; fp32, q8, q4; WebGPU only where a
// real, non-fallback adapter exists), after one warm-up call; naive transformers.js in the same
// browser (one padded batch on the page's main thread, same model files, same threads: what a page
// writes by hand, bench/pages/naive.js); and the same src/ code on onnxruntime-node (native CPU,
// the ceiling). Also measures how much q8 scores move with batch composition (dynamic activation
// quantization), and that naive and winnow compute the same logits. Prints a table and saves
// bench/results/<date>-rerank.json. Never part of the tests.
//
//   npm run bench [-- --runs 10 --dtypes q8,fp32,q4 --model minilm-l6-random-cross-encoder]
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { chromium } from '@playwright/test'
import { CHROMIUM_OPTIONS, serveBuiltApp } from './browser.mjs'
import { benchArgs, ensureBenchModel, readCorpus, readQrels, readQueries } from './lib/common.mjs'

const args = benchArgs({
  runs: { type: 'string', default: '10' },
  dtypes: { type: 'string', default: 'q8,fp32,q4' },
  model: { type: 'string', default: 'minilm-l6-random-cross-encoder' },
  passages: { type: 'string', default: '50' },
})
const RUNS = Number(args.runs)
const N = Number(args.passages)
const PORT = 4175

// ---- data: the first test claim with judgments, its relevant abstracts, then the next ones ----
const corpus = readCorpus(args.data)
const queries = new Map(readQueries(args.data).map((q) => [q._id, q.text]))
const [qid, relevant] = readQrels(args.data, 'test')[0]
const query = queries.get(qid)
const passages = [corpus.find((d) => d._id === relevant), ...corpus.filter((d) => d._id !== relevant).slice(0, N - 1)].map((d) =>
  `${d.title} ${d.text}`.trim(),
)

// ---- models ----
ensureBenchModel(args.model)

function stats(times) {
  const s = [...times].sort((a, b) => a - b)
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))]
  return { p50: q(0.5), p95: q(0.95), pairsPerSecond: Math.round((N / q(0.5)) * 1000) }
}

// ---- native: the same src/ code on onnxruntime-node ----
async function native(dtype) {
  const { loadNodeModels } = await import('../dist/models/node.js')
  const models = await loadNodeModels({ modelsDir: new URL('../.cache/models/', import.meta.url).pathname, reranker: { model: args.model, dtype } })
  // The model's own score, outside the queue: the ceiling, as measured before.
  const { encoder } = models.reranker.loaded
  const dispose = () => models.dispose()
  await encoder.score(query, passages)
  const times = []
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now()
    await encoder.score(query, passages)
    times.push(performance.now() - t)
  }
  await dispose()
  return stats(times)
}

// ---- Chromium ----
const server = await serveBuiltApp(PORT)
const browser = await chromium.launch({ ...CHROMIUM_OPTIONS, args: [...CHROMIUM_OPTIONS.args, '--enable-unsafe-webgpu'] })

// A fresh page per configuration: several large WASM sessions created and disposed in one page were
// seen to crash the renderer here (memory of terminated workers is reclaimed lazily).
async function inBrowser(dtype, threads, device = 'wasm') {
  const page = await browser.newPage()
  await page.goto(`http://127.0.0.1:${PORT}/test/browser/pages/harness.html`)
  await page.waitForFunction(() => window.harnessReady === true)
  return page.evaluate(
    async ({ model, dtype, threads, query, passages, runs, device }) => {
      const w = await window.winnowApi.createWinnow({ reranker: { model, dtype }, device, threads })
      const batched = await w.rerank(query, passages) // warm-up
      const times = []
      for (let i = 0; i < runs; i++) {
        const t = performance.now()
        await w.rerank(query, passages)
        times.push(performance.now() - t)
      }
      // Batch dependence: each passage alone vs inside the 50-passage call.
      const alone = []
      for (const p of passages) alone.push((await w.rerank(query, [p]))[0].logit)
      const inBatch = batched.slice().sort((a, b) => a.index - b.index).map((r) => r.logit)
      const used = w.device
      await w.dispose()
      return { times, alone, inBatch, device: used }
    },
    { model: args.model, dtype, threads, query, passages, runs: RUNS, device },
  ).finally(() => page.close())
}

async function naiveInBrowser(dtype, threads) {
  const page = await browser.newPage()
  await page.goto(`http://127.0.0.1:${PORT}/bench/pages/naive.html`)
  await page.waitForFunction(() => window.naiveReady === true)
  return page.evaluate(
    async ({ model, dtype, threads, query, passages, runs }) => {
      await window.naive.load(model, dtype, threads)
      const logits = await window.naive.rerank(query, passages) // warm-up
      const times = []
      for (let i = 0; i < runs; i++) {
        const t = performance.now()
        await window.naive.rerank(query, passages)
        times.push(performance.now() - t)
      }
      await window.naive.dispose()
      return { times, logits }
    },
    { model: args.model, dtype, threads, query, passages, runs: RUNS },
  ).finally(() => page.close())
}

/** Whether this Chromium has a real (non-fallback) WebGPU adapter; SwiftShader does not count. */
async function realWebGpu() {
  const page = await browser.newPage()
  await page.goto(`http://127.0.0.1:${PORT}/test/browser/pages/harness.html`)
  const info = await page.evaluate(async () => {
    const adapter = await navigator.gpu?.requestAdapter()
    return adapter ? { fallback: adapter.info?.isFallbackAdapter === true, vendor: adapter.info?.vendor ?? '' } : null
  })
  await page.close()
  return info
}

function agreement(a, b) {
  const maxDelta = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0)
  const top = (xs) => new Set(xs.map((x, i) => [x, i]).sort((p, q) => q[0] - p[0]).slice(0, 10).map(([, i]) => i))
  const ta = top(a)
  const overlap = [...top(b)].filter((i) => ta.has(i)).length / 10
  return { maxDelta, top10Overlap: overlap }
}

const rows = []
const gpu = await realWebGpu()
const webgpu = gpu && !gpu.fallback ? `WebGPU (${gpu.vendor})` : `skipped: ${gpu ? 'only a fallback adapter (SwiftShader)' : 'no adapter'}`
console.log(`WebGPU: ${webgpu}`)
for (const dtype of args.dtypes.split(',')) {
  for (const threads of [1, 2]) {
    const r = await inBrowser(dtype, threads)
    rows.push({ runtime: `winnow Chromium WASM ${threads}T`, dtype, threads, ...stats(r.times), batchVsAlone: agreement(r.inBatch, r.alone) })
    console.log(rows.at(-1))
    const n = await naiveInBrowser(dtype, threads)
    rows.push({ runtime: `naive transformers.js Chromium WASM ${threads}T`, dtype, threads, ...stats(n.times), vsWinnow: agreement(n.logits, r.inBatch) })
    console.log(rows.at(-1))
  }
  if (gpu && !gpu.fallback) {
    const r = await inBrowser(dtype, 1, 'webgpu')
    rows.push({ runtime: 'winnow Chromium WebGPU', dtype, ...stats(r.times), batchVsAlone: agreement(r.inBatch, r.alone) })
  }
  rows.push({ runtime: 'onnxruntime-node (native)', dtype, ...(await native(dtype)) })
  console.log(rows.at(-1))
}
await browser.close()
server.kill()

const date = new Date().toISOString().slice(0, 10)
const result = {
  date,
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  model: args.model,
  passages: N,
  query,
  meanPassageChars: Math.round(passages.reduce((n, p) => n + p.length, 0) / N),
  runs: RUNS,
  webgpu,
  rows,
}
mkdirSync('bench/results', { recursive: true })
writeFileSync(`bench/results/${date}-rerank.json`, JSON.stringify(result, null, 2) + '\n')
console.log(`\n${N} SciFact passages, ${args.model}, ${result.machine}\n`)
console.log('| runtime | dtype | p50 ms | p95 ms | pairs/s | batched vs alone (or naive vs winnow) max |Δ| logit | top-10 overlap |')
console.log('|---|---|---|---|---|---|---|')
for (const r of rows) {
  const b = r.batchVsAlone ?? r.vsWinnow
  console.log(`| ${r.runtime} | ${r.dtype} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} | ${r.pairsPerSecond} | ${b ? b.maxDelta.toExponential(1) : '—'} | ${b ? b.top10Overlap : '—'} |`)
}
console.log(`WebGPU: ${webgpu}`)
console.log(`\nsaved bench/results/${date}-rerank.json`)
