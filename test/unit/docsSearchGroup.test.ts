import { describe, expect, it } from 'vitest'
import { flatten, groupByPage, safeHref, snippetParts, type HitLike } from '../../demo/docs-search/group.ts'

const BASE = 'https://docs.example/demo/docs-search/'

function hit(chunkId: string, metadata: Record<string, unknown>, extra: Partial<HitLike> = {}): HitLike {
  return { chunkId, section: null, path: [], metadata, snippet: { text: `text of ${chunkId}`, highlights: [] }, ...extra }
}

const start = { url: 'docs/guides/getting-started.html', page: 'Getting started' }
const deploy = { url: 'docs/guides/deployment.html', page: 'Deployment' }

describe('groupByPage', () => {
  it('groups by page in the order of each page’s best hit, sections in rank order', () => {
    const hits = [
      hit('a#0', { ...start, anchor: 'install-the-package' }, { title: 'Install the package' }),
      hit('b#0', { ...deploy, anchor: 'headers' }, { title: 'Headers' }),
      hit('a#1', { ...start, anchor: 'serve-a-model' }, { title: 'Serve a model' }),
    ]
    const groups = groupByPage(hits, BASE)
    expect(groups.map((g) => [g.page, g.items.map((i) => [i.title, i.rank])])).toEqual([
      ['Getting started', [['Install the package', 0], ['Serve a model', 2]]],
      ['Deployment', [['Headers', 1]]],
    ])
    expect(groups[0]!.href).toBe('docs/guides/getting-started.html')
    expect(groups[0]!.items[1]!.href).toBe('docs/guides/getting-started.html#serve-a-model')
    // Keyboard order is display order: pages, then their sections.
    expect(flatten(groups).map((i) => i.key)).toEqual(['a#0', 'a#1', 'b#0'])
  })

  it('lists a section hit in several passages once, at its best rank, with each passage’s snippet', () => {
    const section = { ...start, anchor: 'install-the-package' }
    const hits = [
      hit('s#2', section, { title: 'Install the package', snippet: { text: 'npm install winnow', highlights: [[4, 11]] } }),
      hit('t#0', { ...start, anchor: 'serve-a-model' }, { title: 'Serve a model' }),
      hit('s#0', section, { title: 'Install the package', snippet: { text: 'Install it', highlights: [[0, 7]] } }),
    ]
    const [group] = groupByPage(hits, BASE)
    expect(group!.items.map((i) => [i.key, i.rank, i.snippets.map((s) => s.text)])).toEqual([
      ['s#2', 0, ['npm install winnow', 'Install it']],
      ['t#0', 1, ['text of t#0']],
    ])
  })

  it('falls back from title to section to page title, and links to the page top without an anchor', () => {
    const [group] = groupByPage([hit('a#0', { ...start }, { section: 'Intro' }), hit('a#1', { ...start, anchor: 'x' })], BASE)
    expect(group!.items.map((i) => [i.title, i.anchor, i.href])).toEqual([
      ['Intro', '', 'docs/guides/getting-started.html'],
      ['Getting started', 'x', 'docs/guides/getting-started.html#x'],
    ])
  })

  it('builds a breadcrumb from metadata.path (else hit.path) without repeating the page or the section', () => {
    const [group] = groupByPage(
      [
        hit('a#0', { ...start, anchor: 'x', path: ['Getting started', 'Serve a model', 'Offline'] }, { title: 'Offline' }),
        hit('a#1', { ...start, anchor: 'y' }, { title: 'Deep', path: ['Guides', 'Getting started', 'Deep'] }),
      ],
      BASE,
    )
    expect(group!.items.map((i) => i.breadcrumb)).toEqual([['Serve a model'], ['Guides', 'Getting started']])
  })

  it('keeps hostile metadata inert: non-strings dropped, off-origin and script links refused', () => {
    const groups = groupByPage(
      [
        hit('x#0', { url: 'javascript:alert(1)', page: '<img src=x onerror=alert(1)>', anchor: 'a' }),
        hit('y#0', { url: '//evil.example/p.html', page: 42, anchor: { toString: () => 'boom' }, path: [1, '<b>', null] }),
      ],
      BASE,
    )
    expect(groups[0]!.page).toBe('<img src=x onerror=alert(1)>') // text, rendered as text
    expect(groups[0]!.href).toBeNull()
    expect(groups[0]!.items[0]!.href).toBeNull()
    expect(groups[1]!.page).toBe('//evil.example/p.html') // no page title: the url stands in
    expect(groups[1]!.items[0]).toMatchObject({ anchor: '', href: null, breadcrumb: ['<b>'] })
  })

  it('groups pages without a url by title, and survives a hit without metadata', () => {
    const groups = groupByPage([hit('a#0', { page: 'P' }), hit('b#0', { page: 'P' }), { chunkId: 'c#0', section: null, path: [], snippet: { text: 't', highlights: [] } }], BASE)
    expect(groups.map((g) => [g.page, g.items.length, g.href])).toEqual([
      ['P', 2, null],
      ['Untitled page', 1, null],
    ])
  })
})

