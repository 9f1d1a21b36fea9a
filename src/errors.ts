/**
 * The one error class winnow throws, and its table of codes. Codes cross the worker boundary as
 * data (see {@link serializeError} / {@link deserializeError}); callers should branch on `code`,
 * never on `message`.
 */

/** Every code a {@link WinnowError} can carry, with what it means. */
export const ERROR_CODES = {
  INVALID_INPUT: 'An argument has the wrong type or an impossible value.',
  MODEL_LOAD_FAILED: 'A model file could not be fetched or parsed.',
  UNSUPPORTED_DTYPE: 'The requested dtype has no file for this model, or cannot run on this device.',
  UNSUPPORTED_MODEL: "The model's family (config.json `model_type`, `architectures`) is one winnow cannot run in that role: a decoder (LLM reranker or embedder), or a reranker type transformers.js has no sequence-classification class for. `details.modelType` and `details.reason` say which.",
  WEBGPU_UNAVAILABLE: "device: 'webgpu' was asked for but no WebGPU adapter exists.",
  ABORTED: 'The call was cancelled through its AbortSignal.',
  WORKER_CRASHED: 'The worker died while the call was pending; the next call starts a fresh one.',
  WORKER_UNRESPONSIVE: 'The worker stopped answering, or made no progress on a call, for `hangTimeoutMs` (a runaway loop, a GPU queue that never completes): it was stopped, pending calls were rejected, and the next call starts a fresh one.',
  DEVICE_LOST: 'The WebGPU device was lost while the call was pending (GPU reset, driver update, memory pressure); the instance now runs on WASM: call again.',
  DISPOSED: 'The instance was disposed; create a new one.',
  DIMENSION_MISMATCH: "A vector has a different length than the collection's vectors.",
  STORAGE_FULL: "IndexedDB refused the write because the origin's storage quota is exhausted; nothing of the call was written.",
  STORAGE_UNAVAILABLE: 'IndexedDB could not be used: unavailable here (some private modes), blocked by another tab, or written by a newer winnow.',
  SNAPSHOT_INVALID: 'A snapshot could not be imported (unreachable, damaged, or built for another format or embedder); the data imported before stays. `details.reason` says which.',
  READ_ONLY: 'The collection is a snapshot: it changes only by importing a newer snapshot.',
  COLLECTION_DELETED: "The handle's collection no longer exists: deleted by deleteCollection (in this tab or another), or its storage cleared by the browser. `details.reason` says which; open it again with winnow.collection(name) for a new, empty one.",
  CSP_BLOCKED: "The page's or the worker's Content-Security-Policy (or Trusted Types) blocked something winnow needs; `details` names the resource and the directive to change.",
  REMOTE_FAILED: "A search's remote retriever failed: it threw, the network failed, or its server answered with an error status. `details.status` (HTTP) and `details.message` say what the remote said.",
  REMOTE_TIMEOUT: "A search's remote retriever did not answer within `remoteTimeoutMs` (default 10 s); its request was aborted.",
  REMOTE_MALFORMED: "A search's remote retriever answered with something that is not a list of candidates: bad JSON, or a candidate with a missing or wrong field. `details.index` and `details.field` name the first bad one.",
  INTERNAL: 'An unexpected failure inside winnow; please report it.',
} as const

/** A code from {@link ERROR_CODES}. */
export type WinnowErrorCode = keyof typeof ERROR_CODES

/** Structured facts attached to an error (URL, HTTP status, available dtypes, ...). */
export type WinnowErrorDetails = Record<string, unknown>

/**
 * The error winnow rejects with. `code` is stable; `details` holds machine-readable facts.
 *
 * @example
 * try {
 *   await winnow.rerank(query, docs, { signal })
 * } catch (e) {
 *   if (e instanceof WinnowError && e.code === 'ABORTED') return
 *   throw e
 * }
 */
export class WinnowError extends Error {
  readonly code: WinnowErrorCode
  readonly details: WinnowErrorDetails

  constructor(code: WinnowErrorCode, message: string, details: WinnowErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'WinnowError'
    this.code = code
    this.details = details
  }
}

/**
 * The INVALID_INPUT error for a bad argument: `message` names the option and what it takes.
 * The one helper for it (every module throws `invalidInput(...)`, none declares its own).
 *
 * @example
 * if (typeof query !== 'string') throw invalidInput(`query must be a string, got ${describeValue(query)}`)
 */
export function invalidInput(message: string, details: WinnowErrorDetails = {}): WinnowError {
  return new WinnowError('INVALID_INPUT', message, details)
}

/** The plain-data form of a {@link WinnowError} that survives `postMessage`. */
export interface SerializedError {
  code: WinnowErrorCode
  message: string
  details: WinnowErrorDetails
}

/**
 * Turns anything thrown into plain data; unknown throwables become `INTERNAL`.
 *
 * @example
 * const data = serializeError(new WinnowError('ABORTED', 'stopped'))  // { code: 'ABORTED', ... }
 */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof WinnowError) {
    return { code: error.code, message: error.message, details: toCloneable(error.details) }
  }
  const message = error instanceof Error ? error.message : String(error)
  return { code: 'INTERNAL', message, details: {} }
}

/**
 * Rebuilds a {@link WinnowError} from {@link serializeError}'s output; an unknown code becomes `INTERNAL`.
 *
 * @example
 * const err = deserializeError({ code: 'DISPOSED', message: 'gone', details: {} })
 * err instanceof WinnowError // true
 */
export function deserializeError(data: SerializedError): WinnowError {
  const code = isErrorCode(data?.code) ? data.code : 'INTERNAL'
  return new WinnowError(code, String(data?.message ?? 'Unknown error'), data?.details ?? {})
}

