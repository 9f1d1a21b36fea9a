/**
 * Talks to a Hugging Face hub (or a mirror speaking its protocol): file URLs, metadata from a HEAD
 * request, and the errors a pull reports. Node's global fetch only.
 *
 * The hub answers `HEAD <host>/<model>/resolve/<revision>/<file>` for a Git LFS file with a
 * redirect to its content store that carries `X-Linked-Etag: "<sha256>"` and `X-Linked-Size`; the
 * redirect is not followed for metadata (the content store knows nothing of them). Other files
 * answer 200 with `ETag: "<git blob sha1>"`.
 */

import { WinnowError } from '../errors.js'

/** The default hub, when neither `--host` nor HF_ENDPOINT says otherwise. */
export const DEFAULT_HOST = 'https://huggingface.co'

/** What a HEAD request says about a file. */
export type HubFileInfo =
  | {
      exists: true
      url: string
      /** Bytes, from `X-Linked-Size` or `Content-Length`; undefined when the hub did not say. */
      size: number | undefined
      /** SHA-256 of an LFS file (from `X-Linked-Etag`). */
      sha256: string | undefined
      /** The git blob sha1 of a regular file (from its `ETag`), when the ETag has that shape. */
      gitSha1: string | undefined
      /** `X-Repo-Commit`: the commit the revision resolved to. */
      commit: string | undefined
    }
  | { exists: false; url: string; status: number; errorCode: string | undefined }

const MAX_REDIRECTS = 5

/**
 * The hub URL of a file.
 *
 * @example
 * hubFileUrl('https://huggingface.co', 'Xenova/ms-marco-MiniLM-L-6-v2', 'main', 'onnx/model_quantized.onnx')
 * // 'https://huggingface.co/Xenova/ms-marco-MiniLM-L-6-v2/resolve/main/onnx/model_quantized.onnx'
 */
export function hubFileUrl(host: string, model: string, revision: string, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/')
  return `${host}/${model}/resolve/${encodeURIComponent(revision)}/${path}`
}

/**
 * Checks `--host`/HF_ENDPOINT and returns it without a trailing slash.
 *
 * @example
 * normalizeHost('https://hf-mirror.com/') // 'https://hf-mirror.com'
 */
export function normalizeHost(host: string): string {
  let url: URL
  try {
    url = new URL(host)
  } catch {
    throw new WinnowError('INVALID_INPUT', `--host ${JSON.stringify(host)} is not a URL; pass the hub's address, e.g. --host https://huggingface.co`, { host })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WinnowError('INVALID_INPUT', `--host ${JSON.stringify(host)} must be an http(s) URL, e.g. https://huggingface.co`, { host })
  }
  return url.href.replace(/\/+$/, '')
}

/**
 * HEADs a file, following redirects only until one carries the LFS headers.
 * Rejects with {@link unreachableError} when no answer comes.
 *
 * @example
 * const info = await headHubFile(fetch, url, { host, model, dir })
 * if (info.exists) console.log(info.size, info.sha256)
 */
export async function headHubFile(fetchImpl: typeof fetch, url: string, context: HubContext): Promise<HubFileInfo> {
  let current = url
  for (let hop = 0; ; hop++) {
    let response: Response
    try {
      response = await fetchImpl(current, { method: 'HEAD', redirect: 'manual', headers: { 'Accept-Encoding': 'identity' } })
    } catch (error) {
      throw unreachableError(context, error)
    }
    const headers = response.headers
    const linkedEtag = unquote(headers.get('x-linked-etag'))
    const linkedSize = headers.get('x-linked-size')
    const location = headers.get('location')
    if (response.status >= 300 && response.status < 400 && location && !linkedEtag && hop < MAX_REDIRECTS) {
      current = new URL(location, current).href
      continue
    }
    if (response.status >= 400) {
      if (response.status === 404 || response.status === 401 || response.status === 403) {
        return { exists: false, url, status: response.status, errorCode: headers.get('x-error-code') ?? undefined }
      }
      throw httpError(context, url, response.status)
    }
    const etag = unquote(headers.get('etag'))
    const length = linkedSize ?? (response.status < 300 ? headers.get('content-length') : null)
    const sha256 = linkedEtag && /^[0-9a-f]{64}$/.test(linkedEtag) ? linkedEtag : undefined
    return {
      exists: true,
      url,
      size: length !== null && /^\d+$/.test(length) ? Number(length) : undefined,
      sha256,
      gitSha1: !linkedEtag && etag && /^[0-9a-f]{40}$/.test(etag) ? etag : undefined,
      commit: headers.get('x-repo-commit') ?? undefined,
    }
  }
}

