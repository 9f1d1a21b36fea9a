// npm run bench:collection — how fast a large persistent collection reopens in Chromium.
//
// Builds a collection of N passages (default 100,000) in a Chromium profile: text from SciFact
// sentences (two per passage), caller vectors of 384 random dimensions (the embedder's cost is not
// what this measures), added in batches of 5,000. Then, for each mode, restarts the browser with
// the same profile and times `winnow.collection(name)` and the first search after it — the
// "1.5 s from collection() to the first answer" goal — and then the steady-state query time.
// Saves bench/results/<date>-collection.json. Never part of the tests.
//
//   npm run bench:collection [-- --passages 100000 --batch 5000]
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { chromium } from '@playwright/test'
import { CHROMIUM_OPTIONS, serveBuiltApp } from './browser.mjs'
import { benchArgs, readCorpus, readQueries, sentencesOf } from './lib/common.mjs'

const args = benchArgs({
  passages: { type: 'string', default: '100000' },
  batch: { type: 'string', default: '5000' },
  dims: { type: 'string', default: '384' },
})
const N = Number(args.passages)
const BATCH = Number(args.batch)
const DIMS = Number(args.dims)
const PORT = 4176
const NAME = 'bench-big'

// ---- text: SciFact sentences, two per passage ----
const sentences = sentencesOf(readCorpus(args.data))
const queries = readQueries(args.data).slice(0, 40).map((q) => q.text)

// ---- serve the built harness ----
const server = await serveBuiltApp(PORT)

