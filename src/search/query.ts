import { invalidInput, WinnowError } from '../errors.js'
import { rowBlockRows, type ChunkRecord, type CollectionStore, type Manifest, type RowBlockRecord } from '../store/types.js'
import { rowOf } from '../store/rowBlocks.js'
import type { Analyzer } from '../text/analyzer.js'
import { scoreBm25, type QueryTerm, type TermPostings } from '../rank/bm25.js'
import type { Checkpoint } from '../core/checkpoint.js'
import type { BlockCache } from '../collection/caches.js'
import type { ChunkView, CollectionView } from '../collection/ports.js'
import { buildAllowedMask } from '../rank/filter.js'
import { fuse } from '../rank/fusion.js'
import type { SearchMode } from '../types.js'
import { candidateCount, maxRowScale, queryScale, rescoreCut, rescoreExact, scanQuantized } from '../rank/vectorScan.js'
import { planProbes, probeBlocks, readProbes } from './ivfProbe.js'
import type { Candidate, QueryVector, ResolvedFirstStage, Retrieved } from './types.js'


/** A view of the collection with the call's checkpoint, as the first stage ranks it. */
export interface QueryContext extends CollectionView {
  checkpoint: Checkpoint
  /**
   * Set while ranking when the store held data this view does not know (postings of a segment it
   * has not loaded; vector blocks it expected are gone): a merge or another tab's write landed
   * meanwhile, and the caller should rank again on a refreshed view.
   */
  stale?: boolean
}

/** The first stage's ranking, best first, over one view of the collection. */
export interface FirstStage {
  mode: SearchMode
  /** Slots of `table` (the view the ranking was made on). */
  slots: number[]
  /** Raw scores: BM25, cosine or fused. */
  scores: number[]
  /** The same on a 0..1 scale (see `SearchHit.score`). */
  normalized: number[]
  keyword: Map<number, number>
  vector: Map<number, number>
  table: ChunkView
}

/** Hybrid lists are read at least this deep before fusing, so fusion has both sides to work with. */
const MIN_FUSION_DEPTH = 100

/**
 * Ranks the collection's in-memory view for a first stage resolved once by `resolveSearch`: the
 * best `depth` passages (fewer when fewer match). Texts are not read here (see {@link readPassages}).
 * What depends on the collection is checked here: that it has vectors for a vector mode, a way to
 * embed the query, and the query vector's length (DIMENSION_MISMATCH).
 *
 * @example
 * const stage = await retrieve(resolveFirstStage('install', { mode: 'keyword' }), 50, context)
 */