/** What errors need to say where things are. */
export interface HubContext {
  host: string
  model: string
  /** The local folder the model's files go to. */
  dir: string
  /** The files to copy by hand when the hub cannot be reached. */
  files?: readonly string[]
}

/**
 * The error for a hub that does not answer: names the host and the three ways forward.
 *
 * @example
 * unreachableError({ host: 'https://huggingface.co', model: 'Xenova/x', dir: 'public/models/Xenova/x' }, new TypeError('fetch failed'))
 */
export function unreachableError(context: HubContext, cause: unknown): WinnowError {
  const files = context.files?.length ? ` (${context.files.join(', ')})` : ''
  return new WinnowError(
    'MODEL_LOAD_FAILED',
    `cannot reach the model hub at ${context.host} (${describeNetworkError(cause)}). Check the network or proxy; ` +
      `point --host or the HF_ENDPOINT environment variable at a reachable hub or mirror; ` +
      `or copy the model's files by hand into ${context.dir}/${files}.`,
    { reason: 'unreachable', host: context.host, model: context.model },
    { cause },
  )
}

/**
 * The error for a file the hub does not have.
 *
 * @example
 * missingFileError(context, info, 'config.json')
 */
export function missingFileError(context: HubContext, info: Extract<HubFileInfo, { exists: false }>, file: string): WinnowError {
  const noRepo = info.errorCode === 'RepoNotFound' || info.errorCode === 'GatedRepo' || info.status === 401 || info.status === 403
  const message = noRepo
    ? `${context.host} has no model '${context.model}' that it will share (HTTP ${info.status}${info.errorCode ? `, ${info.errorCode}` : ''}): check the id (it is case-sensitive, e.g. Xenova/ms-marco-MiniLM-L-6-v2); private and gated models cannot be pulled`
    : `${info.url} does not exist (HTTP ${info.status}): ${context.model} has no ${file} at that revision`
  return new WinnowError('MODEL_LOAD_FAILED', message, { reason: noRepo ? 'no-model' : 'missing-file', url: info.url, status: info.status, file })
}

/**
 * The error for any other HTTP failure.
 *
 * @example
 * httpError(context, url, 503).message // '... HTTP 503 ...'
 */
export function httpError(context: HubContext, url: string, status: number): WinnowError {
  const hint = status >= 500 || status === 429 ? 'the hub is busy or failing; run the same command again later (finished files are kept)' : 'check --host and the model id'
  return new WinnowError('MODEL_LOAD_FAILED', `${url}: HTTP ${status} from ${context.host}; ${hint}`, { reason: 'http', url, status, host: context.host })
}

/**
 * A short reason for a failed request: the system error code and host when Node gives them.
 *
 * @example
 * describeNetworkError(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })) // 'ECONNREFUSED'
 */
export function describeNetworkError(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; current && depth < 4; depth++) {
    const e = current as { code?: unknown; message?: unknown; cause?: unknown }
    if (typeof e.code === 'string' && !parts.includes(e.code)) parts.push(e.code)
    else if (typeof e.message === 'string' && e.message && e.message !== 'fetch failed' && parts.length === 0) parts.push(e.message)
    current = e.cause
  }
  return parts.join(': ') || String((error as Error)?.message ?? error)
}

function unquote(value: string | null): string | undefined {
  if (value === null) return undefined
  return value.replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase()
}
