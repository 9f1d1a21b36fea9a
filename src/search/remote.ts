/**
 * Remote first stage: checking what a retriever answered, and turning its candidates into the
 * pipeline's first stage, alone or fused with a collection's own. Shared by the page (which calls
 * the retriever and checks the answer before it crosses to the worker) and the worker (which checks
 * again: it is the authority).
 */
import { describeValue, invalidInput, WinnowError } from '../errors.js'
import type { RemoteCandidate, SearchMode } from '../types/search.js'
import type { Candidate, CheckedCandidate, CheckedRemoteFirstStage, PassageRecord, Retrieved } from './types.js'

/** Longest candidate text accepted (as `maxTextLength`'s default). */
export const MAX_REMOTE_TEXT = 1_000_000
/** Most candidates one answer may carry before it is refused (more than `candidates` are cut). */
export const MAX_REMOTE_CANDIDATES = 10_000
/** reciprocal-rank fusion's k for `firstStage: 'fuse'`. */
export const REMOTE_RRF_K = 60

/**
 * Checks a retriever's answer and copies it into plain, cloneable data (unknown fields dropped).
 *
 * @throws WinnowError `REMOTE_MALFORMED` naming the first bad candidate (`details.index`) and field.
 * @example
 * checkRemoteCandidates([{ id: 'a', text: 'x', score: 1.5 }]) // [{ id: 'a', text: 'x', score: 1.5 }]
 * checkRemoteCandidates([{ id: 'a' }])                          // throws REMOTE_MALFORMED { index: 0, field: 'text' }
 */
export function checkRemoteCandidates(value: unknown, extra: Record<string, unknown> = {}): CheckedCandidate[] {
  if (!Array.isArray(value)) throw malformed(`the retriever must answer with an array of { id, text } candidates, got ${describeValue(value)}`, { ...extra, field: 'candidates' })
  if (value.length > MAX_REMOTE_CANDIDATES) throw malformed(`the retriever answered with ${value.length} candidates; at most ${MAX_REMOTE_CANDIDATES}`, { ...extra, field: 'candidates' })
  const seen = new Set<string>()
  let dims: number | null = null
  return value.map((raw: unknown, index) => {
    const bad = (field: string, what: string, got: unknown) => malformed(`candidate ${index}: ${field} must be ${what}, got ${describeValue(got)}`, { ...extra, index, field })
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad('the candidate', 'an object like { id, text }', raw)
    const c = raw as Record<string, unknown>
    if (typeof c.id !== 'string' || c.id === '') throw bad('id', 'a non-empty string', c.id)
    if (seen.has(c.id)) throw malformed(`candidate ${index}: id ${JSON.stringify(c.id)} appears twice; ids must be unique within an answer`, { ...extra, index, field: 'id' })
    seen.add(c.id)
    if (typeof c.text !== 'string') throw bad('text', 'a string', c.text)
    if (c.text.length > MAX_REMOTE_TEXT) throw malformed(`candidate ${index}: text has ${c.text.length} characters; at most ${MAX_REMOTE_TEXT}`, { ...extra, index, field: 'text' })
    const out: CheckedCandidate = { id: c.id, text: c.text }
    if (c.score !== undefined && c.score !== null) {
      if (typeof c.score !== 'number' || !Number.isFinite(c.score)) throw bad('score', 'a finite number', c.score)
      out.score = c.score
    }
    if (c.title !== undefined && c.title !== null) {
      if (typeof c.title !== 'string') throw bad('title', 'a string', c.title)
      out.title = c.title
    }
    if (c.documentId !== undefined && c.documentId !== null) {
      if (typeof c.documentId !== 'string' || c.documentId === '') throw bad('documentId', 'a non-empty string', c.documentId)
      out.documentId = c.documentId
    }
    if (c.metadata !== undefined && c.metadata !== null) {
      if (typeof c.metadata !== 'object' || Array.isArray(c.metadata)) throw bad('metadata', 'an object', c.metadata)
      let copy: Record<string, unknown>
      try {
        copy = JSON.parse(JSON.stringify(c.metadata)) as Record<string, unknown>
      } catch {
        throw bad('metadata', 'JSON-safe data', c.metadata)
      }
      out.metadata = copy
    }
    if (c.vector !== undefined && c.vector !== null) {
      const v = c.vector
      if (!(Array.isArray(v) || v instanceof Float32Array || v instanceof Float64Array) || v.length === 0) throw bad('vector', 'a non-empty array of numbers', v)
      const vector = Float32Array.from(v as ArrayLike<number>)
      if (!vector.every(Number.isFinite)) throw malformed(`candidate ${index}: vector must hold finite numbers only`, { ...extra, index, field: 'vector' })
      if (dims !== null && vector.length !== dims) throw malformed(`candidate ${index}: vector has ${vector.length} dimensions, the candidates before it ${dims}`, { ...extra, index, field: 'vector' })
      dims = vector.length
      out.vector = vector
    }
    return out
  })
}

