/**
 * Which files of a model folder winnow's loaders request, for a given config.json and dtypes. It
 * mirrors what transformers.js 4.3.1 fetches for an encoder-only model (`config.json`; the
 * tokenizer's `tokenizer.json` and `tokenizer_config.json`; `onnx/model<suffix>.onnx` for the
 * dtype; `onnx/model<suffix>.onnx_data[_N]` when `transformers.js_config.use_external_data_format`
 * asks for external data) plus the sentence-transformers pooling config winnow's embedder reads.
 * test/unit/cli.modelFiles.test.ts checks the list against the requests of a real load.
 *
 * Pure: no file system, no network, no transformers.js (the CLI must run without it).
 */

import { WinnowError } from '../errors.js'
import { DTYPE_FILES } from '../models/dtype.js'
import type { Dtype } from '../types.js'

/** Always requested, in this order; a missing one fails the load. */
export const CONFIG_FILE = 'config.json'
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const
/**
 * Read by winnow's embedder when present: the pooling config (`POOLING_CONFIG_PATH` in
 * src/models/loadEmbedder.ts) and the sentence-transformers config whose prompts give the query
 * and document prefixes (`SENTENCE_TRANSFORMERS_CONFIG_PATH` in src/models/conventions.ts).
 */
export const OPTIONAL_FILES = ['1_Pooling/config.json', 'config_sentence_transformers.json'] as const
/** transformers.js caps external data chunks at this count (MAX_EXTERNAL_DATA_CHUNKS). */
const MAX_EXTERNAL_DATA_CHUNKS = 100
const SUBFOLDER = 'onnx'
/** The session file name of an encoder-only model (transformers.js session_config: `{ model: 'model' }`). */
const SESSION = 'model'

/** The dtypes `pull` accepts: the ones winnow can load. */
export const PULL_DTYPES = Object.keys(DTYPE_FILES) as Dtype[]

/** The files of a model folder, split by whether their absence is an error. */
export interface ModelFileList {
  required: string[]
  optional: string[]
}

type ExternalData = boolean | number | Record<string, boolean | number>

/**
 * Parses a `--dtype` value: comma-separated dtype names, deduplicated, in the order given.
 *
 * @example
 * parseDtypes('q8,fp32') // ['q8', 'fp32']
 * parseDtypes('int3')    // throws INVALID_INPUT naming fp32, fp16, q8, q4, q4f16
 */
export function parseDtypes(value: string): Dtype[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (names.length === 0) throw new WinnowError('INVALID_INPUT', `--dtype is empty; use one or more of ${PULL_DTYPES.join(', ')} (comma-separated)`)
  for (const name of names) {
    if (!(PULL_DTYPES as string[]).includes(name)) {
      throw new WinnowError('INVALID_INPUT', `unknown dtype '${name}' in --dtype; valid dtypes: ${PULL_DTYPES.join(', ')} (comma-separated, e.g. --dtype q8,q4)`, {
        dtype: name,
        valid: PULL_DTYPES,
      })
    }
  }
  return [...new Set(names)] as Dtype[]
}

/**
 * The files the library requests for a model with this `config.json` at these dtypes: the ONNX
 * weights per dtype and, when the config asks for external data (in `transformers.js_config` or
 * any of its `device_config` entries, since the device is chosen at run time), their data files.
 *
 * @example
 * modelFileList({ model_type: 'bert' }, ['q8'])
 * // { required: ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model_quantized.onnx'],
 * //   optional: ['1_Pooling/config.json', 'config_sentence_transformers.json'] }
 * modelFileList({ 'transformers.js_config': { use_external_data_format: true } }, ['fp32']).required
 * // [..., 'onnx/model.onnx', 'onnx/model.onnx_data']
 */
export function modelFileList(config: unknown, dtypes: readonly Dtype[]): ModelFileList {
  const required = [CONFIG_FILE, ...TOKENIZER_FILES]
  const custom = record(record(config)['transformers.js_config'])
  const formats: unknown[] = [custom.use_external_data_format]
  for (const device of Object.values(record(custom.device_config))) formats.push(record(device).use_external_data_format)
  for (const dtype of dtypes) {
    const fullName = DTYPE_FILES[dtype]
    required.push(`${SUBFOLDER}/${fullName}`)
    const chunks = Math.max(0, ...formats.map((format) => externalDataChunks(format as ExternalData | undefined, fullName)))
    if (chunks > MAX_EXTERNAL_DATA_CHUNKS) {
      throw new WinnowError('MODEL_LOAD_FAILED', `config.json asks for ${chunks} external data files for ${fullName}; transformers.js loads at most ${MAX_EXTERNAL_DATA_CHUNKS}`, { chunks })
    }
    for (let i = 0; i < chunks; i++) required.push(`${SUBFOLDER}/${fullName}_data${i === 0 ? '' : `_${i}`}`)
  }
  return { required: [...new Set(required)], optional: [...OPTIONAL_FILES] }
}

/** transformers.js's resolveExternalDataFormat: per-file entries by full name, then session name; `true` is one chunk. */
function externalDataChunks(format: ExternalData | undefined | null, fullName: string): number {
  if (!format) return 0
  if (typeof format === 'object') {
    if (Object.prototype.hasOwnProperty.call(format, fullName)) return toCount(format[fullName])
    if (Object.prototype.hasOwnProperty.call(format, SESSION)) return toCount(format[SESSION])
    return 0
  }
  return toCount(format)
}

function toCount(value: unknown): number {
  const n = Number(value)
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}
