/**
 * {@link highlight} as DOM nodes instead of an HTML string: text nodes and `<mark>` elements, built
 * with `createTextNode` and `createElement`. Nothing is parsed, so it needs no escaping, and it
 * works where a page requires Trusted Types (`require-trusted-types-for 'script'`), where assigning
 * a string to `innerHTML` throws. The ranges are repaired exactly as `highlight()` repairs them.
 */
import { WinnowError } from '../errors.js'
import type { Snippet } from '../types.js'
import { repairRanges, type HighlightOptions } from './highlight.js'

/** The part of `Document` that {@link highlightNodes} uses. */
export interface NodeFactory {
  createDocumentFragment(): DocumentFragment
  createTextNode(data: string): Text
  createElement(tagName: 'mark'): HTMLElement
}

/** Options of {@link highlightNodes}: those of `highlight()`, and the document to build in. */
export interface HighlightNodesOptions extends HighlightOptions {
  /** The document that owns the nodes. Default: the global `document`. */
  document?: NodeFactory
}

/**
 * Renders a snippet as a `DocumentFragment`: its text in text nodes, each highlight in a `<mark>`
 * (with `className` when given). Put it in the page with `element.replaceChildren(fragment)` or
 * `append`. The element then holds the same nodes as after `element.innerHTML = highlight(snippet)`:
 * exactly `snippet.text`, except that a NUL shows as U+FFFD, as there.
 *
 * @throws {WinnowError} `INVALID_INPUT` when `snippet` is not an object with a string `text`.
 * @example
 * li.replaceChildren(highlightNodes(hit.snippet))
 * // <li>Pipes <mark>leak</mark></li>, under Trusted Types too
 * highlightNodes({ text: 'Pipes leak', highlights: [[6, 10]] }, { className: 'hit' }).childNodes.length // 2
 */
export function highlightNodes(snippet: Snippet, options: HighlightNodesOptions = {}): DocumentFragment {
  if (typeof snippet !== 'object' || snippet === null || typeof snippet.text !== 'string') {
    throw new WinnowError('INVALID_INPUT', 'highlightNodes() takes a snippet: an object with a string `text` and `highlights`', {
      received: snippet === null ? 'null' : typeof snippet,
    })
  }
  const doc = options.document ?? (globalThis as { document?: NodeFactory }).document
  if (!doc) throw new WinnowError('INVALID_INPUT', 'highlightNodes() needs a document: pass options.document outside a page')
  // NUL as U+FFFD, as highlight() writes it: no HTML renders NUL, and the two must show the same.
  const text = snippet.text.replace(/\0/g, '\uFFFD')
  const className = typeof options.className === 'string' && options.className !== '' ? options.className : null
  const fragment = doc.createDocumentFragment()
  let at = 0
  for (const [start, end] of repairRanges(text, snippet.highlights)) {
    if (start > at) fragment.appendChild(doc.createTextNode(text.slice(at, start)))
    const mark = doc.createElement('mark')
    if (className !== null) mark.className = className
    mark.appendChild(doc.createTextNode(text.slice(start, end)))
    fragment.appendChild(mark)
    at = end
  }
  if (at < text.length) fragment.appendChild(doc.createTextNode(text.slice(at)))
  return fragment
}
