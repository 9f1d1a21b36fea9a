/**
 * The fuzz's model of winnow: what each call on a keyword-only instance (`reranker: false`, no
 * embedder) must do, written from the documented contract (README, types.ts) and the validation
 * rules of src/client/validate.ts, src/search/ingest.ts, searchOptions.ts, query.ts, filter.ts,
 * fusion.ts and text/snippet.ts. Where the contract is silent the rule follows the code, and says so.
 *
 * Every call gets an expected outcome: a resolve (with what it must return) or a WinnowError code.
 * The values seen here are the caller's; the worker sees their structured clone, so rules are
 * applied to `structuredClone(value)`, and a value that cannot be cloned is INVALID_INPUT.
 */
import type { WinnowErrorCode } from '../../../src/index.ts'
import { abortsSoon } from './spec.ts'

/** A document as the model keeps it: what `get()` must return. */
export interface ModelDoc {
  text: string
  title?: string
  metadata?: Record<string, unknown>
  /** The unique search token in the text, if the fuzz put one there. */
  token: string | null
}

/** One collection as the model sees it. */
export interface CollectionModel {
  name: string
  /** Its `maxTextLength`. */
  limit: number
  docs: Map<string, ModelDoc>
  /** The manifest's `dims` and `vectorSource`: kept by delete, reset by clear. */
  dims: number | null
  vectorSource: 'none' | 'caller'
}

/**
 * What a call must do. `mayAbort`: its signal aborts while it runs, so ABORTED is right too (and
 * then the call must have changed nothing).
 */
export type Expected<T> = ({ ok: true; value: T } | { ok: false; code: WinnowErrorCode; why: string }) & { mayAbort?: boolean }

const fail = (code: WinnowErrorCode, why: string): { ok: false; code: WinnowErrorCode; why: string } => ({ ok: false, code, why })

/** A clone as postMessage makes it, or null when it cannot be made. */
function cloned<T>(value: T): { value: T } | null {
  try {
    return { value: structuredClone(value) }
  } catch {
    return null
  }
}

/**
 * The page-side checks of an options object that carries an AbortSignal and a callback: not an
 * object → INVALID_INPUT; a `signal` that is not an AbortSignal, or a callback that is not a
 * function → INVALID_INPUT (as `onFirstStage` already is); an aborted signal → ABORTED.
 */
function checkCallOptions(options: unknown, callback: string): Expected<Record<string, unknown>> {
  if (options === undefined) return { ok: true, value: {} }
  if (options === null || typeof options !== 'object' || isRevoked(options)) return fail('INVALID_INPUT', 'options are not an object')
  const o = options as Record<string, unknown>
  if (o.signal !== undefined && o.signal !== null && !(o.signal instanceof AbortSignal)) return fail('INVALID_INPUT', 'signal is not an AbortSignal')
  if (o[callback] !== undefined && typeof o[callback] !== 'function') return fail('INVALID_INPUT', `${callback} is not a function`)
  if ((o.signal as AbortSignal | null | undefined)?.aborted) return fail('ABORTED', 'the signal was aborted')
  return { ok: true, value: o }
}

/** Marks `expected` as possibly ABORTED when the options carry a signal that aborts during the call. */
export function allowAbort<T>(expected: Expected<T>, options: unknown): Expected<T> {
  if (options === null || typeof options !== 'object' || isRevoked(options)) return expected
  const signal = (options as { signal?: unknown }).signal
  return signal instanceof AbortSignal && abortsSoon.has(signal) ? { ...expected, mayAbort: true } : expected
}

/** A revoked Proxy: every operation on it throws. */
export function isRevoked(x: unknown): boolean {
  if ((typeof x !== 'object' && typeof x !== 'function') || x === null) return false
  try {
    Reflect.ownKeys(x)
    return false
  } catch {
    return true
  }
}

/** What an accepted add stores. */
export interface AcceptedAdd {
  docs: { id: string; doc: ModelDoc }[]
  replaced: number
  /** Documents that came with a vector (then one chunk each), and their length. */
  withVector: number
  dims: number | null
}

