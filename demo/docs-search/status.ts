/**
 * The words of the status line and the progress bars: device, timings, model download and
 * snapshot import. Pure, so the wording is tested without a browser.
 */
import type { SnapshotProgress } from '../../src/index.ts'

export type { SnapshotProgress }

/**
 * Bytes in binary units, three significant digits.
 *
 * @example
 * formatBytes(1536) // '1.50 KiB'
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return '0 B'
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toPrecision(3)} ${units[unit]}`
}

/**
 * Milliseconds for people: whole numbers, one decimal under 10.
 *
 * @example
 * formatMs(4.26) // '4.3 ms'
 */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '– ms'
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`
}

/**
 * The device part of the status line, with the reason for the hover title.
 *
 * @example
 * describeDevice({ kind: 'wasm', threads: 4, reason: 'no WebGPU adapter' })
 * // { text: 'WASM, 4 threads', title: 'no WebGPU adapter' }
 */
export function describeDevice(device: { kind: 'webgpu' | 'wasm'; threads: number; reason: string }): { text: string; title: string } {
  const text = device.kind === 'webgpu' ? 'WebGPU' : `WASM, ${device.threads} thread${device.threads === 1 ? '' : 's'}`
  return { text, title: device.reason }
}

/**
 * The timings part: the first stage's and the reranker's time of the last search.
 *
 * @example
 * describeTimings({ firstStageMs: 3.2, rerankMs: 85.4 }, 'reranked') // 'first stage 3.2 ms · rerank 85 ms'
 * describeTimings({ firstStageMs: 3.2, rerankMs: 0 }, 'first-stage') // 'first stage 3.2 ms · no rerank'
 */
export function describeTimings(timings: { firstStageMs: number; rerankMs: number }, path: string): string {
  const rerank = path === 'reranked' || path === 'budget' ? `rerank ${formatMs(timings.rerankMs)}` : 'no rerank'
  return `first stage ${formatMs(timings.firstStageMs)} · ${rerank}`
}

/** A version (a 64-hex manifest hash) short enough for a status line. */
export function shortVersion(version: string | null): string {
  if (!version) return 'unknown version'
  return /^[0-9a-f]{16,}$/i.test(version) ? version.slice(0, 8) : version
}

/** What the snapshot bar and line show for one event. */
export interface SnapshotView {
  /** The status line's snapshot words. */
  text: string
  /** The bar: 0..1, `null` for an indeterminate bar, `undefined` when hidden. */
  progress: number | null | undefined
  /** A problem to show beside the results (not an error of the page: an older index still serves). */
  warning: string | null
}

/** What the page knows besides the event: whether (and which) version already serves searches. */
export interface ServingState {
  /** A version is searchable: an import now runs in the background, a failure is only a warning. */
  serving: boolean
  /** The version that serves (from `collection.info()` or an earlier event), when known. */
  version?: string | null
}

/**
 * The snapshot part of the status line for the latest event (`null`: none yet).
 *
 * @example
 * describeSnapshot({ phase: 'importing', loaded: 512, total: 1024, version: 'abc' }, { serving: false })
 * // { text: 'index abc: importing 512 B of 1.00 KiB', progress: 0.5, warning: null }
 */
export function describeSnapshot(event: SnapshotProgress | null, state: ServingState): SnapshotView {
  const serving = state.serving
  const current = state.version ? `index ${shortVersion(state.version)}` : 'index'
  if (event === null) return { text: state.version ? current : 'index: …', progress: undefined, warning: null }
  const version = shortVersion(event.version)
  switch (event.phase) {
    case 'checking':
      return { text: serving ? `${current}: checking for an update…` : 'index: checking…', progress: null, warning: null }
    case 'importing': {
      const progress = event.total > 0 ? Math.min(1, event.loaded / event.total) : null
      const bytes = event.total > 0 ? `${formatBytes(event.loaded)} of ${formatBytes(event.total)}` : formatBytes(event.loaded)
      const text = serving ? `${current}: importing update ${version} in the background, ${bytes}` : `index ${version}: importing ${bytes}`
      return { text, progress, warning: null }
    }
    case 'done':
      switch (event.outcome) {
        case 'imported':
          return { text: `index ${version} (${serving ? 'updated just now' : 'just imported'})`, progress: undefined, warning: null }
        case 'unchanged':
          return { text: `index ${version} (up to date)`, progress: undefined, warning: null }
        case 'offline':
          return { text: `${event.version ? `index ${version}` : current} (offline: the stored copy)`, progress: undefined, warning: null }
        case 'failed':
        default: {
          // Without a stored version the page fails (collection() rejects) and says so itself.
          if (!serving) return { text: 'index: import failed', progress: undefined, warning: null }
          const why = event.error ? `${event.error.code}: ${event.error.message}` : 'unknown error'
          return {
            // Name the failed version only when it is not the serving one (events of a failed
            // update have carried either).
            text: `${current} (update${event.version && event.version !== state.version ? ` to ${version}` : ''} failed)`,
            progress: undefined,
            warning: `The search index could not be updated (${why}). The stored version is still searchable.`,
          }
        }
      }
  }
}

/**
 * The model download line for one `onProgress` event of `createWinnow`.
 *
 * @example
 * describeModelProgress({ model: 'tiny', file: 'onnx/model.onnx', loaded: 1024, total: 2048, status: 'progress' })
 * // 'Downloading tiny: onnx/model.onnx, 1.00 KiB of 2.00 KiB'
 */
export function describeModelProgress(event: { model: string; file: string; loaded: number; total: number; status: string }): string {
  if (event.status === 'ready') return `${event.model} ready`
  const bytes = event.total > 0 ? `${formatBytes(event.loaded)} of ${formatBytes(event.total)}` : formatBytes(event.loaded)
  return `Downloading ${event.model}: ${event.file}, ${bytes}`
}
