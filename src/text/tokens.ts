/**
 * The analyzer's tokenizer (step 3 of text/analyzer.ts): the TOKEN pattern, close to UAX #29
 * words, and a char-code scan that finds the same tokens in ASCII text without a match array per
 * token.
 */
const APOSTROPHE = 0x27
// Letters of every script except Han and Hiragana, which are cut one character per term. Written
// as a negated class ("not a non-letter, not Han, not Hiragana") because subtracting from a class
// needs the `v` flag, which Safari 16 lacks.
const LETTER = String.raw`[^\P{L}\p{sc=Han}\p{sc=Hiragana}]`
const START = String.raw`(?:${LETTER}|\p{N})`
const CONTINUE = String.raw`(?:${LETTER}|[\p{N}\p{M}_])`
const JOINER = String.raw`(?:'(?=${START})|(?<=\p{N})[.,](?=\p{N}))`
/** Tokens of normalized text (module constant: `lastIndex` is set before each use). */
export const TOKEN = new RegExp(String.raw`[\p{sc=Han}\p{sc=Hiragana}]|${START}(?:${CONTINUE}|${JOINER})*`, 'gu')
// The same pattern for spans(), whose loop calls collect() (which resets TOKEN) for every token.
export const RAW_TOKEN = new RegExp(TOKEN.source, 'gu')

const UNDERSCORE = 0x5f
const PERIOD = 0x2e
const COMMA = 0x2c

/**
 * Calls `emit` with each token of `text` in order, exactly the matches of the TOKEN pattern: a
 * char-code scan while the text is ASCII (no match array per token: tokenizing is most of an
 * ingest's analysis time), the pattern itself from the first non-ASCII character on. The pattern
 * can take over mid-text because a token's start does not depend on what precedes it.
 *
 * @example
 * scanTokens("it's 2.5 km", (t) => tokens.push(t)) // "it's", "2.5", "km"
 */
export function scanTokens(text: string, emit: (token: string) => void): void {
  scanTokenSpans(text, (start, end) => emit(text.slice(start, end)))
}

/**
 * {@link scanTokens} by offsets: `emit(start, end)` for each token, `[start, end)` in UTF-16 units.
 *
 * @example
 * scanTokenSpans('go 2.5 km', (s, e) => spans.push([s, e])) // [0, 2], [3, 6], [7, 9]
 */
export function scanTokenSpans(text: string, emit: (start: number, end: number) => void): void {
  const n = text.length
  let i = 0
  scan: while (i < n) {
    let c = text.charCodeAt(i)
    if (c >= 0x80) break
    if (!isAsciiAlnum(c)) {
      i++
      continue
    }
    const start = i++
    while (i < n) {
      c = text.charCodeAt(i)
      if (c >= 0x80) {
        i = start
        break scan
      }
      if (isAsciiAlnum(c) || c === UNDERSCORE) {
        i++
        continue
      }
      // An apostrophe before a letter or digit, or a period or comma between digits, joins.
      if ((c === APOSTROPHE || c === PERIOD || c === COMMA) && i + 1 < n) {
        const next = text.charCodeAt(i + 1)
        if (next >= 0x80) {
          i = start
          break scan
        }
        const joins = c === APOSTROPHE ? isAsciiAlnum(next) : isAsciiDigit(next) && isAsciiDigit(text.charCodeAt(i - 1))
        if (joins) {
          i += 2
          continue
        }
      }
      break
    }
    emit(start, i)
  }
  if (i >= n) return
  // The regex object is shared (module constant) and never escapes; lastIndex is set per call.
  TOKEN.lastIndex = i
  for (let match = TOKEN.exec(text); match !== null; match = TOKEN.exec(text)) emit(match.index, match.index + match[0].length)
}

/**
 * The TOKEN pattern's matches alone, for tests that hold {@link scanTokens} to it.
 *
 * @example
 * tokensByPattern("it's 2.5 km") // ["it's", '2.5', 'km']
 */
export function tokensByPattern(text: string): string[] {
  return Array.from(text.matchAll(new RegExp(TOKEN.source, 'gu')), (m) => m[0])
}

function isAsciiDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

function isAsciiAlnum(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)
}
