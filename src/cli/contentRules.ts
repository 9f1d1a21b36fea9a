/**
 * Which part of an HTML page is its content: the root to read, the elements to leave out, and how
 * elements lay out as text (paragraph blocks, line blocks, inline).
 */
import type { Element, Root } from 'hast'

/** Never content: chrome, code, embedded objects, form controls and their labels. */
const DROPPED = new Set([
  'head', 'nav', 'aside', 'footer', 'script', 'style', 'noscript', 'template', 'svg', 'math',
  'iframe', 'object', 'embed', 'canvas', 'audio', 'video', 'map',
  'input', 'button', 'select', 'textarea', 'datalist', 'output', 'meter', 'progress', 'label',
])
/** Elements that scope a `header`: inside them a header is the section's own, not the site banner. */
const SECTIONING = new Set(['main', 'article', 'section'])
const HEADING = /^h[1-6]$/

/** Blocks set off by blank lines. */
export const PARAGRAPH_BLOCKS = new Set([
  'p', 'blockquote', 'table', 'figure', 'section', 'article', 'main', 'header', 'details', 'address',
  'fieldset', 'hgroup', 'center',
])
/** Blocks that end a line. */
export const LINE_BLOCKS = new Set(['div', 'tr', 'caption', 'figcaption', 'summary', 'legend', 'dt', 'dd', 'li', 'form'])
/** Lists: a blank line around a top-level list, a line break around a nested one. */
export const LISTS = new Set(['ul', 'ol', 'dl', 'menu'])

/**
 * Whether `tag` is a heading (h1–h6).
 *
 * @example
 * isHeading('h3') // true
 * isHeading('header') // false
 */
export function isHeading(tag: string): boolean {
  return HEADING.test(tag)
}

/**
 * Whether `tag` opens a sectioning element that scopes a `<header>` (see {@link isDropped}).
 *
 * @example
 * isSectioning('article') // true
 */
export function isSectioning(tag: string): boolean {
  return SECTIONING.has(tag)
}

/**
 * The element whose content is the page's: the first `main`, else the first `[role=main]`, else
 * the first `article`, else `body`, else the whole tree (a markdown page's tree has no body).
 *
 * @example
 * contentRoot(fromHtml('<body><nav>x</nav><main><h1>Hi</h1></main></body>')) // the <main> element
 */
export function contentRoot(tree: Root): Root | Element {
  return (
    findFirst(tree, (e) => e.tagName === 'main') ??
    findFirst(tree, (e) => e.properties.role === 'main') ??
    findFirst(tree, (e) => e.tagName === 'article') ??
    findFirst(tree, (e) => e.tagName === 'body') ??
    tree
  )
}

/**
 * Whether an element and everything in it are left out of the text: the tags in the drop list,
 * anything `hidden`, `aria-hidden="true"` or marked `data-winnow-ignore`, and a `header` unless
 * it holds a heading inside `main`/`article`/`section` (the page's own title block, as
 * Docusaurus and many blog themes write `<article><header><h1>`), which is kept.
 *
 * @example
 * // h() is hastscript's element builder
 * isDropped(h('nav'), false)                  // true
 * isDropped(h('header', [h('h1', 'T')]), true) // false: an article's own header
 * isDropped(h('header', [h('h1', 'T')]), false) // true: the site banner
 */
export function isDropped(element: Element, insideSectioning: boolean): boolean {
  const tag = element.tagName
  if (DROPPED.has(tag)) return true
  const props = element.properties
  if (props.hidden === true || props.hidden === '' || props.hidden === 'hidden') return true
  if (String(props.ariaHidden).toLowerCase() === 'true') return true
  if (isSet(props.dataWinnowIgnore)) return true
  // GFM footnote markers ("1", "↩") are navigation, not words; the footnotes themselves stay.
  if (tag === 'a' && (isSet(props.dataFootnoteRef) || isSet(props.dataFootnoteBackref))) return true
  if (tag === 'header') return !(insideSectioning && findFirst(element, (e) => isHeading(e.tagName)) !== undefined)
  return false
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false
}

/**
 * The first element in document order, below `root`, that matches.
 *
 * @example
 * findFirst(tree, (e) => e.tagName === 'title')
 */
export function findFirst(root: Root | Element, match: (element: Element) => boolean): Element | undefined {
  for (const child of root.children) {
    if (child.type !== 'element') continue
    if (match(child)) return child
    const found = findFirst(child, match)
    if (found) return found
  }
  return undefined
}
