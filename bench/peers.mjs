// node bench/peers.mjs — winnow and its peers (Orama, MiniSearch) in the same Chromium run, on the
// same inputs. Three parts, each in its own fresh persistent profile:
//
//   vector  exact top-10 over N × 384 unit vectors (seeded; a random set and a clustered set), 50
//           queries, p50/p95 and recall@10 against a plain fp32 scan: winnow's kernel (int8
//           scanQuantized + fp32 rescoreExact over 64-row blocks, with the codes in the WebAssembly
//           arena as ChunkTable places them, and as plain JS blocks), the plain JS fp32 scan,
//           Orama's vector search (insert time too), and winnow end to end (worker + IndexedDB,
//           public API; also each query repeated, i.e. with its fp32 blocks cached).
//   bm25    SciFact (title + text, 300 test claims): build time, query p50/p95, stored size,
//           nDCG@10: winnow (keyword mode), MiniSearch and Orama, each with its default analyzer and
//           with one closer to winnow's (stemming + English stop words).
//   reopen  100k passages of bench/collection-reopen.mjs (two SciFact sentences each; Orama also
//           with the 384-d vectors): built and stored in IndexedDB, then, in a restarted browser
//           with the same profile, read + restore + first search, then the steady-state p50.
//           winnow's own figure comes from bench/collection-reopen.mjs (shown for reference only).
//
// Each step runs in one page.evaluate under a time limit; a step that throws, crashes the page or
// runs out of time is recorded under `failures` in the JSON and the run goes on. The page
// (bench/pages/peers.js) is built alone, see buildPeersPage. Saves bench/results/<date>-peers.json
// (figures raw, in ms and bytes). Never part of the tests. About 12 minutes with the defaults.
//
//   node bench/peers.mjs [--only vector,bm25,reopen] [--sizes 10000,100000] [--sets random,clustered]
//     [--e2e-sets random,clustered] [--queries 50] [--orama-similarity -1,0] [--reopen-passages 100000]
//     [--reopen-variants minisearch,orama-keyword,orama-vectors,orama-vectors-raw]
//     [--reopen-modes keyword,vector,hybrid] [--timeout-s 1200] [--data ../shared/datasets/scifact]
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { chromium } from '@playwright/test'
import { CHROMIUM_OPTIONS } from './browser.mjs'
import { benchArgs, readCorpus, readJsonl, sentencesOf } from './lib/common.mjs'

const args = benchArgs({
  only: { type: 'string', default: 'vector,bm25,reopen' },
  sizes: { type: 'string', default: '10000,100000' },
  sets: { type: 'string', default: 'random,clustered' },
  'e2e-sets': { type: 'string', default: 'random,clustered' },
  queries: { type: 'string', default: '50' },
  dims: { type: 'string', default: '384' },
  seed: { type: 'string', default: '7' },
  batch: { type: 'string', default: '5000' },
  'orama-similarity': { type: 'string', default: '-1,0' },
  'reopen-passages': { type: 'string', default: '100000' },
  'reopen-variants': { type: 'string', default: 'minisearch,orama-keyword,orama-vectors,orama-vectors-raw' },
  'reopen-modes': { type: 'string', default: 'keyword,vector,hybrid' },
  'reopen-queries': { type: 'string', default: '40' },
  'timeout-s': { type: 'string', default: '1200' },
})
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean)
const ONLY = new Set(list(args.only))
const SIZES = list(args.sizes).map(Number)
const SETS = list(args.sets)
const E2E_SETS = new Set(list(args['e2e-sets']))
const Q = Number(args.queries)
const DIMS = Number(args.dims)
const K = 10
const TIMEOUT_MS = Number(args['timeout-s']) * 1000
const PORT = 4178
const PAGE_URL = `http://127.0.0.1:${PORT}/bench/pages/peers.html`
for (const part of ONLY) if (!['vector', 'bm25', 'reopen'].includes(part)) throw new Error(`--only: unknown part ${part}`)

// ---------------------------------------------------------------- bookkeeping

