// npm run eval:postgres — candidate quality of the Postgres first stage (winnow-rerank/postgres) next
// to winnow's own BM25, on a BEIR dataset, through the compiled library in dist/. Never part of the
// tests; the data is read in place, never copied.
//
//   npm run eval:postgres -- --data ../shared/datasets/scifact [--split test] [--json out.json]
//
// Results are kept as bench/results/<date>-postgres.json (--json), with the date, commit and machine.
//
// Postgres is PGlite (Postgres 18 in WASM, in this process): a table (id, title, text = title + "\n" +
// abstract, tsv = to_tsvector('english', text) STORED, GIN index), searched by the handler's own
// SQL through handle({ mode: 'keyword', query, k: 100 }) — the request httpRetriever sends. Winnow's
// BM25 is a collection over the in-memory store searched with the same text (as `npm run eval --
// --mode keyword`). Metrics: src/core/metrics.ts (trec_eval conventions), over every judged query.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { PGlite } from '@electric-sql/pglite'
import { evaluateRun } from '../dist/core/metrics.js'
import { createPostgresHandler } from '../dist/postgres/index.js'
import { CollectionEngine } from '../dist/collection/engine.js'
import { searchCollection } from '../dist/search/searchCollection.js'
import { MemoryBackend } from '../dist/store/memory.js'
import { createCoordination } from '../dist/store/coordination.js'

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/datasets/scifact' },
    split: { type: 'string', default: 'test' },
    json: { type: 'string' },
  },
})
const DEPTH = 100

const readJsonl = (path) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line))

const corpus = readJsonl(`${args.data}/corpus.jsonl`).map((d) => ({ id: String(d._id), title: d.title ?? '', body: d.text ?? '' }))
const qrels = new Map()
for (const line of readFileSync(`${args.data}/qrels/${args.split}.tsv`, 'utf8').trim().split('\n').slice(1)) {
  const [qid, docId, score] = line.split('\t')
  if (!qrels.has(qid)) qrels.set(qid, new Map())
  qrels.get(qid).set(docId, Number(score))
}
const queries = readJsonl(`${args.data}/queries.jsonl`)
  .map((q) => ({ id: String(q._id), text: q.text }))
  .filter((q) => qrels.has(q.id))

// ------------------------------------------------------------------ Postgres
const db = await PGlite.create()
await db.exec(`CREATE TABLE passages (id text PRIMARY KEY, title text, text text NOT NULL,
  tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED)`)
let started = performance.now()
for (let i = 0; i < corpus.length; i += 500) {
  const batch = corpus.slice(i, i + 500)
  await db.query('INSERT INTO passages (id, title, text) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])', [
    batch.map((d) => d.id),
    batch.map((d) => d.title),
    batch.map((d) => `${d.title}\n${d.body}`),
  ])
}
await db.exec('CREATE INDEX passages_tsv ON passages USING gin (tsv)')
const loadSeconds = (performance.now() - started) / 1000

async function postgresRun(options) {
  const handler = createPostgresHandler({ client: db, table: 'passages', columns: { tsvector: 'tsv', title: 'title' }, ...options })
  const results = new Map()
  const began = performance.now()
  for (const query of queries) {
    const answer = await handler.handle({ mode: 'keyword', query: query.text, k: DEPTH })
    if (answer.status !== 200) throw new Error(`query ${query.id}: ${JSON.stringify(answer.body)}`)
    results.set(query.id, answer.body.candidates.map((c) => c.id))
  }
  return { results, msPerQuery: (performance.now() - began) / queries.length }
}

// ------------------------------------------------------------------ winnow's BM25
async function winnowRun() {
  const coordination = createCoordination({})
  const store = await new MemoryBackend().open('eval')
  const engine = await CollectionEngine.open('eval', { store, coordination, embedder: null }, { chunking: false })
  const none = async () => {}
  for (let i = 0; i < corpus.length; i += 1000) await engine.add(corpus.slice(i, i + 1000).map((d) => ({ id: d.id, title: d.title || undefined, text: d.body })), none)
  const results = new Map()
  const began = performance.now()
  for (const query of queries) {
    const { hits } = await searchCollection(engine, { query: query.text, mode: 'keyword', k: DEPTH, snippet: false, rerank: false }, none, {})
    results.set(query.id, hits.map((h) => h.id))
  }
  const msPerQuery = (performance.now() - began) / queries.length
  engine.close()
  coordination.close()
  return { results, msPerQuery }
}

const runs = [
  ['winnow BM25 (k1 1.2, b 0.75), Node', await winnowRun()],
  ["Postgres ts_rank_cd, any term (the handler's defaults: keywordMatch 'any', rankNormalization 2 = ÷ length)", await postgresRun({})],
  ['Postgres ts_rank_cd, any term, rankNormalization 0 (Postgres’s default)', await postgresRun({ rankNormalization: 0 })],
  ['Postgres ts_rank_cd, any term, rankNormalization 1 (÷ 1 + log length)', await postgresRun({ rankNormalization: 1 })],
  ['Postgres ts_rank_cd, any term, rankNormalization 4 (÷ mean extent distance)', await postgresRun({ rankNormalization: 4 })],
  ["Postgres websearch_to_tsquery (keywordMatch 'websearch': every term), rankNormalization 2", await postgresRun({ keywordMatch: 'websearch' })],
]
await db.close()

const rows = runs.map(([name, run]) => {
  const m = evaluateRun(run.results, qrels, { k: 10, recallK: 100, mapK: 100 })
  const empty = queries.filter((q) => (run.results.get(q.id) ?? []).length === 0).length
  return { name, ndcg10: m.ndcg, mrr10: m.mrr, recall100: m.recall, map100: m.map, emptyQueries: empty, msPerQuery: run.msPerQuery }
})
console.log(`${args.data} (${args.split}): ${corpus.length} documents, ${queries.length} judged queries; Postgres loaded and indexed in ${loadSeconds.toFixed(1)} s`)
console.log('| first stage | nDCG@10 | MRR@10 | Recall@100 | MAP@100 | queries with no candidates | ms / query |')
console.log('|---|---|---|---|---|---|---|')
for (const r of rows) console.log(`| ${r.name} | ${r.ndcg10.toFixed(3)} | ${r.mrr10.toFixed(3)} | ${r.recall100.toFixed(3)} | ${r.map100.toFixed(3)} | ${r.emptyQueries} | ${r.msPerQuery.toFixed(1)} |`)
if (args.json) {
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, PGlite (Postgres 18, WASM) in process`
  const out = { date: new Date().toISOString().slice(0, 10), commit, machine, data: args.data, split: args.split, documents: corpus.length, queries: queries.length, loadSeconds, rows }
  writeFileSync(args.json, JSON.stringify(out, null, 2) + '\n')
}
