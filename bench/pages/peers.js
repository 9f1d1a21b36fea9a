// The page behind bench/peers.mjs: winnow (its public API and its in-memory vector kernel) and its
// peers (Orama, MiniSearch) in one bundle, with the benchmark's steps as functions on
// `window.bench`. Node orchestrates: it passes the data in, calls one step per page.evaluate (so a
// step that fails or times out loses only itself), and prints and saves what the steps return.
// Every figure is measured here, in the page, with performance.now().
import * as winnow from '../../src/index.ts'
import { candidateCount, rescoreExact, scanQuantized } from '../../src/rank/vectorScan.ts'
import { quantizeInto } from '../../src/core/quantize.ts'
import { defaultInt8Kernel } from '../../src/core/int8Kernel.ts'
import { evaluateRun } from '../../src/core/metrics.ts'
import { createAnalyzer, ENGLISH_STOP_WORDS } from '../../src/text/analyzer.ts'
import { VECTOR_BLOCK_ROWS } from '../../src/store/types.ts'
import { count, create, insertMultiple, load, save, search } from '@orama/orama'
import MiniSearch from 'minisearch'
import { seeded } from '../../test/unit/helpers.ts'
import { gaussian } from '../lib/vectorSets.mjs'

const errorText = (e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))

// Loaded dynamically so that the page still works when the plugin cannot: its `dpack` dependency
// imports Node's `stream` (a class extends stream.Transform), which a browser bundle lacks unless
// `dpack` resolves to its browser entry (bench/peers.mjs builds the page with that alias).
const persistence = import('@orama/plugin-data-persistence').then(
  (m) => ({ persist: m.persist, restore: m.restore, error: null }),
  (e) => ({ persist: null, restore: null, error: errorText(e) }),
)
async function persist(db, format) {
  const p = await persistence
  if (!p.persist) throw new Error(`@orama/plugin-data-persistence did not load: ${p.error}`)
  return p.persist(db, format)
}
async function restore(format, data) {
  const p = await persistence
  if (!p.restore) throw new Error(`@orama/plugin-data-persistence did not load: ${p.error}`)
  return p.restore(format, data)
}

// ------------------------------------------------------------------ helpers

/** Seeded uniform [0, 1) (mulberry32): the tests' generator, so bench data is reproducible. */
const rng = seeded


function normalizeRow(data, off, dims) {
  let s = 0
  for (let d = 0; d < dims; d++) s += data[off + d] * data[off + d]
  const inv = 1 / Math.sqrt(s)
  for (let d = 0; d < dims; d++) data[off + d] *= inv
}

/**
 * `n` unit rows. `random`: uniform on the sphere. `clustered`: `n / 100` random unit centres, each
 * row a centre plus isotropic noise of norm ≈ 1 (cosine to its centre ≈ 0.7), renormalised; the
 * queries are drawn the same way around random centres, so their neighbours are a cluster's members.
 */
function makeSet(set, n, dims, queries, seed) {
  const g = gaussian(rng(seed))
  const data = new Float32Array(n * dims)
  const q = new Float32Array(queries * dims)
  if (set === 'random') {
    for (let i = 0; i < data.length; i++) data[i] = g()
    for (let i = 0; i < q.length; i++) q[i] = g()
  } else if (set === 'clustered') {
    const k = Math.max(10, Math.round(n / 100))
    const centres = new Float32Array(k * dims)
    for (let i = 0; i < centres.length; i++) centres[i] = g()
    for (let c = 0; c < k; c++) normalizeRow(centres, c * dims, dims)
    const sigma = 1 / Math.sqrt(dims)
    const pick = rng(seed ^ 0x9e3779b9)
    const fill = (out, rows) => {
      for (let r = 0; r < rows; r++) {
        const c = Math.floor(pick() * k) * dims
        for (let d = 0; d < dims; d++) out[r * dims + d] = centres[c + d] + sigma * g()
      }
    }
    fill(data, n)
    fill(q, queries)
  } else {
    throw new Error(`unknown vector set ${set}`)
  }
  for (let r = 0; r < n; r++) normalizeRow(data, r * dims, dims)
  for (let r = 0; r < queries; r++) normalizeRow(q, r * dims, dims)
  return { data, queries: Array.from({ length: queries }, (_, i) => q.slice(i * dims, (i + 1) * dims)) }
}

function quantile(values, p) {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]
}

function summary(times) {
  return { p50: quantile(times, 0.5), p95: quantile(times, 0.95), mean: times.reduce((a, b) => a + b, 0) / times.length, n: times.length }
}