export async function retrieve(request: ResolvedFirstStage, depth: number, ctx: QueryContext): Promise<FirstStage> {
  const { query, minVectorScore, filter: predicate } = request
  const { hasVectors, canEmbed, mode } = stageMode(request, ctx)
  const fusion = mode === 'hybrid' ? request.fusion : null
  if (fusion instanceof WinnowError) throw fusion
  const { table } = ctx
  const empty: FirstStage = { mode, slots: [], scores: [], normalized: [], keyword: new Map(), vector: new Map(), table }
  if (mode !== 'keyword') {
    if (!hasVectors) {
      if (ctx.manifest.chunkCount === 0) return empty
      throw invalidInput(`mode '${mode}' needs vectors, and this collection has none; use mode 'keyword' or add documents with an embedder`)
    }
    if (!canEmbed) throw invalidInput(`mode '${mode}' needs a query vector: configure the embedder that built this collection (${ctx.manifest.embedder ?? 'caller vectors'}) or pass options.vector`)
  }
  if (table.liveCount === 0) return empty

  const live = table.liveMask()
  let allowed: Uint8Array = live
  if (predicate) {
    allowed = buildAllowedMask(table.metadataColumn(), predicate)
    for (let s = 0; s < table.size; s++) allowed[s] = allowed[s]! & live[s]!
  }

  const listDepth = mode === 'hybrid' ? Math.max(depth, MIN_FUSION_DEPTH) : depth
  // Both sides at once: the vector scan runs while the keyword side waits for its postings, and
  // their reads overlap. A keyword failure is reported first, as when they ran one after the other.
  const [keywordRun, vectorRun] = await Promise.allSettled([
    mode === 'vector' ? null : keywordStage(query, listDepth, allowed, ctx),
    mode === 'keyword' ? null : vectorStage(query, request.vector, listDepth, allowed, ctx, request.probes ?? ctx.probes),
  ])
  if (keywordRun.status === 'rejected') throw keywordRun.reason
  if (vectorRun.status === 'rejected') throw vectorRun.reason
  const keyword = keywordRun.value
  const vector = vectorRun.value && atLeast(vectorRun.value, minVectorScore)
  const stage: FirstStage = { ...empty, keyword: new Map(), vector: new Map() }
  if (keyword) keyword.slots.forEach((s, i) => stage.keyword.set(s, keyword.scores[i]!))
  if (vector) vector.slots.forEach((s, i) => stage.vector.set(s, vector.scores[i]!))
  if (keyword && vector) {
    const fused = fuse({ ids: vector.slots, scores: vector.scores }, { ids: keyword.slots, scores: keyword.scores }, fusion!, depth)
    stage.slots = Array.from(fused.ids)
    stage.scores = Array.from(fused.scores)
    // RRF's best possible score is first place in both lists; weighted fusion is already 0..1.
    const top = fusion!.method === 'rrf' ? 2 / (fusion!.k + 1) : 1
    stage.normalized = stage.scores.map((s) => clamp01(s / top))
  } else {
    const only = (keyword ?? vector)!
    stage.slots = Array.from(only.slots.subarray(0, depth))
    stage.scores = Array.from(only.scores.subarray(0, depth))
    const best = stage.scores[0] ?? 0
    stage.normalized = keyword ? stage.scores.map((s) => (best > 0 ? clamp01(s / best) : 0)) : stage.scores.map(clamp01)
  }
  return stage
}

/** The mode a first stage runs in: as asked, else hybrid when the collection has vectors and a way to embed the query. */
function stageMode(request: ResolvedFirstStage, ctx: QueryContext) {
  const hasVectors = ctx.manifest.vectorSource !== 'none' && ctx.manifest.dims !== null
  const canEmbed = request.vector !== null || (ctx.embedder !== null && ctx.manifest.vectorSource === 'embedder')
  const mode: SearchMode = request.mode ?? (hasVectors && canEmbed ? 'hybrid' : 'keyword')
  return { hasVectors, canEmbed, mode, scans: mode !== 'keyword' && hasVectors && canEmbed }
}

/**
 * The first stage as the pipeline takes it: ranked candidates with their passages, and a reader
 * of their stored vectors. When the store moved on while ranking (a merge, here or in another tab,
 * deleted segments whose postings or vector blocks were being read; passages vanished), the view
 * is refreshed and the ranking made once more, rather than returning fewer hits than there are.
 *
 * @example
 * const retrieved = await retrieveCandidates({ query: 'install' }, 50, { context: () => ctx, refresh })
 */
