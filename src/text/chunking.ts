/**
 * Cutting long documents into passages a model can read whole: first at headings (so a passage
 * never straddles two topics and knows its section), then into overlapping token windows sized to
 * the models' max lengths. Every chunk is a slice of the original text, so offsets map hits back
 * to the document for snippets and highlights.
 */
import { describeValue, invalidInput } from '../errors.js'
import type { ChunkingOptions, Passage } from '../types.js'
import { findHeadings, isWhitespaceCode, splitSections, type Section } from './headings.js'

export type { ChunkingOptions }

/** {@link ChunkingOptions} with every default filled in; plain data, safe to store and post. */
export interface ResolvedChunking {
  maxTokens: number
  overlapTokens: number
  headings: boolean
}

/** One passage of a document, as cut, with its size in model tokens. */
export interface Chunk extends Passage {
  /** Model tokens in the passage, as counted by the {@link TokenCounter} used. */
  tokens: number
}

/**
 * Model tokens in one whitespace-free word. BERT-style tokenizers split on whitespace and
 * punctuation before WordPiece, so per-word counts add up exactly; callers with a real tokenizer
 * should cache by word, since natural text repeats words a lot.
 */
export type TokenCounter = (word: string) => number

const DEFAULT_MAX_TOKENS = 256
const DEFAULT_OVERLAP_TOKENS = 32
const OPTION_KEYS = ['maxTokens', 'overlapTokens', 'headings']

/**
 * Fills in defaults and checks chunking options. `false` means "do not chunk" (one passage per
 * document) and gives null; `undefined` or `true` give the defaults. `limits.maxTokens` (the
 * smaller of the embedder's and reranker's usable lengths) caps `maxTokens`; an explicit overlap
 * that no longer fits under the cap keeps its share of the window. Throws INVALID_INPUT on anything
 * malformed, including unknown keys (a misspelt option would otherwise be ignored silently).
 *
 * @example
 * resolveChunking(undefined)                          // { maxTokens: 256, overlapTokens: 32, headings: true }
 * resolveChunking({ maxTokens: 512 }, { maxTokens: 128 }) // { maxTokens: 128, overlapTokens: 32, headings: true }
 * resolveChunking(false)                              // null
 */
export function resolveChunking(
  options: ChunkingOptions | boolean | undefined,
  limits: { maxTokens?: number } = {},
): ResolvedChunking | null {
  if (options === false) return null
  const given: ChunkingOptions = options === undefined || options === true ? {} : options
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw invalidInput(`chunking must be false or an object { maxTokens, overlapTokens, headings }, got ${describeValue(given)}`)
  }
  for (const key of Object.keys(given)) {
    if (!OPTION_KEYS.includes(key)) throw invalidInput(`unknown chunking option "${key}"; use ${OPTION_KEYS.join(', ')}`)
  }
  const { maxTokens = DEFAULT_MAX_TOKENS, overlapTokens, headings = true } = given
  if (!isPositiveInteger(maxTokens)) throw invalidInput(`chunking.maxTokens must be a positive integer, got ${describeValue(maxTokens)}`)
  if (overlapTokens !== undefined && !(Number.isInteger(overlapTokens) && overlapTokens >= 0 && overlapTokens < maxTokens)) {
    throw invalidInput(`chunking.overlapTokens must be an integer from 0 to maxTokens - 1 (${maxTokens - 1}), got ${describeValue(overlapTokens)}`)
  }
  if (typeof headings !== 'boolean') throw invalidInput(`chunking.headings must be a boolean, got ${describeValue(headings)}`)
  const limit = limits?.maxTokens
  if (limit !== undefined && !isPositiveInteger(limit)) throw invalidInput(`limits.maxTokens must be a positive integer, got ${describeValue(limit)}`)
  const max = limit === undefined ? maxTokens : Math.min(maxTokens, limit)
  let overlap: number
  if (overlapTokens === undefined) overlap = Math.min(DEFAULT_OVERLAP_TOKENS, Math.floor(max / 4))
  else if (overlapTokens < max) overlap = overlapTokens
  else overlap = Math.floor((overlapTokens * max) / maxTokens) // < max because overlapTokens < maxTokens
  return { maxTokens: max, overlapTokens: overlap, headings }
}