/** Times `fn(query)` for each query after `warmup` untimed calls; returns times and results. */
async function timeQueries(queries, fn, warmup = 3) {
  for (let i = 0; i < Math.min(warmup, queries.length); i++) await fn(queries[i])
  const times = []
  const results = []
  for (const q of queries) {
    const t = performance.now()
    const r = await fn(q)
    times.push(performance.now() - t)
    results.push(r)
  }
  return { ...summary(times), results }
}

function recallAt(truth, got, k) {
  let sum = 0
  for (let i = 0; i < truth.length; i++) {
    const want = new Set(Array.from(truth[i]).slice(0, k))
    let hit = 0
    for (const id of Array.from(got[i]).slice(0, k)) if (want.has(id)) hit++
    sum += hit / want.size
  }
  return sum / truth.length
}

/** Plain JS exact top-k: fp32 rows, dot product, insertion into a sorted k-array. */
function bruteTopK(query, data, n, dims, k) {
  const ids = new Int32Array(k).fill(-1)
  const scores = new Float64Array(k).fill(-Infinity)
  for (let r = 0, off = 0; r < n; r++, off += dims) {
    let s = 0
    for (let d = 0; d < dims; d++) s += query[d] * data[off + d]
    if (s > scores[k - 1]) {
      let i = k - 1
      while (i > 0 && scores[i - 1] < s) {
        scores[i] = scores[i - 1]
        ids[i] = ids[i - 1]
        i--
      }
      scores[i] = s
      ids[i] = r
    }
  }
  return ids
}

async function usage() {
  return (await navigator.storage.estimate()).usage ?? 0
}

const utf8Bytes = (s) => new TextEncoder().encode(s).length

/** Live JS heap after a full GC (Chromium runs with --expose-gc and --enable-precise-memory-info). */
function heapBytes() {
  globalThis.gc?.()
  return performance.memory ? performance.memory.usedJSHeapSize : null
}

// A one-store IndexedDB key-value store for the peers' serialized indexes.
const KV_DB = 'peers-bench'
function kvOpen() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(KV_DB, 1)
    req.onupgradeneeded = () => req.result.createObjectStore('kv')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}
