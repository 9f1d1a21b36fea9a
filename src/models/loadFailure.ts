import { WinnowError } from '../errors.js'
import type { Dtype } from '../types.js'
import { DTYPE_FILES } from './dtype.js'
import type { FetchFailure, FetchRecorder } from './fetchRecorder.js'
import { policyViolations } from './policyViolations.js'
import { forgetCachedFiles } from './runtime.js'
import { TOKENIZER_FILES } from './vocabulary.js'

/** What a model loader knows when its load fails (a subset of every loader's options). */
export interface LoadFailureContext {
  model: string
  dtype: Dtype
  /** Saw every request of the load (browser only). */
  recorder?: FetchRecorder
  /** Lists the dtypes whose files exist, to explain a missing one. */
  probeDtypes?: (model: string) => Promise<Dtype[]>
}

/**
 * Turns whatever a transformers.js load threw into the error winnow reports, shared by every model
 * loader so the reranker and the embedder fail alike: UNSUPPORTED_DTYPE when only the weights file
 * of the requested dtype is missing and other dtypes exist (`details.available`); MODEL_LOAD_FAILED
 * with `details.damaged` when a file arrived but cannot be parsed (a truncated download), or its
 * transfer was cut short (`details.cut`: the connection closed early, or the body fell short of its
 * Content-Length; nothing of it was cached, see FetchRecorder); otherwise
 * MODEL_LOAD_FAILED naming the URL and HTTP status that failed; CSP_BLOCKED when a Content-Security-Policy
 * violation happened during the load. A WinnowError passes through.
 * Damaged or mismatched files (`details.files`) are dropped from the cache, so a retry downloads
 * them again rather than failing on the same bytes forever.
 *
 * @example
 * try {
 *   model = await AutoModel.from_pretrained(options.model, { dtype: options.dtype })
 * } catch (error) {
 *   throw await explainLoadFailure(error, options) // WinnowError('UNSUPPORTED_DTYPE', ..., { available: ['fp32', 'q8'] })
 * }
 */
export async function explainLoadFailure(error: unknown, context: LoadFailureContext): Promise<WinnowError> {
  if (error instanceof WinnowError) {
    if (error.code === 'MODEL_LOAD_FAILED' && Array.isArray(error.details.files)) await forgetCachedFiles(context.model, error.details.files as string[])
    return error
  }
  // A blocked import, fetch, worker or WebAssembly compilation fails with a message that names
  // neither the policy nor the directive; the violation event names both.
  const blocked = context.recorder ? await policyViolations().blockedSince(context.recorder.violationMark, `could not load ${context.model}`) : null
  if (blocked) return blocked
  const cause = error instanceof Error ? error.message : String(error)
  const weights = `onnx/${DTYPE_FILES[context.dtype]}`
  const failures = context.recorder?.failures ?? []
  const cut = failures.find((f) => f.cut)
  if (cut) return cutShort(cut, context.model, cause, error)
  const weightsFailure = failures.find((f) => f.url.endsWith(weights))
  const missingWeights = weightsFailure ? weightsFailure.status === 404 && !weightsFailure.html : /could not locate file|not found locally|local file missing/i.test(cause) && cause.includes(weights)
  if (missingWeights && !failures.some((f) => f.url.endsWith('config.json'))) {
    const available = context.probeDtypes ? await context.probeDtypes(context.model).catch(() => []) : []
    if (available.length > 0) {
      return new WinnowError(
        'UNSUPPORTED_DTYPE',
        `${context.model} has no ${context.dtype} weights (${weights}); available: ${available.join(', ')}. Pass one of those as dtype.`,
        { model: context.model, dtype: context.dtype, available, url: weightsFailure?.url },
      )
    }
  }
  const damaged = damagedFile(error, cause, weights)
  if (damaged) {
    await forgetCachedFiles(context.model, damaged.files)
    const requested = context.recorder?.requested ?? []
    const url = damaged.file ? [...requested].reverse().find((u) => u.endsWith(`/${damaged.file}`)) : undefined
    return new WinnowError(
      'MODEL_LOAD_FAILED',
      `could not load ${context.model}: ${damaged.what(url)}. ` +
        'Any cached copy was dropped, so the next load downloads it again; check the file on the server (its size, or a download cut short).',
      { model: context.model, damaged: true, url, file: damaged.file, files: damaged.files, cause },
      { cause: error },
    )
  }
  // The first failure of a file the load needed explains it best (optional files may 404 harmlessly,
  // but then the load would not have failed on them).
  const failure = weightsFailure ?? failures.find((f) => f.html || f.status !== 404) ?? failures[0]
  if (failure) {
    const what = failure.html
      ? 'the server answered with an HTML page instead of the file (a missing file behind a single-page-app fallback?)'
      : failure.status === 0
        ? `the request failed (${failure.message ?? 'network error'})`
        : `HTTP ${failure.status}`
    return new WinnowError(
      'MODEL_LOAD_FAILED',
      `could not load ${context.model}: ${failure.url}: ${what}. Check modelBaseUrl and that the files are served.`,
      { model: context.model, url: failure.url, status: failure.status, html: failure.html, cause },
      { cause: error },
    )
  }
  return new WinnowError('MODEL_LOAD_FAILED', `could not load ${context.model}: ${cause}`, { model: context.model, cause }, { cause: error })
}