export async function retrieveCandidates(
  request: ResolvedFirstStage,
  depth: number,
  view: { context(): QueryContext; refresh(): Promise<void>; loadVectors?(): Promise<void> },
): Promise<Retrieved> {
  // A reopened collection reads its int8 blocks for the first stage that scans them.
  const ready = async () => {
    const ctx = view.context()
    if (!ctx.table.vectorsPending || !view.loadVectors || !stageMode(request, ctx).scans) return ctx
    await view.loadVectors()
    return view.context()
  }
  let ctx = await ready()
  let stage = await retrieve(request, depth, ctx)
  let passages = await readPassages(stage.table, stage.slots, ctx.store)
  if (ctx.stale || view.context().table !== stage.table || passages.includes(null)) {
    await view.refresh()
    const fresh = await ready()
    if (fresh.table !== stage.table || fresh.manifest.generation !== ctx.manifest.generation) {
      ctx = fresh
      stage = await retrieve(request, depth, ctx)
      passages = await readPassages(stage.table, stage.slots, ctx.store)
    }
  }
  const { table, slots } = stage
  const { store, blocks } = ctx
  const dims = ctx.manifest.dims
  const titles = store.readTitles ? await store.readTitles(slots.map((s) => table.docRef(s))) : null
  return {
    mode: stage.mode,
    candidates: slots.map((slot, i) => {
      const candidate: Candidate = { docId: table.docId(slot), score: stage.scores[i]!, normalized: stage.normalized[i]!, scores: {} }
      const kw = stage.keyword.get(slot)
      const vec = stage.vector.get(slot)
      if (kw !== undefined) candidate.scores.keyword = kw
      if (vec !== undefined) candidate.scores.vector = vec
      const title = table.title(slot) ?? titles?.[i]
      if (title !== undefined) candidate.title = title
      const metadata = table.metadata(slot)
      if (metadata !== undefined) candidate.metadata = metadata
      return candidate
    }),
    passages,
    vectors: async (indices) => (dims === null ? null : readVectors(table, indices.map((i) => slots[i]!), store, blocks, dims)),
  }
}

/**
 * Reads the passages of first-stage slots (one store read), aligned with `slots`; null where a
 * passage was deleted or compacted away since the ranking.
 *
 * @example
 * const passages = await readPassages(stage.table, stage.slots, store)
 */
export async function readPassages(table: ChunkView, slots: readonly number[], store: CollectionStore): Promise<(ChunkRecord | null)[]> {
  if (slots.length === 0) return []
  // Passages live with their documents: the view names each one's document.
  const chunks = await store.readChunks(slots.map((s) => table.seq(s)), slots.map((s) => table.docRef(s)))
  return slots.map((_, i) => chunks[i] ?? null)
}

/**
 * The fp32 vectors of `slots` (views into row blocks, aligned with `slots`): null for a slot
 * without a vector, or whose row was deleted since the ranking. The blocks of one call are held
 * here, not only in the cache, which may evict some when they are many.
 *
 * @example
 * const [first] = await readVectors(stage.table, [stage.slots[0]], store, blocks, 384)
 */
export async function readVectors(
  table: ChunkView,
  slots: readonly number[],
  store: CollectionStore,
  blocks: BlockCache,
  dims: number,
): Promise<(Float32Array | null)[]> {
  const per = rowBlockRows(dims)
  const local = new Map<number, RowBlockRecord>()
  const wanted = new Set<number>()
  const seqs: number[] = []
  for (const slot of slots) {
    if (table.vectorRow(slot) < 0) continue
    const seq = table.seq(slot)
    const b = Math.floor(seq / per)
    if (wanted.has(b)) continue
    // A cached block may predate rows added to it since: one without the row is read again.
    const have = local.get(b) ?? blocks.get(b)
    if (have && rowOf(have, seq, dims)) local.set(b, have)
    else {
      local.delete(b)
      wanted.add(b)
    }
  }
  // Every row wanted from the blocks read (a store reading rows one by one reads only these),
  // including rows of a block first found cached and then found lacking another row.
  for (const slot of slots) if (table.vectorRow(slot) >= 0 && wanted.has(Math.floor(table.seq(slot) / per))) seqs.push(table.seq(slot))
  if (wanted.size > 0) {
    for (const record of await store.readRows([...wanted], seqs)) {
      local.set(record.block, record)
      blocks.set(record)
    }
  }
  return slots.map((slot) => {
    if (table.vectorRow(slot) < 0) return null
    const seq = table.seq(slot)
    const block = local.get(Math.floor(seq / per))
    return block ? rowOf(block, seq, dims) : null
  })
}

