/**
 * Text analysis for BM25: the one function that turns a chunk or a query into index terms, so
 * both sides of a match are spelled the same way. Pipeline, per text:
 *
 * 1. Unicode normalization (NFKC, or NFKD when folding accents): "ﬁ" → "fi", full-width "Ａ" → "A",
 *    and a composed "é" matches a decomposed one. Pure-ASCII text skips this step.
 * 2. Lowercase (optional), then accent folding (optional): "Café" → "cafe".
 * 3. Tokenization, Unicode-aware, close to UAX #29 words: runs of letters, digits and combining
 *    marks in any script; an apostrophe inside a word keeps it whole ("user's", "don't"); a period
 *    or comma between digits keeps a number whole ("2.5", "1,000"); hyphens and all other
 *    punctuation split ("covid-19" → "covid", "19"). Han ideographs and Hiragana become one term
 *    per character, as Lucene's StandardTokenizer does, since those scripts do not mark word
 *    boundaries; other scripts without spaces (Thai, ...) stay whole runs. Nothing is dropped
 *    for being non-Latin.
 * 4. With the English stemmer: the possessive "'s" is removed ("user's" → "user").
 * 5. Terms shorter than `minTokenLength`, then stop words, are dropped.
 * 6. English (Porter) stemming of lowercase a–z words: "running", "runs" → "run".
 *
 * The defaults follow Lucene's EnglishAnalyzer (the BM25 baseline IR papers report against);
 * Porter stemming is worth +0.03 nDCG@10 on SciFact, the other choices far less (eval/run.mjs).
 */
import { stemmer as porterStem } from 'stemmer'
import { describeValue, invalidInput } from '../errors.js'
import type { AnalyzerOptions } from '../types.js'
import { RAW_TOKEN, scanTokenSpans, scanTokens } from './tokens.js'

export type { AnalyzerOptions }

/**
 * A fully resolved analyzer configuration, plain JSON: store it next to an index, and compare it
 * with {@link sameAnalyzer} on open to tell whether the index must be rebuilt.
 *
 * @example
 * const stored: ResolvedAnalyzerConfig = JSON.parse(record.analyzer)
 * if (!sameAnalyzer(stored, analyzer.config)) await rebuildIndex()
 */
export interface ResolvedAnalyzerConfig {
  /** {@link ANALYZER_VERSION} of the code that built the index: tokenization rules change with it. */
  version: number
  lowercase: boolean
  foldAccents: boolean
  /** `'english'`, the custom list as given, or `false`. */
  stopWords: 'english' | readonly string[] | false
  stemmer: 'english' | false
  minTokenLength: number
}

/**
 * Turns text into index terms; the same analyzer must serve the index and its queries.
 *
 * @example
 * const analyzer: Analyzer = createAnalyzer()
 * analyzer.terms('Leaks, leaking') // ['leak', 'leak']
 */
export interface Analyzer {
  readonly config: ResolvedAnalyzerConfig
  /** The terms of `text`, in text order, duplicates kept (BM25 counts them). */
  terms(text: string): string[]
  /**
   * Every token of `text` where it stands in the original string, with the terms it yields (for
   * snippets and highlighting). For ASCII and NFC text the terms, concatenated, are `terms(text)`;
   * a compatibility character that is not a letter or digit until normalized ("℃", "㎏") has no span.
   */
  spans(text: string): TermSpan[]
}

/**
 * One token of the original text: `[start, end)` UTF-16 offsets into the string given to
 * {@link Analyzer.spans}, and the index terms the token yields (empty for a stop word or a token
 * shorter than `minTokenLength`).
 *
 * @example
 * createAnalyzer().spans("The user's café")
 * // [{ start: 0, end: 3, terms: [] }, { start: 4, end: 10, terms: ['user'] }, { start: 11, end: 15, terms: ['cafe'] }]
 */
export interface TermSpan {
  start: number
  end: number
  terms: string[]
}

/**
 * Bumped whenever the same options would produce different terms (tokenizer rules, stop list,
 * stemmer), so an index built by older code is detected as stale rather than silently mismatched.
 *
 * @example
 * resolveAnalyzerConfig().version === ANALYZER_VERSION // true
 */
