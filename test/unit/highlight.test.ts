import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { highlight } from '../../src/text/highlight.js'
import type { Snippet } from '../../src/types.js'
import { codeOf } from './helpers.js'

const snippet = (text: string, highlights: unknown): Snippet => ({ text, highlights: highlights as [number, number][] })
/** The text back from the HTML: tags stripped, entities decoded (`&amp;` last, so `&amp;lt;` stays `&lt;`). */
const plain = (html: string) =>
  html
    .replace(/<mark(?: class="[^"]*")?>|<\/mark>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#13;/g, '\r')
    .replace(/&#xFFFD;/g, '\uFFFD')
    .replace(/&amp;/g, '&')
/** Every '<' in the HTML that does not open or close a mark. */
const strayTags = (html: string) => html.replace(/<mark(?: class="[^"]*")?>|<\/mark>/g, '').match(/</g) ?? []

describe('highlight', () => {
  it('wraps each range in <mark> and escapes the text around and inside', () => {
    expect(highlight(snippet('Old pipes leak & drip', [[4, 9], [10, 14]]))).toBe('Old <mark>pipes</mark> <mark>leak</mark> &amp; drip')
    expect(highlight(snippet(`a "b" 'c'`, [[2, 5]]))).toBe('a <mark>&quot;b&quot;</mark> &#39;c&#39;')
    expect(highlight(snippet('no ranges', []))).toBe('no ranges')
  })

  it('escapes markup in the text: no tag survives but the marks', () => {
    const text = 'See <img src=x onerror=alert(1)> and <script>alert(1)</script> leaks'
    const html = highlight(snippet(text, [[5, 8], [text.length - 5, text.length]]))
    expect(strayTags(html)).toEqual([])
    expect(html).toContain('&lt;<mark>img</mark> src=x onerror=alert(1)&gt;')
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html.endsWith('<mark>leaks</mark>')).toBe(true)
  })

  it('writes CR as a character reference (the HTML parser turns a literal CR or CR LF into LF) and NUL as U+FFFD', () => {
    expect(highlight(snippet('\r\nleak', [[1, 6]]))).toBe('&#13;<mark>\nleak</mark>')
    expect(highlight(snippet('a\rb\r\nc', [[0, 2]]))).toBe('<mark>a&#13;</mark>b&#13;\nc')
    expect(highlight(snippet('a\u0000b', [[1, 2]]))).toBe('a<mark>&#xFFFD;</mark>b')
    // Other controls, noncharacters and lone surrogates go through as they are: the parser keeps them.
    expect(highlight(snippet('\t\u0007\u001b\u0085\uFFFE\uD800\n', []))).toBe('\t\u0007\u001b\u0085\uFFFE\uD800\n')
    expect(highlight(snippet('leak', [[0, 4]]), { className: 'a\rb' })).toBe('<mark class="a&#13;b">leak</mark>')
  })

  it('adds an escaped class that cannot break out of the attribute', () => {
    expect(highlight(snippet('leak', [[0, 4]]), { className: 'hit' })).toBe('<mark class="hit">leak</mark>')
    const html = highlight(snippet('leak', [[0, 4]]), { className: `x" onmouseover="alert(1)' ><script>` })
    expect(html).toBe('<mark class="x&quot; onmouseover=&quot;alert(1)&#39; &gt;&lt;script&gt;">leak</mark>')
    expect(highlight(snippet('leak', [[0, 4]]), { className: '' })).toBe('<mark>leak</mark>')
  })

  it('repairs malformed ranges: unsorted, overlapping, touching, out of bounds, reversed, fractional, NaN, junk', () => {
    const text = 'abcdefghij'
    expect(highlight(snippet(text, [[6, 8], [1, 3]]))).toBe('a<mark>bc</mark>def<mark>gh</mark>ij')
    expect(highlight(snippet(text, [[1, 4], [2, 6], [6, 7]]))).toBe('a<mark>bcdefg</mark>hij')
    expect(highlight(snippet(text, [[-5, 2], [8, 99]]))).toBe('<mark>ab</mark>cdefgh<mark>ij</mark>')
    expect(highlight(snippet(text, [[5, 2], [3, 3], [20, 30], [-3, -1]]))).toBe(text)
    expect(highlight(snippet(text, [[1.5, 2.2]]))).toBe('a<mark>bc</mark>defghij')
    expect(highlight(snippet(text, [[Number.NaN, 3], [1, Number.NaN], [-Infinity, Infinity]]))).toBe('<mark>abcdefghij</mark>')
    expect(highlight(snippet(text, [null, 'x', [1], ['1', '2'], {}, [0, 1]]))).toBe('<mark>a</mark>bcdefghij')
    expect(highlight(snippet(text, 'not an array'))).toBe(text)
    expect(highlight(snippet(text, undefined))).toBe(text)
  })

  it('never splits a surrogate pair: an edge inside one moves outward', () => {
    const text = 'a😀b𝒳c'
    expect(highlight(snippet(text, [[2, 3]]))).toBe('a<mark>😀</mark>b𝒳c')
    expect(highlight(snippet(text, [[1, 2]]))).toBe('a<mark>😀</mark>b𝒳c')
    expect(highlight(snippet(text, [[3, 5]]))).toBe('a😀<mark>b𝒳</mark>c')
  })

  it('throws INVALID_INPUT only when the snippet has no string text', async () => {
    for (const bad of [null, undefined, 'text', 42, {}, { text: 5, highlights: [] }]) {
      expect(await codeOf(Promise.resolve().then(() => highlight(bad as unknown as Snippet))), String(bad)).toBe('INVALID_INPUT')
    }
  })

  it('property: stripping the marks and unescaping gives the text back (NUL as U+FFFD); no other tag, no literal CR or NUL', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '<', '>', '&', '"', "'", '😀', '\ud83d', '&lt;', '</mark>', 'é', '\r', '\n', '\u0000', '&#13;') , maxLength: 40 })
    const bound = fc.oneof(fc.integer({ min: -5, max: 60 }), fc.double(), fc.constant(Number.NaN))
    const ranges = fc.array(fc.tuple(bound, bound), { maxLength: 8 })
    const className = fc.option(fc.string({ unit: fc.constantFrom('a', '"', "'", '<', '>', '&', ' ', '=') }), { nil: undefined })
    fc.assert(
      fc.property(text, ranges, className, (t, r, c) => {
        const html = highlight(snippet(t, r), { className: c })
        expect(plain(html)).toBe(t.replace(/\0/g, '\uFFFD'))
        expect(strayTags(html)).toEqual([])
        expect(html).not.toMatch(/[\r\0]/)
        expect(html).not.toMatch(/<mark[^>]*>(?:<\/mark>)/) // no empty marks
      }),
      { numRuns: 1000 },
    )
  })
})
