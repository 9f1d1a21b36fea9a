import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { splitFrontMatter } from '../../src/cli/frontMatter.ts'
import { readSite, readSiteDocuments, type SitePage, toDocuments } from '../../src/cli/sources.ts'
import { WinnowError } from '../../src/errors.ts'

const fixtures = resolve(__dirname, '../fixtures/site')
const temps: string[] = []
afterAll(() => temps.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

/** A fresh folder holding `files` (path → content). */
function site(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'winnow-site-'))
  temps.push(dir)
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), content)
  }
  return dir
}

async function page(dir: string, url: string): Promise<SitePage> {
  const found = (await readSite(dir)).find((p) => p.url === url)
  if (!found) throw new Error(`no page ${url}`)
  return found
}

async function errorOf(promise: Promise<unknown>): Promise<WinnowError> {
  const error = await promise.then(() => null, (e: unknown) => e)
  expect(error).toBeInstanceOf(WinnowError)
  return error as WinnowError
}

describe('readSite: markdown', () => {
  it('lists pages in path order, as .html URLs, titled by front matter, first h1 or file name', async () => {
    const pages = await readSite(join(fixtures, 'markdown'))
    expect(pages.map((p) => [p.url, p.title])).toEqual([
      ['guide/install.html', 'Install guide'],
      ['guide/no-headings.html', 'no-headings'],
      ['index.html', 'Winnow: the docs'],
    ])
  })

  it('splits a page into sections with GitHub anchors, heading paths and plain text', async () => {
    const index = await page(join(fixtures, 'markdown'), 'index.html')
    expect(index.sections).toEqual([
      // front matter is gone; entities decoded; links and images become their text
      { anchor: '', heading: null, path: [], text: 'Intro with an entity & a link to the guide and a diagram.' },
      { anchor: 'getting-started', heading: 'Getting started', path: ['Getting started'], text: 'Some emphasis and strong text.' },
      {
        anchor: 'install-winnow-with-npm-today',
        heading: 'Install winnow with npm today',
        path: ['Getting started', 'Install winnow with npm today'],
        // a '#' line inside a code block is code, not a heading
        text: '# this is a comment, not a heading\nnpm install winnow',
      },
      { anchor: 'usage', heading: 'Usage', path: ['Getting started', 'Usage'], text: 'first item\nsecond item with code\nnested item\n\none\ntwo' },
      { anchor: 'usage-1', heading: 'Usage', path: ['Getting started', 'Usage'], text: 'Second usage section © 2024 — same heading.' },
      {
        anchor: 'options-table',
        heading: 'Options table',
        path: ['Getting started', 'Usage', 'Options table'],
        text: 'Option | Default\nk | 10\nmode | hybrid',
      },
      // "Empty parent" has no text of its own: dropped, but still in the child's path.
      // The image's alt text is in the heading, not in the slug (GitHub keeps the space: 'child-').
      {
        anchor: 'child-',
        heading: 'Child icon',
        path: ['Getting started', 'Empty parent', 'Child icon'],
        // raw HTML is literal text (as the renderer shows it), comments are dropped; a hard break is a newline
        text: 'Child text with <kbd>raw</kbd> html <i>x</i> .\n\n<div class="note">Block <b>HTML</b></div>\n\nA quote over two lines.\n\nLine one\nline two.',
      },
    ])
  })

  it('numbers repeated headings per page, slugs punctuation away, and keeps footnotes without markers', async () => {
    const install = await page(join(fixtures, 'markdown'), 'guide/install.html')
    expect(install.sections.map((s) => [s.anchor, s.text])).toEqual([
      ['install-guide', 'Back to the start, or jump.'],
      ['requirements', 'Node 20 or newer.'],
      ['requirements-1', 'Twice, on purpose.'],
      ['whats-new-in-v20-beta', 'Everything.'],
      ['footnote-label', 'Older versions lack fetch.'],
    ])
    expect(install.sections[3]!.heading).toBe("What's new in v2.0? (beta)")
    expect(install.sections[4]!.path).toEqual(['Install guide', 'Footnotes'])
  })

  it('reads a page without headings as one section, task list items one per line', async () => {
    const plain = await page(join(fixtures, 'markdown'), 'guide/no-headings.html')
    expect(plain.sections).toEqual([
      { anchor: '', heading: null, path: [], text: 'Just a paragraph, wrapped over two lines.\n\na task\na done task' },
    ])
  })

  it('honours baseUrl and keepMarkdownExtension, and encodes what would break a URL', async () => {
    const pages = await readSite(join(fixtures, 'markdown'), { baseUrl: '/docs/', keepMarkdownExtension: true })
    expect(pages.map((p) => p.url)).toEqual(['/docs/guide/install.md', '/docs/guide/no-headings.md', '/docs/index.md'])
    const dir = site({ 'a b#c.markdown': '# T\n\nx', 'Ünïcode.md': 'y' })
    expect((await readSite(dir)).map((p) => p.url)).toEqual(['a%20b%23c.html', 'Ünïcode.html'])
  })

  it('starts a fresh slugger on every page', async () => {
    const dir = site({ 'a.md': '## Same\n\none', 'b.md': '## Same\n\ntwo\n\n## Same\n\nthree' })
    const pages = await readSite(dir)
    expect(pages.map((p) => p.sections.map((s) => s.anchor))).toEqual([['same'], ['same', 'same-1']])
  })
})

