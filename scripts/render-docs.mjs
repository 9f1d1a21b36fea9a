#!/usr/bin/env node
// Renders a folder of markdown docs into standalone HTML pages:
//   node scripts/render-docs.mjs docs out/docs [--search-page ../demo/docs-search/]
//
// The markdown → HTML tree step is the very one `readSite` uses (dist/cli/markdownTree.js: same
// parser, same GFM extensions, raw HTML as literal text, GitHub-style heading ids from one slugger
// per page), so the anchors and section texts the indexer reads from the markdown are the ones
// these pages have. Needs dist/ (npm run build:lib); test/unit/renderDocs.test.ts checks the two agree.
//
// Safe by default: raw HTML in markdown is shown as text, never passed through (HTML comments are
// dropped); links and images with a scheme other than http(s)/mailto/tel (javascript:, data:
// links) lose their URL; and a Content-Security-Policy lets a page load nothing but its own
// origin's stylesheet and images.
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { dirname, join, posix } from 'node:path'
import { pathToFileURL } from 'node:url'
import { toHtml } from 'hast-util-to-html'
import { findFirst } from '../dist/cli/contentRules.js'
import { headingText } from '../dist/cli/headingAnchor.js'
import { markdownToTree } from '../dist/cli/markdownTree.js'

const MARKDOWN = /\.(md|markdown)$/i
const STYLESHEET = 'docs.css'

/**
 * Renders every markdown file under `srcDir` to `outDir` (same relative path, `.md` → `.html`),
 * plus `docs.css` once.
 *
 * @param {string} srcDir folder of `.md`/`.markdown` files (dot-files and node_modules skipped)
 * @param {string} outDir where the pages go (created if needed)
 * @param {{ searchPage?: string }} [options] `searchPage`: URL of the search page, relative to
 *   `outDir` (each page gets the right `../`), or absolute; no "Search the docs" link without it.
 * @returns {Promise<{ pages: { file: string, title: string }[], brokenLinks: { page: string, href: string }[] }>}
 *   the pages written (`file` relative to `outDir`), and the links (as written in the markdown) to
 *   a markdown page of the site that does not exist or to an anchor its target does not have
 * @example
 * await renderDocs('docs', 'dist-docs', { searchPage: '../demo/docs-search/' })
 */
export async function renderDocs(srcDir, outDir, options = {}) {
  const info = await stat(srcDir).catch(() => null)
  if (!info?.isDirectory()) throw new Error(`${srcDir} is not a folder: pass the folder that holds the markdown docs.`)
  const files = await listMarkdown(srcDir)
  const pages = []
  for (const source of files) {
    const { tree, frontMatterTitle } = markdownToTree(await readFile(join(srcDir, source), 'utf8'))
    const firstH1 = findFirst(tree, (e) => e.tagName === 'h1' && headingText(e) !== '')
    const title = frontMatterTitle ?? (firstH1 ? headingText(firstH1) : posix.basename(source).replace(MARKDOWN, ''))
    pages.push({ source, file: source.replace(MARKDOWN, '.html'), title, tree, ids: idsOf(tree) })
  }
  const bySource = new Map(pages.map((page) => [page.source, page]))
  const brokenLinks = []
  for (const page of pages) brokenLinks.push(...rewriteUrls(page, bySource))
  for (const page of pages) {
    const html = pageHtml(page, pages, options.searchPage)
    const target = join(outDir, ...page.file.split('/'))
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, html)
  }
  await mkdir(outDir, { recursive: true })
  await writeFile(join(outDir, STYLESHEET), CSS)
  return { pages: pages.map(({ file, title }) => ({ file, title })), brokenLinks }
}

// ---- pages ----


/**
 * Points relative links to markdown pages of the site at the rendered pages (keeping ?query and
 * #fragment) and drops unsafe URLs. Returns the links to a page or fragment of the site that
 * does not exist, for the caller to report.
 */
