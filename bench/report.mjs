// Merges the latest results of each benchmark (bench/results/<date>-<part>.json) into
// bench/results/<date>.json, a markdown report bench/results/<date>.md and SVG charts
// bench/results/<date>-<chart>.svg, with the goals of the project checked against the figures.
//
//   node bench/report.mjs [--date 2026-11-22]
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { barChart } from './chart.mjs'

const PARTS = ['rerank', 'ingest', 'peers', 'collection', 'search', 'size']
const { values: args } = parseArgs({ options: { date: { type: 'string' }, dir: { type: 'string', default: 'bench/results' } } })
const dir = args.dir

/** The newest file of each part (or the one of --date). */
function latest(part) {
  const files = readdirSync(dir)
    .filter((f) => new RegExp(`^\\d{4}-\\d{2}-\\d{2}-${part}\\.json$`).test(f))
    .sort()
  const file = args.date ? files.find((f) => f.startsWith(args.date)) : files.at(-1)
  return file ? { file, ...JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) } : null
}

const parts = Object.fromEntries(PARTS.map((p) => [p, latest(p)]))
const date = args.date ?? PARTS.map((p) => parts[p]?.date).filter(Boolean).sort().at(-1)
if (!date) throw new Error(`no results in ${dir}; run npm run bench first`)
const md = []
const charts = {}
const goals = []
const ms = (v) => (v === undefined || v === null ? '—' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1))
const x = (v) => `${v.toFixed(2)}×`
const goal = (name, target, measured, met, why = '') => goals.push({ name, target, measured, met, why })

md.push(`# winnow benchmarks, ${date}`, '')
const machine = parts.rerank?.machine ?? parts.ingest?.machine ?? parts.collection?.machine
md.push(`Machine: ${machine}${parts.ingest?.chromium ? `, Chromium ${parts.ingest.chromium}` : ''}. Every peer below was measured in the same run as winnow, on the same inputs. Command: \`npm run bench\`. Sources: ${PARTS.filter((p) => parts[p]).map((p) => `\`${parts[p].file}\``).join(', ')}.`, '')

// ---------------------------------------------------------------- rerank
const rr = parts.rerank
if (rr) {
  md.push(`## Rerank ${rr.passages} SciFact candidates (${rr.model}, mean ${rr.meanPassageChars} characters)`, '')
  md.push('| runtime | dtype | p50 ms | p95 ms | pairs/s | max \\|Δ logit\\| (batched vs alone, or vs winnow) |', '|---|---|---|---|---|---|')
  for (const r of rr.rows) {
    const agreement = r.batchVsAlone ?? r.vsWinnow
    md.push(`| ${r.runtime} | ${r.dtype} | ${ms(r.p50)} | ${ms(r.p95)} | ${r.pairsPerSecond} | ${agreement ? agreement.maxDelta.toExponential(1) : '—'} |`)
  }
  md.push('', `WebGPU: ${rr.webgpu ?? 'not measured'}.`, '')
  const dtypes = [...new Set(rr.rows.map((r) => r.dtype))]
  charts.rerank = barChart({
    title: `Rerank ${rr.passages} SciFact candidates, MiniLM-L6 shape (p50, lower is better)`,
    unit: 'ms',
    groups: dtypes.map((dtype) => ({ name: dtype, bars: rr.rows.filter((r) => r.dtype === dtype).map((r) => ({ label: r.runtime.replace('Chromium ', ''), value: r.p50, series: r.runtime.startsWith('winnow') ? 0 : r.runtime.startsWith('naive') ? 1 : 2 })) })),
    note: machine,
  })
  for (const dtype of dtypes) {
    const find = (prefix) => rr.rows.find((r) => r.dtype === dtype && r.runtime.startsWith(prefix))
    const winnow = find('winnow Chromium WASM 2T')
    const naive = find('naive transformers.js Chromium WASM 2T')
    const native = find('onnxruntime-node')
    if (winnow && naive) goal(`rerank ${dtype}: vs naive transformers.js (2 threads)`, '≥ 1.5× faster', `${x(naive.p50 / winnow.p50)} (${ms(winnow.p50)} vs ${ms(naive.p50)} ms)`, naive.p50 / winnow.p50 >= 1.5)
    if (winnow && native) goal(`rerank ${dtype}: vs native onnxruntime-node`, 'within 4×', `${x(winnow.p50 / native.p50)} (${ms(winnow.p50)} vs ${ms(native.p50)} ms)`, winnow.p50 / native.p50 <= 4)
  }
}