/**
 * `collection.add(documents, options)`.
 *
 * @example
 * expectAdd(model, [{ id: 'a', text: 'x' }], undefined) // { ok: true, value: { docs: [...], replaced: 0, ... } }
 */
export function expectAdd(model: CollectionModel, documents: unknown, options: unknown): Expected<AcceptedAdd> {
  const opts = checkCallOptions(options, 'onProgress')
  if (!opts.ok) return opts
  const clone = cloned(documents)
  if (!clone) return fail('INVALID_INPUT', 'documents cannot be cloned')
  const input = clone.value
  if (!Array.isArray(input)) return fail('INVALID_INPUT', 'documents is not an array')
  const seen = new Set<string>()
  let dims = model.dims
  const out: { id: string; doc: ModelDoc }[] = []
  let withVector = 0
  for (let i = 0; i < input.length; i++) {
    const d = input[i] as Record<string, unknown>
    if (d === null || typeof d !== 'object' || Array.isArray(d)) return fail('INVALID_INPUT', `documents[${i}] is not an object`)
    if (typeof d.id !== 'string' || d.id.length === 0) return fail('INVALID_INPUT', `documents[${i}].id is not a non-empty string`)
    if (seen.has(d.id)) return fail('INVALID_INPUT', `documents[${i}].id is a duplicate`)
    seen.add(d.id)
    if (typeof d.text !== 'string') return fail('INVALID_INPUT', `documents[${i}].text is not a string`)
    if (d.text.trim().length === 0) return fail('INVALID_INPUT', `documents[${i}].text is blank`)
    if (d.text.length > model.limit) return fail('INVALID_INPUT', `documents[${i}].text is over the limit`)
    const doc: ModelDoc = { text: d.text, token: / (zq\d+d\d+x) /.exec(d.text)?.[1] ?? null }
    if (d.title !== undefined) {
      if (typeof d.title !== 'string') return fail('INVALID_INPUT', `documents[${i}].title is not a string`)
      doc.title = d.title
    }
    if (d.metadata !== undefined) {
      const metadata = checkMetadata(d.metadata)
      if (metadata === null) return fail('INVALID_INPUT', `documents[${i}].metadata is not flat`)
      doc.metadata = metadata
    }
    if (d.vector !== undefined) {
      const v = d.vector
      if (!(Array.isArray(v) || v instanceof Float32Array || v instanceof Float64Array)) return fail('INVALID_INPUT', `documents[${i}].vector is not an array`)
      // The contract: a vector is numbers. Float32Array.from would coerce '1' and true, and throw on a BigInt.
      if (Array.isArray(v) && v.some((x) => typeof x === 'bigint')) return fail('INVALID_INPUT', `documents[${i}].vector holds a BigInt`)
      const vector = Float32Array.from(v as ArrayLike<number>)
      if (vector.length === 0 || !vector.every(Number.isFinite)) return fail('INVALID_INPUT', `documents[${i}].vector is empty or not finite`)
      if (dims === null) dims = vector.length
      if (vector.length !== dims) return fail('DIMENSION_MISMATCH', `documents[${i}].vector has ${vector.length} dims, not ${dims}`)
      if (vector.every((x) => x === 0)) return fail('INVALID_INPUT', `documents[${i}].vector is all zeros`)
      withVector++
    }
    out.push({ id: d.id, doc })
  }
  if (out.length > 0) {
    // Without an embedder every document of a collection has a vector, or none does.
    const hasChunks = model.docs.size > 0
    if (withVector > 0 && withVector < out.length) return fail('INVALID_INPUT', 'some documents have a vector and some do not')
    if (hasChunks && model.vectorSource !== 'none' && withVector === 0) return fail('INVALID_INPUT', 'the collection stores vectors')
    if (hasChunks && model.vectorSource === 'none' && withVector > 0) return fail('INVALID_INPUT', 'the collection was built without vectors')
  }
  const replaced = out.filter((d) => model.docs.has(d.id)).length
  return { ok: true, value: { docs: out, replaced, withVector, dims: withVector > 0 ? dims : model.dims } }
}

/** Applies an accepted add to the model. */
export function applyAdd(model: CollectionModel, add: AcceptedAdd): void {
  for (const { id, doc } of add.docs) model.docs.set(id, doc)
  if (add.withVector > 0) {
    model.dims = add.dims
    model.vectorSource = 'caller'
  }
}

