// Format 2 with vectors: `n` synthetic passages (bench/lib/vectorSets.mjs `topics` vectors, 384
// dims, shaped like real embeddings; text of made-up words), built in Node through buildSnapshot with
// a stand-in embedder that returns each passage's row, then opened in a fresh Chromium profile and
// queried by vector (rows n, n + 1, … of the same set, passed as `vector`): bytes and time to open,
// for the first query and the next ones, and recall@10 of the vector stage against an exact fp32
// search computed here. Synthetic vectors: speed, bytes and recall of the index, never relevance.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { passageText, vectorSet } from './vectorSets.mjs'
import { fileRuns } from '../../dist/cli/fileRuns.js'

const DIMS = 384
const SEED = 20261207

/** An EmbedderPort whose vectors are the set's rows, found by the `p<i>` word each passage starts with. */
function rowEmbedder(set) {
  return {
    model: 'synthetic-topics-384',
    dims: DIMS,
    maxTokens: 510,
    countWordTokens: () => 1,
    async embed(texts, checkpoint, onBatch) {
      const out = new Float32Array(texts.length * DIMS)
      texts.forEach((t, i) => set.row(Number(/^p(\d+)/.exec(t)[1]), out, i * DIMS))
      await checkpoint()
      onBatch?.(texts.length)
      return out
    },
  }
}

/** The exact top 10 ids of each query over every row (fp32 cosine: the rows are unit). */
function exactTop10(set, n, queries) {
  const row = new Float32Array(DIMS)
  const best = queries.map(() => [])
  for (let i = 0; i < n; i++) {
    set.row(i, row)
    queries.forEach((q, j) => {
      let s = 0
      for (let d = 0; d < DIMS; d++) s += q[d] * row[d]
      const b = best[j]
      if (b.length < 10 || s > b[b.length - 1][1]) {
        b.push([`p${i}`, s])
        b.sort((x, y) => y[1] - x[1])
        if (b.length > 10) b.pop()
      }
    })
  }
  return best.map((b) => b.map(([id]) => id))
}

/**
 * @example
 * const row = await lazyVectorBench({ browser, port: 4183, n: 100_000, buildSnapshot })
 */
export async function lazyVectorBench({ browser, port, n, buildSnapshot, queryCount = 51, snapshotDir = null }) {
  const set = vectorSet('topics', { n: n + queryCount, dims: DIMS, seed: SEED })
  const { served, buildSeconds, buildPeakRssMiB } = snapshotDir && existsSync(join(snapshotDir, 'build.json')) ? readBuilt(snapshotDir, n) : await build(set, n, buildSnapshot, snapshotDir)
  const totalBytes = [...served.values()].reduce((s, b) => s + b.length, 0)
  const queries = Array.from({ length: queryCount }, (_, j) => {
    const q = new Float32Array(DIMS)
    set.row(n + j, q)
    return q
  })
  const exact = exactTop10(set, n, queries)

  const context = await browser.newContext()
  const log = []
  await serveSnapshot(context, served, log)
  const page = await context.newPage()
  await page.goto(`http://127.0.0.1:${port}/test/browser/pages/harness.html`)
  await page.waitForFunction(() => window.harnessReady === true)
  let requests = 0
  const since = () => {
    requests = log.length
    return log.splice(0).reduce((s, b) => s + b, 0)
  }
  const openMs = await page.evaluate(async () => {
    const w = await window.winnowApi.createWinnow({ reranker: false })
    const t0 = performance.now()
    window.vec = await w.collection('vec', { snapshot: '/vec/manifest.json' })
    return performance.now() - t0
  })
  const openBytes = since()
  const perQuery = []
  for (const [j, q] of queries.entries()) {
    const { ids, ms } = await page.evaluate(async (vector) => {
      const t0 = performance.now()
      const hits = await window.vec.search('', { mode: 'vector', vector: new Float32Array(vector), k: 10 })
      return { ids: hits.map((h) => h.id), ms: performance.now() - t0 }
    }, Array.from(q))
    const recall = ids.filter((id) => exact[j].includes(id)).length / 10
    perQuery.push({ bytes: since(), requests, ms, recall })
  }
  await context.close()
  const rerank = await rerankBytes({ browser, port, served, query: queries[0] })
  const later = perQuery.slice(1)
  const sorted = later.map((q) => q.ms).sort((a, b) => a - b)
  return {
    passages: n,
    dims: DIMS,
    vectors: 'topics (bench/lib/vectorSets.mjs), passed as the query vector',
    files: served.size,
    totalBytes,
    buildSeconds,
    buildPeakRssMiB,
    openMs,
    openBytes,
    firstQuery: { ms: perQuery[0].ms, bytes: perQuery[0].bytes, requests: perQuery[0].requests, coldBytes: openBytes + perQuery[0].bytes, coldMs: openMs + perQuery[0].ms },
    laterQueries: { meanBytes: later.reduce((s, q) => s + q.bytes, 0) / later.length, meanRequests: later.reduce((s, q) => s + q.requests, 0) / later.length, p50Ms: sorted[Math.floor(sorted.length / 2)] },
    recallAt10: perQuery.reduce((s, q) => s + q.recall, 0) / perQuery.length,
    rerank,
  }
}