/**
 * Whether a value is a known error code.
 *
 * @example
 * isErrorCode('ABORTED') // true
 */
export function isErrorCode(value: unknown): value is WinnowErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value)
}

// Details must survive structured clone: drop functions and anything else that would throw.
function toCloneable(details: WinnowErrorDetails): WinnowErrorDetails {
  try {
    return JSON.parse(JSON.stringify(details)) as WinnowErrorDetails
  } catch {
    return {}
  }
}

/**
 * A short description of a bad value for error messages: numbers, booleans and (cut) strings as
 * they are, otherwise the kind of thing.
 *
 * @example
 * describeValue([1])     // 'an array'
 * describeValue('x'.repeat(50)) // '"xxxx…"' (40 characters and an ellipsis)
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  return typeof value
}

/**
 * The DEVICE_LOST error for a lost WebGPU device (`reason` and `message` from its GPUDeviceLostInfo).
 *
 * @example
 * deviceLostError({ reason: 'unknown', message: 'GPU reset' }).code // 'DEVICE_LOST'
 */
export function deviceLostError(loss: { reason: string; message: string }): WinnowError {
  return new WinnowError(
    'DEVICE_LOST',
    `the WebGPU device was lost (${loss.reason}${loss.message ? `: ${loss.message}` : ''}); winnow runs on WASM from now on: call again`,
    { reason: loss.reason, message: loss.message },
  )
}

/**
 * One Content-Security-Policy violation, as a `securitypolicyviolation` event reports it (in the
 * page or in a worker), in plain data.
 */
export interface PolicyViolation {
  /** What was blocked: a URL, or `'wasm-eval'`, `'eval'`, `'inline'`, `'trusted-types-sink'`, `'trusted-types-policy'`, `'blob'`, `'data'`. */
  blockedURI: string
  /** The directive that applied, e.g. `'script-src-elem'`, `'worker-src'`, `'connect-src'`, `'require-trusted-types-for'`. */
  effectiveDirective: string
  /** The context whose policy blocked it: the page, or a worker script (a worker's policy comes from its own response). */
  documentURI?: string
  /** The script that made the blocked request, when known. */
  sourceFile?: string
  /** For `trusted-types-policy`: the policy name that was refused; otherwise a sample of the blocked code. */
  sample?: string
}

/**
 * The CSP_BLOCKED error for a violation: what was blocked, by whose policy, and the directive to
 * change, in words a person can act on.
 *
 * @example
 * cspBlockedError({ blockedURI: 'wasm-eval', effectiveDirective: 'script-src', documentURI: 'https://app.example/assets/worker.js' }).message
 * // "the Content-Security-Policy of https://app.example/assets/worker.js blocked WebAssembly compilation (script-src): add 'wasm-unsafe-eval' to script-src …"
 */
export function cspBlockedError(violation: PolicyViolation, context = ''): WinnowError {
  const { blockedURI, effectiveDirective } = violation
  const base = effectiveDirective.replace(/-(elem|attr)$/, '')
  const fallback = base === 'worker-src' ? 'worker-src (or script-src, or default-src, where worker-src is not set)' : `${base} (or default-src, where ${base} is not set)`
  let what: string
  let fix: string
  if (blockedURI === 'wasm-eval' || (blockedURI === 'eval' && /webassembly/i.test(violation.sample ?? ''))) {
    what = 'WebAssembly compilation'
    fix = "add 'wasm-unsafe-eval' to script-src: the models run as WebAssembly ('wasm-unsafe-eval' allows compiling WebAssembly only, not JavaScript eval)"
  } else if (blockedURI === 'eval') {
    what = 'JavaScript eval'
    fix = "winnow needs no 'unsafe-eval': please report this with the message"
  } else if (blockedURI === 'trusted-types-policy' || effectiveDirective === 'trusted-types') {
    what = `the Trusted Types policy '${violation.sample || 'winnow-rerank'}'`
    fix = `add ${violation.sample || 'winnow-rerank'} to the trusted-types directive (and 'allow-duplicates' if the page loads winnow twice), or pass createWinnow a TrustedScriptURL of your own policy as workerUrl`
  } else if (blockedURI === 'trusted-types-sink' || effectiveDirective === 'require-trusted-types-for') {
    what = 'a plain string where Trusted Types requires a TrustedScriptURL'
    fix = "allow winnow's policy (trusted-types winnow-rerank) or pass createWinnow a TrustedScriptURL of your own policy as workerUrl"
  } else if (/^(blob|data)(:|$)/.test(blockedURI)) {
    const scheme = blockedURI.startsWith('blob') ? 'blob:' : 'data:'
    what = `a ${scheme} URL`
    fix =
      scheme === 'blob:'
        ? `winnow imports its cached copy of the WASM runtime's .mjs from a blob: URL only when the .mjs under wasmBaseUrl cannot be fetched (offline): serve wasmBaseUrl from a service worker's cache, or add blob: to ${fallback}`
        : `add data: to ${fallback}`
  } else {
    let origin = blockedURI
    try {
      const url = new URL(blockedURI)
      const own = violation.documentURI ? new URL(violation.documentURI).origin : globalThis.location?.origin
      origin = url.origin === own ? "'self'" : url.origin
    } catch {
      // not a URL: name it as given
    }
    what = blockedURI
    fix = `add ${origin} to ${fallback}`
  }
  const whose = violation.documentURI ? `the Content-Security-Policy of ${violation.documentURI}` : 'the Content-Security-Policy'
  return new WinnowError('CSP_BLOCKED', `${context ? `${context}: ` : ''}${whose} blocked ${what} (${effectiveDirective}): ${fix}`, {
    blockedUri: blockedURI,
    directive: effectiveDirective,
    policyOf: violation.documentURI,
    sourceFile: violation.sourceFile,
  })
}