export const ANALYZER_VERSION = 1

/**
 * Lucene's default English stop words (`EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`). On SciFact's
 * train queries ranking is the same with this list, none, or NLTK's 179 words (nDCG@10 within
 * 0.0005); the list earns its place by dropping the longest postings ("the", "of", "and"), which
 * makes indexes smaller and queries faster. Longer lists also remove words such as "few", "more"
 * and "against" that change a claim's meaning.
 *
 * @example
 * createAnalyzer({ stopWords: [...ENGLISH_STOP_WORDS, 'et', 'al'] })
 */
export const ENGLISH_STOP_WORDS: readonly string[] = Object.freeze([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is', 'it', 'no',
  'not', 'of', 'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they', 'this',
  'to', 'was', 'will', 'with',
])

/**
 * What `createAnalyzer(false)` means: tokenization, Unicode normalization and lowercasing only.
 * Lowercasing is safe in every cased script; accents, stop words and stemming are language
 * decisions, so they are left off.
 *
 * @example
 * createAnalyzer({ ...LANGUAGE_NEUTRAL, stopWords: ['der', 'die', 'das'] }) // neutral plus a German list
 */
export const LANGUAGE_NEUTRAL: Readonly<Required<AnalyzerOptions>> = Object.freeze({
  lowercase: true,
  foldAccents: false,
  stopWords: false,
  stemmer: false,
  minTokenLength: 1,
})

const OPTION_KEYS = new Set(['lowercase', 'foldAccents', 'stopWords', 'stemmer', 'minTokenLength'])
const MAX_MIN_TOKEN_LENGTH = 255

/**
 * Validates options and fills in defaults.
 *
 * @throws {WinnowError} `INVALID_INPUT` for unknown keys or values of the wrong type.
 * @example
 * resolveAnalyzerConfig({ stemmer: false })
 * // { version: 1, lowercase: true, foldAccents: true, stopWords: 'english', stemmer: false, minTokenLength: 1 }
 */
export function resolveAnalyzerConfig(options?: AnalyzerOptions | false): ResolvedAnalyzerConfig {
  const given = options === false ? LANGUAGE_NEUTRAL : options === undefined ? {} : options
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw invalidInput('analyzer options must be an object, false, or undefined', { received: describeValue(given) })
  }
  for (const key of Object.keys(given)) {
    if (!OPTION_KEYS.has(key)) {
      throw invalidInput(`unknown analyzer option "${key}"; expected one of ${[...OPTION_KEYS].join(', ')}`, { option: key })
    }
  }
  const { lowercase = true, foldAccents = true, stopWords = 'english', stemmer = 'english', minTokenLength = 1 } = given
  requireBoolean('lowercase', lowercase)
  requireBoolean('foldAccents', foldAccents)
  if (stemmer !== 'english' && stemmer !== false) {
    throw invalidInput(`analyzer option "stemmer" must be 'english' or false`, { option: 'stemmer', received: describeValue(stemmer) })
  }
  if (!Number.isInteger(minTokenLength) || minTokenLength < 1 || minTokenLength > MAX_MIN_TOKEN_LENGTH) {
    throw invalidInput(`analyzer option "minTokenLength" must be an integer from 1 to ${MAX_MIN_TOKEN_LENGTH}`, {
      option: 'minTokenLength',
      received: describeValue(minTokenLength),
    })
  }
  return {
    version: ANALYZER_VERSION,
    lowercase,
    foldAccents,
    stopWords: resolveStopWords(stopWords),
    stemmer,
    minTokenLength,
  }
}

/**
 * Whether two configurations produce the same terms for every text (custom stop lists compare as
 * sets: order and repeats do not matter).
 *
 * @example
 * sameAnalyzer(resolveAnalyzerConfig(), resolveAnalyzerConfig({ stemmer: 'english' })) // true
 * sameAnalyzer(resolveAnalyzerConfig(), resolveAnalyzerConfig(false))                   // false
 */
