/**
 * Query-biased snippets: the best window(s) of a passage for a query, as plain text plus the
 * offsets of the matched words (see `highlight()` for HTML). A word matches when it shares an
 * index term with the query, so the analyzer decides what matches exactly as it does for BM25:
 * the query "leaking" finds "leaks", "Café" finds "cafe".
 *
 * Windows are chosen for the most distinct query terms, then the most matches, the earliest on a
 * tie; another window is added only when it brings a query term the earlier ones lack. Window
 * edges fall on spaces, or, in text without spaces nearby (Chinese, Japanese, a long URL), between
 * tokens; never inside a word, a surrogate pair, or before a combining mark.
 */
import { describeValue, invalidInput } from '../errors.js'
import type { Snippet, SnippetOptions } from '../types.js'
import type { Analyzer, TermSpan } from './analyzer.js'

const DEFAULT_LENGTH = 200
const DEFAULT_WINDOWS = 2
const MIN_LENGTH = 20
const MAX_LENGTH = 100_000
const MAX_WINDOWS = 10
const OPTION_KEYS = new Set(['length', 'windows'])
const ELLIPSIS = '…'
const NUL = /\0/g
const REPLACEMENT = '\uFFFD'
const SEPARATOR = ' … '
// A sentence start this far before the first match (as a share of the window) is worth starting at.
const SENTENCE_REACH = 0.3
// Context before the first match, at most: the rest of the window goes after it, where the reader goes on.
const MAX_LEAD = 0.25

/**
 * Validates snippet options and fills in defaults; `false` (no snippets wanted) gives `null`.
 *
 * @throws {WinnowError} `INVALID_INPUT` when `options` is not an object, `false` or `undefined`,
 *   has an unknown key, or `length` is not an integer from 20 to 100000 or `windows` from 1 to 10.
 * @example
 * resolveSnippetOptions(undefined)        // { length: 200, windows: 2 }
 * resolveSnippetOptions({ length: 120 })  // { length: 120, windows: 2 }
 * resolveSnippetOptions(false)            // null
 */
export function resolveSnippetOptions(options: unknown): Required<SnippetOptions> | null {
  if (options === false) return null
  if (options === undefined) return { length: DEFAULT_LENGTH, windows: DEFAULT_WINDOWS }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidInput('snippet options must be an object, false, or undefined', { received: describeValue(options) })
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw invalidInput(`unknown snippet option "${key}"; expected length or windows`, { option: key })
  }
  const { length = DEFAULT_LENGTH, windows = DEFAULT_WINDOWS } = options as SnippetOptions
  requireInteger('length', length, MIN_LENGTH, MAX_LENGTH)
  requireInteger('windows', windows, 1, MAX_WINDOWS)
  return { length, windows }
}

/**
 * The best excerpt of `text` for `query`: up to `windows` windows of about `length` characters
 * each, in text order, joined with ` … `, with `…` where the passage goes on before or after.
 * Whitespace runs become single spaces, and NUL becomes U+FFFD (HTML cannot render a NUL, and the
 * replacement keeps every offset, so `highlight()` renders the snippet's text exactly). Without a match (a vector-only hit, an empty query) it is
 * the passage's beginning; when `length` covers the whole passage, the whole passage.
 *
 * @param analyzer The collection's analyzer, so that matching agrees with the keyword index.
 * @param options `length` (characters per window, default 200) and `windows` (default 2).
 * @throws {WinnowError} `INVALID_INPUT` for a non-string text or query, or bad options.
 * @example
 * const passage = 'Most houses have copper plumbing. Old pipes often leak at the joints, and small leaks grow. Check them every winter.'
 * const snippet = makeSnippet(passage, 'leaking pipes', createAnalyzer(), { length: 60 })
 * // { text: '…Old pipes often leak at the joints, and small leaks grow.…', highlights: [[5, 10], [17, 21], [47, 52]] }
 * snippet.highlights.map(([s, e]) => snippet.text.slice(s, e)) // ['pipes', 'leak', 'leaks']
 */
export function makeSnippet(text: string, query: string, analyzer: Analyzer, options?: SnippetOptions): Snippet {
  if (typeof text !== 'string') throw invalidInput('snippet text must be a string', { received: describeValue(text) })
  if (typeof query !== 'string') throw invalidInput('snippet query must be a string', { received: describeValue(query) })
  const resolved = resolveSnippetOptions(options)
  if (resolved === null) return { text: '', highlights: [] }
  return cutSnippet(text, query, analyzer, resolved)
}

/**
 * {@link makeSnippet} for arguments known to be valid (the search pipeline's: a string passage and
 * query, options resolved once by {@link resolveSnippetOptions}): the same excerpt, nothing checked again.
 *
 * @example
 * cutSnippet('Old pipes often leak.', 'leak', createAnalyzer(), { length: 200, windows: 2 }) // { text: 'Old pipes often leak.', highlights: [[16, 20]] }
 */
