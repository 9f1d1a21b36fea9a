import { WinnowError } from '../errors.js'
import { VECTOR_BLOCK_ROWS, type CollectionStore, type Manifest } from '../store/types.js'
import type { Analyzer } from '../text/analyzer.js'
import { scoreBm25, type QueryTerm, type TermPostings } from './bm25.js'
import type { BlockCache, PostingsCache } from './caches.js'
import type { ChunkTable } from './chunkTable.js'
import type { Checkpoint, EmbedderPort } from './collection.js'
import { buildAllowedMask, compileFilter } from './filter.js'
import { fuse, resolveFusion } from './fusion.js'
import type { SearchHit, SearchOptions } from '../types.js'
import { candidateCount, rescoreExact, scanQuantized } from './vectorScan.js'

/** What `search()` takes (validated here: the worker is the authority). */
export interface SearchRequest extends Omit<SearchOptions, 'signal'> {
  query: string
}

interface Context {
  table: ChunkTable
  manifest: Manifest
  analyzer: Analyzer
  store: CollectionStore
  embedder: EmbedderPort | null
  postings: PostingsCache
  blocks: BlockCache
  checkpoint: Checkpoint
}

const MAX_K = 10_000

/**
 * Runs a first-stage search over a collection's in-memory view and reads the passages of the hits.
 *
 * @example
 * const hits = await searchTable({ query: 'install', mode: 'keyword', k: 5 }, context)
 */
export async function searchTable(request: SearchRequest, ctx: Context): Promise<SearchHit[]> {
  if (request === null || typeof request !== 'object') throw invalid('search options must be an object')
  const { query } = request
  if (typeof query !== 'string') throw invalid(`query must be a string, got ${typeof query}`)
  const k = request.k ?? 10
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw invalid(`k must be an integer from 1 to ${MAX_K}, got ${String(k)}`)
  const candidates = request.candidates ?? Math.max(k, 100)
  if (!Number.isInteger(candidates) || candidates < k || candidates > MAX_K) {
    throw invalid(`candidates must be an integer from k to ${MAX_K}, got ${String(candidates)}`)
  }
  const hasVectors = ctx.manifest.vectorSource !== 'none' && ctx.manifest.dims !== null
  const canEmbed = request.vector !== undefined || (ctx.embedder !== null && ctx.manifest.vectorSource === 'embedder')
  const mode = request.mode ?? (hasVectors && canEmbed ? 'hybrid' : 'keyword')
  if (mode !== 'keyword' && mode !== 'vector' && mode !== 'hybrid') throw invalid(`mode must be 'keyword', 'vector' or 'hybrid', got ${String(mode)}`)
  const fusion = mode === 'hybrid' ? resolveFusion(request.fusion ?? { method: 'rrf', k: 60 }) : null
  const predicate = compileFilter(request.filter)
  if (mode !== 'keyword') {
    if (!hasVectors) {
      if (ctx.manifest.chunkCount === 0) return []
      throw invalid(`mode '${mode}' needs vectors, and this collection has none; use mode 'keyword' or add documents with an embedder`)
    }
    if (!canEmbed) throw invalid(`mode '${mode}' needs a query vector: configure the embedder that built this collection (${ctx.manifest.embedder ?? 'caller vectors'}) or pass options.vector`)
  }
  if (ctx.table.liveCount === 0) return []

  const { table } = ctx
  let allowed: Uint8Array = table.live
  if (predicate) {
    allowed = buildAllowedMask(table.metadata.slice(0, table.size), predicate)
    for (let s = 0; s < table.size; s++) allowed[s] = allowed[s]! & table.live[s]!
  }

  const depth = mode === 'hybrid' ? candidates : k
  const keyword = mode === 'vector' ? null : await keywordStage(query, depth, allowed, ctx)
  const vector = mode === 'keyword' ? null : await vectorStage(query, request.vector, depth, allowed, ctx)
  let slots: ArrayLike<number>
  let scores: ArrayLike<number>
  const keywordScore = new Map<number, number>()
  const vectorScore = new Map<number, number>()
  if (keyword) keyword.slots.forEach((s, i) => keywordScore.set(s, keyword.scores[i]!))
  if (vector) vector.slots.forEach((s, i) => vectorScore.set(s, vector.scores[i]!))
  if (keyword && vector) {
    const fused = fuse({ ids: vector.slots, scores: vector.scores }, { ids: keyword.slots, scores: keyword.scores }, fusion!, k)
    slots = fused.ids
    scores = fused.scores
  } else {
    const only = (keyword ?? vector)!
    slots = only.slots.subarray(0, k)
    scores = only.scores.subarray(0, k)
  }
  return readHits(Array.from(slots), Array.from(scores), keywordScore, vectorScore, ctx)
}

async function keywordStage(query: string, depth: number, allowed: Uint8Array, ctx: Context) {
  const weights = new Map<string, number>()
  for (const term of ctx.analyzer.terms(query)) weights.set(term, (weights.get(term) ?? 0) + 1)
  if (weights.size === 0) return { slots: new Int32Array(0), scores: new Float64Array(0) }
  const lists = await postingsFor([...weights.keys()], ctx)
  const terms: QueryTerm[] = [...weights].map(([term, weight]) => {
    const postings = lists.get(term)!
    return { term, weight, postings, df: postings.reduce((n, p) => n + p.seqs.length, 0) }
  })
  const { chunkCount, totalLength } = ctx.manifest
  return scoreBm25({
    terms,
    docCount: chunkCount,
    avgLength: chunkCount > 0 ? totalLength / chunkCount : 1,
    slotOf: ctx.table.slotOf,
    lengths: ctx.table.lengths,
    allowed,
    k: depth,
  })
}