const round = (x, digits = 1) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x)
const mib = (bytes) => (typeof bytes === 'number' ? round(bytes / 2 ** 20, 1) : bytes)
const version = (pkg) => JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, 'utf8')).version
const git = (...a) => {
  try {
    return execFileSync('git', a, { encoding: 'utf8' }).trim()
  } catch {
    return null
  }
}

const result = {
  date: new Date().toISOString().slice(0, 10),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model}, ${round(os.totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}`,
  loadAverageAtStart: os.loadavg().map((x) => round(x, 2)),
  command: `node bench/peers.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  chromium: null,
  packages: {
    winnow: JSON.parse(readFileSync('package.json', 'utf8')).version,
    '@orama/orama': version('@orama/orama'),
    '@orama/plugin-data-persistence': version('@orama/plugin-data-persistence'),
    minisearch: version('minisearch'),
    '@playwright/test': version('@playwright/test'),
  },
  git: { commit: git('rev-parse', 'HEAD'), dirty: (git('status', '--porcelain', '--', 'src') ?? '').split('\n').filter(Boolean) },
  settings: { sizes: SIZES, sets: SETS, e2eSets: [...E2E_SETS], queries: Q, dims: DIMS, k: K, seed: Number(args.seed) },
  failures: [],
}

// ---------------------------------------------------------------- browser sessions

/** A persistent-profile Chromium with the peers page open; relaunched after a failed step. */
class Session {
  constructor(profile) {
    this.profile = profile
    this.context = null
    this.page = null
  }

  async open() {
    if (this.page) return this.page
    await ensureServer()
    this.context = await chromium.launchPersistentContext(this.profile, {
      ...CHROMIUM_OPTIONS,
      args: [...CHROMIUM_OPTIONS.args, '--enable-precise-memory-info', '--js-flags=--expose-gc'],
    })
    this.page = this.context.pages()[0] ?? (await this.context.newPage())
    this.page.on('crash', () => console.error('  (page crashed)'))
    this.page.on('pageerror', (e) => console.error(`  (page error: ${e.message})`))
    await this.page.goto(PAGE_URL)
    await this.page.waitForFunction(() => window.benchReady === true, null, { timeout: 60_000 })
    return this.page
  }

  async close() {
    const context = this.context
    this.context = null
    this.page = null
    if (context) await context.close().catch(() => {})
  }
}

/**
 * Runs `fn(arg)` in the session's page within `timeoutMs`. On error or timeout, records the failure,
 * closes the browser (so a runaway step stops) and returns null.
 */
async function step(label, session, fn, arg, timeoutMs = TIMEOUT_MS) {
  const started = Date.now()
  process.stdout.write(`${label} … `)
  let timer
  try {
    const page = await session.open()
    const value = await Promise.race([
      page.evaluate(fn, arg),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs))),
    ])
    console.log(`${((Date.now() - started) / 1000).toFixed(1)} s`)
    return value
  } catch (e) {
    const error = String(e?.message ?? e).split('\n')[0]
    console.log(`FAILED after ${((Date.now() - started) / 1000).toFixed(1)} s: ${error}`)
    result.failures.push({ step: label, error, seconds: round((Date.now() - started) / 1000) })
    await session.close()
    return null
  } finally {
    clearTimeout(timer)
  }
}

function duBytes(dir) {
  if (!existsSync(dir)) return null
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    total += entry.isDirectory() ? duBytes(p) : statSync(p).size
  }
  return total
}
const idbDir = (profile) => join(profile, 'Default', 'IndexedDB')

// ---------------------------------------------------------------- data

// ---------------------------------------------------------------- 1. vector