describe('safeHref', () => {
  it('returns the relative link for same-origin http(s) pages, encoding the anchor', () => {
    expect(safeHref('docs/a.html', 'install-the-package', BASE)).toBe('docs/a.html#install-the-package')
    expect(safeHref('docs/a.html', 'où est', BASE)).toBe('docs/a.html#o%C3%B9%20est')
    expect(safeHref('/elsewhere/b.html', '', BASE)).toBe('/elsewhere/b.html')
    expect(safeHref('', 'top', BASE)).toBe('#top')
  })

  it('refuses other schemes and origins, and nothing at all', () => {
    for (const url of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,<script>', '//evil.example/x', 'https://evil.example/x', 'ftp://docs.example/x']) {
      expect(safeHref(url, '', BASE), url).toBeNull()
    }
    expect(safeHref('', '', BASE)).toBeNull()
    expect(safeHref('docs/a.html', '', 'not a url')).toBeNull()
  })
})

describe('snippetParts', () => {
  const join = (parts: { text: string; mark: boolean }[]) => parts.map((p) => (p.mark ? `[${p.text}]` : p.text)).join('')

  it('cuts the text at the highlights, the whole text preserved', () => {
    const parts = snippetParts({ text: 'Install the package with npm', highlights: [[0, 7], [12, 19]] })
    expect(parts).toEqual([
      { text: 'Install', mark: true },
      { text: ' the ', mark: false },
      { text: 'package', mark: true },
      { text: ' with npm', mark: false },
    ])
  })

  it('repairs ranges: unsorted, overlapping, touching, out of bounds, fractional, malformed', () => {
    const text = 'abcdefghij'
    expect(join(snippetParts({ text, highlights: [[6, 8], [0, 2]] }))).toBe('[ab]cdef[gh]ij')
    expect(join(snippetParts({ text, highlights: [[1, 4], [3, 6]] }))).toBe('a[bcdef]ghij')
    expect(join(snippetParts({ text, highlights: [[1, 3], [3, 5]] }))).toBe('a[bcde]fghij')
    expect(join(snippetParts({ text, highlights: [[1, 6], [2, 3]] }))).toBe('a[bcdef]ghij') // one inside another
    expect(join(snippetParts({ text, highlights: [[-5, 2], [8, 99]] }))).toBe('[ab]cdefgh[ij]')
    expect(join(snippetParts({ text, highlights: [[1.5, 2.2]] }))).toBe('a[bc]defghij')
    const junk = [[5, 5], [7, 3], [Number.NaN, 4], ['1', '3'], null, [20, 30]] as unknown as [number, number][]
    expect(join(snippetParts({ text, highlights: junk }))).toBe('abcdefghij')
    expect(join(snippetParts({ text, highlights: null as unknown as [number, number][] }))).toBe('abcdefghij')
  })

  it('never splits a surrogate pair, and keeps markup as text', () => {
    expect(join(snippetParts({ text: 'a😀b', highlights: [[2, 4]] }))).toBe('a[😀b]')
    expect(join(snippetParts({ text: 'a😀b', highlights: [[0, 2]] }))).toBe('[a😀]b')
    expect(snippetParts({ text: '<script>x</script>', highlights: [[8, 9]] })).toEqual([
      { text: '<script>', mark: false },
      { text: 'x', mark: true },
      { text: '</script>', mark: false },
    ])
  })
})