async function postingsFor(terms: string[], ctx: Context): Promise<Map<string, TermPostings[]>> {
  const out = new Map<string, TermPostings[]>()
  const missing: string[] = []
  for (const term of terms) {
    const hit = ctx.postings.get(term)
    if (hit) out.set(term, hit)
    else missing.push(term)
  }
  if (missing.length > 0) {
    const epoch = ctx.postings.epoch
    const read = await ctx.store.readPostings(missing)
    for (const term of missing) {
      // Only segments this view knows: a newer one will come with the refresh that loads it.
      const lists = (read.get(term) ?? []).filter((p) => ctx.table.segments.includes(p.segment)).map((p) => ({ seqs: p.seqs, tfs: p.tfs }))
      out.set(term, lists)
      ctx.postings.set(term, lists, epoch)
    }
  }
  return out
}

async function vectorStage(query: string, given: SearchRequest['vector'], depth: number, allowed: Uint8Array, ctx: Context) {
  const dims = ctx.manifest.dims!
  let q: Float32Array
  if (given !== undefined) {
    if (!(Array.isArray(given) || given instanceof Float32Array || given instanceof Float64Array)) throw invalid('vector must be a Float32Array or an array of numbers')
    q = Float32Array.from(given as ArrayLike<number>)
    if (q.length !== dims) {
      throw new WinnowError('DIMENSION_MISMATCH', `the query vector has ${q.length} dimensions; this collection's vectors have ${dims}`, { expected: dims, actual: q.length })
    }
    let norm = 0
    for (let i = 0; i < q.length; i++) norm += q[i]! * q[i]!
    if (!(norm > 0) || !Number.isFinite(norm)) throw invalid('the query vector must be finite and not all zeros')
    norm = Math.sqrt(norm)
    for (let i = 0; i < q.length; i++) q[i]! /= norm
  } else {
    if (query.trim() === '') return { slots: new Int32Array(0), scores: new Float64Array(0) }
    q = await ctx.embedder!.embed([query], ctx.checkpoint)
  }
  const { table } = ctx
  const n = candidateCount(depth, table.liveCount)
  const approx = scanQuantized(q, table.blocks, n, allowed)
  // Rescore with full precision: read (or reuse) the fp32 blocks the candidates live in. The blocks
  // of this query are held here, not only in the cache, which may evict some when they are many.
  const local = new Map<string, Float32Array>()
  const wanted = new Map<string, [number, number]>()
  for (const slot of approx.slots) {
    const block = Math.floor(table.vectorRowOf[slot]! / VECTOR_BLOCK_ROWS)
    const segment = table.segmentOf[slot]!
    const key = `${segment}/${block}`
    if (local.has(key) || wanted.has(key)) continue
    const cached = ctx.blocks.get(segment, block)
    if (cached) local.set(key, cached)
    else wanted.set(key, [segment, block])
  }
  if (wanted.size > 0) {
    for (const record of await ctx.store.readVectors([...wanted.values()])) {
      local.set(`${record.segment}/${record.block}`, record.vectors)
      ctx.blocks.set(record.segment, record.block, record.vectors)
    }
  }
  const gathered = new Float32Array(approx.slots.length * dims)
  const kept: number[] = []
  for (const slot of approx.slots) {
    const row = table.vectorRowOf[slot]!
    const vectors = local.get(`${table.segmentOf[slot]!}/${Math.floor(row / VECTOR_BLOCK_ROWS)}`)
    if (!vectors) continue // compacted or cleared meanwhile: the next query sees the new view
    const r = row % VECTOR_BLOCK_ROWS
    gathered.set(vectors.subarray(r * dims, (r + 1) * dims), kept.length * dims)
    kept.push(slot)
  }
  return rescoreExact(q, Int32Array.from(kept), gathered.subarray(0, kept.length * dims), dims, depth)
}

async function readHits(
  slots: number[],
  scores: number[],
  keywordScore: Map<number, number>,
  vectorScore: Map<number, number>,
  ctx: Context,
): Promise<SearchHit[]> {
  const { table } = ctx
  const chunks = await ctx.store.readChunks(slots.map((s) => table.seqs[s]!))
  const hits: SearchHit[] = []
  slots.forEach((slot, i) => {
    const chunk = chunks[i]
    if (!chunk) return // deleted since the scan
    const hit: SearchHit = {
      id: chunk.docId,
      chunkId: `${chunk.docId}#${chunk.index}`,
      chunkIndex: chunk.index,
      score: scores[i]!,
      scores: {},
      text: chunk.text,
      start: chunk.start,
      end: chunk.end,
      section: chunk.section,
      path: chunk.path,
    }
    const kw = keywordScore.get(slot)
    const vec = vectorScore.get(slot)
    if (kw !== undefined) hit.scores.keyword = kw
    if (vec !== undefined) hit.scores.vector = vec
    const title = table.titles[slot]
    if (title !== undefined) hit.title = title
    const metadata = table.metadata[slot]
    if (metadata !== undefined) hit.metadata = metadata
    hits.push(hit)
  })
  return hits
}

function invalid(message: string): WinnowError {
  return new WinnowError('INVALID_INPUT', message)
}
