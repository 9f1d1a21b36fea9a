/// <reference types="node" />
/**
 * A folder of docs (markdown sources and/or built HTML) → pages of sections, for the build-time
 * indexer (`npx winnow-rerank index <dir>`). Node only. Markdown and HTML pages are both read as HTML
 * trees by one set of rules (treeSections.ts), so a markdown page and its rendered HTML (see
 * scripts/render-docs.mjs) give the same sections with the same anchors.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises'
import { basename, extname, join } from 'node:path'
import { fromHtml } from 'hast-util-from-html'
import { WinnowError } from '../errors.js'
import { findFirst } from './contentRules.js'
import { headingText } from './headingAnchor.js'
import { markdownToTree } from './markdownTree.js'
import type { DocumentInput } from '../types.js'
import { addSectionIds, pageDocuments } from './siteDocuments.js'
import type { SitePage } from './siteTypes.js'
import { sectionsFromTree } from './treeSections.js'

export type { SitePage, SiteSection } from './siteTypes.js'
export { toDocuments } from './siteDocuments.js'

/** Options of {@link readSite}. */
export interface ReadSiteOptions {
  /** Prefix of every page URL, e.g. `'/docs/'` or `'https://example.org/docs/'`. Default `''` (URLs relative to the site folder). */
  baseUrl?: string
  /** Keep `.md`/`.markdown` in markdown pages' URLs instead of `.html`. Default `false`. */
  keepMarkdownExtension?: boolean
}

const MARKDOWN = /\.(md|markdown)$/i
const HTML = /\.html?$/i

/**
 * Reads every `.md`, `.markdown`, `.html` and `.htm` file under `dir` (recursively, in sorted
 * path order; dot-files, dot-folders and `node_modules` are skipped) and splits each into sections.
 *
 * Markdown: front matter is skipped (its `title` names the page); headings get GitHub-style ids.
 * HTML: only the main content is read (the first `main`, `[role=main]`, `article`, else `body`),
 * without nav, aside, footer, the site header, scripts, styles, form controls and anything
 * `hidden`, `aria-hidden="true"` or `data-winnow-ignore`.
 *
 * @throws WinnowError `INVALID_INPUT` when `dir` is missing or not a folder, or a file cannot be read.
 * @example
 * const pages = await readSite('docs', { baseUrl: '/docs/' })
 * pages[0] // { url: '/docs/guide/install.html', title: 'Install', sections: [{ anchor: 'requirements', heading: 'Requirements', path: ['Install', 'Requirements'], text: '...' }] }
 */
export async function readSite(dir: string, options: ReadSiteOptions = {}): Promise<SitePage[]> {
  await assertFolder(dir)
  const pages: SitePage[] = []
  for (const file of await listPages(dir)) pages.push(await readPage(dir, file, options))
  return pages
}

/**
 * {@link readSite} → `toDocuments`, a page at a time, for a site too large to hold: a first pass
 * reads every page for its section ids and counts (duplicate ids get the suffixes `toDocuments`
 * gives them, which depend on later pages), then `documents()` reads them again, yielding each
 * page's sections as it goes. Memory: one page and the ids.
 *
 * @throws WinnowError `INVALID_INPUT` as {@link readSite}.
 * @example
 * const site = await readSiteDocuments('docs', { baseUrl: '/docs/' })
 * await buildSnapshot(site.documents(), { embedder: null })
 */
export async function readSiteDocuments(dir: string, options: ReadSiteOptions = {}): Promise<{ pages: number; sections: number; documents: () => AsyncGenerator<DocumentInput> }> {
  await assertFolder(dir)
  const files = await listPages(dir)
  const taken = new Set<string>()
  let sections = 0
  for (const file of files) {
    const page = await readPage(dir, file, options)
    addSectionIds(page, taken)
    sections += page.sections.length
  }
  return {
    pages: files.length,
    sections,
    documents: async function* () {
      const used = new Set<string>()
      for (const file of files) yield* pageDocuments(await readPage(dir, file, options), taken, used)
    },
  }
}

async function readPage(dir: string, file: string, options: ReadSiteOptions): Promise<SitePage> {
  const { baseUrl = '', keepMarkdownExtension = false } = options
  const source = await readText(join(dir, ...file.split('/')))
  const url = baseUrl + encodePath(keepMarkdownExtension || !MARKDOWN.test(file) ? file : file.replace(MARKDOWN, '.html'))
  const fallbackTitle = basename(file, extname(file))
  return { url, ...(MARKDOWN.test(file) ? markdownPage(source, fallbackTitle) : htmlPage(source, fallbackTitle)) }
}

function markdownPage(source: string, fallbackTitle: string): Omit<SitePage, 'url'> {
  const { tree, frontMatterTitle } = markdownToTree(source)
  const { sections, firstH1 } = sectionsFromTree(tree)
  return { title: frontMatterTitle ?? firstH1 ?? fallbackTitle, sections }
}

function htmlPage(source: string, fallbackTitle: string): Omit<SitePage, 'url'> {
  const tree = fromHtml(source)
  const { sections, firstH1 } = sectionsFromTree(tree)
  // An SVG's <title> names the drawing, not the page: stop at the first <svg>.
  const titleElement = findFirst(tree, (e) => e.tagName === 'title' || e.tagName === 'svg')
  const title = titleElement?.tagName === 'title' ? headingText(titleElement) : ''
  return { title: title || firstH1 || fallbackTitle, sections }
}

async function assertFolder(dir: string): Promise<void> {
  if (typeof dir !== 'string' || dir === '') {
    throw new WinnowError('INVALID_INPUT', 'readSite needs the path of a folder of .md or .html files.', { dir })
  }
  const info = await stat(dir).catch((cause: unknown) => {
    throw new WinnowError('INVALID_INPUT', `Cannot read the site folder ${dir}: it does not exist or is not accessible. Pass the folder that holds your .md or .html pages.`, { dir }, { cause })
  })
  if (!info.isDirectory()) {
    throw new WinnowError('INVALID_INPUT', `${dir} is a file, not a folder. Pass the folder that holds your .md or .html pages.`, { dir })
  }
}

/** Page files under `dir`, as sorted '/'-separated relative paths. Symlinks are followed; a folder is read once. */
async function listPages(dir: string): Promise<string[]> {
  const found: string[] = []
  const seen = new Set<string>()
  const visit = async (absolute: string, relative: string): Promise<void> => {
    const real = await realpath(absolute)
    if (seen.has(real)) return // a symlink loop, or a folder linked twice
    seen.add(real)
    const entries = await readdir(absolute, { withFileTypes: true }).catch((cause: unknown) => {
      throw new WinnowError('INVALID_INPUT', `Cannot list ${absolute}: check its permissions, or move it out of the site folder.`, { path: absolute }, { cause })
    })
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue
      const path = join(absolute, entry.name)
      const rel = relative ? `${relative}/${entry.name}` : entry.name
      const isDir = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(path).then((s) => s.isDirectory(), () => false)))
      if (isDir) await visit(path, rel)
      else if (MARKDOWN.test(entry.name) || HTML.test(entry.name)) found.push(rel)
    }
  }
  await visit(dir, '')
  // Code-unit order, not the locale's: the same on every machine.
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (cause) {
    throw new WinnowError('INVALID_INPUT', `Cannot read ${path}: check its permissions, or move it out of the site folder.`, { path }, { cause })
  }
}

// Characters that would end or break the path part of a URL; everything else (including
// non-ASCII letters) stays readable.
function encodePath(path: string): string {
  return path.replace(/[%#?\s"<>\\^`{|}]/g, (c) => encodeURIComponent(c))
}
