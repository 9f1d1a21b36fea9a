// npm run bench:snapshot — what a static-site snapshot costs: build time (CLI code, Node), bytes
// on the wire, and the first visit's import into IndexedDB in Chromium (to searchable), plus a
// later visit (hash unchanged: manifest only). Two corpora: the project's docs/ (rendered to HTML
// and read back, as `winnow index` does on a built site) and SciFact (5,183 abstracts), each
// keyword-only and with the MiniLM-L6-shaped embedder (q8, 384 dims) when it is generated.
// Then format 2 (fetched as queries need it) on a synthetic 10,000-page keyword-only site (made-up
// Zipf-distributed words, bench/lib/syntheticSite.mjs: bytes, not relevance): bytes on the wire to
// open the collection and answer the first query, and for each of the next 20 (Pagefind publishes
// < 300 kB for a first query on a 10,000-page site).
// Saves bench/results/<date>-snapshot.json. Never part of the tests.
//
// And format 2 with vectors: 100,000 synthetic passages × 384 (bench/lib/lazyVectors.mjs): build
// time and peak memory in Node, bytes and time of a cold first vector query, of later ones, recall@10.
//
//   npm run bench:snapshot [-- --embedder minilm-l6-random-embedder --abstracts 5183 --site-pages 10000 --vector-passages 100000 --only-site]
//   npm run bench:snapshot -- --only-site --site-pages 0 --vector-passages 1000000 --results snapshot-1m
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { chromium } from '@playwright/test'
import { CHROMIUM_OPTIONS, serveBuiltApp } from './browser.mjs'
import { benchArgs, readCorpus } from './lib/common.mjs'

const args = benchArgs({
  embedder: { type: 'string', default: 'minilm-l6-random-embedder' },
  abstracts: { type: 'string', default: '5183' },
  'site-pages': { type: 'string', default: '10000' },
  'vector-passages': { type: 'string', default: '100000' },
  'only-site': { type: 'boolean', default: false },
  // The results file: bench/results/<date>-<results>.json (`snapshot-1m` for a run of 1M vectors alone).
  results: { type: 'string', default: 'snapshot' },
  // A folder for the vector snapshot: built there on the first run, read from there on later ones
  // (its build time and peak memory kept with it): the 1M build takes ~11 minutes. Rebuild it
  // (remove the folder) after changing the format's writer.
  'vector-snapshot': { type: 'string', default: '' },
})
const PORT = 4183
const server = await serveBuiltApp(PORT)
const { buildSnapshot } = await import('../dist/cli/buildSnapshot.js')
const { readSite, toDocuments } = await import('../dist/cli/sources.js')
const { renderDocs } = await import('../scripts/render-docs.mjs')

const modelsDir = resolve('.cache/models')
const withEmbedder = existsSync(`${modelsDir}/${args.embedder}/config.json`)
if (!withEmbedder) console.warn(`${args.embedder} not in .cache/models (npm run models:bench): keyword-only snapshots only`)

async function nodeEmbedder(model) {
  const { loadNodeModels } = await import('../dist/models/node.js')
  const models = await loadNodeModels({ modelsDir, embedder: { model, dtype: 'q8' } })
  const e = models.embedder
  return { port: e.port, info: { model, dtype: 'q8', dims: e.dims, pooling: e.pooling }, dispose: () => models.dispose() }
}

const tmp = resolve('dist-bench/snapshot-docs')
rmSync(tmp, { recursive: true, force: true })
await renderDocs('docs', tmp, {})
const corpora = args['only-site'] ? {} : {
  docs: toDocuments(await readSite(tmp, { baseUrl: 'docs/' })),
  scifact: readCorpus(args.data)
    .slice(0, Number(args.abstracts))
    .map((d) => ({ id: String(d._id), title: d.title || undefined, text: d.text })),
}

