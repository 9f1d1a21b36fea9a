/**
 * A property test of `highlight()` in the browser's own HTML parser: for arbitrary strings (every
 * control character, CR and CR LF, NUL, lone surrogates, noncharacters, markup) and arbitrary
 * ranges, the HTML set as `innerHTML` shows exactly the snippet's text (NUL as U+FFFD, the one
 * documented exception), in a template, a live `<div>` and a `<pre>`, and each `<mark>` sits
 * exactly on its range when the ranges are clean.
 */
import fc from 'fast-check'
import { highlight } from '../../../src/index.ts'
import { asRendered, checkHighlight } from './checks.ts'

export interface RenderingOptions {
  seed: number
  runs: number
}

export interface RenderingFigures {
  seed: number
  runs: number
  /** Strings holding each kind of character the parser treats specially. */
  withCr: number
  withNul: number
  withLoneSurrogate: number
  withOtherControl: number
  longest: number
  /** null when every run passed; else fast-check's shrunk counterexample and the reason. */
  counterexample: string | null
  failure: string | null
}

/** Characters and strings the HTML parser, or an escaper, has treated specially somewhere. */
const SPECIAL = [
  '\r', '\n', '\r\n', '\n\r', '\r\r\n', '\0', '\f', '\v', '\t', '\u0085', '\u2028', '\u2029', '\uFEFF', '\u00A0',
  '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uFFFE', '\uFFFF', '\uFFFD', '😀', 'e\u0301',
  '&', '<', '>', '"', "'", '&#13;', '&#0;', '&amp;', '&lt;', '&', '&#x', '</mark>', '<mark>', '<!--', '-->', '<![CDATA[', ']]>', '<script>', '</textarea>',
]
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))
const control = fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f })).map((c) => String.fromCharCode(c))
const piece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 3, arbitrary: control },
  { weight: 2, arbitrary: anyUnit },
  { weight: 2, arbitrary: fc.constantFrom('leak', 'pipe', ' ', 'a') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
)
const text = fc.array(piece, { maxLength: 40 }).map((parts) => parts.join(''))
const bound = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: -3, max: 90 }) }, { weight: 1, arbitrary: fc.double({ min: -3, max: 90, noNaN: true }) }, { weight: 1, arbitrary: fc.constant(Number.NaN) })
const ranges = fc.array(fc.tuple(bound, bound), { maxLength: 6 })
const className = fc.option(fc.oneof(fc.constantFrom('hit', 'a\rb', 'x" onclick="y'), text), { nil: undefined })

/**
 * Ranges highlight() takes as they are (integers, inside the text, not splitting a surrogate pair,
 * apart from each other), sorted; null when any needs repairing.
 */
function cleanRanges(value: string, given: [number, number][]): [number, number][] | null {
  const sorted = [...given].sort((a, b) => a[0] - b[0])
  const splits = (i: number) => i > 0 && i < value.length && /[\uDC00-\uDFFF]/.test(value[i]!) && /[\uD800-\uDBFF]/.test(value[i - 1]!)
  for (let i = 0; i < sorted.length; i++) {
    const [s, e] = sorted[i]!
    if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > value.length || s >= e || splits(s) || splits(e)) return null
    if (i > 0 && s <= sorted[i - 1]![1]) return null
  }
  return sorted
}

/** Where each `<mark>` of a parsed fragment starts and ends in its text. */
function markOffsets(root: Node): [number, number][] {
  const out: [number, number][] = []
  let at = 0
  for (const node of root.childNodes) {
    const length = node.textContent?.length ?? 0
    if (node.nodeName === 'MARK') out.push([at, at + length])
    at += length
  }
  return out
}

/** Why one case fails, or null. */
function check(value: string, given: [number, number][], cls: string | undefined, div: HTMLElement, pre: HTMLElement): string | null {
  const html = highlight({ text: value, highlights: given }, { className: cls })
  const structure = checkHighlight(html, value)
  if (structure) return `template: ${structure}`
  const want = asRendered(value)
  div.innerHTML = html
  if (div.textContent !== want) return 'a live <div> shows other text'
  pre.innerHTML = html
  if (pre.textContent !== want) return 'a <pre> shows other text'
  const clean = cleanRanges(value, given)
  if (clean !== null && JSON.stringify(markOffsets(div)) !== JSON.stringify(clean)) return `marks at ${JSON.stringify(markOffsets(div))}, ranges ${JSON.stringify(clean)}`
  if (cls !== undefined && cls !== '') {
    for (const mark of div.querySelectorAll('mark')) if (mark.getAttribute('class') !== asRendered(cls)) return `class ${JSON.stringify(mark.getAttribute('class'))} is not ${JSON.stringify(cls)}`
  }
  return null
}

/**
 * Runs the property `runs` times from `seed`; returns its figures (a failure is data, not a throw).
 *
 * @example
 * const figures = checkHighlightRendering({ seed: 42, runs: 10_000 })
 */
export function checkHighlightRendering(options: RenderingOptions): RenderingFigures {
  const figures: RenderingFigures = { seed: options.seed, runs: 0, withCr: 0, withNul: 0, withLoneSurrogate: 0, withOtherControl: 0, longest: 0, counterexample: null, failure: null }
  const div = document.createElement('div')
  const pre = document.createElement('pre')
  document.body.append(div, pre)
  let failed = false
  const result = fc.check(
    fc.property(text, ranges, className, (value, given, cls) => {
      if (!failed) {
        figures.runs++
        if (value.includes('\r')) figures.withCr++
        if (value.includes('\0')) figures.withNul++
        if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)) figures.withLoneSurrogate++
        if (/[\u0001-\u0008\u000b\u000e-\u001f\u007f-\u009f]/.test(value)) figures.withOtherControl++
        figures.longest = Math.max(figures.longest, value.length)
      }
      const ok = check(value, given as [number, number][], cls, div, pre) === null
      failed ||= !ok // shrinking runs more cases: count only the search
      return ok
    }),
    { seed: options.seed, numRuns: options.runs },
  )
  if (result.failed && result.counterexample) {
    const [value, given, cls] = result.counterexample
    figures.counterexample = JSON.stringify(result.counterexample)
    figures.failure = check(value, given as [number, number][], cls, div, pre) ?? String(result.errorInstance)
  }
  div.remove()
  pre.remove()
  return figures
}
