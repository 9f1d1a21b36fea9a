// npm run bench:scale — the vector index at scale, in Chromium, beside exact search and MeMemo.
//
// For each vector set (bench/lib/vectorSets.mjs: `clustered`, `random`) and size (default 100k and
// 1M × 384), in a fresh Chromium profile through winnow's public API (worker + IndexedDB):
//   ingest     adds of 5,000 passages with vectors supplied (and ten-word synthetic texts), then
//              until no background merge runs — the merges train and write the partitions;
//   recall     recall@10 of the vector search against the exact top 10 (computed here in Node, fp32
//              brute force over the same generated rows), at the default probes and as the probes
//              grow (the SVG: recall against p50 latency);
//   latency    p50 of 50 queries, first pass and repeated (lists cached);
//   keyword    BM25 p50 of three-word queries over the synthetic texts;
//   memory     the worker's memory as Chromium measures it (measureUserAgentSpecificMemory on the
//              cross-origin isolated page) and the renderer process's resident size;
//   reopen     a new page (a new worker): collection() → first vector search, then the other
//              queries (their lists read for the first time in this worker), then all again;
//   exact      at sizes up to --exact-max (default 100k): the same rows in a collection that never
//              partitions (vectorIndex.minRows: Infinity), its p50 and recall;
//   MeMemo     at --mememo-sizes (default 10k and 100k), HNSW in IndexedDB at its defaults, built
//              in batches of 1,000 within --mememo-budget-s (default 600 s; an unfinished build
//              reports how far it got), recall@10 and p50 against the same ground truth.
// Below --small-below passages (200k) the 'ann' collection partitions from --small-min-rows
// (20,000): with the default minRows a 100k collection stays exact. --append adds to today's file.
// Saves bench/results/<date>-scale.json and <date>-scale-recall.svg. Never part of the tests.
//
//   npm run bench:scale [-- --sizes 100000,1000000 --sets clustered,random --queries 50 --probes 1,2,4,8,16,32,64]
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { chromium } from '@playwright/test'
import { CHROMIUM_OPTIONS } from './browser.mjs'
import { lineChart } from './chart.mjs'
import { benchArgs } from './lib/common.mjs'
import { vectorSet } from './lib/vectorSets.mjs'

const args = benchArgs({
  sizes: { type: 'string', default: '100000,1000000' },
  sets: { type: 'string', default: 'clustered,random' },
  queries: { type: 'string', default: '50' },
  dims: { type: 'string', default: '384' },
  seed: { type: 'string', default: '7' },
  batch: { type: 'string', default: '5000' },
  probes: { type: 'string', default: '1,2,4,8,16,32,64' },
  'exact-max': { type: 'string', default: '100000' },
  'mememo-sizes': { type: 'string', default: '10000,100000' },
  'mememo-budget-s': { type: 'string', default: '600' },
  'timeout-s': { type: 'string', default: '3600' },
  // The index's settings for the 'ann' collection: the library's defaults, except below
  // --small-below passages, where minRows is --small-min-rows (the default minRows, 50,000, is
  // reached by merges only past ~150k passages, so a 100k collection would stay exact).
  'small-below': { type: 'string', default: '200000' },
  'small-min-rows': { type: 'string', default: '20000' },
  append: { type: 'boolean', default: false },
})
const annIndex = (n) => (n < Number(args['small-below']) ? { minRows: Number(args['small-min-rows']) } : undefined)
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean)
const SIZES = list(args.sizes).map(Number)
const SETS = list(args.sets)
const Q = Number(args.queries)
const DIMS = Number(args.dims)
const SEED = Number(args.seed)
const BATCH = Number(args.batch)
const PROBES = list(args.probes).map(Number)
const K = 10
const TIMEOUT = Number(args['timeout-s']) * 1000
const PORT = 4181
const OUT_DIR = `dist-bench/scale-${PORT}`
const PAGE = `http://127.0.0.1:${PORT}/bench/pages/scale.html`
const round = (x, d = 1) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x)
const mib = (b) => (typeof b === 'number' ? round(b / 2 ** 20, 1) : b)

