import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renderDocs } from '../../scripts/render-docs.mjs'
import { readSite, type SitePage } from '../../src/cli/sources.ts'

const root = resolve(__dirname, '../..')
const markdown = resolve(__dirname, '../fixtures/site/markdown')
const temps: string[] = []
afterAll(() => temps.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'winnow-render-'))
  temps.push(dir)
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), content)
  }
  return dir
}

const squash = (text: string) => text.replace(/\s+/g, ' ').trim()
/** Pages with whitespace-insensitive texts, for comparing two readings of one site. */
const comparable = (pages: SitePage[]) =>
  pages.map((p) => ({ ...p, sections: p.sections.map((s) => ({ ...s, text: squash(s.text) })) }))

describe('renderDocs', () => {
  let out: string
  let result: Awaited<ReturnType<typeof renderDocs>>
  beforeAll(async () => {
    out = tempDir()
    result = await renderDocs(markdown, out, { searchPage: 'search/index.html' })
  })

  it('renders each markdown page at the same path as .html, plus one stylesheet', () => {
    expect(result.pages).toEqual([
      { file: 'guide/install.html', title: 'Install guide' },
      { file: 'guide/no-headings.html', title: 'no-headings' },
      { file: 'index.html', title: 'Winnow: the docs' },
    ])
    expect(readdirSync(out).sort()).toEqual(['docs.css', 'guide', 'index.html'])
    expect(readdirSync(join(out, 'guide')).sort()).toEqual(['install.html', 'no-headings.html'])
  })

  it('gives readSite the same pages, anchors, paths and texts from the HTML as from the markdown', async () => {
    const fromMarkdown = await readSite(markdown)
    const fromHtml = await readSite(out)
    expect(fromHtml.flatMap((p) => p.sections.map((s) => `${p.url}#${s.anchor}`))).toEqual(
      fromMarkdown.flatMap((p) => p.sections.map((s) => `${p.url}#${s.anchor}`)),
    )
    expect(comparable(fromHtml)).toEqual(comparable(fromMarkdown))
    // Both readings walk the same tree, so they agree to the character, not only modulo whitespace.
    expect(fromHtml).toEqual(fromMarkdown)
    // the fixtures hold every case the comparison is meant to cover
    expect(fromMarkdown.flatMap((p) => p.sections.map((s) => s.anchor))).toEqual(
      expect.arrayContaining(['usage', 'usage-1', 'requirements-1', 'child-', 'footnote-label', 'whats-new-in-v20-beta']),
    )
  })

  it('puts the computed ids on the headings and rewrites .md links, keeping the fragment', () => {
    const index = readFileSync(join(out, 'index.html'), 'utf8')
    expect(index).toContain('<h2 id="usage">Usage</h2>')
    expect(index).toContain('<h2 id="usage-1">Usage</h2>')
    expect(index).toContain('<a href="guide/install.html#requirements">link to the guide</a>')
    const install = readFileSync(join(out, 'guide/install.html'), 'utf8')
    expect(install).toContain('<a href="../index.html">the start</a>')
    expect(install).toContain('<h2 id="whats-new-in-v20-beta">')
  })

  it('escapes raw HTML from the markdown instead of passing it through', () => {
    const index = readFileSync(join(out, 'index.html'), 'utf8')
    expect(index).not.toContain('<kbd>')
    expect(index).not.toContain('<div class="note">')
    expect(index).toContain('&#x3C;kbd>raw&#x3C;/kbd>')
    // block-level raw HTML becomes a paragraph of its own
    expect(index).toContain('<p>&#x3C;div class="note">Block &#x3C;b>HTML&#x3C;/b>&#x3C;/div></p>')
  })

  it('wraps pages in a template: title, viewport, stylesheet, nav by folder, search link, nothing from other origins', () => {
    const install = readFileSync(join(out, 'guide/install.html'), 'utf8')
    expect(install).toContain('<title>Install guide</title>')
    expect(install).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">')
    expect(install).toContain('<link rel="stylesheet" href="../docs.css">')
    expect(install).toContain('<a href="../search/index.html">Search the docs</a>')
    const nav = /<nav aria-label="Documentation">([\s\S]*)<\/nav>/.exec(install)?.[1] ?? ''
    expect([...nav.matchAll(/<a href="([^"]+)"[^>]*>([^<]+)<\/a>/g)].map((m) => [m[1], m[2]])).toEqual([
      ['../search/index.html', 'Search the docs'],
      ['../index.html', 'Winnow: the docs'],
      ['install.html', 'Install guide'],
      ['no-headings.html', 'no-headings'],
    ])
    expect(nav).toContain('<span>guide</span>')
    expect(nav).toContain('<a href="install.html" aria-current="page">')
    // top-level pages link without ../
    const index = readFileSync(join(out, 'index.html'), 'utf8')
    expect(index).toContain('<a href="search/index.html">Search the docs</a>')
    expect(index).toContain('<link rel="stylesheet" href="docs.css">')
    // the template and stylesheet load nothing from elsewhere (content links are not loads)
    const css = readFileSync(join(out, 'docs.css'), 'utf8')
    expect(css).not.toMatch(/url\(|@import|https?:/)
    const head = /<head>([\s\S]*)<\/head>/.exec(index)![1]!
    expect(head).not.toMatch(/https?:|\/\/|<script/)
    expect(head).toContain("default-src 'none'")
  })

  it('drops javascript: URLs, escapes titles and leaves out the search link when none is given', async () => {
    const src = tempDir({
      'x.md': '---\ntitle: "<b>Bold</b> & co"\n---\n[bad](javascript:alert(1)) [ok](https://example.org/a.md) ![img](javascript:x)\n\n<script>alert(1)</script>\n',
    })
    const dest = tempDir()
    await renderDocs(src, dest)
    const html = readFileSync(join(dest, 'x.html'), 'utf8')
    expect(html).toContain('<title>&#60;b&#62;Bold&#60;/b&#62; &#38; co</title>')
    expect(html).not.toContain('javascript:')
    expect(html).toContain('<a>bad</a>')
    expect(html).toContain('<a href="https://example.org/a.md">ok</a>') // not relative: not rewritten
    expect(html).not.toContain('<script>')
    expect(html).not.toContain('Search the docs')
  })

  it('reports links to missing pages or anchors, and rewrites only links to pages of the site', async () => {
    const src = tempDir({
      'a.md': '# A\n\n[ok](sub/b.md#deep) [self](#a) [gone](missing.md) [no anchor](sub/b.md#nope) [outside](../README.md) [bad self](#zzz)\n',
      'sub/b.md': '# B\n\n## Deep\n\n[up](../a.md?x=1#a)\n',
    })
    const dest = tempDir()
    const { brokenLinks } = await renderDocs(src, dest)
    expect(brokenLinks).toEqual([
      { page: 'a.html', href: 'missing.md' },
      { page: 'a.html', href: 'sub/b.md#nope' },
      { page: 'a.html', href: '../README.md' },
      { page: 'a.html', href: '#zzz' },
    ])
    const a = readFileSync(join(dest, 'a.html'), 'utf8')
    expect(a).toContain('<a href="sub/b.html#deep">ok</a>')
    expect(a).toContain('<a href="missing.md">gone</a>')
    expect(a).toContain('<a href="../README.md">outside</a>')
    expect(readFileSync(join(dest, 'sub/b.html'), 'utf8')).toContain('<a href="../a.html?x=1#a">up</a>')
  })

  it('works from the command line', () => {
    const dest = tempDir()
    const stdout = execFileSync(process.execPath, ['scripts/render-docs.mjs', markdown, dest, '--search-page', 'find.html'], { cwd: root, encoding: 'utf8' })
    expect(stdout).toContain('rendered 3 pages')
    expect(readFileSync(join(dest, 'guide/no-headings.html'), 'utf8')).toContain('<a href="../find.html">Search the docs</a>')
    const usage = spawnSync(process.execPath, ['scripts/render-docs.mjs', markdown], { cwd: root, encoding: 'utf8' })
    expect(usage.status).toBe(2)
    expect(usage.stderr).toContain('usage:')
    expect(existsSync(join(dest, 'docs.css'))).toBe(true)
  })
})