async function vectorPart() {
  const profile = mkdtempSync(join(os.tmpdir(), 'winnow-peers-vector-'))
  const session = new Session(profile)
  const out = []
  const similarities = list(args['orama-similarity']).map(Number)
  try {
    for (const set of SETS) {
      for (const n of SIZES) {
        const row = { set, n, dims: DIMS, queries: Q }
        const spec = { set, n, dims: DIMS, queries: Q, seed: Number(args.seed), k: K }
        const prepare = () => step(`vector ${set} ${n}: generate + plain JS fp32 scan`, session, (s) => window.bench.vector.prepare(s), spec)
        // A step that failed closed the browser; the set lives in the page, so make it again.
        const ensure = async () => session.page !== null || (await prepare()) !== null
        const prepared = await prepare()
        if (prepared) {
          row.generateMs = prepared.generateMs
          row.plainJs = { ...prepared.brute, recall: 1 }
        }
        if (await ensure()) row.winnowKernelWasm = await step(`vector ${set} ${n}: winnow kernel (WASM SIMD arena)`, session, (a) => window.bench.vector.kernel(a), { wasm: true })
        if (await ensure()) row.winnowKernelJs = await step(`vector ${set} ${n}: winnow kernel (JS loop)`, session, (a) => window.bench.vector.kernel(a), { wasm: false })
        if (await ensure()) row.orama = await step(`vector ${set} ${n}: Orama`, session, (a) => window.bench.vector.orama(a), { similarities })
        if (E2E_SETS.has(set) && (await ensure())) {
          row.winnowEndToEnd = await step(`vector ${set} ${n}: winnow end to end`, session, (a) => window.bench.vector.endToEnd(a), { batch: Number(args.batch) })
        }
        await session.page?.evaluate(() => window.bench.vector.release()).catch(() => {})
        out.push(row)
      }
    }
    await session.page?.evaluate(() => window.bench.dispose()).catch(() => {})
  } finally {
    await session.close()
    rmSync(profile, { recursive: true, force: true })
  }
  return out
}

// ---------------------------------------------------------------- 2. bm25

async function bm25Part() {
  const corpus = readJsonl(`${args.data}/corpus.jsonl`)
  const docs = corpus.map((d) => ({ id: String(d._id), title: d.title ?? '', text: d.text ?? '' }))
  const qrels = new Map()
  for (const line of readFileSync(`${args.data}/qrels/test.tsv`, 'utf8').trim().split('\n').slice(1)) {
    const [qid, docId, score] = line.split('\t')
    if (!qrels.has(qid)) qrels.set(qid, [])
    qrels.get(qid).push([docId, Number(score)])
  }
  const queries = readJsonl(`${args.data}/queries.jsonl`).map((q) => ({ id: String(q._id), text: q.text })).filter((q) => qrels.has(q.id))
  const input = { docs, queries, qrels: [...qrels] }
  const out = {
    documents: docs.length,
    queries: queries.length,
    corpusTextBytes: docs.reduce((n, d) => n + Buffer.byteLength(d.title) + Buffer.byteLength(d.text), 0),
    rows: [],
  }

  const profile = mkdtempSync(join(os.tmpdir(), 'winnow-peers-bm25-'))
  const session = new Session(profile)
  try {
    const w = await step('bm25 winnow', session, (a) => window.bench.bm25.winnow(a), { ...input, batch: 1000 })
    if (w) {
      await session.page?.evaluate(() => window.bench.dispose()).catch(() => {})
      await session.close()
      w.indexedDbOnDiskBytes = duBytes(idbDir(profile))
    }
    out.rows.push({ engine: 'winnow', analyzer: 'winnow default (stemming, Lucene stop words)', ...(w ?? { failed: true }) })
    for (const variant of ['default', 'winnow-analyzer']) {
      const r = await step(`bm25 MiniSearch (${variant})`, session, (a) => window.bench.bm25.minisearch(a), { ...input, variant })
      out.rows.push({ engine: 'MiniSearch', analyzer: variant === 'default' ? 'default (lowercase, no stemming, no stop words)' : "winnow's analyzer (tokenize = analyzer.terms)", ...(r ?? { failed: true }) })
    }
    for (const variant of ['default', 'stem-stop']) {
      const r = await step(`bm25 Orama (${variant})`, session, (a) => window.bench.bm25.orama(a), { ...input, variant })
      out.rows.push({ engine: 'Orama', analyzer: variant === 'default' ? 'default (lowercase, no stemming, no stop words)' : "Orama's English stemmer + winnow's stop words", ...(r ?? { failed: true }) })
    }
  } finally {
    await session.close()
    rmSync(profile, { recursive: true, force: true })
  }
  return out
}