/**
 * The pipeline's first stage from remote candidates alone, in the retriever's order. Normalised
 * scores (for `skipRerankAbove` and unreranked hits): the score over the best one's, clamped to
 * 0..1, when every candidate has a score and the best is positive; else by rank, `(n − i) / n`.
 *
 * @example
 * const retrieved = remoteRetrieved(checked, 'keyword', 50)
 */
export function remoteRetrieved(candidates: readonly CheckedCandidate[], mode: SearchMode, depth: number): Retrieved {
  const list = candidates.slice(0, depth)
  const scored = list.length > 0 && list.every((c) => c.score !== undefined)
  const best = scored ? Math.max(...list.map((c) => c.score!)) : 0
  const n = list.length
  return {
    mode,
    source: 'remote',
    candidates: list.map((c, i) => {
      const normalized = scored && best > 0 ? clamp01(c.score! / best) : (n - i) / n
      return remoteCandidate(c, c.score ?? normalized, normalized)
    }),
    passages: list.map(remotePassage),
    vectors: async (indices) => sameLength(indices.map((i) => list[i]?.vector ?? null)),
  }
}

/**
 * The collection's first stage and the remote one merged by reciprocal-rank fusion: each item
 * scores Σ 1 / (k + rank) over the lists it is in, normalised by the best possible `2 / (k + 1)`.
 * A remote candidate is the local passage whose chunk id (`<doc>#<index>`) equals its `id`, else
 * the best-ranked local passage of the document `documentId ?? id` not matched yet; else an item of
 * its own, with its own text. A matched passage keeps the local text, position and vector.
 *
 * @example
 * const fused = fuseRetrieved(local, checked, 50)
 */
export function fuseRetrieved(local: Retrieved, remote: readonly CheckedCandidate[], depth: number, k = REMOTE_RRF_K): Retrieved {
  interface Item {
    fused: number
    local: number | null
    remote: number | null
    /** Best rank in either list, for ties. */
    best: number
  }
  const items: Item[] = []
  const byChunk = new Map<string, Item>()
  const byDoc = new Map<string, Item[]>()
  local.candidates.forEach((c, i) => {
    const passage = local.passages[i]
    if (!passage) return
    const item: Item = { fused: 1 / (k + i + 1), local: i, remote: null, best: i }
    items.push(item)
    byChunk.set(`${c.docId}#${passage.index}`, item)
    const list = byDoc.get(c.docId)
    if (list) list.push(item)
    else byDoc.set(c.docId, [item])
  })
  remote.forEach((c, r) => {
    let item = byChunk.get(c.id)
    if (item && item.remote !== null) item = undefined
    item ??= byDoc.get(c.documentId ?? c.id)?.find((it) => it.remote === null)
    if (item) {
      item.remote = r
      item.fused += 1 / (k + r + 1)
      item.best = Math.min(item.best, r)
    } else {
      items.push({ fused: 1 / (k + r + 1), local: null, remote: r, best: r })
    }
  })
  items.sort((a, b) => b.fused - a.fused || a.best - b.best || (a.local ?? Infinity) - (b.local ?? Infinity))
  const kept = items.slice(0, depth)
  const top = 2 / (k + 1)
  const candidates: Candidate[] = kept.map((item) => {
    const normalized = clamp01(item.fused / top)
    const fromRemote = item.remote === null ? null : remote[item.remote]!
    if (item.local === null) return remoteCandidate(fromRemote!, item.fused, normalized)
    const base = local.candidates[item.local]!
    const candidate: Candidate = { ...base, scores: { ...base.scores }, score: item.fused, normalized }
    if (fromRemote?.score !== undefined) candidate.scores.remote = fromRemote.score
    return candidate
  })
  return {
    mode: local.mode,
    source: 'fused',
    candidates,
    passages: kept.map((item) => (item.local !== null ? local.passages[item.local]! : remotePassage(remote[item.remote!]!))),
    vectors: async (indices) => {
      const localAt = indices.map((i) => kept[i]!.local)
      const stored = localAt.some((l) => l !== null) ? await local.vectors(localAt.filter((l): l is number => l !== null)) : []
      let next = 0
      const out = indices.map((i) => {
        const item = kept[i]!
        if (item.local !== null) return stored === null ? null : (stored[next++] ?? null)
        return remote[item.remote!]!.vector ?? null
      })
      return sameLength(out)
    },
  }
}

