/**
 * Markdown → an HTML tree (hast), the one form both readers work on: markdown pages are read from
 * this tree exactly as built HTML pages are, and scripts/render-docs.mjs renders the same tree, so
 * the anchors and texts of a markdown page and of its rendered HTML agree by construction.
 *
 * The steps: split off front matter; parse CommonMark + GFM (tables, task lists, strikethrough,
 * autolinks, footnotes) with micromark; turn raw HTML into literal text (never markup: safe by
 * default, and what the renderer shows) and drop HTML comments; convert to hast; give every heading a GitHub-style id
 * (one slugger per page, so a repeated heading becomes `x-1`, `x-2`).
 */
import GithubSlugger from 'github-slugger'
import type { Element, Root as HastRoot, RootContent as HastContent } from 'hast'
import type { Nodes as MdastNodes, Root as MdastRoot } from 'mdast'
import { fromMarkdown } from 'mdast-util-from-markdown'
import { gfmFromMarkdown } from 'mdast-util-gfm'
import { toHast } from 'mdast-util-to-hast'
import { gfm } from 'micromark-extension-gfm'
import { splitFrontMatter } from './frontMatter.js'

/** A parsed markdown page. */
export interface MarkdownTree {
  /** The page as hast; headings carry their `id`. */
  tree: HastRoot
  /** The front matter's `title`, or `null`. */
  frontMatterTitle: string | null
}

const HEADING = /^h[1-6]$/
// mdast parents whose children are blocks: raw HTML there becomes a paragraph, elsewhere inline text.
const FLOW_PARENTS = new Set(['root', 'blockquote', 'listItem', 'footnoteDefinition'])
// HTML comments (notes to editors, linter directives) are neither shown nor indexed.
const ONLY_COMMENTS = /^\s*(?:<!--(?:(?!-->)[\s\S])*-->\s*)+$/

/**
 * Parses a markdown source into hast with heading ids.
 *
 * @example
 * const { tree, frontMatterTitle } = markdownToTree('---\ntitle: Guide\n---\n# Intro\n## Intro\n')
 * frontMatterTitle // 'Guide'
 * // the headings in tree carry ids 'intro' and 'intro-1'
 */
export function markdownToTree(source: string): MarkdownTree {
  const { title, body } = splitFrontMatter(source)
  const mdast = fromMarkdown(body, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] })
  rawHtmlToText(mdast)
  const tree = toHast(mdast) as HastRoot
  addHeadingIds(tree)
  return { tree, frontMatterTitle: title }
}

/**
 * The text a heading's slug is made from: its text nodes only, as GitHub (and rehype-slug) do, so
 * an image's alt text is not part of the anchor.
 *
 * @example
 * slugText({ type: 'element', tagName: 'h2', properties: {}, children: [{ type: 'text', value: 'Use ' },
 *   { type: 'element', tagName: 'code', properties: {}, children: [{ type: 'text', value: 'add()' }] }] })
 * // 'Use add()'
 */
export function slugText(node: Element | HastContent): string {
  if (node.type === 'text') return node.value
  if (node.type !== 'element') return ''
  return node.children.map(slugText).join('')
}

function rawHtmlToText(node: MdastNodes): void {
  if (!('children' in node)) return
  const flow = FLOW_PARENTS.has(node.type)
  node.children = node.children
    .filter((child) => !(child.type === 'html' && ONLY_COMMENTS.test(child.value)))
    .map((child) => {
      if (child.type !== 'html') return child
      const text = { type: 'text' as const, value: child.value, position: child.position }
      return flow ? { type: 'paragraph' as const, children: [text], position: child.position } : text
    }) as typeof node.children
  for (const child of node.children) rawHtmlToText(child)
}

function addHeadingIds(tree: HastRoot): void {
  const slugger = new GithubSlugger()
  const visit = (node: HastRoot | HastContent): void => {
    if (node.type === 'element' && HEADING.test(node.tagName)) {
      const existing = node.properties.id
      if (typeof existing === 'string' && existing !== '') return
      const id = slugger.slug(slugText(node))
      if (id !== '') node.properties.id = id
      return
    }
    if ('children' in node) for (const child of node.children) visit(child)
  }
  visit(tree)
}