/**
 * Estimates model tokens in one word without a tokenizer, erring high (a window that overflows
 * the model is silently truncated, one that underflows only wastes a little room): punctuation
 * and symbols count one each (BERT splits them off), CJK characters one each, runs of Latin
 * letters and digits one per 4 characters, runs of other scripts one per 2. A non-empty word is
 * at least 1.
 *
 * @example
 * approximateTokens('hello')         // 2
 * approximateTokens('(e.g.)')        // 6: ( e . g . )
 * approximateTokens('東京')          // 2
 */
export const approximateTokens: TokenCounter = (word) => {
  let tokens = 0
  let run = 0
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i)
    if (c >= 128) return approximateUnicodeTokens(word)
    if (isAsciiAlphanumeric(c)) {
      run++
    } else {
      tokens += Math.ceil(run / 4) + 1
      run = 0
    }
  }
  return tokens + Math.ceil(run / 4)
}

// Classifies by code point ranges rather than \p{...} regexes: this runs once per word of every
// document, and the estimate does not need Unicode's exact categories.
function approximateUnicodeTokens(word: string): number {
  let tokens = 0
  let latin = 0 // letters in the current run that Latin-script vocabularies cover well
  let other = 0 // letters of other scripts, which tokenize into shorter pieces
  for (let i = 0; i < word.length; i++) {
    const cp = word.codePointAt(i)!
    if (cp > 0xffff) i++
    if (isAsciiAlphanumeric(cp) || (cp >= 0xc0 && cp < 0x250 && cp !== 0xd7 && cp !== 0xf7) || (cp >= 0x300 && cp < 0x370) || (cp >= 0x1e00 && cp < 0x1f00)) {
      latin++
    } else if (cp < 0xc0 || isSymbol(cp) || isCjk(cp)) {
      tokens += Math.ceil(latin / 4 + other / 2) + 1
      latin = 0
      other = 0
    } else {
      other++
    }
  }
  return tokens + Math.ceil(latin / 4 + other / 2)
}

function isAsciiAlphanumeric(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
}

// Han, kana and Hangul: BERT splits Han per character, and other vocabularies rarely do better.
function isCjk(cp: number): boolean {
  return (
    (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xac00 && cp <= 0xd7af) || (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x20000 && cp <= 0x3134f)
  )
}

// Punctuation and symbol blocks (general punctuation to dingbats, CJK and fullwidth punctuation,
// private use, emoji): BERT-style tokenizers split each off as a token of its own.
function isSymbol(cp: number): boolean {
  return (
    (cp >= 0x2000 && cp <= 0x2bff) || (cp >= 0x3000 && cp <= 0x303f) || (cp >= 0xe000 && cp <= 0xf8ff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff0f) || (cp >= 0xff1a && cp <= 0xff20) ||
    (cp >= 0xff3b && cp <= 0xff40) || (cp >= 0xff5b && cp <= 0xff65) || (cp >= 0x1f000 && cp <= 0x1faff)
  )
}

// What separates a unit from the next one; a window prefers to end at the strongest in its last quarter.
const GLUED = -1 // the next unit is the rest of the same over-long word
const SPACE = 0
const LINE = 1
const SENTENCE = 2
const PARAGRAPH = 3

/**
 * Per-call scratch for one section's units (words, or pieces of over-long words), in typed arrays
 * grown by doubling: a 10 MB text has millions of words, and plain arrays of that size cost more
 * in growth and boxing than the scan itself.
 */
interface Units {
  count: number
  starts: Int32Array
  ends: Int32Array
  tokens: Float64Array
  after: Int8Array
}

/**
 * Cuts a document into passages. With `chunking === null` the whole trimmed text is one passage;
 * otherwise the text is split at headings (when `chunking.headings`), then each section into
 * windows of at most `maxTokens` tokens that start about `overlapTokens` tokens before the
 * previous window's end. A window ends at a paragraph, sentence or line end when one lies in its
 * last quarter. A word longer than a window is cut by characters (never inside a surrogate pair).
 * Whitespace-only text gives no chunks. Runs in time linear in the text's length.
 *
 * @example
 * const chunks = chunkText(markdown, resolveChunking({ maxTokens: 128 }))
 * for (const c of chunks) console.log(c.index, c.section, markdown.slice(c.start, c.end) === c.text) // true
 */