/**
 * MODEL_LOAD_FAILED for a transfer cut short. The part that arrived was never parsed or cached
 * (the body's stream failed first); an older copy of the file in the cache is dropped too.
 */
async function cutShort(cut: FetchFailure, model: string, cause: string, error: unknown): Promise<WinnowError> {
  const file = modelFile(cut.url, model)
  if (file) await forgetCachedFiles(model, [file])
  const size = cut.expected !== undefined ? `${cut.received} of ${cut.expected} bytes` : `${cut.received} bytes`
  return new WinnowError(
    'MODEL_LOAD_FAILED',
    `could not load ${model}: the download of ${cut.url} was cut short after ${size} (the server closed the connection early, or sent a wrong Content-Length). ` +
      'Nothing of it was cached, so the next load downloads it again; if this repeats, check the server or a proxy in between.',
    { model, damaged: true, cut: true, url: cut.url, file, received: cut.received, expected: cut.expected, cause },
    { cause: error },
  )
}

/**
 * A model file's path inside its folder, from its URL: `onnx/model.onnx` from
 * `https://app.example/models/org/name/onnx/model.onnx` or a hub's `…/org/name/resolve/main/onnx/model.onnx`.
 */
function modelFile(url: string, model: string): string | null {
  const path = decodeURIComponent(new URL(url, 'http://x/').pathname)
  const at = path.lastIndexOf(`/${model}/`)
  if (at < 0) return null
  return path.slice(at + model.length + 2).replace(/^resolve\/[^/]+\//, '')
}

/** JSON files a model load parses; one of them is at fault when parsing JSON failed. */
const JSON_FILES = [...TOKENIZER_FILES, 'special_tokens_map.json', 'generation_config.json']

/**
 * The file a load error says is damaged: the weights when onnxruntime cannot parse them
 * (INVALID_PROTOBUF is error code 7, INVALID_GRAPH 10), some JSON file when JSON.parse failed.
 */
function damagedFile(
  error: unknown,
  cause: string,
  weights: string,
): { file: string | null; files: string[]; what: (url: string | undefined) => string } | null {
  if (/protobuf parsing failed|ERROR_CODE: (7|10)\b/i.test(cause)) {
    return {
      file: weights,
      files: [weights, `${weights}_data`],
      what: (url) => `${url ?? weights} is damaged (truncated, or not an ONNX model): onnxruntime could not parse it`,
    }
  }
  if (error instanceof SyntaxError && /JSON/i.test(cause)) {
    return { file: null, files: JSON_FILES, what: () => `one of its JSON files (${JSON_FILES.join(', ')}) is damaged (truncated, or not JSON): ${cause}` }
  }
  return null
}
