/**
 * `models pull`'s work: fetch exactly the files winnow's loaders request for a model id and
 * dtypes into `<out>/<model id>/<file>`, the layout `createWinnow({ modelBaseUrl: '/models/' })`
 * reads when `<out>` is served at `/models/`.
 *
 * Order: config.json first (it says whether the weights use external data files), then a HEAD of
 * every other file, so a missing dtype fails before any large download; then the files one by one.
 */

import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { WinnowError } from '../errors.js'
import { DTYPE_FILES } from '../models/dtype.js'
import type { Dtype } from '../types.js'
import { downloadFile, isUpToDate } from './download.js'
import { headHubFile, hubFileUrl, missingFileError, type HubContext, type HubFileInfo } from './hubClient.js'
import { CONFIG_FILE, modelFileList, PULL_DTYPES } from './modelFiles.js'

/** What {@link pullModel} takes. */
export interface PullOptions {
  dtypes: readonly Dtype[]
  /**
   * Of `dtypes`, those whose weights may be missing on the hub: skipped (reported as absent) rather
   * than failing the pull. At least one of `dtypes` must exist.
   */
  optionalDtypes?: readonly Dtype[]
  /** The folder that holds model folders (`public/models`). */
  out: string
  /** Hub base URL without a trailing slash. */
  host: string
  /** Branch, tag or commit (default `main`). */
  revision?: string
  fetch?: typeof fetch
  /** Extra attempts per file after an interrupted transfer (default 3). */
  retries?: number
  onEvent?: (event: PullEvent) => void
}

/** One file of a pull and what happened to it. */
export interface PulledFile {
  file: string
  /** Bytes (of the local file, or as announced for an absent one: 0). */
  size: number
  status: 'downloaded' | 'up-to-date' | 'absent'
  /** Whether the file is one whose absence is fine. */
  optional: boolean
  /** SHA-256 checked against the hub's (LFS files). */
  verified: boolean
}

/** Progress of a pull, for a progress bar. */
export type PullEvent =
  | { type: 'start'; model: string; dir: string; host: string; dtypes: readonly Dtype[] }
  | { type: 'plan'; files: { file: string; size: number | undefined; download: boolean }[]; downloadBytes: number }
  | { type: 'file'; file: string; size: number | undefined; index: number; count: number }
  | { type: 'bytes'; file: string; loaded: number; size: number | undefined }
  | { type: 'retry'; file: string; attempt: number; reason: string }
  | { type: 'done'; file: PulledFile }

/** What {@link pullModel} resolves with. */
export interface PullResult {
  model: string
  dir: string
  files: PulledFile[]
}

const MODEL_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/

/**
 * Pulls a model's files (see the module comment). Rejects with a WinnowError: INVALID_INPUT (bad
 * id), MODEL_LOAD_FAILED (`details.reason`: `unreachable`, `no-model`, `missing-file`,
 * `hash-mismatch`, `interrupted`, `http`, ...) or UNSUPPORTED_DTYPE (`details.available`).
 *
 * @example
 * await pullModel('Xenova/ms-marco-MiniLM-L-6-v2', { dtypes: ['q8'], out: 'public/models', host: 'https://huggingface.co' })
 * // public/models/Xenova/ms-marco-MiniLM-L-6-v2/{config.json, tokenizer.json, tokenizer_config.json, onnx/model_quantized.onnx}
 */