export function sameAnalyzer(a: ResolvedAnalyzerConfig, b: ResolvedAnalyzerConfig): boolean {
  if (
    a.version !== b.version ||
    a.lowercase !== b.lowercase ||
    a.foldAccents !== b.foldAccents ||
    a.stemmer !== b.stemmer ||
    a.minTokenLength !== b.minTokenLength
  ) {
    return false
  }
  if (typeof a.stopWords !== 'object' || typeof b.stopWords !== 'object') return a.stopWords === b.stopWords
  const left = new Set(a.stopWords)
  const right = new Set(b.stopWords)
  return left.size === right.size && [...left].every((word) => right.has(word))
}

/**
 * Builds an analyzer. Options are validated once, here.
 *
 * @throws {WinnowError} `INVALID_INPUT` for bad options (see {@link resolveAnalyzerConfig}).
 * @example
 * const analyzer = createAnalyzer()
 * analyzer.terms("The user's café runs 2.5 km") // ['user', 'cafe', 'run', '2.5', 'km']
 * createAnalyzer(false).terms('Über die Brücke') // ['über', 'die', 'brücke']
 * analyzer.spans('Leaks, leaking') // [{ start: 0, end: 5, terms: ['leak'] }, { start: 7, end: 14, terms: ['leak'] }]
 */
export function createAnalyzer(options?: AnalyzerOptions | false): Analyzer {
  const config = resolveAnalyzerConfig(options)
  const { lowercase, foldAccents, minTokenLength } = config
  const english = config.stemmer === 'english'
  const stop = stopSet(config)
  // Porter is regex-heavy and vocabularies are Zipfian: on SciFact the cache cuts stemming time
  // about 4× (~0.8 µs a call vs ~0.2 µs a lookup). Bounded, so a stream of unique tokens (ids,
  // hashes) cannot grow it forever.
  const stems = new Map<string, string>()
  const stem = (word: string): string => {
    let stemmed = stems.get(word)
    if (stemmed === undefined) {
      if (stems.size >= STEM_CACHE_LIMIT) stems.clear()
      stemmed = porterStem(word)
      stems.set(word, stemmed)
    }
    return stemmed
  }

  /** Appends the term of one normalized token to `out`, if it yields one (steps 4-6). */
  const addTerm = (token: string, out: string[]): void => {
    let term = token
    if (english && term.length > 2 && term.charCodeAt(term.length - 2) === APOSTROPHE) {
      const last = term.charCodeAt(term.length - 1)
      if (last === LOWER_S || last === UPPER_S) term = term.slice(0, -2)
    }
    if (minTokenLength > 1 && codePointLength(term) < minTokenLength) return
    if (stop !== null && stop.has(term)) return
    if (english && isEnglishWord(term)) term = stem(term)
    out.push(term)
  }

  /** Tokenizes already-normalized text and appends its terms to `out`. */
  const collect = (normalized: string, out: string[]): string[] => {
    scanTokens(normalized, (token) => addTerm(token, out))
    return out
  }

  const terms = (text: string): string[] => {
    if (typeof text !== 'string') throw invalidInput('text to analyze must be a string', { received: describeValue(text) })
    return collect(normalizeText(text, lowercase, foldAccents), [])
  }

  // Tokens are found in the original text, so offsets need no mapping back through normalization
  // (NFKD and folding change lengths); each token then goes through the per-text pipeline on its
  // own, which can split it ("½" → "1", "2") but never merges two.
  const spans = (text: string): TermSpan[] => {
    if (typeof text !== 'string') throw invalidInput('text to analyze must be a string', { received: describeValue(text) })
    if (ASCII_ONLY.test(text)) {
      // ASCII normalizes to itself, lowercased in place: one scan of the whole text, offsets kept.
      const lower = lowercase ? text.toLowerCase() : text
      const out: TermSpan[] = []
      scanTokenSpans(lower, (start, end) => {
        const terms: string[] = []
        addTerm(lower.slice(start, end), terms)
        out.push({ start, end, terms })
      })
      return out
    }
    const source = text.replace(APOSTROPHES, "'") // one unit each: offsets hold
    const out: TermSpan[] = []
    RAW_TOKEN.lastIndex = 0
    for (let match = RAW_TOKEN.exec(source); match !== null; match = RAW_TOKEN.exec(source)) {
      const token = match[0]
      out.push({
        start: match.index,
        end: match.index + token.length,
        terms: collect(normalizeText(token, lowercase, foldAccents), []),
      })
    }
    return out
  }

  return { config, terms, spans }
}