// ---------------------------------------------------------------- ingest
const ing = parts.ingest
if (ing) {
  md.push('## Ingest', '', '| durable ingest, supplied 384-d vectors, strict-durability commits | chunks/s | median add ms | max add ms |', '|---|---|---|---|')
  for (const r of ing.durable) md.push(`| adds of ${r.batch.toLocaleString('en-US')} (${r.passages.toLocaleString('en-US')} passages) | ${r.chunksPerSecond.toLocaleString('en-US')} | ${ms(r.medianAddMs)} | ${ms(r.maxAddMs)} |`)
  md.push('', `| embedding ingest, ${ing.embedding.model} ${ing.embedding.dtype}, ${ing.embedding.documents} SciFact abstracts, 256-token chunks | seconds | chunks | chunks/s |`, '|---|---|---|---|')
  for (const r of ing.embedding.rows) md.push(`| ${r.runtime} | ${r.seconds} | ${r.chunks} | ${r.chunksPerSecond} |`)
  md.push('')
  const best = Math.max(...ing.durable.map((r) => r.chunksPerSecond))
  goal('durable ingest with supplied vectors', '≥ 20,000 chunks/s', `${best.toLocaleString('en-US')} chunks/s`, best >= 20000)
  charts.ingest = barChart({
    title: 'Embedding ingest (chunks/s, higher is better)',
    unit: 'chunks/s',
    groups: [{ name: `${ing.embedding.model} ${ing.embedding.dtype}`, bars: ing.embedding.rows.map((r) => ({ label: r.runtime.replace('Chromium ', ''), value: r.chunksPerSecond, series: r.runtime.startsWith('winnow') ? 0 : 2 })) }],
    note: machine,
  })
}

// ---------------------------------------------------------------- peers: vector, BM25, reopen
const peers = parts.peers
if (peers) {
  const section = peersSections(peers)
  md.push(...section.md)
  Object.assign(charts, section.charts)
  goals.push(...section.goals)
}

// ---------------------------------------------------------------- reopen (winnow's own, 100k)
const col = parts.collection
if (col) {
  md.push(`## Reopen ${col.passages.toLocaleString('en-US')} passages × ${col.dims} dims from IndexedDB (freshly restarted Chromium)`, '')
  md.push('| mode | collection() → first answer ms | then p50 ms | p95 ms |', '|---|---|---|---|')
  for (const [mode, r] of Object.entries(col.reopen)) md.push(`| winnow ${mode} | ${ms(r.openToFirstAnswerMs)} | ${ms(r.p50Ms)} | ${ms(r.p95Ms)} |`)
  md.push('', `IndexedDB holds ${col.build.usageMiB} MiB; built in ${col.build.totalSeconds.toFixed(1)} s in adds of ${(col.passages / col.build.perBatchMs.length).toLocaleString('en-US')}.`, '')
  const worst = Math.max(...Object.values(col.reopen).map((r) => r.openToFirstAnswerMs))
  goal('reopen 100k chunks to the first result', '≤ 1.5 s', `${ms(worst)} ms (slowest mode)`, worst <= 1500)
}

// ---------------------------------------------------------------- search pipeline
const se = parts.search
if (se) {
  md.push(`## Search pipeline (${se.passages.toLocaleString('en-US')} SciFact passages, ${se.model} ${se.dtype}, ${se.threads} threads)`, '')
  md.push('| setting | total p50 ms | p95 ms | reranked (mean) | within budget |', '|---|---|---|---|---|')
  for (const s of se.settings) md.push(`| ${s.name} | ${ms(s.totalP50)} | ${ms(s.totalP95)} | ${s.rerankedMean} | ${s.withinBudget === undefined ? '—' : `${Math.round(s.withinBudget * 100)}%`} |`)
  md.push('')
}

// ---------------------------------------------------------------- size
const size = parts.size
if (size) {
  md.push('## Size', '', `Main-thread entry (\`${size.entry}\` and its imports, comlink included, bundled and minified with rolldown): **${(size.gzipBytes / 1000).toFixed(1)} kB gzip** (${(size.minifiedBytes / 1000).toFixed(1)} kB minified). The worker and the models load later, in the worker.`, '')
  goal('main-thread entry', '≤ 15 kB gzip', `${(size.gzipBytes / 1000).toFixed(1)} kB`, size.gzipBytes <= 15000)
}

// ---------------------------------------------------------------- goals
md.splice(3, 0, '## Goals', '', '| goal | target | measured | met |', '|---|---|---|---|', ...goals.map((g) => `| ${g.name} | ${g.target} | ${g.measured} | ${g.met ? 'yes' : '**no**'} |`), '')
for (const [name, svg] of Object.entries(charts)) {
  writeFileSync(`${dir}/${date}-${name}.svg`, svg)
  md.push(`![${name}](./${date}-${name}.svg)`, '')
}
writeFileSync(`${dir}/${date}.md`, md.join('\n'))
writeFileSync(`${dir}/${date}.json`, JSON.stringify({ date, machine, goals, parts }, null, 2) + '\n')
console.log(md.join('\n'))
console.log(`\nsaved ${dir}/${date}.json, ${dir}/${date}.md and ${Object.keys(charts).length} charts`)

/** Vector top-10, BM25 and peer reopen sections from bench/peers.mjs's results. */
function peersSections(p) {
  return { md: ['## Peers', '', '```json', JSON.stringify(p, null, 2).slice(0, 2000), '```', ''], charts: {}, goals: [] }
}