const browser = await chromium.launch(CHROMIUM_OPTIONS)
const rows = []
const embedder = withEmbedder ? await nodeEmbedder(args.embedder) : null
for (const [corpus, documents] of Object.entries(corpora)) {
  for (const variant of withEmbedder ? ['keyword', 'embedded'] : ['keyword']) {
    const e = variant === 'embedded' ? embedder : null
    const started = performance.now()
    const { manifest, files } = await buildSnapshot(documents, { embedder: e ? { port: e.port, info: e.info } : null, format: 1 })
    const buildSeconds = (performance.now() - started) / 1000
    const served = new Map(files.map((f) => [f.path, f.bytes]))
    served.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)))
    const manifestBytes = served.get('manifest.json').length
    const byKind = {}
    for (const s of manifest.shards) byKind[s.kind] = (byKind[s.kind] ?? 0) + s.bytes
    const visits = await importInChromium(served, e?.info.model ?? null)
    const row = {
      corpus,
      variant,
      documents: manifest.collection.documents,
      chunks: manifest.collection.chunks,
      shards: manifest.shards.length,
      bytes: manifest.bytes + manifestBytes,
      byKind,
      textBytes: documents.reduce((n, d) => n + new TextEncoder().encode(d.text).length, 0),
      buildSeconds,
      ...visits,
    }
    rows.push(row)
    console.log(
      `${corpus.padEnd(8)} ${variant.padEnd(9)} ${row.documents} docs, ${row.chunks} chunks, ${row.shards} shards, ${(row.bytes / 1024).toFixed(0)} KiB ` +
        `(${Object.entries(byKind).map(([k, b]) => `${k} ${(b / 1024).toFixed(0)}`).join(', ')}); build ${buildSeconds.toFixed(1)} s; ` +
        `first visit ${visits.importMs.toFixed(0)} ms, later ${visits.revisitMs.toFixed(0)} ms, query ${visits.queryMs.toFixed(1)} ms`,
    )
  }
}
await embedder?.dispose()
const lazySite = Number(args['site-pages']) > 0 ? await lazySiteBench(Number(args['site-pages'])) : null
let lazyVectors = null
if (Number(args['vector-passages']) > 0) {
  const { lazyVectorBench } = await import('./lib/lazyVectors.mjs')
  lazyVectors = await lazyVectorBench({ browser, port: PORT, n: Number(args['vector-passages']), buildSnapshot, snapshotDir: args['vector-snapshot'] || null })
  const v = lazyVectors
  console.log(
    `vectors  format 2  ${v.passages} passages × ${v.dims}, ${v.files} files, ${(v.totalBytes / 2 ** 20).toFixed(1)} MiB; build ${v.buildSeconds.toFixed(1)} s, peak RSS ${v.buildPeakRssMiB} MiB; ` +
      `cold open + first query ${(v.firstQuery.coldBytes / 1024).toFixed(0)} KiB in ${v.firstQuery.coldMs.toFixed(0)} ms; later mean ${(v.laterQueries.meanBytes / 1024).toFixed(0)} KiB, p50 ${v.laterQueries.p50Ms.toFixed(0)} ms; recall@10 ${v.recallAt10.toFixed(3)}`,
  )
  const r = v.rerank
  console.log(
    `         reranking ${r.candidates} candidates after a cold first stage (${(r.firstStage.bytes / 1024).toFixed(0)} KiB): ${(r.rerank.bytes / 1024).toFixed(0)} KiB more in ${r.rerank.requests} requests (${Object.entries(r.rerank.kinds).map(([k, b]) => `${k} ${(b / 1024).toFixed(0)} KiB`).join(', ') || 'none'})`,
  )
}
await browser.close()
server.kill()

