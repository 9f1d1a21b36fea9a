// npm run bench:ingest — how fast documents become durable and searchable.
//
// 1. Durable ingest with supplied vectors: 20,000 passages (two SciFact sentences each, 384-d
//    vectors, chunking off) added to a fresh collection in Chromium, in adds of 1,000 and of 5,000;
//    an add resolves only once its IndexedDB transaction has committed with strict durability.
// 2. Embedding ingest with the MiniLM-L6-shaped embedder (q8): SciFact abstracts with the default
//    256-token chunking, embedded and written by winnow in Chromium (WASM, 1 and 2 threads), and by
//    the same src/ code on onnxruntime-node into the in-memory store (native CPU, the ceiling).
// Saves bench/results/<date>-ingest.json. Never part of the tests.
//
//   npm run bench:ingest [-- --passages 20000 --abstracts 300 --embedder minilm-l6-random-embedder]
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { chromium } from '@playwright/test'
import { CHROMIUM_OPTIONS, serveBuiltApp } from './browser.mjs'
import { benchArgs, ensureBenchModel, readCorpus, sentencesOf } from './lib/common.mjs'

const args = benchArgs({
  passages: { type: 'string', default: '20000' },
  abstracts: { type: 'string', default: '300' },
  embedder: { type: 'string', default: 'minilm-l6-random-embedder' },
  dtype: { type: 'string', default: 'q8' },
})
const PORT = 4181
const N = Number(args.passages)
const corpus = readCorpus(args.data)
const sentences = sentencesOf(corpus)
const abstracts = corpus.slice(0, Number(args.abstracts)).map((d) => ({ id: d._id, title: d.title, text: d.text }))
ensureBenchModel(args.embedder)

const server = await serveBuiltApp(PORT)
const browser = await chromium.launch(CHROMIUM_OPTIONS)
const chromiumVersion = browser.version()
async function harness() {
  const page = await browser.newPage()
  await page.goto(`http://127.0.0.1:${PORT}/test/browser/pages/harness.html`)
  await page.waitForFunction(() => window.harnessReady === true)
  return page
}

const result = {
  date: new Date().toISOString().slice(0, 10),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  chromium: chromiumVersion,
  command: `npm run bench:ingest -- --passages ${N} --abstracts ${abstracts.length} --embedder ${args.embedder}`,
}

// ---- 1. durable ingest with supplied vectors ----
result.durable = []
for (const batch of [1000, 5000]) {
  const page = await harness()
  const r = await page.evaluate(
    async ({ n, batch, sentences }) => {
      const w = await window.winnowApi.createWinnow({ reranker: false })
      const docs = await w.collection(`ingest-${batch}`, { chunking: false })
      let seed = 7
      const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1
      const times = []
      for (let from = 0; from < n; from += batch) {
        const items = []
        for (let i = from; i < Math.min(n, from + batch); i++) {
          const vector = new Float32Array(384)
          for (let d = 0; d < 384; d++) vector[d] = random()
          items.push({ id: `p${i}`, text: `${sentences[i % sentences.length]} ${sentences[(i * 7919 + 13) % sentences.length]}`, metadata: { shard: i % 10 }, vector })
        }
        const t = performance.now()
        await docs.add(items)
        times.push(performance.now() - t)
      }
      const count = await docs.count()
      await w.deleteCollection(`ingest-${batch}`)
      await w.dispose()
      return { times, count }
    },
    { n: N, batch, sentences },
  )
  await page.close()
  const total = r.times.reduce((a, b) => a + b, 0)
  const sorted = [...r.times].sort((a, b) => a - b)
  result.durable.push({
    batch,
    passages: N,
    count: r.count,
    seconds: +(total / 1000).toFixed(2),
    chunksPerSecond: Math.round((N / total) * 1000),
    medianAddMs: Math.round(sorted[Math.floor(sorted.length / 2)]),
    maxAddMs: Math.round(sorted.at(-1)),
  })
  console.log('durable', result.durable.at(-1))
}

// ---- 2. embedding ingest ----
result.embedding = { model: args.embedder, dtype: args.dtype, documents: abstracts.length, rows: [] }
for (const threads of [1, 2]) {
  const page = await harness()
  const r = await page.evaluate(
    async ({ model, dtype, threads, abstracts }) => {
      const w = await window.winnowApi.createWinnow({ reranker: false, embedder: { model, dtype }, device: 'wasm', threads })
      const docs = await w.collection('embed-ingest')
      await docs.add(abstracts.slice(0, 8).map((d) => ({ ...d, id: `warm-${d.id}` }))) // warm-up
      await docs.clear()
      const t = performance.now()
      const added = await docs.add(abstracts)
      const ms = performance.now() - t
      await w.deleteCollection('embed-ingest')
      await w.dispose()
      return { ms, chunks: added.chunks }
    },
    { model: args.embedder, dtype: args.dtype, threads, abstracts },
  )
  await page.close()
  result.embedding.rows.push({ runtime: `winnow Chromium WASM ${threads}T`, seconds: +(r.ms / 1000).toFixed(2), chunks: r.chunks, chunksPerSecond: +((r.chunks / r.ms) * 1000).toFixed(1) })
  console.log('embedding', result.embedding.rows.at(-1))
}
await browser.close()
server.kill()

{
  const { loadNodeModels } = await import('../dist/models/node.js')
  const { CollectionEngine } = await import('../dist/collection/engine.js')
  const { MemoryBackend } = await import('../dist/store/memory.js')
  const { createCoordination } = await import('../dist/store/coordination.js')
  const models = await loadNodeModels({ modelsDir: '.cache/models', embedder: { model: args.embedder, dtype: args.dtype } })
  const coordination = createCoordination({})
  const none = async () => {}
  const open = async (name) => CollectionEngine.open(name, { store: await new MemoryBackend().open(name), coordination, embedder: models.embedder.port }, {})
  const warm = await open('warm')
  await warm.add(abstracts.slice(0, 8), none)
  warm.close()
  const engine = await open('native')
  const t = performance.now()
  const added = await engine.add(abstracts, none)
  const ms = performance.now() - t
  engine.close()
  coordination.close()
  await models.dispose()
  result.embedding.rows.push({ runtime: 'onnxruntime-node (native)', seconds: +(ms / 1000).toFixed(2), chunks: added.chunks, chunksPerSecond: +((added.chunks / ms) * 1000).toFixed(1) })
  console.log('embedding', result.embedding.rows.at(-1))
}

mkdirSync('bench/results', { recursive: true })
writeFileSync(`bench/results/${result.date}-ingest.json`, JSON.stringify(result, null, 2) + '\n')
console.log(`\n${result.machine}, Chromium ${chromiumVersion}\n`)
console.log('| durable ingest (supplied vectors) | chunks/s | median add ms | max add ms |')
console.log('|---|---|---|---|')
for (const r of result.durable) console.log(`| adds of ${r.batch} (${r.passages} passages) | ${r.chunksPerSecond} | ${r.medianAddMs} | ${r.maxAddMs} |`)
console.log(`\n| embedding ingest (${args.embedder} ${args.dtype}, ${abstracts.length} abstracts) | seconds | chunks | chunks/s |`)
console.log('|---|---|---|---|')
for (const r of result.embedding.rows) console.log(`| ${r.runtime} | ${r.seconds} | ${r.chunks} | ${r.chunksPerSecond} |`)
console.log(`\nsaved bench/results/${result.date}-ingest.json`)