export function cutSnippet(text: string, query: string, analyzer: Analyzer, resolved: Required<SnippetOptions>): Snippet {
  const { length, windows } = resolved
  // NUL → U+FFFD: one UTF-16 unit for another, so offsets stay; HTML can show the one, never the other.
  const passage = text.replace(/\s+/g, ' ').trim().replace(NUL, REPLACEMENT)
  const queryTerms = analyzer.terms(query)
  if (length >= passage.length && queryTerms.length === 0) return { text: passage, highlights: [] }

  const spans = analyzer.spans(passage)
  const matches = findMatches(spans, queryTerms)
  if (length >= passage.length) return assemble(passage, [{ start: 0, end: passage.length }], matches)
  const edges = new Edges(passage, spans, Math.max(12, Math.floor(length * 0.2)))
  if (matches.length === 0) {
    return assemble(passage, [{ start: 0, end: edges.snapEnd(length, 1, passage.length) }], matches)
  }
  return assemble(passage, chooseWindows(passage, matches, edges, length, windows), matches)
}

interface Range {
  start: number
  end: number
}

/** A token that matches the query, and which of the query's distinct terms it carries. */
interface Match extends Range {
  terms: number[]
}

function findMatches(spans: TermSpan[], queryTerms: string[]): Match[] {
  const ids = new Map<string, number>()
  for (const term of queryTerms) if (!ids.has(term)) ids.set(term, ids.size)
  const matches: Match[] = []
  if (ids.size === 0) return matches
  for (const span of spans) {
    let terms: number[] | null = null
    for (const term of span.terms) {
      const id = ids.get(term)
      if (id !== undefined) (terms ??= []).push(id)
    }
    if (terms !== null) matches.push({ start: span.start, end: span.end, terms })
  }
  return matches
}

/** Picks and places windows one at a time; each later one must avoid the earlier and add a term. */
function chooseWindows(passage: string, matches: Match[], edges: Edges, length: number, windows: number): Range[] {
  let termCount = 0
  for (const match of matches) for (const t of match.terms) termCount = Math.max(termCount, t + 1)
  const covered = new Uint8Array(termCount)
  const taken = new Uint8Array(matches.length)
  const placed: Range[] = []
  const seen = new Int32Array(termCount)
  for (let w = 0; w < windows; w++) {
    const core = bestCore(matches, taken, covered, seen, length)
    if (core === null) break
    const window = placeWindow(passage, edges, core, placed, length)
    placed.push(window)
    matches.forEach((m, i) => {
      if (m.start >= window.start && m.end <= window.end) {
        taken[i] = 1
        for (const t of m.terms) covered[t] = 1
      }
    })
  }
  return placed.sort((a, b) => a.start - b.start)
}

/**
 * The run of free matches, spanning at most `length` characters, that brings the most query terms
 * not yet covered, then the most matches; the earliest wins a tie. Quadratic in the matches of one
 * window, which is small (a passage is a few hundred words).
 */
function bestCore(matches: Match[], taken: Uint8Array, covered: Uint8Array, seen: Int32Array, length: number): Range | null {
  seen.fill(-1)
  let best: Range | null = null
  let bestFresh = 0
  let bestCount = 0
  for (let i = 0; i < matches.length; i++) {
    if (taken[i]) continue
    const first = matches[i]!
    let fresh = 0
    let count = 0
    let end = first.end
    for (let j = i; j < matches.length && !taken[j]; j++) {
      const match = matches[j]!
      if (j > i && match.end - first.start > length) break
      count++
      end = match.end
      for (const t of match.terms) {
        if (seen[t] === i) continue
        seen[t] = i
        if (!covered[t]) fresh++
      }
    }
    if (fresh > bestFresh || (fresh === bestFresh && fresh > 0 && count > bestCount)) {
      best = { start: first.start, end }
      bestFresh = fresh
      bestCount = count
    }
  }
  return best
}

/**
 * A window of about `length` around `core`, between the windows already placed: from a sentence
 * start shortly before the core when there is one, else with some context before it; then both
 * ends snapped to word edges.
 */
function placeWindow(passage: string, edges: Edges, core: Range, placed: Range[], length: number): Range {
  let lo = 0
  let hi = passage.length
  for (const other of placed) {
    // Leave the space between two windows out of both, so neither starts or ends with one.
    if (other.end <= core.start) lo = Math.max(lo, other.end + (passage[other.end] === ' ' ? 1 : 0))
    else if (other.start >= core.end) hi = Math.min(hi, other.start - (passage[other.start - 1] === ' ' ? 1 : 0))
  }
  const slack = Math.max(0, length - (core.end - core.start))
  const earliest = Math.max(lo, core.end - length, core.start - Math.floor(length * SENTENCE_REACH))
  let start = sentenceStart(passage, earliest, core.start)
  if (start < 0) start = core.start - Math.min(Math.floor(slack / 2), Math.floor(length * MAX_LEAD))
  start = Math.max(start, lo)
  if (start + length > hi) start = Math.max(lo, hi - length) // near the end: the room goes before
  start = edges.snapStart(start, lo, core.start)
  const end = edges.snapEnd(Math.max(core.end, Math.min(hi, start + length)), core.end, hi)
  return { start, end }
}