// Flat metadata: string, finite number, boolean, null, or an array of those (every element, holes too).
function checkMetadata(value: unknown): Record<string, unknown> | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return null
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    const ok = isScalar(v) || (Array.isArray(v) && Array.from(v).every(isScalar))
    if (!ok) return null
    Object.defineProperty(out, key, { value: Array.isArray(v) ? [...v] : v, enumerable: true, writable: true, configurable: true })
  }
  return out
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
}

/** `collection.delete(ids)`: how many of the ids existed. */
export function expectDelete(model: CollectionModel, ids: unknown): Expected<string[]> {
  const clone = cloned(ids)
  if (!clone) return fail('INVALID_INPUT', 'ids cannot be cloned')
  const v = clone.value
  if (!Array.isArray(v) || !Array.from(v).every((id) => typeof id === 'string')) return fail('INVALID_INPUT', 'ids is not an array of strings')
  return { ok: true, value: [...new Set(v as string[])].filter((id) => model.docs.has(id)) }
}

/** `collection.get(id)`. */
export function expectGet(model: CollectionModel, id: unknown): Expected<ModelDoc | null> {
  if (typeof id !== 'string') return fail('INVALID_INPUT', 'id is not a string')
  return { ok: true, value: model.docs.get(id) ?? null }
}

/** What an accepted search must satisfy. */
export interface AcceptedSearch {
  k: number
  mode: 'keyword' | 'vector' | 'hybrid'
  /** The collection has no passage for this mode: the result must be empty. */
  empty: boolean
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v)
const inUnit = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1
const optionalOk = (v: unknown, ok: (v: unknown) => boolean) => v === undefined || v === null || ok(v)

/**
 * `collection.search(query, options)` on a keyword-only instance.
 *
 * @example
 * expectSearch(model, 'memory', { k: 5 }) // { ok: true, value: { k: 5, mode: 'keyword', empty: false } }
 */