describe('splitFrontMatter', () => {
  it('reads plain, quoted and TOML titles and skips the block', () => {
    expect(splitFrontMatter("---\ntitle: 'It''s: here' # note\nx: 1\n---\nbody")).toEqual({ title: "It's: here", body: 'body' })
    expect(splitFrontMatter('---\ntitle: Plain words # a comment\n...\nbody')).toEqual({ title: 'Plain words', body: 'body' })
    expect(splitFrontMatter('---\r\ntitle: "Say \\"hi\\""\r\n---\r\nbody')).toEqual({ title: 'Say "hi"', body: 'body' })
    expect(splitFrontMatter('+++\ntitle = "Hugo page"\n+++\nbody')).toEqual({ title: 'Hugo page', body: 'body' })
    expect(splitFrontMatter('\uFEFF---\ntitle: BOM\n---\n')).toEqual({ title: 'BOM', body: '' })
  })

  it('gives no title for block scalars or a missing title, and leaves text without front matter alone', () => {
    expect(splitFrontMatter('---\ntitle: >\n  folded\n---\nbody')).toEqual({ title: null, body: 'body' })
    expect(splitFrontMatter('---\nsubtitle: no\n---\nbody')).toEqual({ title: null, body: 'body' })
    expect(splitFrontMatter('text\n---\ntitle: no\n---\n')).toEqual({ title: null, body: 'text\n---\ntitle: no\n---\n' })
  })

  it('falls back to the first h1 when the front matter has no usable title', async () => {
    const dir = site({ 'p.md': '---\ntitle: |\n  block\n---\n# Real title\n\ntext' })
    expect((await readSite(dir))[0]!.title).toBe('Real title')
  })
})