/**
 * The first position in `[from, to]` that opens a sentence, or -1: a word after `.`, `!`, `?` or
 * `…` and a space, not lowercase ("e.g. the" is no sentence start), or anything after `。！？`.
 */
function sentenceStart(passage: string, from: number, to: number): number {
  for (let p = Math.max(0, from); p <= to; p++) {
    if (p === 0 || FULL_WIDTH_TERMINALS.includes(passage[p - 1]!)) return p
    if (passage[p - 1] !== ' ' || /\p{Ll}/u.test(passage[p]!)) continue
    let q = p - 2
    while (q >= 0 && CLOSERS.includes(passage[q]!)) q--
    if (q >= 0 && TERMINALS.includes(passage[q]!)) return p
  }
  return -1
}

const TERMINALS = '.!?…'
const FULL_WIDTH_TERMINALS = '。！？'
const CLOSERS = `"'”’)]»`
const ZWJ = 0x200d
// Characters that attach to the one before: combining marks (accents, variation selectors), the
// zero-width joiner of emoji sequences, skin-tone modifiers.
const ATTACHES = /[\p{M}\u200d\u{1f3fb}-\u{1f3ff}]/uy

/** Where a window may begin or end in one passage. */
class Edges {
  constructor(
    private readonly passage: string,
    private readonly spans: TermSpan[],
    private readonly tolerance: number,
  ) {}

  /**
   * A window start in `[lo, max]` near `at` (`max` is the first match's start): the nearest word
   * start within the tolerance, else the first cut between tokens from `at` on.
   */
  snapStart(at: number, lo: number, max: number): number {
    for (let d = 0; d <= this.tolerance; d++) {
      if (at + d <= max && this.isWordStart(at + d)) return at + d
      if (at - d >= lo && this.isWordStart(at - d)) return at - d
    }
    for (let p = at; p < max; p++) if (this.isSafeCut(p, true)) return p
    return max
  }

  /**
   * A window end in `[min, hi]` near `at` (`min` is the last match's end): the nearest word end
   * within the tolerance, else the last cut between tokens, else (one giant token, no match) a cut
   * between characters rather than a window the size of the passage.
   */
  snapEnd(at: number, min: number, hi: number): number {
    for (let d = 0; d <= this.tolerance; d++) {
      if (at - d >= min && this.isWordEnd(at - d)) return at - d
      if (at + d <= hi && this.isWordEnd(at + d)) return at + d
    }
    for (let p = at; p >= min; p--) if (this.isSafeCut(p, true)) return p
    for (let p = at + 1; p <= Math.min(hi, at + this.tolerance); p++) if (this.isSafeCut(p, true)) return p
    for (let p = at; p > min; p--) if (this.isSafeCut(p, false)) return p
    return hi
  }

  private isWordStart(p: number): boolean {
    return p === 0 || (p < this.passage.length && this.passage[p - 1] === ' ')
  }

  private isWordEnd(p: number): boolean {
    return p === this.passage.length || (p > 0 && this.passage[p] === ' ')
  }

  /** Not inside a surrogate pair, before a character that attaches to the previous one, or (`betweenTokens`) inside a token. */
  private isSafeCut(p: number, betweenTokens: boolean): boolean {
    const text = this.passage
    if (p <= 0 || p >= text.length) return true
    const unit = text.charCodeAt(p)
    if ((unit >= 0xdc00 && unit <= 0xdfff) || text.charCodeAt(p - 1) === ZWJ) return false
    ATTACHES.lastIndex = p
    if (ATTACHES.test(text)) return false
    return !betweenTokens || !this.insideToken(p)
  }

  private insideToken(p: number): boolean {
    let lo = 0
    let hi = this.spans.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const span = this.spans[mid]!
      if (span.end <= p) lo = mid + 1
      else if (span.start >= p) hi = mid - 1
      else return true
    }
    return false
  }
}

/** Joins the windows (in text order) and moves each match's offsets into the joined text. */
function assemble(passage: string, windows: Range[], matches: Match[]): Snippet {
  const highlights: [number, number][] = []
  let text = windows[0]!.start > 0 ? ELLIPSIS : ''
  let m = 0
  windows.forEach((window, k) => {
    if (k > 0) {
      // Windows that touch (only a space between them) read as one stretch of text.
      const gap = passage.slice(windows[k - 1]!.end, window.start)
      text += gap.trim() === '' ? gap : SEPARATOR
    }
    const shift = text.length - window.start
    while (m < matches.length && matches[m]!.start < window.start) m++
    for (; m < matches.length && matches[m]!.end <= window.end; m++) {
      highlights.push([matches[m]!.start + shift, matches[m]!.end + shift])
    }
    text += passage.slice(window.start, window.end)
  })
  if (windows[windows.length - 1]!.end < passage.length) text += ELLIPSIS
  return { text, highlights }
}

function requireInteger(option: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidInput(`snippet option "${option}" must be an integer from ${min} to ${max}`, { option, received: describeValue(value) })
  }
}