export function chunkText(text: string, chunking: ResolvedChunking | null, countTokens: TokenCounter = approximateTokens): Chunk[] {
  if (typeof text !== 'string') throw invalidInput(`text must be a string, got ${describeValue(text)}`)
  if (typeof countTokens !== 'function') throw invalidInput('countTokens must be a function (word: string) => number')
  if (chunking !== null) checkResolved(chunking)
  const chunks: Chunk[] = []
  if (chunking === null) {
    const units = collectUnits(newUnits(), text, 0, text.length, Infinity, countTokens)
    if (units.count > 0) pushChunk(chunks, text, units, 0, units.count, { start: 0, end: text.length, title: null, path: [] })
    return chunks
  }
  const sections: Section[] = chunking.headings
    ? splitSections(text, findHeadings(text))
    : [{ start: 0, end: text.length, title: null, path: [] }]
  const units = newUnits() // reused: a document can have millions of tiny sections
  for (const section of sections) {
    collectUnits(units, text, section.start, section.end, chunking.maxTokens, countTokens)
    windowUnits(units, chunking, (from, to) => pushChunk(chunks, text, units, from, to, section))
  }
  return chunks
}

function pushChunk(chunks: Chunk[], text: string, units: Units, from: number, to: number, section: Section): void {
  let tokens = 0
  for (let k = from; k < to; k++) tokens += units.tokens[k]!
  const start = units.starts[from]!
  const end = units.ends[to - 1]!
  chunks.push({ index: chunks.length, start, end, text: text.slice(start, end), section: section.title, path: section.path.slice(), tokens })
}

/**
 * The passage `chunkText(text, null)` gives, without counting its tokens (and without its scratch
 * arrays): the trimmed text, or none when it is whitespace only. An add of 5,000 one-passage
 * documents makes 5,000 of these.
 *
 * @example
 * wholePassage('  one passage \n') // { index: 0, start: 2, end: 13, text: 'one passage', section: null, path: [] }
 */
export function wholePassage(text: string): Passage | null {
  let start = 0
  let end = text.length
  while (start < end && isWhitespaceCode(text.charCodeAt(start))) start++
  while (end > start && isWhitespaceCode(text.charCodeAt(end - 1))) end--
  return start < end ? { index: 0, start, end, text: text.slice(start, end), section: null, path: [] } : null
}

function newUnits(): Units {
  const capacity = 256
  return { count: 0, starts: new Int32Array(capacity), ends: new Int32Array(capacity), tokens: new Float64Array(capacity), after: new Int8Array(capacity) }
}

/** Refills `units` with the words of [start, end) and their token counts; words over `max` become pieces. */
function collectUnits(units: Units, text: string, start: number, end: number, max: number, countTokens: TokenCounter): Units {
  units.count = 0
  let i = start
  while (i < end) {
    while (i < end && isWhitespaceCode(text.charCodeAt(i))) i++
    if (i >= end) break
    const wordStart = i
    while (i < end && !isWhitespaceCode(text.charCodeAt(i))) i++
    const wordEnd = i
    // Classify the gap now, while we stand at it: newlines ahead and punctuation behind.
    let newlines = 0
    while (i < end && isWhitespaceCode(text.charCodeAt(i))) {
      if (text.charCodeAt(i) === 10) newlines++
      i++
    }
    const after = newlines >= 2 ? PARAGRAPH : endsSentence(text, wordStart, wordEnd) ? SENTENCE : newlines === 1 ? LINE : SPACE
    const tokens = count(countTokens, text.slice(wordStart, wordEnd))
    if (tokens > max) cutWord(units, text, wordStart, wordEnd, tokens, max, countTokens)
    else addUnit(units, wordStart, wordEnd, tokens)
    units.after[units.count - 1] = after
  }
  return units
}

function addUnit(units: Units, start: number, end: number, tokens: number): void {
  const k = units.count++
  if (k === units.starts.length) grow(units)
  units.starts[k] = start
  units.ends[k] = end
  units.tokens[k] = tokens
  units.after[k] = GLUED
}

function grow(units: Units): void {
  const capacity = units.starts.length * 2
  const starts = new Int32Array(capacity)
  const ends = new Int32Array(capacity)
  const tokens = new Float64Array(capacity)
  const after = new Int8Array(capacity)
  starts.set(units.starts)
  ends.set(units.ends)
  tokens.set(units.tokens)
  after.set(units.after)
  units.starts = starts
  units.ends = ends
  units.tokens = tokens
  units.after = after
}

function count(countTokens: TokenCounter, word: string): number {
  const n = countTokens(word)
  if (!(n >= 0)) throw invalidInput(`countTokens returned ${describeValue(n)} for a word; it must return a non-negative number`)
  return n
}