// ---------------------------------------------------------------- 3. reopen

async function reopenPart() {
  const n = Number(args['reopen-passages'])
  const sentences = sentencesOf(readCorpus(args.data))
  const queries = readJsonl(`${args.data}/queries.jsonl`).slice(0, Number(args['reopen-queries'])).map((q) => q.text)
  const variants = list(args['reopen-variants'])
  const modes = list(args['reopen-modes'])
  const out = { passages: n, dims: DIMS, builds: {}, opens: [] }
  const profile = mkdtempSync(join(os.tmpdir(), 'winnow-peers-reopen-'))
  const session = new Session(profile)
  try {
    for (const variant of variants) {
      // One browser per build, so that one peer's heap does not weigh on the next.
      const b = await step(`reopen build ${variant} (${n})`, session, (a) => window.bench.reopen.build(a), { variant, n, dims: DIMS, sentences })
      await session.close()
      out.builds[variant] = b ?? { failed: true }
      if (b?.error) {
        console.log(`  ${b.error}`)
        result.failures.push({ step: `reopen build ${variant}`, error: b.error })
      }
    }
    out.indexedDbOnDiskBytes = duBytes(idbDir(profile))
    for (const variant of variants) {
      const b = out.builds[variant]
      if (!b || b.failed || b.error) continue
      const variantModes = variant.startsWith('orama-vectors') ? modes : modes.filter((m) => m === 'keyword')
      for (const mode of variantModes) {
        await session.close() // a freshly started browser, same profile
        const r = await step(`reopen open ${variant} ${mode}`, session, (a) => window.bench.reopen.open(a), { variant, mode, queries, dims: DIMS })
        out.opens.push({ variant, mode, ...(r ?? { failed: true }) })
      }
    }
  } finally {
    await session.close()
    rmSync(profile, { recursive: true, force: true })
  }
  return out
}

// ---------------------------------------------------------------- run

/**
 * Builds the peers page alone (the repo's vite.config.ts, one input) into dist-bench/peers-<port>/
 * and serves it with `vite preview`, cross-origin isolated as serveBuiltApp serves the others. Not
 * serveBuiltApp itself: the page imports src/ directly (no dist/ needed), and Orama's persistence
 * plugin needs `dpack` resolved to its browser entry (its main entry imports Node's `stream`, and
 * the bundle then throws "Class extends value undefined" on load).
 */
async function buildPeersPage() {
  const { build } = await import('vite')
  const input = { peers: join(process.cwd(), 'bench/pages/peers.html') }
  await build({
    configFile: 'vite.config.ts',
    logLevel: 'warn',
    resolve: { alias: [{ find: /^dpack$/, replacement: 'dpack/browser.js' }] },
    build: { outDir: OUT_DIR, emptyOutDir: true },
    plugins: [
      {
        name: 'peers-page-only',
        configResolved(config) {
          if (config.build.rollupOptions) config.build.rollupOptions.input = input
          if (config.build.rolldownOptions) config.build.rolldownOptions.input = input
        },
      },
    ],
  })
}

const OUT_DIR = `dist-bench/peers-${PORT}`
let server = null
/** (Re)starts `vite preview` when it is not answering; resolves once it answers. */
async function ensureServer() {
  const up = () => fetch(PAGE_URL, { method: 'HEAD' }).then((r) => r.ok, () => false)
  if (server && server.exitCode === null && (await up())) return
  if (server && server.exitCode === null) server.kill()
  server = spawn(process.execPath, ['node_modules/vite/bin/vite.js', 'preview', '--outDir', OUT_DIR, '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'], { stdio: 'ignore' })
  for (let i = 0; i < 150 && !(await up()); i++) await new Promise((r) => setTimeout(r, 200))
  if (!(await up())) throw new Error(`vite preview did not answer on port ${PORT} (is the port taken?)`)
}