describe('readSite: HTML', () => {
  it('reads only main content, anchors from ids, <a> inside or before, or the enclosing section', async () => {
    const index = await page(join(fixtures, 'html'), 'index.html')
    expect(index.title).toBe('Home — Example Docs')
    expect(index.sections).toEqual([
      // no banner, nav, scripts, styles, hidden/aria-hidden/ignored parts, form controls or labels
      { anchor: 'welcome', heading: 'Welcome', path: ['Welcome'], text: 'Café & crème <tags> — decoded.\n\nVisible text.' },
      { anchor: 'legacy', heading: 'Legacy anchor', path: ['Welcome', 'Legacy anchor'], text: 'Before-anchor text.' },
      { anchor: 'inner', heading: 'Inner anchor', path: ['Welcome', 'Inner anchor'], text: 'one\ntwo bold' },
      // no anchor of its own: keeps the previous section's, so a link lands just above it
      { anchor: 'inner', heading: 'No anchor at all', path: ['Welcome', 'Inner anchor', 'No anchor at all'], text: 'Lands on inner.' },
      { anchor: 'sphinx-style', heading: 'Section id', path: ['Welcome', 'Section id'], text: '# not a heading\n  indented line' },
      { anchor: 'dup', heading: 'Repeated', path: ['Welcome', 'Repeated'], text: 'First dup.' },
      { anchor: 'dup', heading: 'Repeated', path: ['Welcome', 'Repeated'], text: 'Second dup.' },
      // no aside, no svg text; an image is its alt text
      { anchor: 'table', heading: 'Table', path: ['Welcome', 'Table'], text: 'Name | Value\nk | 10\n\nAn image' },
    ])
  })

  it("keeps an article's own header, drops its footer and the site banner, titles by the first h1", async () => {
    const article = await page(join(fixtures, 'html'), 'docs/article.htm')
    expect(article).toEqual({
      url: 'docs/article.htm',
      title: 'Article title',
      sections: [{ anchor: 'article-title', heading: 'Article title', path: ['Article title'], text: 'By someone\n\nArticle body.' }],
    })
  })

  it('reads a body without headings as one section; divs end lines, paragraphs end blocks', async () => {
    const plain = await page(join(fixtures, 'html'), 'docs/plain.html')
    // the h1 sits in the body-level banner, which is dropped: the title falls back to the file name
    expect(plain).toEqual({
      url: 'docs/plain.html',
      title: 'plain',
      sections: [{ anchor: '', heading: null, path: [], text: 'First line\nSecond line\n\nA paragraph\nwith a break.' }],
    })
  })

  it('prefers main over [role=main] over article over body', async () => {
    const dir = site({
      'main.html': '<article><p>article</p></article><div role="main"><p>role</p></div><main><p>main</p></main>',
      'role.html': '<article><p>article</p></article><div role="main"><p>role</p></div>',
      'article.html': '<p>body</p><article><p>article</p></article>',
      'body.html': '<p>body</p>',
    })
    const texts = (await readSite(dir)).map((p) => [p.url, p.sections.map((s) => s.text).join('|')])
    expect(texts).toEqual([
      ['article.html', 'article'],
      ['body.html', 'body'],
      ['main.html', 'main'],
      ['role.html', 'role'],
    ])
  })

  it('ignores permalink glyphs and takes <span id> labels, <a name> inside headings, nested lists on one line each', async () => {
    const dir = site({
      'p.html': `<main>
        <h2 id="x">Install <code>winnow</code><a class="headerlink" href="#x">¶</a></h2><p>a</p>
        <span id="label"></span>
        <h2>Labelled</h2><p>b</p>
        <h2><a name="named">Named</a></h2>
        <ul><li>one<ul><li>one.a</li></ul></li><li>two</li></ul>
      </main>`,
    })
    const sections = (await readSite(dir))[0]!.sections
    expect(sections.map((s) => [s.anchor, s.heading, s.text])).toEqual([
      ['x', 'Install winnow', 'a'],
      ['label', 'Labelled', 'b'],
      ['named', 'Named', 'one\none.a\ntwo'],
    ])
  })

  it('walks nested folders in path order and mixes markdown and HTML', async () => {
    const pages = await readSite(fixtures, { baseUrl: 'https://example.org/' })
    expect(pages.map((p) => p.url)).toEqual([
      'https://example.org/html/docs/article.htm',
      'https://example.org/html/docs/plain.html',
      'https://example.org/html/index.html',
      'https://example.org/markdown/guide/install.html',
      'https://example.org/markdown/guide/no-headings.html',
      'https://example.org/markdown/index.html',
    ])
  })
})

describe('readSite: the folder walk', () => {
  it('skips dot-files, dot-folders, node_modules and other extensions, and survives symlink loops', async () => {
    const dir = site({
      'a.md': '# A\n\ntext',
      '.draft.md': '# Draft\n\nx',
      '.git/x.html': '<p>x</p>',
      'node_modules/pkg/README.md': '# Pkg\n\nx',
      'notes.txt': 'x',
      'sub/b.HTM': '<p>b</p>',
    })
    symlinkSync(dir, join(dir, 'sub', 'loop'))
    expect((await readSite(dir)).map((p) => p.url)).toEqual(['a.html', 'sub/b.HTM'])
  })

  it('rejects a missing folder, a file, and an unreadable page with INVALID_INPUT', async () => {
    expect((await errorOf(readSite(join(fixtures, 'does-not-exist')))).code).toBe('INVALID_INPUT')
    expect((await errorOf(readSite(join(fixtures, 'markdown/index.md')))).code).toBe('INVALID_INPUT')
    expect((await errorOf(readSite(''))).code).toBe('INVALID_INPUT')
    const dir = site({ 'ok.md': 'x' })
    symlinkSync(join(dir, 'missing-target.md'), join(dir, 'broken.md'))
    const error = await errorOf(readSite(dir))
    expect(error.code).toBe('INVALID_INPUT')
    expect(error.details.path).toBe(join(dir, 'broken.md'))
  })
})