const profile = mkdtempSync(join(os.tmpdir(), 'winnow-bench-'))
/** Bytes under the profile's IndexedDB folder (LevelDB files and out-of-line blobs), browser closed. */
function diskMiB() {
  const walk = (dir) => readdirSync(dir, { withFileTypes: true }).reduce((sum, e) => sum + (e.isDirectory() ? walk(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0)
  return +(walk(join(profile, 'Default', 'IndexedDB')) / 2 ** 20).toFixed(1)
}
const launch = () =>
  chromium.launchPersistentContext(profile, CHROMIUM_OPTIONS)
async function harness(context) {
  const page = await context.newPage()
  await page.goto(`http://127.0.0.1:${PORT}/test/browser/pages/harness.html`)
  await page.waitForFunction(() => window.harnessReady === true)
  await page.evaluate(async () => {
    window.winnow = await window.winnowApi.createWinnow({ reranker: false })
  })
  return page
}

const result = { date: new Date().toISOString().slice(0, 10), machine: `${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.version}`, passages: N, dims: DIMS }
try {
  // ---- build ----
  let context = await launch()
  let page = await harness(context)
  const build = await page.evaluate(
    async ({ n, batch, dims, sentences, name }) => {
      const docs = await window.winnow.collection(name, { chunking: false })
      let seed = 42
      const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1
      const times = []
      for (let from = 0; from < n; from += batch) {
        const items = []
        for (let i = from; i < Math.min(n, from + batch); i++) {
          const vector = new Float32Array(dims)
          for (let d = 0; d < dims; d++) vector[d] = random()
          items.push({ id: `p${i}`, text: `${sentences[i % sentences.length]} ${sentences[(i * 7919 + 13) % sentences.length]}`, metadata: { shard: i % 10 }, vector })
        }
        const t = performance.now()
        await docs.add(items)
        times.push(performance.now() - t)
      }
      const estimate = await navigator.storage.estimate()
      return { addMs: times, count: await docs.count(), usageBytes: estimate.usage }
    },
    { n: N, batch: BATCH, dims: DIMS, sentences, name: NAME },
  )
  await context.close()
  // The add-latency distribution while background merges run (issue 16: no add waits for a merge).
  const sortedAdds = [...build.addMs].sort((a, b) => a - b)
  const at = (q) => Math.round(sortedAdds[Math.min(sortedAdds.length - 1, Math.floor(q * sortedAdds.length))])
  const addLatency = { p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), maxMs: Math.round(sortedAdds.at(-1)), p99OverMedian: +(at(0.99) / at(0.5)).toFixed(2) }
  // usageMiB is what estimate() says right after the last add (LevelDB logs not yet compacted
  // count); diskMiB is the profile's IndexedDB folder once the browser has closed, and again after
  // the three reopens below (diskAfterReopensMiB), by when LevelDB has usually compacted.
  result.build = { totalSeconds: build.addMs.reduce((a, b) => a + b, 0) / 1000, perBatchMs: build.addMs.map(Math.round), addLatency, count: build.count, usageMiB: +(build.usageBytes / 2 ** 20).toFixed(1), diskMiB: diskMiB() }
  console.log('built', result.build)

  // ---- reopen, per mode, each in a freshly started browser ----
  result.reopen = {}
  for (const mode of ['keyword', 'vector', 'hybrid']) {
    context = await launch()
    page = await harness(context)
    const r = await page.evaluate(
      async ({ mode, queries, dims, name }) => {
        const vectorFor = (q) => {
          let h = 2166136261
          for (const c of q) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0
          const v = new Float32Array(dims)
          for (let d = 0; d < dims; d++) v[d] = (((h = (h * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2) - 1
          return v
        }
        const options = (q) => ({ mode, k: 10, ...(mode === 'keyword' ? {} : { vector: vectorFor(q) }) })
        const t0 = performance.now()
        const docs = await window.winnow.collection(name)
        const t1 = performance.now()
        const first = await docs.search(queries[0], options(queries[0]))
        const t2 = performance.now()
        const times = []
        for (const q of queries.slice(1)) {
          const t = performance.now()
          await docs.search(q, options(q))
          times.push(performance.now() - t)
        }
        times.sort((a, b) => a - b)
        const filtered = performance.now()
        await docs.search(queries[1], { ...options(queries[1]), filter: { shard: 3 } })
        return {
          openMs: t1 - t0,
          firstQueryMs: t2 - t1,
          openToFirstAnswerMs: t2 - t0,
          hits: first.length,
          p50Ms: times[Math.floor(times.length / 2)],
          p95Ms: times[Math.floor(times.length * 0.95)],
          filteredMs: performance.now() - filtered,
        }
      },
      { mode, queries, dims: DIMS, name: NAME },
    )
    await context.close()
    result.reopen[mode] = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 10) / 10 : v]))
    console.log(mode, result.reopen[mode])
  }
  result.build.diskAfterReopensMiB = diskMiB()
} finally {
  server.kill()
  rmSync(profile, { recursive: true, force: true })
}

// What the worker holds per collection (see src/collection/chunkTable.ts): int8 codes + a scale per
// vector, and ~30 bytes of typed arrays per chunk, plus ids and metadata objects.
result.workerMemoryEstimateMiB = +((N * (DIMS + 4 + 4 + 4 + 4 + 1 + 4 + 4 + 4)) / 2 ** 20).toFixed(1)
mkdirSync('bench/results', { recursive: true })
writeFileSync(`bench/results/${result.date}-collection.json`, JSON.stringify(result, null, 2) + '\n')
console.log(`\n${N} passages × ${DIMS} dims, ${result.machine}; IndexedDB ${result.build.usageMiB} MiB; built in ${result.build.totalSeconds.toFixed(1)} s\n`)
console.log('| mode | collection() ms | first search ms | collection() → first answer ms | then p50 ms | p95 ms | filtered ms |')
console.log('|---|---|---|---|---|---|---|')
for (const [mode, r] of Object.entries(result.reopen)) {
  console.log(`| ${mode} | ${r.openMs} | ${r.firstQueryMs} | **${r.openToFirstAnswerMs}** | ${r.p50Ms} | ${r.p95Ms} | ${r.filteredMs} |`)
}
console.log(`\nsaved bench/results/${result.date}-collection.json`)
