import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { highlight } from '../../src/text/highlight.js'
import { highlightNodes, type NodeFactory } from '../../src/text/highlightDom.js'
import type { Snippet } from '../../src/types.js'
import { codeOf } from './helpers.js'

/** A stand-in for the few DOM calls highlightNodes makes: nodes as plain records. */
interface FakeNode {
  kind: 'fragment' | 'text' | 'mark'
  data: string
  className: string
  children: FakeNode[]
  appendChild(child: FakeNode): FakeNode
}
function node(kind: FakeNode['kind'], data = ''): FakeNode {
  return {
    kind,
    data,
    className: '',
    children: [],
    appendChild(child) {
      this.children.push(child)
      return child
    },
  }
}
const fakeDocument = {
  createDocumentFragment: () => node('fragment'),
  createTextNode: (data: string) => node('text', data),
  createElement: () => node('mark'),
} as unknown as NodeFactory

/** The fragment as [text, marked, class] runs. */
function runs(fragment: DocumentFragment): [string, boolean, string][] {
  return (fragment as unknown as FakeNode).children.map((n) => (n.kind === 'text' ? [n.data, false, ''] : [n.children.map((c) => c.data).join(''), true, n.className]))
}

/** highlight()'s HTML as the same runs: split at the marks, entities decoded. */
function htmlRuns(html: string): [string, boolean, string][] {
  const decode = (s: string) =>
    s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#13;/g, '\r').replace(/&#xFFFD;/g, '\uFFFD').replace(/&amp;/g, '&')
  const out: [string, boolean, string][] = []
  const re = /<mark(?: class="([^"]*)")?>([^<]*)<\/mark>/g
  let at = 0
  for (let m = re.exec(html); m; m = re.exec(html)) {
    if (m.index > at) out.push([decode(html.slice(at, m.index)), false, ''])
    out.push([decode(m[2]!), true, decode(m[1] ?? '')])
    at = m.index + m[0].length
  }
  if (at < html.length) out.push([decode(html.slice(at)), false, ''])
  return out
}

const snippet = (text: string, highlights: unknown): Snippet => ({ text, highlights: highlights as [number, number][] })

describe('highlightNodes', () => {
  it('builds text nodes and <mark> elements, with the class on each mark', () => {
    const fragment = highlightNodes(snippet('Old pipes <leak>', [[4, 9], [11, 15]]), { document: fakeDocument, className: 'hit' })
    expect(runs(fragment)).toEqual([
      ['Old ', false, ''],
      ['pipes', true, 'hit'],
      [' <', false, ''],
      ['leak', true, 'hit'],
      ['>', false, ''],
    ])
  })

  it('keeps CR as it is and shows NUL as U+FFFD, as highlight() does', () => {
    expect(runs(highlightNodes(snippet('a\r\nb\0c', [[0, 1]]), { document: fakeDocument }))).toEqual([
      ['a', true, ''],
      ['\r\nb\uFFFDc', false, ''],
    ])
  })

  it('throws INVALID_INPUT for a snippet without string text', async () => {
    expect(await codeOf(Promise.resolve().then(() => highlightNodes(null as unknown as Snippet, { document: fakeDocument })))).toBe('INVALID_INPUT')
    expect(await codeOf(Promise.resolve().then(() => highlightNodes({ text: 3 } as unknown as Snippet, { document: fakeDocument })))).toBe('INVALID_INPUT')
  })

  it('property: the same runs as highlight(), whatever the ranges hold', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '<', '&', '"', '😀', '\ud83d', '\r', '\n', '\u0000'), maxLength: 30 })
    const bound = fc.oneof(fc.integer({ min: -5, max: 40 }), fc.double(), fc.constant(Number.NaN))
    const ranges = fc.array(fc.tuple(bound, bound), { maxLength: 6 })
    const className = fc.option(fc.string({ unit: fc.constantFrom('a', '"', '<', ' ') }), { nil: undefined })
    fc.assert(
      fc.property(text, ranges, className, (t, r, c) => {
        const s = snippet(t, r)
        expect(runs(highlightNodes(s, { document: fakeDocument, className: c }))).toEqual(htmlRuns(highlight(s, { className: c })))
      }),
      { numRuns: 500 },
    )
  })
})