export async function pullModel(model: string, options: PullOptions): Promise<PullResult> {
  if (!MODEL_ID.test(model) || model.split('/').some((part) => part === '.' || part === '..')) {
    throw new WinnowError('INVALID_INPUT', `'${model}' is not a hub model id; use <org>/<name>, e.g. Xenova/ms-marco-MiniLM-L-6-v2`, { model })
  }
  const fetchImpl = options.fetch ?? globalThis.fetch
  const revision = options.revision ?? 'main'
  const dir = join(options.out, ...model.split('/'))
  const emit = options.onEvent ?? (() => {})
  const byHand = modelFileList({}, options.dtypes).required
  const context: HubContext = { host: options.host, model, dir, files: byHand }
  const url = (file: string) => hubFileUrl(options.host, model, revision, file)
  emit({ type: 'start', model, dir, host: options.host, dtypes: options.dtypes })

  // config.json decides the rest of the list; its HEAD is also the reachability check.
  const configInfo = await headHubFile(fetchImpl, url(CONFIG_FILE), context)
  if (!configInfo.exists) throw missingFileError(context, configInfo, CONFIG_FILE)
  const { config, pulled: configPulled } = await fetchConfig(configInfo, dir, fetchImpl, context, options.retries)

  const listed = modelFileList(config, options.dtypes)
  // An optional dtype's weights (and their external-data files) are wanted only if the hub has them.
  const optionalWeights = (options.optionalDtypes ?? []).map((d) => `onnx/${DTYPE_FILES[d]}`)
  const isOptionalWeight = (f: string) => optionalWeights.some((w) => f === w || f.startsWith(`${w}_data`))
  const list = { required: listed.required.filter((f) => !isOptionalWeight(f)), optional: [...listed.optional, ...listed.required.filter(isOptionalWeight)] }
  const rest = [...list.required.filter((f) => f !== CONFIG_FILE), ...list.optional]
  const infos = new Map<string, HubFileInfo>([[CONFIG_FILE, configInfo]])
  await Promise.all(rest.map(async (file) => infos.set(file, await headHubFile(fetchImpl, url(file), context))))
  for (const file of list.required) {
    const info = infos.get(file)!
    if (info.exists) continue
    const dtype = options.dtypes.find((d) => file === `onnx/${DTYPE_FILES[d]}`)
    if (dtype) throw await missingDtypeError(dtype, info, fetchImpl, url, context)
    throw missingFileError(context, info, file)
  }
  const wanted = options.dtypes.filter((d) => infos.get(`onnx/${DTYPE_FILES[d]}`)?.exists)
  const first = infos.get(`onnx/${DTYPE_FILES[options.dtypes[0]!]}`)
  if (wanted.length === 0 && first && !first.exists) throw await missingDtypeError(options.dtypes[0]!, first, fetchImpl, url, context)

  const plan = await Promise.all(
    [CONFIG_FILE, ...rest].map(async (file) => {
      const info = infos.get(file)!
      if (!info.exists) return { file, info, size: undefined, download: false }
      // config.json is already here: report whether this run fetched it.
      if (file === CONFIG_FILE) return { file, info, size: configPulled.size, download: configPulled.status === 'downloaded' }
      return { file, info, size: info.size, download: !(await isUpToDate(join(dir, file), expectation(info))) }
    }),
  )
  emit({
    type: 'plan',
    files: plan.map(({ file, size, download }) => ({ file, size, download })),
    downloadBytes: plan.reduce((sum, p) => sum + (p.download ? (p.size ?? 0) : 0), 0),
  })

  const files: PulledFile[] = []
  const count = plan.filter((p) => p.download && p.file !== CONFIG_FILE).length
  let index = 0
  for (const { file, info, download } of plan) {
    const optional = !list.required.includes(file)
    let pulled: PulledFile
    if (file === CONFIG_FILE) {
      pulled = configPulled
    } else if (!info.exists) {
      pulled = { file, size: 0, status: 'absent', optional, verified: false }
    } else if (!download) {
      pulled = { file, size: info.size ?? 0, status: 'up-to-date', optional, verified: info.sha256 !== undefined }
    } else {
      emit({ type: 'file', file, size: info.size, index: index++, count })
      const result = await downloadFile({
        url: info.url,
        dest: join(dir, file),
        expected: expectation(info),
        fetch: fetchImpl,
        context,
        retries: options.retries,
        onBytes: (loaded) => emit({ type: 'bytes', file, loaded, size: info.size }),
        onRetry: (attempt, reason) => emit({ type: 'retry', file, attempt, reason }),
      })
      pulled = { file, size: result.bytes, status: 'downloaded', optional, verified: info.sha256 !== undefined }
    }
    files.push(pulled)
    emit({ type: 'done', file: pulled })
  }
  return { model, dir, files }
}

/** Fetches and parses config.json ahead of the plan (the plan depends on it); reports its outcome for the summary. */
async function fetchConfig(
  info: Extract<HubFileInfo, { exists: true }>,
  dir: string,
  fetchImpl: typeof fetch,
  context: HubContext,
  retries: number | undefined,
): Promise<{ config: unknown; pulled: PulledFile }> {
  const dest = join(dir, CONFIG_FILE)
  const verified = info.sha256 !== undefined
  let pulled: PulledFile
  if (await isUpToDate(dest, expectation(info))) {
    pulled = { file: CONFIG_FILE, size: info.size ?? 0, status: 'up-to-date', optional: false, verified }
  } else {
    const result = await downloadFile({ url: info.url, dest, expected: expectation(info), fetch: fetchImpl, context, retries })
    pulled = { file: CONFIG_FILE, size: result.bytes, status: 'downloaded', optional: false, verified }
  }
  const text = await readFile(dest, 'utf8')
  let config: unknown
  try {
    config = JSON.parse(text) as unknown
  } catch {
    config = undefined // not JSON at all: refused below like JSON that is not an object
  }
  if (config !== null && typeof config === 'object' && !Array.isArray(config)) return { config, pulled }
  await rm(dest, { force: true })
  throw new WinnowError(
    'MODEL_LOAD_FAILED',
    `${info.url} is not a model config (not a JSON object${/^\s*</.test(text) ? ': an HTML page' : ''}); is ${context.host} a Hugging Face hub? Check --host and HF_ENDPOINT`,
    { reason: 'bad-config', url: info.url },
  )
}

async function missingDtypeError(
  dtype: Dtype,
  info: Extract<HubFileInfo, { exists: false }>,
  fetchImpl: typeof fetch,
  url: (file: string) => string,
  context: HubContext,
): Promise<WinnowError> {
  const available: Dtype[] = []
  await Promise.all(
    PULL_DTYPES.map(async (d) => {
      const probe = await headHubFile(fetchImpl, url(`onnx/${DTYPE_FILES[d]}`), context).catch(() => null)
      if (probe?.exists) available.push(d)
    }),
  )
  const have = PULL_DTYPES.filter((d) => available.includes(d))
  return new WinnowError(
    'UNSUPPORTED_DTYPE',
    `${context.model} has no ${dtype} weights on ${context.host} (onnx/${DTYPE_FILES[dtype]}: HTTP ${info.status}); ` +
      (have.length ? `it has ${have.join(', ')}: pass --dtype ${have.join(',')}` : 'it has no ONNX weights winnow can load (onnx/model*.onnx)'),
    { dtype, available: have, url: info.url },
  )
}

function expectation(info: Extract<HubFileInfo, { exists: true }>): { size?: number; sha256?: string; gitSha1?: string } {
  return { size: info.size, sha256: info.sha256, gitSha1: info.gitSha1 }
}