/**
 * Checks a remote first stage as it reaches the worker: its answer, how it joins, and that no
 * option of the collection's own first stage comes with `firstStage: 'remote'`.
 *
 * @throws WinnowError `INVALID_INPUT` for the options, `REMOTE_MALFORMED` for the answer.
 * @example
 * checkRemoteFirstStage({ k: 5 }, { candidates, firstStage: 'remote', mode: 'keyword' })
 */
export function checkRemoteFirstStage(
  request: object,
  remote: { candidates: unknown; firstStage: unknown; mode: unknown },
): CheckedRemoteFirstStage {
  const { firstStage, mode } = remote
  if (firstStage !== 'remote' && firstStage !== 'fuse') throw invalidInput(`firstStage must be 'remote' or 'fuse', got ${describeValue(firstStage)}`)
  if (mode !== 'keyword' && mode !== 'vector' && mode !== 'hybrid') throw invalidInput(`the remote mode must be 'keyword', 'vector' or 'hybrid', got ${describeValue(mode)}`)
  if (firstStage === 'remote') checkNoLocalOptions(request)
  return { candidates: checkRemoteCandidates(remote.candidates), firstStage, mode }
}

/** Options of the collection's own first stage, meaningless when a retriever replaces it. */
export const LOCAL_FIRST_STAGE_OPTIONS = ['mode', 'fusion', 'minVectorScore', 'probes'] as const

/**
 * Refuses options of the collection's own first stage when the retriever's candidates replace it.
 *
 * @throws WinnowError `INVALID_INPUT` naming the option.
 * @example
 * checkNoLocalOptions({ mode: 'vector' }) // throws: mode belongs to the collection's first stage
 */
export function checkNoLocalOptions(request: object): void {
  for (const key of LOCAL_FIRST_STAGE_OPTIONS) {
    if ((request as Record<string, unknown>)[key] !== undefined) {
      throw invalidInput(`${key} belongs to the collection's own first stage, which the retriever replaces here; drop ${key}, or pass firstStage: 'fuse' to run both`, { option: key })
    }
  }
}

function remoteCandidate(c: CheckedCandidate, score: number, normalized: number): Candidate {
  const candidate: Candidate = { docId: c.documentId ?? c.id, chunkId: c.id, score, normalized, scores: {} }
  if (c.score !== undefined) candidate.scores.remote = c.score
  if (c.title !== undefined) candidate.title = c.title
  if (c.metadata !== undefined) candidate.metadata = c.metadata
  return candidate
}

function remotePassage(c: CheckedCandidate): PassageRecord {
  return { index: 0, start: 0, end: c.text.length, text: c.text, section: null, path: [] }
}

/** Vectors usable by MMR's cosine: all present and of one length, else null (term overlap then). */
function sameLength(vectors: (Float32Array | null)[]): (Float32Array | null)[] | null {
  if (vectors.length === 0) return vectors
  const dims = vectors[0]?.length
  return vectors.every((v) => v !== null && v.length === dims) ? vectors : null
}

function clamp01(x: number): number {
  return x > 1 ? 1 : x > 0 ? x : 0
}

function malformed(message: string, details: Record<string, unknown>): WinnowError {
  return new WinnowError('REMOTE_MALFORMED', message, details)
}