await buildPeersPage()
await ensureServer()
try {
  // Fail fast, with the page's own error, if it does not load.
  const browser = await chromium.launch(CHROMIUM_OPTIONS)
  result.chromium = browser.version()
  const page = await browser.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(PAGE_URL)
  const ready = await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60_000 }).then(() => true, () => false)
  if (!ready) throw new Error(`${PAGE_URL} did not load: ${errors.join('; ') || 'window.benchReady never set'}`)
  result.oramaPersistencePlugin = await page.evaluate(() => window.bench.persistence)
  if (!result.oramaPersistencePlugin.loaded) console.error(`@orama/plugin-data-persistence did not load: ${result.oramaPersistencePlugin.error}`)
  await browser.close()
  if (ONLY.has('vector')) result.vector = await vectorPart()
  if (ONLY.has('bm25')) result.bm25 = await bm25Part()
  if (ONLY.has('reopen')) result.reopen = await reopenPart()
} finally {
  server?.kill()
}
result.loadAverageAtEnd = os.loadavg().map((x) => round(x, 2))

mkdirSync('bench/results', { recursive: true })
const file = `bench/results/${result.date}-peers.json`
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`)

// ---------------------------------------------------------------- tables

const ms = (x) => (typeof x === 'number' ? `${round(x, x < 10 ? 2 : 1)}` : '—')
const secs = (x) => (typeof x !== 'number' ? '—' : x < 10_000 ? `${Math.round(x)} ms` : `${round(x / 1000, 1)} s`)
const rec = (x) => (typeof x === 'number' ? x.toFixed(3) : '—')
console.log(`\n${result.machine}; Chromium ${result.chromium}; load average ${result.loadAverageAtStart.join(' ')} at start`)
console.log(`Orama ${result.packages['@orama/orama']}, plugin-data-persistence ${result.packages['@orama/plugin-data-persistence']}, MiniSearch ${result.packages.minisearch}`)

if (result.vector) {
  console.log(`\n### Exact vector top-${K}, ${DIMS} dims, ${Q} queries (ms per query)\n`)
  console.log('| set | vectors | method | build / insert | p50 | p95 | recall@10 |')
  console.log('|---|---|---|---|---|---|---|')
  for (const r of result.vector) {
    const line = (method, build, x, recall) => console.log(`| ${r.set} | ${r.n.toLocaleString('en')} | ${method} | ${build} | ${ms(x?.p50)} | ${ms(x?.p95)} | ${rec(recall ?? x?.recall)} |`)
    line('plain JS fp32 scan (exact)', '—', r.plainJs)
    for (const [label, x] of [['WASM SIMD arena', r.winnowKernelWasm], ['JS loop', r.winnowKernelJs]]) {
      if (x) line(`winnow kernel, ${label}: int8 scan (p50 ${ms(x.scanP50)}) + fp32 rescore of ${x.candidates}`, `quantize ${secs(x.buildMs)}`, x)
      else line(`winnow kernel, ${label}`, 'FAILED', null)
    }
    if (r.orama) {
      for (const [sim, x] of Object.entries(r.orama.bySimilarity)) line(`Orama vector, similarity ${sim} (${round(x.hitsPerQuery, 1)} hits)`, `insert ${secs(r.orama.insertMs)}`, x)
    } else line('Orama vector', 'FAILED', null)
    if (E2E_SETS.has(r.set)) {
      const e = r.winnowEndToEnd
      if (e) line(`winnow end to end (search('', { mode: 'vector' }); snippet: false p50 ${ms(e.noSnippetP50)}; same query again p50 ${ms(e.repeatedQueryP50)})`, `add ${secs(e.addSeconds * 1000)}, storage ≈ +${mib(e.usageBytes)} MiB`, e)
      else line('winnow end to end', 'FAILED', null)
    }
  }
}