/** Puts `entries` ([key, value] pairs) in one transaction. */
async function kvPut(entries) {
  const db = await kvOpen()
  try {
    await new Promise((resolve, reject) => {
      const tx = db.transaction('kv', 'readwrite', { durability: 'strict' })
      for (const [key, value] of entries) tx.objectStore('kv').put(value, key)
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error)
      tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'))
    })
  } finally {
    db.close()
  }
}
/** The values of `keys`, read in one transaction. */
async function kvGet(keys) {
  const db = await kvOpen()
  try {
    const store = db.transaction('kv', 'readonly').objectStore('kv')
    return await Promise.all(
      keys.map(
        (key) =>
          new Promise((resolve, reject) => {
            const req = store.get(key)
            req.onsuccess = () => resolve(req.result)
            req.onerror = () => reject(req.error)
          }),
      ),
    )
  } finally {
    db.close()
  }
}
/** Deletes `name` and every `name/<part>` key. */
async function kvDelete(name) {
  const db = await kvOpen()
  try {
    await new Promise((resolve, reject) => {
      const tx = db.transaction('kv', 'readwrite')
      tx.objectStore('kv').delete(name)
      tx.objectStore('kv').delete(IDBKeyRange.bound(`${name}/`, `${name}/\uffff`))
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error)
    })
  } finally {
    db.close()
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// State kept between steps of one page (the data of the current vector set, the winnow instance).
const state = { set: null, winnow: null }

async function getWinnow() {
  state.winnow ??= await winnow.createWinnow({ reranker: false })
  return state.winnow
}

// ------------------------------------------------------------------ 1. exact vector top-10

const vector = {
  /** Generates the set in the page and computes the exact answers (timed: the plain JS scan). */
  async prepare({ set, n, dims, queries, seed, k }) {
    state.set = null
    const t = performance.now()
    const { data, queries: qs } = makeSet(set, n, dims, queries, seed)
    const generateMs = performance.now() - t
    state.set = { set, n, dims, k, data, queries: qs }
    const brute = await timeQueries(qs, (q) => bruteTopK(q, data, n, dims, k))
    state.set.truth = brute.results
    return { generateMs, brute: { p50: brute.p50, p95: brute.p95, mean: brute.mean, n: brute.n } }
  },

  /**
   * winnow's in-memory path: int8 codes in 64-row blocks (as the store keeps them), `scanQuantized`
   * for `candidateCount(k)` candidates, then `rescoreExact` over their fp32 rows (gathered from one
   * Float32Array). `wasm`: the blocks' codes live in a WebAssembly arena, as ChunkTable places them
   * where WebAssembly SIMD runs (the scan then runs the SIMD kernel); otherwise plain JS blocks (the
   * JavaScript loop the library falls back to).
   */
  async kernel({ wasm }) {
    const { n, dims, k, data, queries, truth } = state.set
    let t = performance.now()
    const codes = new Int8Array(n * dims)
    const scales = new Float32Array(n)
    quantizeInto(data, dims, codes, scales, 0)
    let arena = null
    if (wasm) {
      const kernel = defaultInt8Kernel()
      if (!kernel) throw new Error('defaultInt8Kernel() is null: no WebAssembly SIMD kernel in this engine')
      arena = kernel.createArena()
      if (!arena || !arena.reserve(n * dims)) throw new Error('the WebAssembly arena could not get memory')
    }
    const blocks = []
    for (let from = 0; from < n; from += VECTOR_BLOCK_ROWS) {
      const rows = Math.min(VECTOR_BLOCK_ROWS, n - from)
      const slots = new Int32Array(rows)
      for (let r = 0; r < rows; r++) slots[r] = from + r
      const own = codes.subarray(from * dims, (from + rows) * dims)
      const offset = arena ? arena.append(own) : -1
      if (arena && offset < 0) throw new Error('the WebAssembly arena ran out of memory')
      // One object shape for every block, as ChunkTable builds them.
      blocks.push({ slots, dims, codes: own, scales: scales.subarray(from, from + rows), arena: arena ? { arena, offset } : undefined })
    }
    // Views taken after the last append (the arena may have grown meanwhile).
    if (arena) for (const b of blocks) b.codes = arena.view(b.arena.offset, b.slots.length * dims)
    const buildMs = performance.now() - t
    const candidates = candidateCount(k, n)
    const scanTimes = []
    const full = await timeQueries(queries, (q) => {
      const s = performance.now()
      const approx = scanQuantized(q, blocks, candidates)
      scanTimes.push(performance.now() - s)
      const gathered = new Float32Array(approx.slots.length * dims)
      for (let i = 0; i < approx.slots.length; i++) {
        const slot = approx.slots[i]
        gathered.set(data.subarray(slot * dims, (slot + 1) * dims), i * dims)
      }
      return rescoreExact(q, approx.slots, gathered, dims, k).slots
    })
    const scan = summary(scanTimes.slice(-queries.length))
    return { path: wasm ? 'wasm-simd-arena' : 'js', buildMs, candidates, blockRows: VECTOR_BLOCK_ROWS, p50: full.p50, p95: full.p95, mean: full.mean, scanP50: scan.p50, scanP95: scan.p95, recall: recallAt(truth, full.results, k) }
  },

  /** Orama: `vector[dims]` schema, insertMultiple, brute-force `mode: 'vector'` search. */
  async orama({ similarities }) {
    const { n, dims, k, data, queries, truth } = state.set
    let t = performance.now()
    const docs = new Array(n)
    // Orama's schema check wants a plain Array (Array.isArray), not a Float32Array.
    for (let r = 0; r < n; r++) docs[r] = { id: String(r), embedding: Array.from(data.subarray(r * dims, (r + 1) * dims)) }
    const prepareMs = performance.now() - t
    const db = create({ schema: { embedding: `vector[${dims}]` } })
    t = performance.now()
    await insertMultiple(db, docs, 1000)
    const insertMs = performance.now() - t
    const out = { prepareMs, insertMs, count: await count(db), bySimilarity: {} }
    for (const similarity of similarities) {
      const r = await timeQueries(queries, async (q) => {
        const res = await search(db, { mode: 'vector', vector: { value: q, property: 'embedding' }, similarity, limit: k })
        return res.hits.map((h) => Number(h.id))
      })
      out.bySimilarity[similarity] = { p50: r.p50, p95: r.p95, mean: r.mean, recall: recallAt(truth, r.results, k), hitsPerQuery: r.results.reduce((a, h) => a + h.length, 0) / r.results.length }
    }
    return out
  },

  /** winnow through its public API: worker, IndexedDB, `add` with caller vectors, `search` in vector mode. */
  async endToEnd({ batch }) {
    const { set, n, dims, k, data, queries, truth } = state.set
    const w = await getWinnow()
    const name = `peers-vec-${set}-${n}`
    await w.deleteCollection(name)
    const before = await usage()
    const col = await w.collection(name, { chunking: false })
    const addMs = []
    for (let from = 0; from < n; from += batch) {
      const items = []
      for (let r = from; r < Math.min(n, from + batch); r++) items.push({ id: String(r), text: `v${r}`, vector: data.slice(r * dims, (r + 1) * dims) })
      const t = performance.now()
      await col.add(items)
      addMs.push(performance.now() - t)
    }
    const usageBytes = (await usage()) - before
    const opts = (q) => ({ mode: 'vector', vector: q, k, rerank: false })
    const r = await timeQueries(queries, async (q) => (await col.search('', opts(q))).map((h) => Number(h.id)))
    const noSnippet = await timeQueries(queries, async (q) => (await col.search('', { ...opts(q), snippet: false })).map((h) => Number(h.id)))
    // Each query right after itself: its candidates' fp32 blocks are then in the worker's cache, so
    // this is the search without IndexedDB reads (the first runs read them: the candidates of a
    // query lie in up to 50 different 64-row blocks).
    const repeated = []
    for (const q of queries) {
      await col.search('', opts(q))
      const t = performance.now()
      await col.search('', opts(q))
      repeated.push(performance.now() - t)
    }
    const warm = summary(repeated)
    return {
      addSeconds: addMs.reduce((a, b) => a + b, 0) / 1000,
      addBatchMs: addMs.map(Math.round),
      usageBytes,
      p50: r.p50,
      p95: r.p95,
      mean: r.mean,
      recall: recallAt(truth, r.results, k),
      noSnippetP50: noSnippet.p50,
      noSnippetP95: noSnippet.p95,
      repeatedQueryP50: warm.p50,
      repeatedQueryP95: warm.p95,
    }
  },

  release() {
    state.set = null
  },
}

// ------------------------------------------------------------------ 2. BM25 on SciFact

function qrelsMap(entries) {
  return new Map(entries.map(([q, docs]) => [q, new Map(docs)]))
}

function quality(runs, qrels) {
  const m = evaluateRun(runs, qrelsMap(qrels), { k: 10 })
  return { ndcg10: m.ndcg, mrr10: m.mrr, queries: m.queries }
}

async function keywordQueries(queries, fn) {
  const r = await timeQueries(queries, (q) => fn(q.text), 5)
  const runs = new Map(queries.map((q, i) => [q.id, r.results[i]]))
  return { p50: r.p50, p95: r.p95, mean: r.mean, runs }
}

function minisearchOptions(variant, fields, storeFields = []) {
  const options = { idField: 'id', fields, storeFields }
  if (variant === 'winnow-analyzer') {
    const analyzer = createAnalyzer()
    options.tokenize = (text) => analyzer.terms(text)
    options.processTerm = (term) => term
  }
  return options
}

function oramaComponents(variant) {
  return variant === 'stem-stop' ? { tokenizer: { language: 'english', stemming: true, stopWords: [...ENGLISH_STOP_WORDS] } } : undefined
}

const bm25 = {
  async winnow({ docs, queries, qrels, batch }) {
    const w = await getWinnow()
    const name = 'peers-scifact'
    await w.deleteCollection(name)
    await sleep(500)
    const before = await usage()
    const col = await w.collection(name, { chunking: false })
    const t = performance.now()
    for (let i = 0; i < docs.length; i += batch) await col.add(docs.slice(i, i + batch).map((d) => ({ id: d.id, title: d.title || undefined, text: d.text })))
    const buildMs = performance.now() - t
    const usageAfterAdd = (await usage()) - before
    const run = (options) => async (text) => (await col.search(text, { mode: 'keyword', k: 10, rerank: false, ...options })).map((h) => h.id)
    const withSnippet = await keywordQueries(queries, run({}))
    const noSnippet = await keywordQueries(queries, run({ snippet: false }))
    await sleep(1000)
    const usageAfterQueries = (await usage()) - before
    const info = await col.info()
    return {
      buildMs,
      chunks: info.chunks,
      usageAfterAddBytes: usageAfterAdd,
      usageAfterQueriesBytes: usageAfterQueries,
      p50: withSnippet.p50,
      p95: withSnippet.p95,
      noSnippetP50: noSnippet.p50,
      noSnippetP95: noSnippet.p95,
      ...quality(withSnippet.runs, qrels),
    }
  },

  async minisearch({ docs, queries, qrels, variant }) {
    const t = performance.now()
    const ms = new MiniSearch(minisearchOptions(variant, ['title', 'text']))
    ms.addAll(docs)
    const buildMs = performance.now() - t
    const s = performance.now()
    const json = JSON.stringify(ms)
    const serializeMs = performance.now() - s
    const r = await keywordQueries(queries, (text) => ms.search(text).slice(0, 10).map((h) => h.id))
    return { buildMs, serializeMs, jsonBytes: utf8Bytes(json), p50: r.p50, p95: r.p95, ...quality(r.runs, qrels) }
  },

  async orama({ docs, queries, qrels, variant }) {
    const t = performance.now()
    const db = create({ schema: { title: 'string', text: 'string' }, components: oramaComponents(variant) })
    await insertMultiple(db, docs, 1000)
    const buildMs = performance.now() - t
    const sizes = {}
    for (const format of ['json', 'binary', 'seqproto']) {
      try {
        const s = performance.now()
        const out = await persist(db, format)
        const ms = performance.now() - s
        // 'binary' in a browser is msgpack written out as a hex string: the bytes are half its length.
        const bytes = typeof out === 'string' ? (format === 'binary' ? out.length / 2 : utf8Bytes(out)) : out.byteLength
        sizes[format] = { bytes, persistMs: ms, ...(format === 'binary' ? { storedChars: out.length } : {}) }
      } catch (e) {
        sizes[format] = { error: errorText(e) }
      }
    }
    const r = await keywordQueries(queries, async (text) => (await search(db, { term: text, limit: 10 })).hits.map((h) => h.id))
    return { buildMs, sizes, p50: r.p50, p95: r.p95, ...quality(r.runs, qrels) }
  },
}

// ------------------------------------------------------------------ 3. reopen 100k passages

// The passages and vectors of bench/collection-reopen.mjs: two SciFact sentences per passage, and
// that script's LCG (seed 42) for the 384 components, drawn in the same order.
function passages(n, dims, sentences, withVectors) {
  let seed = 42
  const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1
  const out = new Array(n)
  for (let i = 0; i < n; i++) {
    const doc = { id: `p${i}`, text: `${sentences[i % sentences.length]} ${sentences[(i * 7919 + 13) % sentences.length]}`, shard: i % 10 }
    if (withVectors) {
      const v = new Array(dims)
      for (let d = 0; d < dims; d++) v[d] = Math.fround(random())
      doc.embedding = v
    }
    out[i] = doc
  }
  return out
}

/** collection-reopen.mjs's query vector: an FNV hash of the query text seeds the same LCG. */
function vectorFor(q, dims) {
  let h = 2166136261
  for (const c of q) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0
  const v = new Float32Array(dims)
  for (let d = 0; d < dims; d++) v[d] = ((h = (h * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1
  return v
}

const REOPEN_VARIANTS = {
  // MiniSearch keeps the passage text (storeFields) so a hit can be shown, as winnow's and Orama's can.
  minisearch: { engine: 'minisearch', vectors: false },
  'orama-keyword': { engine: 'orama', vectors: false, format: 'json' },
  'orama-vectors': { engine: 'orama', vectors: true, format: 'json' },
  // No plugin: Orama's own save()/load(), the raw object structured-cloned into IndexedDB, split into
  // three records (documents, vector index, the rest), one transaction each: at 100k × 384, Chromium
  // refuses the whole as one record, and the three in one transaction, with "DataError: Failed to
  // write blobs (InvalidBlob)", while each part in its own transaction is accepted.
  'orama-vectors-raw': { engine: 'orama', vectors: true, format: 'raw' },
}

function oramaSchema(vectors, dims) {
  return vectors ? { text: 'string', shard: 'number', embedding: `vector[${dims}]` } : { text: 'string', shard: 'number' }
}

const reopen = {
  variants: Object.keys(REOPEN_VARIANTS),

  /** Builds one variant's index from the passages and stores it under its name; times each part. */
  async build({ variant, n, dims, sentences }) {
    const spec = REOPEN_VARIANTS[variant]
    await kvDelete(variant)
    await sleep(300)
    const before = await usage()
    let t = performance.now()
    let docs = passages(n, dims, sentences, spec.vectors)
    const prepareMs = performance.now() - t
    const out = { prepareMs }
    let value
    if (spec.engine === 'minisearch') {
      t = performance.now()
      const ms = new MiniSearch(minisearchOptions('default', ['text'], ['text', 'shard']))
      ms.addAll(docs)
      out.buildMs = performance.now() - t
      docs = null
      t = performance.now()
      value = JSON.stringify(ms)
      out.serializeMs = performance.now() - t
      out.bytes = utf8Bytes(value)
    } else {
      t = performance.now()
      const db = create({ schema: oramaSchema(spec.vectors, dims) })
      await insertMultiple(db, docs, 1000)
      out.buildMs = performance.now() - t
      docs = null
      t = performance.now()
      try {
        if (spec.format === 'raw') {
          const { docs: documents, index, ...rest } = save(db)
          const { vectorIndexes, ...indexRest } = index
          value = [
            [`${variant}/rest`, { ...rest, index: indexRest }],
            [`${variant}/docs`, documents],
            [`${variant}/vectors`, vectorIndexes],
          ]
        } else {
          value = await persist(db, spec.format)
          out.bytes = typeof value === 'string' ? utf8Bytes(value) : value.byteLength
        }
      } catch (e) {
        out.serializeMs = performance.now() - t
        out.error = `persist(db, '${spec.format}') failed: ${errorText(e)}`
        return out
      }
      out.serializeMs = performance.now() - t
    }
    t = performance.now()
    if (spec.format === 'raw') for (const entry of value) await kvPut([entry])
    else await kvPut([[variant, value]])
    out.storeMs = performance.now() - t
    value = null
    await sleep(500)
    out.usageBytes = (await usage()) - before
    out.heapBytes = heapBytes()
    return out
  },

  /** In a freshly started browser: read the stored index, restore it, run the first search, then the rest. */
  async open({ variant, mode, queries, dims }) {
    const spec = REOPEN_VARIANTS[variant]
    const t0 = performance.now()
    const keys = spec.format === 'raw' ? ['rest', 'docs', 'vectors'].map((part) => `${variant}/${part}`) : [variant]
    const values = await kvGet(keys)
    if (values.some((v) => v === undefined)) throw new Error(`nothing stored for ${variant}`)
    const t1 = performance.now()
    let searchFn
    if (spec.engine === 'minisearch') {
      const ms = MiniSearch.loadJSON(values[0], minisearchOptions('default', ['text'], ['text', 'shard']))
      searchFn = (q) => ms.search(q).slice(0, 10)
    } else {
      let db
      if (spec.format === 'raw') {
        const [rest, documents, vectorIndexes] = values
        db = create({ schema: oramaSchema(spec.vectors, dims) })
        load(db, { ...rest, index: { ...rest.index, vectorIndexes }, docs: documents })
      } else {
        db = await restore(spec.format, values[0])
      }
      const vectorParam = (q) => ({ value: vectorFor(q, dims), property: 'embedding' })
      const params =
        mode === 'keyword'
          ? (q) => ({ term: q, limit: 10 })
          : mode === 'vector'
            ? (q) => ({ mode: 'vector', vector: vectorParam(q), similarity: -1, limit: 10 })
            : (q) => ({ mode: 'hybrid', term: q, vector: vectorParam(q), similarity: -1, limit: 10 })
      searchFn = async (q) => (await search(db, params(q))).hits
    }
    const t2 = performance.now()
    const first = await searchFn(queries[0])
    const t3 = performance.now()
    const times = []
    for (const q of queries.slice(1)) {
      const t = performance.now()
      await searchFn(q)
      times.push(performance.now() - t)
    }
    const s = summary(times)
    values.length = 0
    return {
      readMs: t1 - t0,
      restoreMs: t2 - t1,
      firstQueryMs: t3 - t2,
      openToFirstAnswerMs: t3 - t0,
      hits: first.length,
      firstHitHasText: typeof (first[0]?.document?.text ?? first[0]?.text) === 'string',
      p50Ms: s.p50,
      p95Ms: s.p95,
      heapBytes: heapBytes(),
    }
  },
}

window.bench = {
  persistence: persistence.then((p) => ({ loaded: p.error === null, error: p.error })),
  winnow,
  kernels: { scanQuantized, rescoreExact, candidateCount, quantizeInto },
  evaluateRun,
  orama: { create, insertMultiple, search, save, load, count, persist, restore },
  MiniSearch,
  vector,
  bm25,
  reopen,
  async dispose() {
    if (state.winnow) await state.winnow.dispose()
    state.winnow = null
  },
}
persistence.then(() => (window.benchReady = true))
