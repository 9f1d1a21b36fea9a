/**
 * Display helpers of the private RAG demo: where a passage sits in its file, byte sizes, and one
 * progress fraction over parsing (on the page) and winnow's add phases (in the worker).
 */
import { pageAt } from './parse.ts'

/** What {@link describePosition} reads from a search hit. */
export interface HitPosition {
  start: number
  end: number
  section: string | null
  path: readonly string[]
}

/**
 * Where a passage is, in words: the PDF page(s), else the heading path, then the character range
 * in the document's text.
 *
 * @example
 * describePosition({ start: 420, end: 700, section: null, path: [] }, [0, 412]) // 'page 2, chars 420–700'
 * describePosition({ start: 0, end: 90, section: 'Levain', path: ['Sourdough', 'Levain'] }) // '§ Sourdough › Levain, chars 0–90'
 */
export function describePosition(hit: HitPosition, pageStarts?: readonly number[]): string {
  const parts: string[] = []
  if (pageStarts && pageStarts.length > 0) {
    const first = pageAt(pageStarts, hit.start)
    const last = pageAt(pageStarts, Math.max(hit.start, hit.end - 1))
    parts.push(first === last ? `page ${first}` : `pages ${first}–${last}`)
  } else if (hit.path.length > 0) {
    parts.push(`§ ${hit.path.join(' › ')}`)
  } else if (hit.section) {
    parts.push(`§ ${hit.section}`)
  }
  parts.push(`chars ${hit.start}–${hit.end}`)
  return parts.join(', ')
}

/**
 * Bytes in binary units with three significant digits.
 *
 * @example
 * formatBytes(1536) // '1.50 KiB'
 * formatBytes(0) // '0 B'
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(bytes || 0))} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toPrecision(3)} ${units[unit]}`
}

/** A step of indexing: parsing files on the page, then winnow's `add()` phases. */
export type IndexPhase = 'parsing' | 'chunking' | 'embedding' | 'writing' | 'done'

/** Where each phase sits on the bar (embedding is the slow part). */
const SPANS: Record<IndexPhase, [number, number]> = {
  parsing: [0, 0.15],
  chunking: [0.15, 0.2],
  embedding: [0.2, 0.9],
  writing: [0.9, 1],
  done: [1, 1],
}

/**
 * One 0..1 fraction for the progress bar from a phase and its done/total.
 *
 * @example
 * indexProgress('parsing', 1, 2) // 0.075
 * indexProgress('embedding', 0, 10) // 0.2
 * indexProgress('done', 3, 3) // 1
 */
export function indexProgress(phase: IndexPhase, done: number, total: number): number {
  const [from, to] = SPANS[phase]
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1
  return from + (to - from) * fraction
}