function rewriteUrls(page, bySource) {
  const broken = []
  const visit = (node) => {
    if (node.type === 'element') {
      const props = node.properties
      if (typeof props.href === 'string') {
        if (!isSafeUrl(props.href, false)) delete props.href
        else if (isRelative(props.href)) props.href = rewriteHref(props.href, page, bySource, broken)
      }
      if (typeof props.src === 'string' && !isSafeUrl(props.src, true)) delete props.src
    }
    if ('children' in node) for (const child of node.children) visit(child)
  }
  visit(page.tree)
  return broken
}

function rewriteHref(href, page, bySource, broken) {
  const [, path = '', suffix = ''] = /^([^?#]*)(.*)$/s.exec(href) ?? []
  const fragment = suffix.includes('#') ? decodeFragment(suffix.slice(suffix.indexOf('#') + 1)) : ''
  if (path === '') {
    if (fragment && !page.ids.has(fragment)) broken.push({ page: page.file, href })
    return href
  }
  if (!MARKDOWN.test(path) || path.startsWith('/')) return href
  const target = bySource.get(posix.normalize(posix.join(posix.dirname(page.source), decodePath(path))))
  if (!target) {
    broken.push({ page: page.file, href })
    return href
  }
  if (fragment && !target.ids.has(fragment)) broken.push({ page: page.file, href })
  return path.replace(MARKDOWN, '.html') + suffix
}

function decodeFragment(fragment) {
  try {
    return decodeURIComponent(fragment)
  } catch {
    return fragment
  }
}

function decodePath(path) {
  try {
    return decodeURI(path)
  } catch {
    return path
  }
}

function idsOf(tree) {
  const ids = new Set()
  const visit = (node) => {
    if (node.type === 'element' && typeof node.properties.id === 'string') ids.add(node.properties.id)
    if ('children' in node) for (const child of node.children) visit(child)
  }
  visit(tree)
  return ids
}

function isSafeUrl(url, image) {
  const scheme = /^\s*([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase()
  if (scheme === undefined) return true
  if (image) return scheme === 'http' || scheme === 'https' || /^\s*data:image\/(png|gif|jpeg|webp);/i.test(url)
  return ['http', 'https', 'mailto', 'tel'].includes(scheme)
}

function isRelative(url) {
  return !/^[a-z][a-z0-9+.-]*:/i.test(url) && !url.startsWith('//')
}

function pageHtml(page, pages, searchPage) {
  const up = '../'.repeat(page.file.split('/').length - 1)
  const search = searchPage === undefined ? '' : `<p class="search"><a href="${escapeHtml(resolveFromRoot(searchPage, up))}">Search the docs</a></p>\n`
  // The nav comes after <main> in the document (CSS shows it first), so keyboard and screen
  // reader users reach the content without a skip link.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'">
<title>${escapeHtml(page.title)}</title>
<link rel="stylesheet" href="${escapeHtml(up + STYLESHEET)}">
</head>
<body>
<main>
${toHtml(page.tree)}
</main>
<nav aria-label="Documentation">
${search}${navList(page, pages)}
</nav>
</body>
</html>
`
}

function resolveFromRoot(url, up) {
  return /^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('/') || url.startsWith('#') ? url : up + url
}

/** Links to every page, grouped by folder: top-level pages first, then folders in path order. */
function navList(current, pages) {
  const groups = new Map()
  for (const page of [...pages].sort(byFolderThenIndex)) {
    const folder = posix.dirname(page.file)
    if (!groups.has(folder)) groups.set(folder, [])
    groups.get(folder).push(page)
  }
  const from = posix.dirname(current.file)
  const link = (page) => {
    const href = posix.relative(from, page.file)
    const here = page === current ? ' aria-current="page"' : ''
    return `<li><a href="${escapeHtml(href)}"${here}>${escapeHtml(page.title)}</a></li>`
  }
  const items = [...groups].map(([folder, list]) =>
    folder === '.'
      ? list.map(link).join('\n')
      : `<li class="group"><span>${escapeHtml(folder)}</span>\n<ul>\n${list.map(link).join('\n')}\n</ul></li>`,
  )
  return `<ul>\n${items.join('\n')}\n</ul>`
}

function byFolderThenIndex(a, b) {
  const key = (page) => {
    const folder = posix.dirname(page.file)
    const index = /^index\.html$/i.test(posix.basename(page.file)) ? '0' : '1'
    return [folder === '.' ? '' : `/${folder}`, index, page.file]
  }
  const [ka, kb] = [key(a), key(b)]
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1
  return 0
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

async function listMarkdown(dir, prefix = '') {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true })
  const found = []
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name
    if (entry.isDirectory()) found.push(...(await listMarkdown(dir, rel)))
    else if (MARKDOWN.test(entry.name)) found.push(rel)
  }
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

const CSS = `/* winnow docs: plain and readable; system fonts only, nothing loaded from elsewhere. */
:root { color-scheme: light dark; --fg: #1d1d1f; --bg: #fff; --muted: #5f6368; --line: #d9d9de; --code: #f4f4f6; --link: #0b57d0; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8e8ea; --bg: #16161a; --muted: #a0a0a8; --line: #34343c; --code: #222228; --link: #8ab4f8; }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; color: var(--fg); background: var(--bg);
  font: 1rem/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  display: grid; grid-template-columns: minmax(12rem, 16rem) minmax(0, 48rem); gap: 2.5rem;
  justify-content: center; padding: 2rem 1.25rem;
}
nav { grid-column: 1; grid-row: 1; font-size: 0.95rem; position: sticky; top: 1rem; align-self: start; max-height: calc(100vh - 2rem); overflow: auto; }
main { grid-column: 2; grid-row: 1; min-width: 0; }
@media (max-width: 52rem) {
  body { display: block; }
  nav { position: static; max-height: none; border-top: 1px solid var(--line); margin-top: 3rem; padding-top: 1rem; }
}
nav ul { list-style: none; margin: 0; padding: 0; }
nav li { margin: 0.2rem 0; }
nav .group { margin-top: 1rem; }
nav .group > span { display: block; color: var(--muted); font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.05em; }
nav a[aria-current="page"] { font-weight: 600; color: var(--fg); }
nav .search { margin: 0 0 1rem; }
a { color: var(--link); }
h1, h2, h3, h4, h5, h6 { line-height: 1.25; margin: 2rem 0 0.75rem; scroll-margin-top: 1rem; }
h1 { font-size: 2rem; margin-top: 0; }
h2 { font-size: 1.5rem; padding-bottom: 0.25rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.2rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.9em; }
code { background: var(--code); padding: 0.1em 0.3em; border-radius: 4px; }
pre { background: var(--code); padding: 0.9rem 1rem; border-radius: 6px; overflow-x: auto; line-height: 1.45; }
pre code { background: none; padding: 0; }
blockquote { margin: 1rem 0; padding: 0 1rem; color: var(--muted); border-left: 4px solid var(--line); }
table { border-collapse: collapse; display: block; overflow-x: auto; margin: 1rem 0; }
th, td { border: 1px solid var(--line); padding: 0.35rem 0.7rem; text-align: left; vertical-align: top; }
th { background: var(--code); }
img { max-width: 100%; height: auto; }
hr { border: 0; border-top: 1px solid var(--line); margin: 2rem 0; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`

// CLI: node scripts/render-docs.mjs <srcDir> <outDir> [--search-page <url>]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  const flag = args.indexOf('--search-page')
  const searchPage = flag >= 0 ? args[flag + 1] : undefined
  const [srcDir, outDir] = args.filter((_, i) => flag < 0 || (i !== flag && i !== flag + 1))
  if (!srcDir || !outDir || (flag >= 0 && !searchPage)) {
    console.error('usage: node scripts/render-docs.mjs <markdown folder> <output folder> [--search-page <url relative to the output folder>]')
    process.exit(2)
  }
  const { pages, brokenLinks } = await renderDocs(srcDir, outDir, searchPage === undefined ? {} : { searchPage })
  for (const { page, href } of brokenLinks) console.warn(`warning: ${page} links to ${href}, which is not a page or anchor of ${srcDir}`)
  console.log(`rendered ${pages.length} pages into ${outDir}`)
}