export function expectSearch(model: CollectionModel, query: unknown, options: unknown): Expected<AcceptedSearch> {
  if (options === null || (options !== undefined && typeof options !== 'object')) return fail('INVALID_INPUT', 'options are not an object')
  const opts = checkCallOptions(options, 'onFirstStage')
  if (!opts.ok) return opts
  const { signal: _signal, onFirstStage: _onFirstStage, ...rest } = opts.value
  const clone = cloned({ rest, query })
  if (!clone) return fail('INVALID_INPUT', 'the query or options cannot be cloned')
  const r = { ...clone.value.rest, query: clone.value.query } as Record<string, unknown>

  // resolvePipeline (searchOptions.ts)
  const k = r.k ?? 10
  if (!isInt(k) || k < 1 || k > 10_000) return fail('INVALID_INPUT', 'k')
  if (r.rerank !== undefined && r.rerank !== false) return fail('INVALID_INPUT', 'rerank without a reranker or a model')
  let mmr = false
  if (r.mmr !== undefined && r.mmr !== false) {
    if (r.mmr !== true) {
      if (r.mmr === null || typeof r.mmr !== 'object' || Array.isArray(r.mmr)) return fail('INVALID_INPUT', 'mmr')
      if (Object.keys(r.mmr).some((key) => key !== 'lambda')) return fail('INVALID_INPUT', 'mmr key')
      const lambda = (r.mmr as { lambda?: unknown }).lambda ?? 0.7
      if (!inUnit(lambda)) return fail('INVALID_INPUT', 'mmr.lambda')
    }
    mmr = true
  }
  if (!optionalOk(r.maxPerDocument, (v) => isInt(v) && v >= 1)) return fail('INVALID_INPUT', 'maxPerDocument')
  if (!optionalOk(r.minScore, inUnit)) return fail('INVALID_INPUT', 'minScore')
  if (!optionalOk(r.skipRerankAbove, inUnit)) return fail('INVALID_INPUT', 'skipRerankAbove')
  if (!optionalOk(r.rerankBudgetMs, (v) => typeof v === 'number' && v > 0 && Number.isFinite(v))) return fail('INVALID_INPUT', 'rerankBudgetMs')
  const widens = mmr || (r.maxPerDocument !== undefined && r.maxPerDocument !== null)
  const candidates = r.candidates ?? (widens ? Math.max(k, 50) : k)
  if (!isInt(candidates) || candidates < k || candidates > 10_000) return fail('INVALID_INPUT', 'candidates')
  if (!snippetOk(r.snippet)) return fail('INVALID_INPUT', 'snippet')

  // retrieve (query.ts)
  if (typeof r.query !== 'string') return fail('INVALID_INPUT', 'query is not a string')
  const hasVectors = model.vectorSource !== 'none' && model.dims !== null
  // `vector: null` is the vector left out, as `mode: null` is the mode (searchOptions.ts).
  const canEmbed = r.vector !== undefined && r.vector !== null
  const mode = r.mode ?? (hasVectors && canEmbed ? 'hybrid' : 'keyword')
  if (mode !== 'keyword' && mode !== 'vector' && mode !== 'hybrid') return fail('INVALID_INPUT', 'mode')
  if (mode === 'hybrid' && !fusionOk(r.fusion)) return fail('INVALID_INPUT', 'fusion')
  if (!filterOk(r.filter)) return fail('INVALID_INPUT', 'filter')
  if (!optionalOk(r.probes, (v) => isInt(v) && (v as number) >= 1)) return fail('INVALID_INPUT', 'probes')
  const empty = model.docs.size === 0
  if (mode !== 'keyword') {
    if (!hasVectors) return empty ? { ok: true, value: { k, mode, empty } } : fail('INVALID_INPUT', `mode ${mode} without vectors`)
    if (!canEmbed) return fail('INVALID_INPUT', `mode ${mode} without a query vector`)
  }
  if (empty) return { ok: true, value: { k, mode, empty } }
  if (mode !== 'keyword') {
    const v = r.vector
    if (!(Array.isArray(v) || v instanceof Float32Array || v instanceof Float64Array)) return fail('INVALID_INPUT', 'vector is not an array')
    if (Array.isArray(v) && v.some((x) => typeof x === 'bigint')) return fail('INVALID_INPUT', 'vector holds a BigInt')
    const q = Float32Array.from(v as ArrayLike<number>)
    if (q.length !== model.dims) return fail('DIMENSION_MISMATCH', 'query vector length')
    let norm = 0
    for (const x of q) norm += x * x
    if (!(norm > 0) || !Number.isFinite(norm)) return fail('INVALID_INPUT', 'query vector not finite or zero')
  }
  return { ok: true, value: { k, mode, empty: false } }
}

function snippetOk(s: unknown): boolean {
  if (s === false || s === undefined) return true
  if (s === null || typeof s !== 'object' || Array.isArray(s)) return false
  if (Object.keys(s).some((key) => key !== 'length' && key !== 'windows')) return false
  const { length = 200, windows = 2 } = s as { length?: unknown; windows?: unknown }
  return isInt(length) && length >= 20 && length <= 100_000 && isInt(windows) && windows >= 1 && windows <= 10
}

function fusionOk(f: unknown): boolean {
  if (f === undefined || f === null) return true
  if (typeof f !== 'object' || Array.isArray(f)) return false
  const method = (f as { method?: unknown }).method
  const allowed = method === 'rrf' ? ['method', 'k'] : method === 'weighted' ? ['method', 'alpha'] : null
  if (!allowed || Object.keys(f).some((key) => !allowed.includes(key))) return false
  if (method === 'rrf') {
    const k = (f as { k?: unknown }).k ?? 60
    return typeof k === 'number' && Number.isFinite(k) && k > 0
  }
  return inUnit((f as { alpha?: unknown }).alpha ?? 0.5)
}

const OPERATORS = ['eq', 'ne', 'in', 'nin', 'gt', 'gte', 'lt', 'lte', 'exists']
const RANGE = ['gt', 'gte', 'lt', 'lte']

function plain(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false
  const proto = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}

const filterScalar = (x: unknown) => x === null || typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && !Number.isNaN(x))

