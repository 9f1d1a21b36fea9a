import { WinnowError } from '../errors.js'
import type { Dtype } from '../types.js'
import { DTYPE_FILES } from './dtype.js'
import type { FetchRecorder } from './fetchRecorder.js'

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
 * of the requested dtype is missing and other dtypes exist (`details.available`), otherwise
 * MODEL_LOAD_FAILED naming the URL and HTTP status that failed. A WinnowError passes through.
 *
 * @example
 * try {
 *   model = await AutoModel.from_pretrained(options.model, { dtype: options.dtype })
 * } catch (error) {
 *   throw await explainLoadFailure(error, options) // WinnowError('UNSUPPORTED_DTYPE', ..., { available: ['fp32', 'q8'] })
 * }
 */
export async function explainLoadFailure(error: unknown, context: LoadFailureContext): Promise<WinnowError> {
  if (error instanceof WinnowError) return error
  const cause = error instanceof Error ? error.message : String(error)
  const weights = `onnx/${DTYPE_FILES[context.dtype]}`
  const failures = context.recorder?.failures ?? []
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