/**
 * Cuts one over-long word into pieces of at most `max` tokens each. Piece lengths are guessed from
 * the word's average characters per token and shrunk until the counter agrees, so a 10 MB blob
 * costs a few counter calls per piece rather than a search per character.
 */
function cutWord(units: Units, text: string, start: number, end: number, total: number, max: number, countTokens: TokenCounter): void {
  let p = start
  let remaining = total // an estimate after the first piece; each piece is counted exactly
  while (p < end) {
    if (remaining <= max) {
      const rest = count(countTokens, text.slice(p, end))
      if (rest <= max) {
        addUnit(units, p, end, rest)
        return
      }
      remaining = rest
    }
    let length = Math.max(1, Math.floor(((end - p) * max) / remaining))
    let q: number
    let tokens: number
    for (;;) {
      q = Math.min(end, p + length)
      if (q < end && isLowSurrogate(text.charCodeAt(q)) && isHighSurrogate(text.charCodeAt(q - 1))) q--
      if (q === p) q = p + (isHighSurrogate(text.charCodeAt(p)) && isLowSurrogate(text.charCodeAt(p + 1)) ? 2 : 1)
      tokens = count(countTokens, text.slice(p, q))
      // One code point over the limit cannot be cut further: it goes alone, over budget.
      if (tokens <= max || length <= 1) break
      length = Math.max(1, Math.min(length - 1, Math.floor((length * max) / tokens)))
    }
    addUnit(units, p, q, tokens)
    remaining = Math.max(1, remaining - tokens)
    p = q
  }
}

/** Emits [from, to) unit ranges: greedy windows with overlap, never holding two pieces of one word. */
function windowUnits(units: Units, chunking: ResolvedChunking, emit: (from: number, to: number) => void): void {
  const { maxTokens: max, overlapTokens: overlap } = chunking
  const { count: n, tokens, after } = units
  // Past this many tokens a window may end early at a boundary ("the last quarter").
  const keep = Math.max(1, Math.floor(max * 0.75))
  let a = 0
  let fresh = 0 // first unit the previous window did not hold: a window must end at or after it
  while (a < n) {
    let sum = tokens[a]!
    let b = a + 1
    while (b < n && after[b - 1] !== GLUED && sum + tokens[b]! <= max) sum += tokens[b++]!
    let end = b
    if (b < n) {
      let best = SPACE
      let prefix = 0
      for (let k = a; k < b; k++) {
        prefix += tokens[k]!
        if (k >= fresh && prefix >= keep && after[k]! >= best && after[k]! > SPACE) {
          best = after[k]!
          end = k + 1
        }
      }
    }
    emit(a, end)
    if (end >= n) return
    let next = end
    if (after[end - 1] !== GLUED) {
      let shared = 0
      while (next > a + 1 && shared + tokens[next - 1]! <= overlap) shared += tokens[--next]!
      // The next window must take at least one new unit, or it would repeat a part of this one.
      while (next < end && shared + tokens[end]! > max) shared -= tokens[next++]!
    }
    a = next
    fresh = end
  }
}

// `.`, `!`, `?` (or their CJK and ellipsis forms), possibly inside closing quotes or brackets.
function endsSentence(text: string, start: number, end: number): boolean {
  let i = end - 1
  while (i > start && isCloser(text.charCodeAt(i))) i--
  const c = text.charCodeAt(i)
  return c === 46 || c === 33 || c === 63 || c === 0x2026 || c === 0x3002 || c === 0xff01 || c === 0xff1f
}

// ) ] } " ' and the typographic closing quotes ” ’ »
function isCloser(c: number): boolean {
  return c === 41 || c === 93 || c === 125 || c === 34 || c === 39 || c === 0x201d || c === 0x2019 || c === 0xbb
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff
}

function checkResolved(c: ResolvedChunking): void {
  if (
    c === null || typeof c !== 'object' || !isPositiveInteger(c.maxTokens) || !Number.isInteger(c.overlapTokens) ||
    c.overlapTokens < 0 || c.overlapTokens >= c.maxTokens || typeof c.headings !== 'boolean'
  ) {
    throw invalidInput('chunking must come from resolveChunking(): { maxTokens, overlapTokens < maxTokens, headings }, or null')
  }
}

function isPositiveInteger(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 1
}
