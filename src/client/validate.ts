import { describeValue, invalidInput } from '../errors.js'
import type { RerankInput, WinnowOptions } from '../types.js'

/** Documents split into the texts sent to the worker and the ids kept on the page. */
export interface CheckedDocuments {
  texts: string[]
  ids: (string | undefined)[]
}

/**
 * Checks `rerank()` arguments; anything malformed is INVALID_INPUT naming the culprit.
 *
 * @example
 * checkRerankArgs('q', ['a', { id: 'x', text: 'b' }], 5) // { texts: ['a', 'b'], ids: [undefined, 'x'] }
 */
export function checkRerankArgs(query: unknown, documents: unknown, topK: unknown): CheckedDocuments {
  if (typeof query !== 'string') throw invalidInput(`query must be a string, got ${describeValue(query)}`)
  if (!Array.isArray(documents)) throw invalidInput(`documents must be an array of strings or { id, text } objects, got ${describeValue(documents)}`)
  if (topK !== undefined && !(Number.isInteger(topK) && (topK as number) >= 0)) {
    throw invalidInput(`topK must be a non-negative integer, got ${describeValue(topK)}`)
  }
  const texts: string[] = new Array(documents.length)
  const ids: (string | undefined)[] = new Array(documents.length)
  documents.forEach((doc: RerankInput | unknown, i) => {
    if (typeof doc === 'string') {
      texts[i] = doc
      ids[i] = undefined
    } else if (doc !== null && typeof doc === 'object' && typeof (doc as { text?: unknown }).text === 'string') {
      const id = (doc as { id?: unknown }).id
      if (typeof id !== 'string') throw invalidInput(`documents[${i}].id must be a string, got ${describeValue(id)}`)
      texts[i] = (doc as { text: string }).text
      ids[i] = id
    } else {
      throw invalidInput(`documents[${i}] must be a string or { id, text } with a string text, got ${describeValue(doc)}`)
    }
  })
  return { texts, ids }
}

/**
 * Checks the options object of a call that may carry a `signal` and a callback, and returns a
 * shallow copy of it. Not an object (or one that cannot be read, such as a revoked Proxy), a
 * `signal` that is not an AbortSignal, or a callback that is not a function are INVALID_INPUT,
 * never a TypeError later on.
 *
 * @example
 * checkCallOptions({ signal }, 'add', 'onProgress') // { signal }
 * checkCallOptions({ signal: 'x' }, 'add')          // throws INVALID_INPUT
 */
export function checkCallOptions(options: unknown, call: string, callback?: string): Record<string, unknown> & { signal?: AbortSignal } {
  if (options === undefined) return {}
  if (options === null || typeof options !== 'object') throw invalidInput(`${call}() options must be an object, got ${describeValue(options)}`)
  let copy: Record<string, unknown>
  try {
    copy = { ...options }
  } catch {
    throw invalidInput(`${call}() options cannot be read (a revoked Proxy?); pass a plain object`)
  }
  const signal = copy.signal as { aborted?: unknown; addEventListener?: unknown } | null | undefined
  if (signal === null) delete copy.signal
  else if (signal !== undefined && !(typeof signal === 'object' && typeof signal.aborted === 'boolean' && typeof signal.addEventListener === 'function')) {
    throw invalidInput(`${call}() options.signal must be an AbortSignal, got ${describeValue(signal)}`)
  }
  if (callback !== undefined && copy[callback] !== undefined && typeof copy[callback] !== 'function') {
    throw invalidInput(`${call}() options.${callback} must be a function, got ${describeValue(copy[callback])}`)
  }
  return copy
}

/**
 * Checks `createWinnow()` options that can be checked without a worker.
 *
 * @example
 * checkOptions({ device: 'gpu' }) // throws INVALID_INPUT
 */
export function checkOptions(options: WinnowOptions): void {
  if (options === null || typeof options !== 'object') throw invalidInput('options must be an object')
  if (options.device !== undefined && !['auto', 'webgpu', 'wasm'].includes(options.device)) {
    throw invalidInput(`device must be 'auto', 'webgpu' or 'wasm', got ${describeValue(options.device)}`)
  }
  for (const key of ['modelBaseUrl', 'wasmBaseUrl', 'remoteHost'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'string' && !(key === 'modelBaseUrl' && options[key] === null)) {
      throw invalidInput(`${key} must be a string URL${key === 'modelBaseUrl' ? ' (or null: the hub only)' : ''}`)
    }
  }
  if (options.modelBaseUrl === null && options.allowRemoteModels !== true) {
    throw invalidInput('modelBaseUrl: null leaves nowhere to load models from: pass allowRemoteModels: true (the hub only), or a modelBaseUrl')
  }
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) {
    throw invalidInput(`threads must be a positive integer, got ${describeValue(options.threads)}`)
  }
  if (options.hangTimeoutMs !== undefined && !(typeof options.hangTimeoutMs === 'number' && options.hangTimeoutMs >= MIN_HANG_TIMEOUT_MS)) {
    throw invalidInput(`hangTimeoutMs must be a number of milliseconds, at least ${MIN_HANG_TIMEOUT_MS} (Infinity turns the check off), got ${describeValue(options.hangTimeoutMs)}`)
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw invalidInput('onProgress must be a function')
  if (options.onDeviceChange !== undefined && typeof options.onDeviceChange !== 'function') throw invalidInput('onDeviceChange must be a function')
  const r = options.reranker
  if (r !== undefined && r !== false) {
    if (r === null || typeof r !== 'object') throw invalidInput('reranker must be an object')
    if (r.model !== undefined && (typeof r.model !== 'string' || r.model.trim() === '')) throw invalidInput('reranker.model must be a non-empty string')
    for (const key of ['maxLength', 'maxQueryLength', 'batchTokens'] as const) {
      const v = r[key]
      if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw invalidInput(`reranker.${key} must be a positive integer, got ${describeValue(v)}`)
    }
  }
  const e = options.embedder
  if (e !== undefined) {
    if (e === null || typeof e !== 'object') throw invalidInput('embedder must be an object such as { model: "Xenova/all-MiniLM-L6-v2" }')
    if (typeof e.model !== 'string' || e.model.trim() === '') throw invalidInput('embedder.model must be a non-empty string')
    for (const key of ['maxLength', 'batchTokens'] as const) {
      const v = e[key]
      if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw invalidInput(`embedder.${key} must be a positive integer, got ${describeValue(v)}`)
    }
    if (e.pooling !== undefined && e.pooling !== 'mean' && e.pooling !== 'cls') throw invalidInput(`embedder.pooling must be 'mean' or 'cls'`)
    for (const key of ['queryPrefix', 'documentPrefix'] as const) {
      const v = e[key]
      if (v !== undefined && typeof v !== 'string') throw invalidInput(`embedder.${key} must be a string ('' for none), got ${describeValue(v)}`)
      if (typeof v === 'string' && v.length > MAX_PREFIX_LENGTH) throw invalidInput(`embedder.${key} is ${v.length} characters; a prefix is a short instruction (at most ${MAX_PREFIX_LENGTH})`)
    }
  }
}

/** Longest query or document prefix accepted: real instructions are under 200 characters. */
const MAX_PREFIX_LENGTH = 1000

/** Below this, a busy but healthy worker would be taken for a hung one. */
const MIN_HANG_TIMEOUT_MS = 500
