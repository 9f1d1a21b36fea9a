/**
 * `models pull`'s progress on stderr. On a terminal one line is redrawn in place (a bar, sizes,
 * percent); in a log (CI, a pipe) plain lines: one per file, and quarter marks for large files,
 * so a log stays short and readable.
 */

import type { PullEvent } from './pullModel.js'

/** Where progress goes: a stream's `write`, and whether it is a terminal. */
export interface ProgressStream {
  write(chunk: string): unknown
  isTTY?: boolean
}

const BAR_WIDTH = 24
/** Files at least this large get 25/50/75% lines in a log. */
const LOG_MARKS_FROM = 4 * 1024 * 1024

/**
 * Formats a byte count with binary units.
 *
 * @example
 * formatBytes(512)        // '512 B'
 * formatBytes(23_000_000) // '21.9 MiB'
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

/**
 * A listener for {@link PullEvent}s that draws progress on `stream`.
 *
 * @example
 * await pullModel(id, { ...options, onEvent: pullProgress(process.stderr) })
 */
export function pullProgress(stream: ProgressStream): (event: PullEvent) => void {
  const tty = Boolean(stream.isTTY)
  let position = ''
  let drawn = -1 // last drawn per-mille (terminal) or quarter (log) of the current file
  let lineOpen = false

  const endLine = () => {
    if (lineOpen) stream.write('\n')
    lineOpen = false
  }

  return (event) => {
    switch (event.type) {
      case 'start':
        stream.write(`pulling ${event.model} (${event.dtypes.join(', ')}) from ${event.host} into ${event.dir}\n`)
        break
      case 'plan': {
        const count = event.files.filter((f) => f.download).length
        stream.write(`${count} file${count === 1 ? '' : 's'} to download, ${formatBytes(event.downloadBytes)}\n`)
        break
      }
      case 'file':
        position = `[${event.index + 1}/${event.count}]`
        drawn = -1
        break
      case 'bytes': {
        const { size, loaded } = event
        if (tty) {
          const mille = size ? Math.floor((loaded / size) * 1000) : loaded
          if (mille === drawn) break
          drawn = mille
          const fraction = size ? Math.min(1, loaded / size) : 0
          const filled = Math.round(fraction * BAR_WIDTH)
          const bar = size ? `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ` : ''
          const amount = size ? `${formatBytes(loaded)} / ${formatBytes(size)}  ${Math.floor(fraction * 100)}%` : formatBytes(loaded)
          // \r back to the line start, \x1b[K clears what a longer previous line left.
          stream.write(`\r${position} ${event.file}  ${bar}${amount}\x1b[K`)
          lineOpen = true
        } else if (size && size >= LOG_MARKS_FROM) {
          const quarter = Math.floor((loaded / size) * 4)
          if (quarter > 0 && quarter < 4 && quarter > drawn) {
            drawn = quarter
            stream.write(`  ${event.file}  ${quarter * 25}% (${formatBytes(loaded)} / ${formatBytes(size)})\n`)
          }
        }
        break
      }
      case 'retry':
        endLine()
        stream.write(`  ${event.file}: ${event.reason}; resuming (attempt ${event.attempt + 1})\n`)
        if (tty) drawn = -1
        break
      case 'done': {
        const f = event.file
        const what =
          f.status === 'downloaded'
            ? `${formatBytes(f.size)}${f.verified ? ', sha256 ok' : ''}`
            : f.status === 'up-to-date'
              ? 'already here'
              : 'not on the hub (optional, skipped)'
        if (tty && lineOpen) stream.write(`\r${position} ${f.file}  ${what}\x1b[K\n`)
        else stream.write(`  ${f.file}  ${what}\n`)
        lineOpen = false
        break
      }
    }
  }
}