const git = (...a) => {
  try {
    return execFileSync('git', a, { encoding: 'utf8' }).trim()
  } catch {
    return null
  }
}
const result = {
  date: new Date().toISOString().slice(0, 10),
  commit: git('rev-parse', '--short', 'HEAD'),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model}, ${round(os.totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}`,
  sets: 'topics: n/100 subtopic centres in max(10, n/10,000) topics (subtopic ≈ 0.7 cosine to its topic), rows ≈ 0.7 cosine to their subtopic: graded neighbours as in real embeddings; clustered: n/100 unrelated centres, rows ≈ 0.7 cosine to theirs (flat: the hard case for a partition); random: Gaussian rows normalised (bench/lib/vectorSets.mjs)',
  dims: DIMS,
  queries: Q,
  runs: [],
}

// ---------------------------------------------------------------- page, server, browser

async function buildPage() {
  execFileSync('node', ['scripts/build-lib.mjs'], { stdio: 'inherit' })
  const { build } = await import('vite')
  const input = { scale: join(process.cwd(), 'bench/pages/scale.html') }
  await build({
    configFile: 'vite.config.ts',
    logLevel: 'warn',
    build: { outDir: OUT_DIR, emptyOutDir: true },
    plugins: [
      {
        name: 'scale-page-only',
        configResolved(config) {
          if (config.build.rollupOptions) config.build.rollupOptions.input = input
          if (config.build.rolldownOptions) config.build.rolldownOptions.input = input
        },
      },
    ],
  })
}

let server = null
async function ensureServer() {
  const up = () => fetch(PAGE, { method: 'HEAD' }).then((r) => r.ok, () => false)
  if (server && server.exitCode === null && (await up())) return
  server?.kill()
  server = spawn(process.execPath, ['node_modules/vite/bin/vite.js', 'preview', '--outDir', OUT_DIR, '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'], { stdio: 'ignore' })
  for (let i = 0; i < 150 && !(await up()); i++) await new Promise((r) => setTimeout(r, 200))
  if (!(await up())) throw new Error(`vite preview did not answer on port ${PORT}`)
}

const LAUNCH = { ...CHROMIUM_OPTIONS, args: [...CHROMIUM_OPTIONS.args, '--enable-blink-features=ForceEagerMeasureMemory'] }
async function openPage(profile) {
  await ensureServer()
  const context = await chromium.launchPersistentContext(profile, LAUNCH)
  const page = await context.newPage()
  page.setDefaultTimeout(TIMEOUT)
  const errors = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(PAGE)
  const ready = await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60_000 }).then(() => true, () => false)
  if (!ready) throw new Error(`${PAGE} did not load: ${errors.join('; ') || 'benchReady never set'}`)
  return { context, page }
}

/** Resident memory of the renderer processes of the browser using `profile` (the page and its worker). */
function rendererRssMiB(profile) {
  try {
    const out = execFileSync('ps', ['-eo', 'rss=,args='], { encoding: 'utf8', maxBuffer: 1 << 24 })
    const ours = out.split('\n').filter((l) => l.includes('--type=renderer') && !l.includes('--extension-process'))
    // Renderers do not carry the profile flag; the harness runs one browser at a time.
    return round(ours.reduce((s, l) => s + Number(l.trim().split(/\s+/)[0]) * 1024, 0) / 2 ** 20, 1)
  } catch {
    return null
  }
}

// ---------------------------------------------------------------- ground truth

/** Exact top-k ids of the set's queries (fp32 brute force over rows [0, n)). */
function groundTruth(kind, n) {
  const set = vectorSet(kind, { n, dims: DIMS, seed: SEED })
  const queries = Array.from({ length: Q }, (_, j) => {
    const q = new Float32Array(DIMS)
    set.row(n + j, q, 0)
    return q
  })
  const best = queries.map(() => ({ ids: new Int32Array(K).fill(-1), scores: new Float64Array(K).fill(-Infinity) }))
  const row = new Float32Array(DIMS)
  for (let i = 0; i < n; i++) {
    set.row(i, row, 0)
    for (let j = 0; j < Q; j++) {
      const q = queries[j]
      let s = 0
      for (let d = 0; d < DIMS; d++) s += q[d] * row[d]
      const b = best[j]
      if (s <= b.scores[K - 1]) continue
      let at = K - 1
      while (at > 0 && b.scores[at - 1] < s) {
        b.scores[at] = b.scores[at - 1]
        b.ids[at] = b.ids[at - 1]
        at--
      }
      b.scores[at] = s
      b.ids[at] = i
    }
  }
  return best.map((b) => Array.from(b.ids, (i) => `p${i}`))
}

const recallOf = (ids, truth) => round(ids.reduce((s, got, j) => s + got.filter((id) => truth[j].includes(id)).length, 0) / (truth.length * K), 3)

// ---------------------------------------------------------------- one run

async function run(kind, n) {
  const profile = mkdtempSync(join(os.tmpdir(), 'winnow-scale-'))
  const at = { kind, n, dims: DIMS, seed: SEED }
  const out = { set: kind, passages: n }
  try {
    let t = Date.now()
    const truth = groundTruth(kind, n)
    out.groundTruthSeconds = round((Date.now() - t) / 1000)
    let { context, page } = await openPage(profile)
    out.vectorIndex = annIndex(n) ?? 'defaults'
    out.ingest = await page.evaluate((a) => window.bench.ingest(a), { ...at, name: 'ann', batch: BATCH, vectorIndex: annIndex(n) })
    console.log(kind, n, 'ingest', JSON.stringify(out.ingest))
    const first = await page.evaluate((a) => window.bench.vectorQueries(a), { ...at, name: 'ann', count: Q })
    out.vector = { recall: recallOf(first.ids, truth), p50Ms: round(first.p50[0]), p50RepeatedMs: round(first.p50[1]), p95Ms: round(first.p95[0]), cachedMiB: mib(first.cachedBytes) }
    console.log(kind, n, 'vector', JSON.stringify(out.vector))
    out.sweep = []
    for (const probes of PROBES) {
      const r = await page.evaluate((a) => window.bench.vectorQueries(a), { ...at, name: 'ann', count: Q, probes, passes: 1 })
      out.sweep.push({ probes, recall: recallOf(r.ids, truth), p50Ms: round(r.p50[0], 2) })
    }
    console.log(kind, n, 'sweep', JSON.stringify(out.sweep))
    out.keyword = await page.evaluate((a) => window.bench.keywordQueries(a), { name: 'ann', seed: SEED, count: 30 })
    out.memory = await page.evaluate(() => window.bench.memory())
    out.memory = out.memory && { workerMiB: mib(out.memory.workerBytes), pageAndWorkerMiB: mib(out.memory.totalBytes) }
    out.rendererRssMiB = rendererRssMiB(profile)
    console.log(kind, n, 'keyword', JSON.stringify(out.keyword), 'memory', JSON.stringify(out.memory), 'rss', out.rendererRssMiB)
    await context.close()

    ;({ context, page } = await openPage(profile))
    out.reopen = await page.evaluate((a) => window.bench.reopen(a), { ...at, name: 'ann', vectorIndex: annIndex(n), count: Q })
    out.reopen = Object.fromEntries(Object.entries(out.reopen).map(([k, v]) => [k, round(v)]))
    out.memoryAfterReopen = await page.evaluate(() => window.bench.memory())
    out.memoryAfterReopen = out.memoryAfterReopen && { workerMiB: mib(out.memoryAfterReopen.workerBytes) }
    out.rendererRssAfterReopenMiB = rendererRssMiB(profile)
    console.log(kind, n, 'reopen', JSON.stringify(out.reopen), JSON.stringify(out.memoryAfterReopen), out.rendererRssAfterReopenMiB)

    if (n <= Number(args['exact-max'])) {
      t = Date.now()
      const ingest = await page.evaluate((a) => window.bench.ingest(a), { ...at, name: 'exact', batch: BATCH, vectorIndex: { minRows: Infinity } })
      const r = await page.evaluate((a) => window.bench.vectorQueries(a), { ...at, name: 'exact', count: Q })
      out.exact = { ingestSeconds: round(ingest.totalSeconds), recall: recallOf(r.ids, truth), p50Ms: round(r.p50[0]), p50RepeatedMs: round(r.p50[1]) }
      out.exact.memory = await page.evaluate(() => window.bench.memory())
      out.exact.memory = out.exact.memory && { workerMiB: mib(out.exact.memory.workerBytes) }
      console.log(kind, n, 'exact', JSON.stringify(out.exact))
    }
    await context.close()
  } catch (error) {
    out.failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    console.error(kind, n, 'failed:', out.failure)
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
  return out
}

/** MeMemo at its defaults on the same rows, in a profile of its own, within its time budget. */
async function mememoRun(kind, n) {
  const profile = mkdtempSync(join(os.tmpdir(), 'winnow-scale-'))
  const out = { set: kind, passages: n }
  try {
    const truth = groundTruth(kind, n)
    const { context, page } = await openPage(profile)
    const m = await page.evaluate((a) => window.bench.mememo(a), { kind, n, dims: DIMS, seed: SEED, count: Q, budgetMs: Number(args['mememo-budget-s']) * 1000 })
    Object.assign(out, { finished: m.finished, inserted: m.inserted, buildSeconds: round(m.buildMs / 1000), ...(m.finished ? { recall: recallOf(m.ids, truth), p50Ms: round(m.p50) } : {}) })
    await context.close()
  } catch (error) {
    out.failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
  console.log(kind, n, 'mememo', JSON.stringify(out))
  return out
}

const FILE = `bench/results/${result.date}-scale.json`
if (args.append && existsSync(FILE)) {
  const before = JSON.parse(readFileSync(FILE, 'utf8'))
  result.runs = before.runs ?? []
  result.mememo = before.mememo ?? []
}
result.mememo ??= []
await buildPage()
try {
  for (const kind of SETS) for (const n of SIZES) result.runs.push(await run(kind, n))
  for (const kind of SETS) for (const n of list(args['mememo-sizes']).map(Number)) result.mememo.push(await mememoRun(kind, n))
} finally {
  server?.kill()
}

mkdirSync('bench/results', { recursive: true })
writeFileSync(FILE, `${JSON.stringify(result, null, 2)}\n`)
const svg = lineChart({
  title: `Vector index: recall@10 against p50 latency as the probed lists grow (${DIMS} dims, Chromium)`,
  x: { label: 'p50 ms per search (worker + IndexedDB, lists read or cached)', log: true },
  y: { label: 'recall@10 vs exact', min: 0, max: 1 },
  note: `${result.date}, ${result.machine}; labels: lists probed per partitioned segment`,
  series: result.runs.filter((r) => r.sweep).map((r) => ({ name: `${r.set} ${r.passages >= 1e6 ? `${r.passages / 1e6}M` : `${r.passages / 1000}k`}`, points: r.sweep.map((s) => ({ x: s.p50Ms, y: s.recall, label: String(s.probes) })) })),
})
writeFileSync(`bench/results/${result.date}-scale-recall.svg`, svg)

console.log(`\n${result.machine}; ${DIMS} dims, ${Q} queries, k ${K}\n`)
console.log('| set | passages | ingest s (adds / total) | lists | recall@10 | p50 ms (repeated) | reopen → first result ms (first search) | keyword p50 ms | worker MiB (renderer RSS) | exact: recall, p50 ms |')
console.log('|---|---|---|---|---|---|---|---|---|---|')
for (const r of result.runs) {
  if (r.failure) {
    console.log(`| ${r.set} | ${r.passages} | failed: ${r.failure} |`)
    continue
  }
  console.log(
    `| ${r.set} | ${r.passages} | ${round(r.ingest.addSeconds)} / ${round(r.ingest.totalSeconds)} | ${r.ingest.info.lists} | ${r.vector.recall} | ${r.vector.p50Ms} (${r.vector.p50RepeatedMs}) | ${r.reopen?.toFirstResultMs} (${r.reopen?.firstSearchMs}) | ${round(r.keyword.p50, 2)} | ${r.memory?.workerMiB} (${r.rendererRssMiB}) | ${r.exact ? `${r.exact.recall}, ${r.exact.p50Ms}` : 'not run'} |`,
  )
}
for (const m of result.mememo) console.log(`MeMemo ${m.set} ${m.passages}: ${m.failure ?? (m.finished ? `built in ${m.buildSeconds} s, recall@10 ${m.recall}, p50 ${m.p50Ms} ms` : `${m.inserted} inserted in ${m.buildSeconds} s, unfinished`)}`)
console.log(`\nsaved ${FILE} and -scale-recall.svg`)
