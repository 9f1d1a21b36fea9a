/**
 * Where a link to a heading of a built HTML page should point, and the heading's visible text.
 */
import type { Element, ElementContent, Root } from 'hast'
import { isDropped } from './contentRules.js'

/**
 * The anchor of a heading, trying in order:
 * 1. the heading's own `id`;
 * 2. the `id` or `name` of an `<a>` inside it (`<h2><a name="setup"></a>Setup</h2>`);
 * 3. the `id`/`name` of an empty `<a>` or `<span>` right before it (`<a name="setup"></a><h2>`,
 *    Sphinx's `<span id="label"></span>`);
 * 4. the `id` of its parent when the heading is the parent's first element (Sphinx and docutils
 *    put the id on `<section id="setup"><h2>`): the link lands on the heading either way.
 * `null` when none applies; the caller then keeps the previous section's anchor.
 *
 * @example
 * // <section id="install"><h2>Install</h2>...</section>
 * headingAnchor(h2, section, 0) // 'install'
 */
export function headingAnchor(heading: Element, parent: Root | Element, index: number): string | null {
  const own = idOf(heading, false)
  if (own) return own
  const inner = findAnchorInside(heading)
  if (inner) return inner
  const before = previousElement(parent, index)
  if (before && (before.tagName === 'a' || before.tagName === 'span') && visibleText(before) === '') {
    const id = idOf(before, true)
    if (id) return id
  }
  if (parent.type === 'element' && isFirstContent(parent, index)) {
    const id = idOf(parent, false)
    if (id) return id
  }
  return null
}

/**
 * A heading's visible text, whitespace collapsed: images count by their alt text, and permalink
 * decorations (`<a href="#x">¶</a>`, a link to a fragment whose text has no letter or digit, as
 * MkDocs and Sphinx add) are left out.
 *
 * @example
 * // <h2 id="x">Install <code>winnow</code><a class="headerlink" href="#x">¶</a></h2>
 * headingText(h2) // 'Install winnow'
 */
export function headingText(heading: Element): string {
  return collect(heading).replace(/[ \t\n\f\r]+/g, ' ').trim()
}

function collect(node: Element | ElementContent): string {
  if (node.type === 'text') return node.value
  if (node.type !== 'element' || isDropped(node, true)) return ''
  if (node.tagName === 'img') return ` ${String(node.properties.alt ?? '')} `
  if (node.tagName === 'br') return ' '
  const text = node.children.map(collect).join('')
  if (node.tagName === 'a' && String(node.properties.href ?? '').startsWith('#') && !/[\p{L}\p{N}]/u.test(text)) return ''
  return text
}

function visibleText(node: Element | ElementContent): string {
  return collect(node).trim()
}

function idOf(element: Element, orName: boolean): string | null {
  const { id, name } = element.properties
  if (typeof id === 'string' && id !== '') return id
  if (orName && typeof name === 'string' && name !== '') return name
  return null
}

function findAnchorInside(element: Element): string | null {
  for (const child of element.children) {
    if (child.type !== 'element') continue
    if (child.tagName === 'a') {
      const id = idOf(child, true)
      if (id) return id
    }
    const found = findAnchorInside(child)
    if (found) return found
  }
  return null
}

function isFirstContent(parent: Element, index: number): boolean {
  return parent.children.slice(0, index).every((node) => node.type === 'comment' || (node.type === 'text' && node.value.trim() === ''))
}

// The element sibling right before children[index], skipping whitespace-only text and comments.
function previousElement(parent: Root | Element, index: number): Element | undefined {
  for (let i = index - 1; i >= 0; i--) {
    const node = parent.children[i]!
    if (node.type === 'element') return node
    if (node.type === 'text' && node.value.trim() !== '') return undefined
  }
  return undefined
}