if (result.bm25) {
  const b = result.bm25
  console.log(`\n### BM25 on SciFact: ${b.documents} documents (title + text, ${mib(b.corpusTextBytes)} MiB of text), ${b.queries} test claims, top 10\n`)
  console.log('| engine | analyzer | build ms | query p50 ms | p95 ms | stored size | nDCG@10 |')
  console.log('|---|---|---|---|---|---|---|')
  for (const r of b.rows) {
    if (r.failed) {
      console.log(`| ${r.engine} | ${r.analyzer} | FAILED | | | | |`)
      continue
    }
    let size
    if (r.engine === 'winnow') size = `${mib(r.usageAfterQueriesBytes)} MiB storage.estimate() delta; ${mib(r.indexedDbOnDiskBytes)} MiB IndexedDB dir on disk (with texts)`
    else if (r.engine === 'MiniSearch') size = `${mib(r.jsonBytes)} MiB JSON (no texts)`
    else size = `${mib(r.sizes.json?.bytes)} MiB JSON, ${mib(r.sizes.binary?.bytes)} MiB msgpack (with texts)`
    const p50 = r.engine === 'winnow' ? `${ms(r.p50)} (snippet: false ${ms(r.noSnippetP50)})` : ms(r.p50)
    console.log(`| ${r.engine} | ${r.analyzer} | ${ms(r.buildMs)} | ${p50} | ${ms(r.p95)} | ${size} | ${rec(r.ndcg10)} |`)
  }
}

if (result.reopen) {
  const r = result.reopen
  console.log(`\n### Reopen ${r.passages.toLocaleString('en')} passages in a restarted browser (same profile), to the first answer\n`)
  console.log('| peer | stored in IndexedDB | build s | serialize + store s | mode | read ms | restore ms | first search ms | read → first answer ms | then p50 ms | p95 ms | JS heap MiB |')
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|')
  for (const [variant, b] of Object.entries(r.builds)) {
    const opens = r.opens.filter((o) => o.variant === variant)
    const stored = b.error || b.failed ? `FAILED: ${b.error ?? 'see failures'}` : `${b.bytes ? `${mib(b.bytes)} MiB string; ` : ''}+${mib(b.usageBytes)} MiB usage`
    const head = `| ${variant} | ${stored} | ${b.failed ? '—' : round(b.buildMs / 1000, 1)} | ${b.failed ? '—' : round(((b.serializeMs ?? 0) + (b.storeMs ?? 0)) / 1000, 1)}`
    if (opens.length === 0) console.log(`${head} | | | | | | | | |`)
    for (const o of opens) {
      if (o.failed) console.log(`${head} | ${o.mode} | FAILED | | | | | | |`)
      else console.log(`${head} | ${o.mode} | ${ms(o.readMs)} | ${ms(o.restoreMs)} | ${ms(o.firstQueryMs)} | **${ms(o.openToFirstAnswerMs)}** | ${ms(o.p50Ms)} | ${ms(o.p95Ms)} | ${mib(o.heapBytes)} |`)
    }
  }
  // For reference only: winnow's own figures, measured by bench/collection-reopen.mjs (not here).
  const saved = existsSync('bench/results') ? readdirSync('bench/results').filter((f) => f.endsWith('-collection.json')).sort() : []
  if (saved.length > 0) {
    const c = JSON.parse(readFileSync(`bench/results/${saved.at(-1)}`, 'utf8'))
    console.log(`\nwinnow, from bench/results/${saved.at(-1)} (bench/collection-reopen.mjs, ${c.passages} passages, IndexedDB ${c.build?.usageMiB} MiB, built in ${round(c.build?.totalSeconds, 1)} s; not measured in this run):`)
    for (const [mode, x] of Object.entries(c.reopen ?? {})) console.log(`  ${mode}: collection() ${x.openMs} ms + first search ${x.firstQueryMs} ms = ${x.openToFirstAnswerMs} ms; then p50 ${x.p50Ms} ms`)
  }
}

if (result.failures.length > 0) {
  console.log('\nFailures:')
  for (const f of result.failures) console.log(`- ${f.step}: ${f.error}`)
}
console.log(`\nsaved ${file}`)
