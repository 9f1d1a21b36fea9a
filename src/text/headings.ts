/**
 * Document structure for chunking: the headings of a markdown or HTML text and the sections they
 * open. Detection follows CommonMark where it matters for titles (ATX `#` lines, setext underlines,
 * fenced and indented code, in list items too, front matter) and stays a single linear pass: no
 * heading rule may make a 10 MB document slow, so every scan below either moves forward or is
 * bounded.
 */

import { cleanMarkdownTitle, type Heading } from './headingTitles.js'
import { findHtmlHeadings } from './htmlHeadings.js'

export type { Heading }

/** A stretch of the document under one heading (or before the first). */
export interface Section {
  /** Offset of the section's first character (its heading, when it has one). */
  start: number
  /** Offset just past the section's last character (the next section's start). */
  end: number
  /** Innermost heading's text; null before any heading. */
  title: string | null
  /** Heading texts from outermost to innermost; empty before any heading. */
  path: string[]
}

// Real titles are short; stripping markup from a longer source only risks slow regexes on junk.

const ATX = /^ {0,3}(#{1,6})(?=[ \t]|$)(.*)$/
const ATX_CLOSING = /(?:^|[ \t])#+[ \t]*$/
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/
const THEMATIC_BREAK = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/
const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})(.*)$/
const QUOTE_MARKER = /^(?:> ?)+/
// A title without any of these needs no stripping: the common case, done without six regexes.
const HTML_HEADING_LINE = /^ {0,3}<\/?h[1-6](?:[\s>/]|$)/i
// The first line after `---` must look like YAML, so a document that opens with a rule is left alone.
const FRONT_MATTER_OPEN = /^---[ \t]*\r?\n(?=[\w"'-][^\n:]*:|(?:---|\.\.\.)[ \t]*\r?(?:\n|$))/

/**
 * Finds the markdown (ATX, setext) and HTML (`<h1>`..`<h6>`) headings of a text, in document order.
 * Nothing inside code counts — fenced (``` or ~~~, closed by a run at least as long, or by the end
 * of the list item holding it) or indented by four columns (past a list item's content column) —
 * nor inside YAML front matter or block quotes; neither does an HTML tag inside an inline code span
 * on its line, nor a heading whose text is empty. List items nest up to 32 levels; deeper markers
 * are read as text.
 *
 * @example
 * findHeadings('# Guide\n\n## Install <small>v2</small>\ntext')
 * // [{ level: 1, text: 'Guide', start: 0, end: 7 }, { level: 2, text: 'Install v2', start: 9, end: 37 }]
 * findHeadings('# Setup\n\n1. Run:\n\n   ```bash\n   # a comment, not a heading\n   ```')
 * // [{ level: 1, text: 'Setup', start: 0, end: 7 }]
 */
export function findHeadings(text: string): Heading[] {
  const excluded: number[] = [] // flat [start, end) pairs: fenced code and front matter, ascending
  const markdown = findMarkdownHeadings(text, excluded)
  const html = findHtmlHeadings(text, excluded)
  return mergeHeadings(markdown, html)
}

function findMarkdownHeadings(text: string, excluded: number[]): Heading[] {
  const headings: Heading[] = []
  const n = text.length
  let pos = 0
  const frontMatterEnd = skipFrontMatter(text)
  if (frontMatterEnd > 0) {
    excluded.push(0, frontMatterEnd)
    pos = frontMatterEnd
  }
  // Content columns of the open list items, outermost first. A fence or an indented block inside
  // an item is indented by the item's column, so `#` lines in them are code, not headings.
  const items: number[] = []
  let fenceChar = ''
  let fenceLength = 0
  let fenceStart = 0
  let fenceDepth = 0 // list items around the open fence
  let paragraphStart = -1 // offset of the open paragraph's first line; -1 when none is open
  let paragraphTextStart = 0 // where its text begins on that line (after any list marker)
  let paragraphDepth = 0 // list items around it
  let paragraphInQuote = false // a quote's: no underline makes it a heading, no list item is held back by it
  let quoteFence = '' // the fence (its marker run) open inside a quote, if any
  let emptyItem = false // the innermost item opened on the previous line, with nothing after its marker
  let previousLineEnd = 0
  while (pos <= n) {
    let newline = text.indexOf('\n', pos)
    if (newline < 0) newline = n
    const lineEnd = newline > pos && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline
    // Indentation in columns, tabs to the next multiple of 4 as CommonMark counts them.
    let at = pos
    let column = 0
    for (; at < lineEnd; at++) {
      const c = text.charCodeAt(at)
      if (c === 32) column++
      else if (c === 9) column += 4 - (column % 4)
      else break
    }
    let content = at
    while (content < lineEnd && isWhitespaceCode(text.charCodeAt(content))) content++
    const blank = content === lineEnd
    if (fenceChar !== '') {
      const base = fenceDepth > 0 ? items[fenceDepth - 1]! : 0
      if (blank || column >= base) {
        if (!blank && column - base <= 3 && text[at] === fenceChar && isFenceClose(text.slice(at, lineEnd), fenceChar, fenceLength)) {
          excluded.push(fenceStart, lineEnd)
          fenceChar = ''
        }
        previousLineEnd = lineEnd
        if (newline >= n) break
        pos = newline + 1
        continue
      }
      // Less indented than the list item holding the fence: the item ends, and the code with it
      // (code takes no lazy continuation lines). The line is read below as any other.
      excluded.push(fenceStart, previousLineEnd)
      fenceChar = ''
    }
    if (blank) {
      paragraphStart = -1
      // An item may begin with one blank line, not two: an empty item ends at a blank line.
      if (emptyItem) items.length--
      emptyItem = false
      quoteFence = ''
    } else {
      emptyItem = false
      // A fence inside a quote ends with the quote: at the first line that is not a quote line.
      if (quoteFence !== '' && text.charCodeAt(at) !== 62) quoteFence = ''
      // The open list items this line's indentation continues.
      let depth = items.length
      while (depth > 0 && column < items[depth - 1]!) depth--
      // Reads the line's blocks from `start` (at `col`), inside `depth` items; a list marker
      // opens an item and the rest of the line is read again inside it.
      let start = at
      let col = column
      let tailStart = -1 // computed once per line, when first needed
      for (;;) {
        const open = paragraphStart >= 0 // a line that starts no block continues it (lazily, if less indented)
        const indent = col - (depth > 0 ? items[depth - 1]! : 0)
        if (indent >= 4) {
          if (!open) items.length = depth // indented code
          break
        }
        // Every block rule below needs a marker character first, so most lines of prose settle
        // on this one look, without a slice or a regex.
        if (!isMarker(text.charCodeAt(start))) {
          if (!open) {
            items.length = depth
            paragraphStart = pos
            paragraphTextStart = start
            paragraphDepth = depth
            paragraphInQuote = false
          }
          break
        }
        const first = text.charCodeAt(start)
        const line = text.slice(start, lineEnd)
        const fence = first === 96 || first === 126 ? FENCE_OPEN.exec(line) : null
        if (fence !== null && !(fence[1]![0] === '`' && fence[2]!.includes('`'))) {
          items.length = depth
          fenceChar = fence[1]![0]!
          fenceLength = fence[1]!.length
          fenceStart = pos
          fenceDepth = depth
          paragraphStart = -1
          break
        }
        const atx = first === 35 ? ATX.exec(line) : null
        if (atx !== null) {
          items.length = depth
          const title = cleanMarkdownTitle(atx[2]!.replace(ATX_CLOSING, ''))
          if (title !== '') headings.push({ level: atx[1]!.length, text: title, start: pos, end: lineEnd })
          paragraphStart = -1
          break
        }
        // An underline belongs to a paragraph of the same list item, never to a lazy one.
        const underline = open && !paragraphInQuote && paragraphDepth === depth ? SETEXT_UNDERLINE.exec(line) : null
        if (underline !== null) {
          const title = cleanMarkdownTitle(text.slice(paragraphTextStart, previousLineEnd))
          if (title !== '') {
            headings.push({ level: underline[1]![0] === '=' ? 1 : 2, text: title, start: paragraphStart, end: lineEnd })
          }
          paragraphStart = -1
          break
        }
        if (((first === 45 || first === 42 || first === 95) && start >= (tailStart >= 0 ? tailStart : (tailStart = uniformTailStart(text, at, lineEnd))) && THEMATIC_BREAK.test(line)) || (first === 60 && HTML_HEADING_LINE.test(line))) {
          items.length = depth
          paragraphStart = -1
          break
        }
        if (first === 62) {
          // `>`: a quote. Its `#` lines are left alone (a quote is not a section); its text is read
          // as a paragraph that takes lazy lines but that no underline makes a heading.
          items.length = depth
          const inner = line.replace(QUOTE_MARKER, '')
          if (quoteFence !== '') {
            if (inner[0] === quoteFence[0] && isFenceClose(inner, quoteFence[0]!, quoteFence.length)) quoteFence = ''
            paragraphStart = -1
            break
          }
          const fenceInQuote = FENCE_OPEN.exec(inner)
          if (fenceInQuote !== null && !(fenceInQuote[1]![0] === '`' && fenceInQuote[2]!.includes('`'))) quoteFence = fenceInQuote[1]!
          paragraphStart = quoteFence !== '' || ATX.test(inner) || THEMATIC_BREAK.test(inner) ? -1 : pos
          paragraphTextStart = start
          paragraphDepth = depth
          paragraphInQuote = true
          break
        }
        const item = readListMarker(text, start, col, lineEnd)
        // An empty item, or a numbered one not starting at 1, cannot interrupt a paragraph of its
        // own container (CommonMark); a line that leaves the paragraph's item or quote can start one.
        const heldBack = open && !paragraphInQuote && depth === paragraphDepth && (item?.empty === true || item?.startsAtOne === false)
        if (item === null || heldBack || depth >= MAX_LIST_DEPTH) {
          if (!open) {
            items.length = depth
            paragraphStart = pos
            paragraphTextStart = start
            paragraphDepth = depth
            paragraphInQuote = false
          }
          break
        }
        items.length = depth
        items.push(item.contentColumn)
        depth++
        paragraphStart = -1
        if (item.empty) {
          emptyItem = true
          break
        }
        start = item.contentStart
        col = item.column
      }
    }
    previousLineEnd = lineEnd
    if (newline >= n) break
    pos = newline + 1
  }
  if (fenceChar !== '') excluded.push(fenceStart, n) // an unclosed fence runs to the end (CommonMark)
  return headings
}

// Where a line's tail made of one character and blanks begins (`- * -  -` → the last `-`, with
// the blank before it). A thematic break is such a tail, so a line of nested list markers is
// ruled out without a regex per marker.
function uniformTailStart(text: string, start: number, lineEnd: number): number {
  let i = lineEnd - 1
  while (i > start && isWhitespaceCode(text.charCodeAt(i))) i--
  const c = text.charCodeAt(i)
  while (i > start && (text.charCodeAt(i - 1) === c || isWhitespaceCode(text.charCodeAt(i - 1)))) i--
  return i
}

// Deeper nesting is read as text: it bounds the work per line of matching the open items.
const MAX_LIST_DEPTH = 32

/** A list item's marker: where its content starts, and the column its later lines must reach. */
interface ListMarker {
  /** Offset of the first non-blank character after the marker. */
  contentStart: number
  /** Column of that character. */
  column: number
  /** Column a later line must be indented to, to belong to the item. */
  contentColumn: number
  /** Nothing follows the marker on its line. */
  empty: boolean
  /** A bullet, or a number that is 1. */
  startsAtOne: boolean
}

// `-`, `+`, `*`, or 1-9 digits and `.` or `)`, then a space, a tab or the line's end.
function readListMarker(text: string, start: number, column: number, lineEnd: number): ListMarker | null {
  let p = start
  const c = text.charCodeAt(p)
  let startsAtOne = true
  if (c === 45 || c === 43 || c === 42) {
    p++
  } else {
    while (p < lineEnd && p - start < 10 && text.charCodeAt(p) >= 48 && text.charCodeAt(p) <= 57) p++
    const digits = p - start
    if (digits === 0 || digits > 9) return null
    const d = text.charCodeAt(p)
    if (d !== 46 && d !== 41) return null
    startsAtOne = Number(text.slice(start, p)) === 1
    p++
  }
  const markerEnd = column + (p - start)
  if (p < lineEnd && text.charCodeAt(p) !== 32 && text.charCodeAt(p) !== 9) return null
  let col = markerEnd
  for (; p < lineEnd; p++) {
    const s = text.charCodeAt(p)
    if (s === 32) col++
    else if (s === 9) col += 4 - (col % 4)
    else break
  }
  let rest = p
  while (rest < lineEnd && isWhitespaceCode(text.charCodeAt(rest))) rest++
  const empty = rest === lineEnd
  // Five or more spaces after the marker start indented code inside the item, one space in.
  const contentColumn = empty || col - markerEnd > 4 ? markerEnd + 1 : col
  return { contentStart: p, column: col, contentColumn, empty, startsAtOne }
}

// `line` starts at the fence character (the caller checked the indent).
function isFenceClose(line: string, fenceChar: string, fenceLength: number): boolean {
  let run = 0
  while (line[run] === fenceChar) run++
  return run >= fenceLength && line.slice(run).trim() === ''
}

// Hash, backtick, tilde, = - * _ < + > and digits: what can open a block other than a paragraph.
function isMarker(c: number): boolean {
  return (
    c === 35 || c === 96 || c === 126 || c === 61 || c === 45 || c === 42 || c === 95 || c === 60 || c === 43 ||
    c === 62 || (c >= 48 && c <= 57)
  )
}

// YAML front matter's closing `---` would otherwise read as a setext underline for its last key.
function skipFrontMatter(text: string): number {
  const open = FRONT_MATTER_OPEN.exec(text)
  if (open === null) return 0
  const closing = /^(?:---|\.\.\.)[ \t]*\r?$/gm
  closing.lastIndex = open[0].length
  const close = closing.exec(text)
  return close === null ? 0 : close.index + close[0].length
}

// An HTML tag written on a markdown heading line, or a `#` line inside `<h2>..</h2>`, is part of the
// heading that starts first, not a second one.
function mergeHeadings(markdown: readonly Heading[], html: readonly Heading[]): Heading[] {
  const all = markdown.concat(html).sort((a, b) => a.start - b.start)
  const merged: Heading[] = []
  for (const h of all) {
    const previous = merged[merged.length - 1]
    if (previous === undefined || h.start >= previous.end) merged.push(h)
  }
  return merged
}

/**
 * Cuts a text into sections at its headings. A heading whose section would hold nothing but the
 * heading itself, and whose next heading is nested under it (`# Guide` directly above
 * `## Install`), joins that next section instead of becoming a one-line passage; the parent's title
 * stays findable in the child's `path` and in the chunk's text.
 *
 * @example
 * splitSections('intro\n# A\n## B\nbody', findHeadings('intro\n# A\n## B\nbody'))
 * // [{ start: 0, end: 6, title: null, path: [] }, { start: 6, end: 19, title: 'B', path: ['A', 'B'] }]
 */
export function splitSections(text: string, headings: readonly Heading[]): Section[] {
  const first = headings[0]
  const sections: Section[] = [{ start: 0, end: first === undefined ? text.length : first.start, title: null, path: [] }]
  const stack: Heading[] = []
  let carriedStart = -1
  for (let i = 0; i < headings.length; i++) {
    const h = headings[i]!
    const next = headings[i + 1]
    while (stack.length > 0 && stack[stack.length - 1]!.level >= h.level) stack.pop()
    stack.push(h)
    const start = carriedStart >= 0 ? carriedStart : h.start
    const end = next === undefined ? text.length : next.start
    if (next !== undefined && next.level > h.level && isBlank(text, h.end, end)) {
      carriedStart = start
      continue
    }
    carriedStart = -1
    sections.push({ start, end, title: h.text, path: stack.map((s) => s.text) })
  }
  return sections
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isWhitespaceCode(text.charCodeAt(i))) return false
  return true
}

/**
 * Whether a UTF-16 code unit is whitespace in the sense of JavaScript's `\s` and `String#trim`.
 *
 * @example
 * isWhitespaceCode(0x00a0) // true: no-break space
 */
export function isWhitespaceCode(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13)
  if (c < 160) return false
  return (
    c === 160 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  )
}
