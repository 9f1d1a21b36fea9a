/**
 * A snippet as safe HTML: its text escaped, its highlight ranges wrapped in `<mark>`. The ranges
 * may come from anywhere (a stored hit, a worker message, user code), so they are repaired rather
 * than trusted: the output is well-formed and escaped whatever they hold.
 *
 * The output renders exactly the snippet's text: the HTML parser turns a literal CR (alone or
 * before LF) into LF, so CR is written as the character reference `&#13;`, which it keeps. NUL is
 * the one character no HTML can render (a literal one is dropped, `&#0;` becomes U+FFFD); it is
 * written as U+FFFD, one UTF-16 unit like NUL, so every offset still holds. winnow's own snippets
 * never contain NUL (see `makeSnippet`), so for them the rendering is exact.
 */
import { WinnowError } from '../errors.js'
import type { Snippet } from '../types.js'

/** Options of {@link highlight}. */
export interface HighlightOptions {
  /** A class for each `<mark>` (escaped for the attribute). Default: none. */
  className?: string
}

/**
 * Renders a snippet as HTML: `& < > " '` escaped, each highlight in `<mark>` (or
 * `<mark class="…">`). Setting the result as `innerHTML` shows exactly `snippet.text` (CR is
 * written as `&#13;` so the parser keeps it), except that a NUL shows as U+FFFD, the replacement
 * character, at the same offset: HTML has no way to render a NUL. Highlight ranges that are not `[start, end)` integer pairs inside the text
 * are repaired, never trusted: fractions round outward, ends are clamped to the text, ranges that
 * are empty, reversed, NaN or not numbers are skipped, overlapping or touching ones merge, and an
 * edge inside a surrogate pair moves outward so no emoji is split.
 *
 * @throws {WinnowError} `INVALID_INPUT` when `snippet` is not an object with a string `text`.
 * @example
 * highlight({ text: 'Pipes <leak>', highlights: [[7, 11]] })
 * // 'Pipes &lt;<mark>leak</mark>&gt;'
 * highlight({ text: 'Pipes leak', highlights: [[6, 10]] }, { className: 'hit' })
 * // 'Pipes <mark class="hit">leak</mark>'
 * highlight({ text: 'line\r\nbreak', highlights: [] })
 * // 'line&#13;\nbreak' (a literal CR would render as LF)
 */
export function highlight(snippet: Snippet, options?: HighlightOptions): string {
  if (typeof snippet !== 'object' || snippet === null || typeof snippet.text !== 'string') {
    throw new WinnowError('INVALID_INPUT', 'highlight() takes a snippet: an object with a string `text` and `highlights`', {
      received: snippet === null ? 'null' : typeof snippet,
    })
  }
  const { text } = snippet
  const className = options?.className
  const open = typeof className === 'string' && className !== '' ? `<mark class="${escapeHtml(className)}">` : '<mark>'
  let html = ''
  let at = 0
  for (const [start, end] of repairRanges(text, snippet.highlights)) {
    html += `${escapeHtml(text.slice(at, start))}${open}${escapeHtml(text.slice(start, end))}</mark>`
    at = end
  }
  return html + escapeHtml(text.slice(at))
}

/**
 * Escapes text for HTML content and for quoted attribute values alike, so that the parser gives
 * back exactly this text: markup characters as entities, CR as a character reference (a literal
 * CR or CR LF would become LF), NUL as U+FFFD (a literal NUL would be dropped).
 */
function escapeHtml(text: string): string {
  return text.replace(SPECIAL, (c) => ENTITIES[c]!)
}

const SPECIAL = /[&<>"'\r\0]/g
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '\r': '&#13;', '\0': '&#xFFFD;' }

/**
 * Valid, sorted, disjoint `[start, end)` ranges inside `text`, from whatever `highlights` holds
 * (shared with {@link highlightNodes}, so both render the same marks).
 *
 * @example
 * repairRanges('Pipes leak', [[6.5, 99], [0, 2], [1, 5]]) // [[0, 5], [6, 10]]
 */
export function repairRanges(text: string, highlights: unknown): [number, number][] {
  if (!Array.isArray(highlights)) return []
  const ranges: [number, number][] = []
  for (const range of highlights as unknown[]) {
    if (!Array.isArray(range)) continue
    const [rawStart, rawEnd] = range as unknown[]
    if (typeof rawStart !== 'number' || typeof rawEnd !== 'number' || Number.isNaN(rawStart) || Number.isNaN(rawEnd)) continue
    if (rawStart >= rawEnd) continue
    let start = Math.max(0, Math.floor(rawStart))
    let end = Math.min(text.length, Math.ceil(rawEnd))
    if (start >= end) continue // entirely outside the text
    if (isLowSurrogate(text, start) && isHighSurrogate(text, start - 1)) start--
    if (isLowSurrogate(text, end) && isHighSurrogate(text, end - 1)) end++
    ranges.push([start, end])
  }
  ranges.sort((a, b) => a[0] - b[0])
  const merged: [number, number][] = []
  for (const range of ranges) {
    const last = merged[merged.length - 1]
    if (last !== undefined && range[0] <= last[1]) last[1] = Math.max(last[1], range[1])
    else merged.push(range)
  }
  return merged
}

function isHighSurrogate(text: string, i: number): boolean {
  const unit = text.charCodeAt(i) // NaN outside the text: false below
  return unit >= 0xd800 && unit <= 0xdbff
}

function isLowSurrogate(text: string, i: number): boolean {
  const unit = text.charCodeAt(i)
  return unit >= 0xdc00 && unit <= 0xdfff
}