// The list is best first, so the survivors are a prefix.
function atLeast(list: { slots: Int32Array; scores: Float64Array }, floor: number | null): { slots: Int32Array; scores: Float64Array } {
  if (floor === null) return list
  let kept = 0
  while (kept < list.scores.length && list.scores[kept]! >= floor) kept++
  return kept === list.scores.length ? list : { slots: list.slots.subarray(0, kept), scores: list.scores.subarray(0, kept) }
}

function clamp01(x: number): number {
  return x > 1 ? 1 : x > 0 ? x : 0
}

async function keywordStage(query: string, depth: number, allowed: Uint8Array, ctx: QueryContext) {
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
    ...ctx.table.bm25Columns(),
    allowed,
    k: depth,
  })
}

async function postingsFor(terms: string[], ctx: QueryContext): Promise<Map<string, TermPostings[]>> {
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
      // Only segments this view knows: a newer one will come with the refresh that loads it. A
      // merge's segment written ahead of its commit (`staging`) is no newer segment.
      const stored = (read.get(term) ?? []).filter((p) => !ctx.manifest.staging?.includes(p.segment))
      const lists = stored.filter((p) => ctx.table.segments.includes(p.segment)).map((p) => ({ seqs: p.seqs, tfs: p.tfs }))
      if (lists.length < stored.length) ctx.stale = true
      out.set(term, lists)
      ctx.postings.set(term, lists, epoch)
    }
  }
  return out
}

async function vectorStage(query: string, given: QueryVector | null, depth: number, allowed: Uint8Array, ctx: QueryContext, probes: number | null) {
  const dims = ctx.manifest.dims!
  let q: Float32Array
  if (given !== null) {
    if (given.length !== null && given.length !== dims) {
      throw new WinnowError('DIMENSION_MISMATCH', `the query vector has ${given.length} dimensions; this collection's vectors have ${dims}`, { expected: dims, actual: given.length })
    }
    if (given.error) throw given.error
    q = given.unit!
  } else {
    if (query.trim() === '') return { slots: new Int32Array(0), scores: new Float64Array(0) }
    q = await ctx.embedder!.embed([(ctx.queryPrefix ?? '') + query], ctx.checkpoint, undefined, ctx.embedOptions)
  }
  const { table } = ctx
  if (table.vectorsPending) throw new WinnowError('INTERNAL', 'a vector scan was asked of a view whose int8 blocks are not read yet')
  const n = candidateCount(depth, table.liveCount)
  // Partitioned segments: the lists nearest the query, scanned with the exact segments' blocks.
  const plan = planProbes(q, table, probes ?? { targetRecall: ctx.targetRecall }, n, allowed)
  const lists = plan.length > 0 ? await readProbes(plan, ctx.store, ctx.lists) : []
  if (lists.includes(undefined)) ctx.stale = true // merged away meanwhile
  const scanned = plan.length > 0 ? [...table.blocks, ...probeBlocks(plan, lists, ctx.lists.probeArena())] : table.blocks
  const approx = scanQuantized(q, scanned, n, allowed)
  // Rescore with full precision the candidates that can still make the top `depth`: read (or
  // reuse) their fp32 row blocks.
  // Product-quantized lists (a snapshot's) are coarser than int8's error bound: all are rescored.
  const cut = scanned.some((b) => b.approximate) ? approx.scores.length : rescoreCut(approx.scores, depth, queryScale(q), maxRowScale(scanned))
  const rows = await readVectors(table, Array.from(approx.slots.subarray(0, cut)), ctx.store, ctx.blocks, dims)
  const gathered = new Float32Array(cut * dims)
  const kept: number[] = []
  approx.slots.subarray(0, cut).forEach((slot, i) => {
    const row = rows[i]
    if (!row) {
      ctx.stale = true // compacted or cleared meanwhile
      return
    }
    gathered.set(row, kept.length * dims)
    kept.push(slot)
  })
  return rescoreExact(q, Int32Array.from(kept), gathered.subarray(0, kept.length * dims), dims, depth)
}