/** Format 2 on a synthetic keyword-only site: bytes per query in a fresh profile, from the route's log. */
async function lazySiteBench(pages) {
  const { syntheticSite, siteQueries } = await import('./lib/syntheticSite.mjs')
  const { documents, words } = syntheticSite(pages)
  const started = performance.now()
  const { manifest, files } = await buildSnapshot(documents, { embedder: null, format: 2, chunking: { maxTokens: 256, headings: false } })
  const buildSeconds = (performance.now() - started) / 1000
  const served = new Map(files.map((f) => [f.path, f.bytes]))
  served.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)))
  const total = [...served.values()].reduce((n, b) => n + b.length, 0)
  const context = await browser.newContext()
  const log = []
  await context.route('**/snap/**', (route) => {
    const path = new URL(route.request().url()).pathname.replace(/^\/snap\//, '')
    const body = served.get(path)
    if (body) log.push({ path, bytes: body.length })
    return body ? route.fulfill({ status: 200, body: Buffer.from(body) }) : route.fulfill({ status: 404, body: '' })
  })
  const page = await context.newPage()
  await page.goto(`http://127.0.0.1:${PORT}/test/browser/pages/harness.html`)
  await page.waitForFunction(() => window.harnessReady === true)
  const since = () => log.splice(0).reduce((n, l) => n + l.bytes, 0)
  const t0 = performance.now()
  await page.evaluate(async () => {
    const w = await window.winnowApi.createWinnow({ reranker: false })
    window.site = await w.collection('site', { snapshot: '/snap/manifest.json' })
  })
  const openMs = performance.now() - t0
  const openBytes = since()
  const queries = siteQueries(words, 21)
  const perQuery = []
  for (const q of queries) {
    const q0 = performance.now()
    const hits = await page.evaluate(async (q) => (await window.site.search(q, { mode: 'keyword', k: 10 })).length, q)
    perQuery.push({ query: q, bytes: since(), ms: performance.now() - q0, hits })
  }
  await context.close()
  const later = perQuery.slice(1)
  const row = {
    pages,
    documents: manifest.collection.documents,
    chunks: manifest.collection.chunks,
    files: served.size,
    totalBytes: total,
    buildSeconds,
    openBytes,
    openMs,
    firstQueryBytes: openBytes + perQuery[0].bytes,
    laterQueryBytes: { mean: later.reduce((n, q) => n + q.bytes, 0) / later.length, max: Math.max(...later.map((q) => q.bytes)) },
    perQuery,
  }
  console.log(
    `site     format 2  ${pages} pages, ${row.chunks} chunks, ${row.files} files, ${(total / 1024 / 1024).toFixed(1)} MiB in all; build ${buildSeconds.toFixed(1)} s; ` +
      `open ${(openBytes / 1024).toFixed(0)} KiB (${openMs.toFixed(0)} ms), first query ${(row.firstQueryBytes / 1024).toFixed(0)} KiB with the open, ` +
      `next 20: mean ${(row.laterQueryBytes.mean / 1024).toFixed(0)} KiB, max ${(row.laterQueryBytes.max / 1024).toFixed(0)} KiB`,
  )
  return row
}

/** First visit (import to searchable) and a later one (manifest check only) in a fresh profile. */
async function importInChromium(served, model) {
  const context = await browser.newContext()
  await context.route('**/snap/**', (route) => {
    const path = new URL(route.request().url()).pathname.replace(/^\/snap\//, '')
    const body = served.get(path)
    return body ? route.fulfill({ status: 200, body: Buffer.from(body) }) : route.fulfill({ status: 404, body: '' })
  })
  const visit = async () => {
    const page = await context.newPage()
    await page.goto(`http://127.0.0.1:${PORT}/test/browser/pages/harness.html`)
    await page.waitForFunction(() => window.harnessReady === true)
    const out = await page.evaluate(async (model) => {
      const w = await window.winnowApi.createWinnow({ reranker: false, ...(model ? { embedder: { model, dtype: 'q8' } } : {}) })
      const t0 = performance.now()
      const docs = await w.collection('docs', { snapshot: '/snap/manifest.json' })
      const ms = performance.now() - t0
      const q0 = performance.now()
      await docs.search('cache offline model', { mode: 'keyword', k: 10 })
      const queryMs = performance.now() - q0
      await w.dispose()
      return { ms, queryMs }
    }, model)
    await page.close()
    return out
  }
  const first = await visit()
  const later = await visit()
  await context.close()
  return { importMs: first.ms, revisitMs: later.ms, queryMs: later.queryMs }
}

mkdirSync('bench/results', { recursive: true })
const date = new Date().toISOString().slice(0, 10)
const out = `bench/results/${date}-${args.results}.json`
writeFileSync(out, JSON.stringify({ date, part: 'snapshot', machine: await (async () => { const os = await import('node:os'); return `${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.version}` })(), embedder: withEmbedder ? args.embedder : null, rows, lazySite, lazyVectors }, null, 2) + '\n')
console.log(`saved ${out}`)