const STEM_CACHE_LIMIT = 100_000
const APOSTROPHE = 0x27
const LOWER_S = 0x73
const UPPER_S = 0x53
const ASCII_ONLY = /^[\x00-\x7f]*$/

const DIACRITICS = /[\u0300-\u036f]/g
const APOSTROPHES = /[\u2019\u02bc\uff07]/g
// Letters that carry their "accent" in the base character, so NFKD does not split them.
const FOLDS: Record<string, string> = {
  ß: 'ss', ẞ: 'SS', æ: 'ae', Æ: 'AE', œ: 'oe', Œ: 'OE', ø: 'o', Ø: 'O', ł: 'l', Ł: 'L',
  đ: 'd', Đ: 'D', ð: 'd', Ð: 'D', þ: 'th', Þ: 'TH', ı: 'i',
}
const FOLDABLE = new RegExp(`[${Object.keys(FOLDS).join('')}]`, 'g')

/** Normalization, case and accents, applied to the whole text once (not per term). */
function normalizeText(text: string, lowercase: boolean, foldAccents: boolean): string {
  if (ASCII_ONLY.test(text)) return lowercase ? text.toLowerCase() : text
  let out = text.normalize(foldAccents ? 'NFKD' : 'NFKC').replace(APOSTROPHES, "'")
  if (lowercase) out = out.toLowerCase().replace(/ς/g, 'σ') // Greek final sigma is the same letter
  if (foldAccents) out = out.replace(DIACRITICS, '').replace(FOLDABLE, (c) => FOLDS[c] ?? c).normalize('NFC')
  return out
}

/**
 * Whether Porter may stem a term: lowercase a–z, apostrophes inside (the tokenizer never puts one
 * at either end). A char loop, since this runs once per term (a regex test costs ~4× as much).
 */
function isEnglishWord(term: string): boolean {
  for (let i = 0; i < term.length; i++) {
    const c = term.charCodeAt(i)
    if ((c < 0x61 || c > 0x7a) && c !== APOSTROPHE) return false
  }
  return true
}

function codePointLength(term: string): number {
  let n = 0
  for (let i = 0; i < term.length; i++) {
    const c = term.charCodeAt(i)
    if (c < 0xdc00 || c > 0xdfff) n++ // count every unit except the low half of a surrogate pair
  }
  return n
}

function resolveStopWords(stopWords: unknown): ResolvedAnalyzerConfig['stopWords'] {
  if (stopWords === 'english' || stopWords === false) return stopWords
  if (!Array.isArray(stopWords)) {
    throw invalidInput(`analyzer option "stopWords" must be 'english', false, or an array of strings`, {
      option: 'stopWords',
      received: describeValue(stopWords),
    })
  }
  stopWords.forEach((word, index) => {
    if (typeof word !== 'string' || word.trim() === '') {
      throw invalidInput('every stop word must be a non-empty string', { option: 'stopWords', index })
    }
  })
  return [...(stopWords as string[])]
}

/** Stop words spelled as terms are: normalized like text, so "Über" in a list drops "uber". */
function stopSet(config: ResolvedAnalyzerConfig): Set<string> | null {
  if (config.stopWords === false) return null
  const words = config.stopWords === 'english' ? ENGLISH_STOP_WORDS : config.stopWords
  return new Set(words.map((word) => normalizeText(word.trim(), config.lowercase, config.foldAccents)))
}

function requireBoolean(option: string, value: unknown): void {
  if (typeof value !== 'boolean') {
    throw invalidInput(`analyzer option "${option}" must be true or false`, { option, received: describeValue(value) })
  }
}