describe('toDocuments', () => {
  it('makes one document per section with url#anchor ids, heading titles and flat metadata', async () => {
    const docs = toDocuments(await readSite(join(fixtures, 'html')))
    expect(docs.map((d) => d.id)).toEqual([
      'docs/article.htm#article-title',
      'docs/plain.html',
      'index.html#welcome',
      'index.html#legacy',
      'index.html#inner',
      'index.html#inner~2',
      'index.html#sphinx-style',
      'index.html#dup',
      'index.html#dup~2',
      'index.html#table',
    ])
    expect(docs[1]).toEqual({
      id: 'docs/plain.html',
      title: 'plain', // no heading: the page title
      text: 'First line\nSecond line\n\nA paragraph\nwith a break.',
      metadata: { url: 'docs/plain.html', anchor: '', page: 'plain', path: [] },
    })
    expect(docs[8]).toMatchObject({ title: 'Repeated', text: 'Second dup.', metadata: { url: 'index.html', anchor: 'dup', page: 'Home — Example Docs' } })
    for (const doc of docs) {
      for (const value of Object.values(doc.metadata!)) {
        const items = Array.isArray(value) ? value : [value]
        for (const item of items) expect(['string', 'number', 'boolean']).toContain(typeof item)
      }
    }
  })

  it('never hands out a suffix that is another section’s real id', () => {
    const section = (anchor: string, text: string) => ({ anchor, heading: anchor, path: [anchor], text })
    const pages: SitePage[] = [{ url: 'p.html', title: 'P', sections: [section('x', '1'), section('x', '2'), section('x~2', '3'), section('x', '4')] }]
    const docs = toDocuments(pages)
    expect(docs.map((d) => [d.id, d.text])).toEqual([
      ['p.html#x', '1'],
      ['p.html#x~3', '2'],
      ['p.html#x~2', '3'],
      ['p.html#x~4', '4'],
    ])
    // same input, same ids
    expect(toDocuments(pages).map((d) => d.id)).toEqual(docs.map((d) => d.id))
  })

  it('keeps ids unique when two files map to one URL', () => {
    const one = { anchor: '', heading: null, path: [], text: 'x' }
    const docs = toDocuments([
      { url: 'a.html', title: 'A (md)', sections: [one] },
      { url: 'a.html', title: 'A (html)', sections: [one] },
    ])
    expect(docs.map((d) => d.id)).toEqual(['a.html', 'a.html~2'])
  })
})

describe('readSiteDocuments (a page at a time)', () => {
  it('yields what toDocuments(readSite()) gives, duplicate ids and their suffixes included (a later page decides them), with the counts before any text', async () => {
    const dir = site({
      'a.md': '# A\n\n## x\n\none\n\n## x\n\ntwo',
      // The real id a.html#x-1 on a later page: the suffix of the second "x" above must avoid it.
      'b.html': '<main><h1>B</h1><p>bee</p></main>',
      'a.html': '<main><h2 id="x-1">X</h2><p>three</p><h2 id="x">X again</h2><p>four</p></main>',
      'sub/c.md': '# C\n\nsee',
    })
    const site2 = await readSiteDocuments(dir, { baseUrl: '/docs/' })
    const want = toDocuments(await readSite(dir, { baseUrl: '/docs/' }))
    expect(want.some((d) => /~\d$/.test(d.id))).toBe(true)
    expect([site2.pages, site2.sections]).toEqual([4, want.length])
    const got = []
    for await (const doc of site2.documents()) got.push(doc)
    expect(got).toEqual(want)
    // Read again: the same documents (a generator per call).
    const again = []
    for await (const doc of site2.documents()) again.push(doc)
    expect(again).toEqual(want)
  })

  it('rejects a missing folder with INVALID_INPUT before reading anything', async () => {
    expect((await errorOf(readSiteDocuments(join(tmpdir(), 'winnow-no-such-site')))).code).toBe('INVALID_INPUT')
  })
})