/** Routes the snapshot's files as a static host answers (Range requests with 206); logs each request's bytes, or `{ path, bytes }` with `paths`. */
async function serveSnapshot(context, served, log, paths = false) {
  await context.route('**/vec/**', (route) => {
    const path = new URL(route.request().url()).pathname.replace(/^\/vec\//, '')
    const body = served.get(path)
    if (!body) return route.fulfill({ status: 404, body: '' })
    const range = /^bytes=(\d+)-(\d+)$/.exec(route.request().headers()['range'] ?? '')
    if (range) {
      const [from, to] = [Number(range[1]), Math.min(Number(range[2]), body.length - 1)]
      log.push(paths ? { path, bytes: to - from + 1 } : to - from + 1)
      return route.fulfill({ status: 206, body: Buffer.from(body.subarray(from, to + 1)), headers: { 'content-range': `bytes ${from}-${to}/${body.length}` } })
    }
    log.push(paths ? { path, bytes: body.length } : body.length)
    return route.fulfill({ status: 200, body: Buffer.from(body) })
  })
}

/**
 * What reranking costs on the wire after the first stage, on a cold visit: a fresh profile opens
 * the snapshot and runs one reranked vector query (the tiny random cross-encoder of
 * test/fixtures/models, from the preview server: plumbing, not relevance; its files are not
 * snapshot files and are not counted). Requests are split at the query's `onFirstStage` (its
 * first-stage list, shown while the reranker reads): what follows should be documents shards
 * only, the candidates' texts.
 */
async function rerankBytes({ browser, port, served, query }) {
  const context = await browser.newContext()
  const log = []
  await serveSnapshot(context, served, log, true)
  const page = await context.newPage()
  await page.goto(`http://127.0.0.1:${port}/test/browser/pages/harness.html`)
  await page.waitForFunction(() => window.harnessReady === true)
  const take = () => {
    const entries = log.splice(0)
    const kinds = {}
    for (const { path, bytes } of entries) {
      const kind = /^shards\/([a-z-]+?)-\d/.exec(path)?.[1] ?? path
      kinds[kind] = (kinds[kind] ?? 0) + bytes
    }
    return { bytes: entries.reduce((s, e) => s + e.bytes, 0), requests: entries.length, kinds }
  }
  const text = 'felmar vopovofel marlopel gorfelti'
  await page.evaluate(async () => {
    const w = await window.winnowApi.createWinnow({ reranker: { model: 'tiny-random-cross-encoder', dtype: 'fp32' } })
    window.vecR = await w.collection('vec', { snapshot: '/vec/manifest.json' })
  })
  const open = take()
  let firstStage = null
  await page.exposeFunction('benchFirstStage', () => void (firstStage = take()))
  const run = () => page.evaluate(async ({ text, vector }) => {
    const results = await window.vecR.search(text, { mode: 'vector', vector: new Float32Array(vector), k: 10, onFirstStage: () => void window.benchFirstStage() })
    return { ids: results.map((h) => h.id), route: results.route }
  }, { text, vector: Array.from(query) })
  const reranked = await run()
  const rerank = take()
  await context.close()
  return { open, firstStage, rerank, candidates: reranked.route?.candidates ?? null, path: reranked.route?.path ?? null }
}

/**
 * Builds the snapshot. Given `dir`, as the CLI does — files written there as they are made,
 * postings runs in files — and kept with its build figures for later runs; else in memory.
 */
async function build(set, n, buildSnapshot, dir) {
  // The documents as a stream, as the CLI reads a JSONL file: never held whole.
  async function* documents() {
    for (let i = 0; i < n; i++) yield { id: `p${i}`, text: `p${i} ${passageText(SEED, i)}` }
  }
  const embedder = rowEmbedder(set)
  const files = []
  if (dir) mkdirSync(dir, { recursive: true })
  const runs = dir ? await fileRuns(dir) : null
  const onFile = dir
    ? async (f) => {
        mkdirSync(dirname(join(dir, f.path)), { recursive: true })
        writeFileSync(join(dir, f.path), f.bytes)
      }
    : async (f) => void files.push(f)
  let peak = process.memoryUsage().rss
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200)
  const started = performance.now()
  const { manifest } = await buildSnapshot(documents(), { embedder: { port: embedder, info: { model: embedder.model, dtype: 'fp32', dims: DIMS, pooling: 'mean' } }, format: 2, chunking: false, onFile, postingRuns: runs?.create })
  const built = { buildSeconds: (performance.now() - started) / 1000, buildPeakRssMiB: Math.round(peak / 2 ** 20) }
  clearInterval(sampler)
  await runs?.dispose()
  if (dir) {
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest))
    writeFileSync(join(dir, 'build.json'), JSON.stringify({ passages: n, ...built }))
    return readBuilt(dir, n)
  }
  const served = new Map(files.map((f) => [f.path, f.bytes]))
  served.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)))
  return { served, ...built }
}

/** A snapshot kept by an earlier run (`--vector-snapshot DIR`), with the figures of its build. */
function readBuilt(dir, n) {
  const built = JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8'))
  if (built.passages !== n) throw new Error(`${dir} holds a snapshot of ${built.passages} passages, not ${n}: remove it or pass another folder`)
  const served = new Map()
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name !== 'build.json') served.set(relative(dir, join(entry.parentPath ?? entry.path, entry.name)), readFileSync(join(entry.parentPath ?? entry.path, entry.name)))
  }
  return { served, buildSeconds: built.buildSeconds, buildPeakRssMiB: built.buildPeakRssMiB }
}