function filterOk(filter: unknown): boolean {
  if (filter === undefined || filter === null) return true
  if (!plain(filter)) return false
  for (const key of Object.keys(filter)) {
    const c = filter[key]
    if (c === undefined || Array.isArray(c)) return false
    if (!plain(c)) {
      if (!filterScalar(c)) return false
      continue
    }
    const ops = Object.keys(c)
    if (ops.length === 0 || ops.some((op) => !OPERATORS.includes(op))) return false
    if ('eq' in c && !filterScalar(c.eq)) return false
    if ('ne' in c && !filterScalar(c.ne)) return false
    for (const op of ['in', 'nin']) if (op in c && !(Array.isArray(c[op]) && (c[op] as unknown[]).every(filterScalar))) return false
    let type: string | undefined
    for (const op of RANGE) {
      if (!(op in c)) continue
      const t = typeof c[op]
      if ((t !== 'number' && t !== 'string') || Number.isNaN(c[op])) return false
      if (type !== undefined && t !== type) return false
      type = t
    }
    if ('exists' in c && typeof c.exists !== 'boolean') return false
  }
  return true
}

/** `winnow.collection(name, options)`. */
export function expectOpen(name: unknown, options: unknown): Expected<null> {
  if (typeof name !== 'string' || name.length === 0) return fail('INVALID_INPUT', 'name is not a non-empty string')
  if (options === null || (options !== undefined && typeof options !== 'object')) return fail('INVALID_INPUT', 'options are not an object')
  if (name.length > 200) return fail('INVALID_INPUT', 'name is over 200 characters')
  const clone = cloned(options)
  if (!clone) return fail('INVALID_INPUT', 'options cannot be cloned')
  const max = (clone.value as { maxTextLength?: unknown } | undefined)?.maxTextLength
  if (max !== undefined && !(Number.isInteger(max) && (max as number) > 0)) return fail('INVALID_INPUT', 'maxTextLength')
  const index = (clone.value as { vectorIndex?: unknown } | undefined)?.vectorIndex
  if (index !== undefined) {
    if (index === null || typeof index !== 'object' || Array.isArray(index)) return fail('INVALID_INPUT', 'vectorIndex')
    const { minRows, probes, targetRecall, cacheBytes } = index as Record<string, unknown>
    if (minRows !== undefined && minRows !== Infinity && !(isInt(minRows) && (minRows as number) >= 64)) return fail('INVALID_INPUT', 'vectorIndex.minRows')
    if (probes !== undefined && !(isInt(probes) && (probes as number) >= 1)) return fail('INVALID_INPUT', 'vectorIndex.probes')
    if (targetRecall !== undefined && !(typeof targetRecall === 'number' && targetRecall > 0 && targetRecall <= 1)) return fail('INVALID_INPUT', 'vectorIndex.targetRecall')
    if (cacheBytes !== undefined && !(isInt(cacheBytes) && (cacheBytes as number) >= 0)) return fail('INVALID_INPUT', 'vectorIndex.cacheBytes')
  }
  return { ok: true, value: null }
}

/**
 * `winnow.rerank(query, documents, options)` on an instance created with `reranker: false`: bad
 * arguments are INVALID_INPUT, an aborted signal ABORTED, and anything else INVALID_INPUT too
 * (there is no reranker).
 */
export function expectRerank(query: unknown, documents: unknown, options: unknown): Expected<never> {
  const opts = checkCallOptions(options, 'never')
  if (!opts.ok && opts.code === 'INVALID_INPUT') return opts
  if (typeof query !== 'string' || isRevoked(documents) || !Array.isArray(documents)) return fail('INVALID_INPUT', 'bad query or documents')
  const topK = opts.ok ? opts.value.topK : undefined
  if (topK !== undefined && !(isInt(topK) && topK >= 0)) return fail('INVALID_INPUT', 'topK')
  for (const d of documents) {
    const ok = typeof d === 'string' || (d !== null && typeof d === 'object' && typeof d.text === 'string' && typeof d.id === 'string')
    if (!ok) return fail('INVALID_INPUT', 'a bad document')
  }
  if (!opts.ok) return opts
  return fail('INVALID_INPUT', 'no reranker')
}
