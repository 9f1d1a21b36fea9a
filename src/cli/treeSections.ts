/**
 * An HTML tree (hast) → sections of plain text, one per heading. Built HTML pages and markdown
 * pages (see markdownTree.ts) both go through here, so one set of rules decides what a section and
 * its text are.
 */
import type { Element, ElementContent, Root, RootContent } from 'hast'
import { contentRoot, isDropped, isHeading, isSectioning, LINE_BLOCKS, LISTS, PARAGRAPH_BLOCKS } from './contentRules.js'
import { headingAnchor, headingText } from './headingAnchor.js'
import { type BreakSize, PlainText } from './plainText.js'
import type { SiteSection } from './siteTypes.js'

/** What {@link sectionsFromTree} finds in a page. */
export interface TreeSections {
  /** Sections with text, in document order. */
  sections: SiteSection[]
  /** The text of the first h1 in the content (a title candidate), or `null`. */
  firstH1: string | null
}

interface Context {
  /** Inside main/article/section (or [role=main]): a `<header>` here is content. */
  sectioning: boolean
  /** Inside a list item: a nested list is not set off by blank lines. */
  inListItem: boolean
}

interface OpenSection {
  anchor: string
  heading: string | null
  path: string[]
  out: PlainText
}

/**
 * Splits the content of a page (see {@link contentRoot}) into sections at every h1–h6.
 *
 * @example
 * const { sections } = sectionsFromTree(fromHtml('<main><p>Intro</p><h2 id="a">A</h2><p>x &amp; y</p></main>'))
 * // [{ anchor: '', heading: null, path: [], text: 'Intro' },
 * //  { anchor: 'a', heading: 'A', path: ['A'], text: 'x & y' }]
 */
export function sectionsFromTree(tree: Root): TreeSections {
  const root = contentRoot(tree)
  const walker = new SectionWalker()
  const sectioning = root.type === 'root' || root.tagName !== 'body'
  walker.children(root, { sectioning, inListItem: false })
  return walker.finish()
}

class SectionWalker {
  private readonly sections: SiteSection[] = []
  private readonly headings: (string | undefined)[] = []
  private firstH1: string | null = null
  private current: OpenSection = { anchor: '', heading: null, path: [], out: new PlainText() }

  children(parent: Root | Element, context: Context): void {
    parent.children.forEach((child, index) => this.node(child, parent, index, context))
  }

  finish(): TreeSections {
    this.close()
    return { sections: this.sections, firstH1: this.firstH1 }
  }

  private node(node: RootContent | ElementContent, parent: Root | Element, index: number, context: Context): void {
    if (node.type === 'text') this.current.out.text(node.value)
    else if (node.type === 'element') this.element(node, parent, index, context)
  }

  private element(element: Element, parent: Root | Element, index: number, context: Context): void {
    if (isDropped(element, context.sectioning)) return
    const tag = element.tagName
    if (isHeading(tag)) return this.open(element, parent, index)
    const out = this.current.out
    if (tag === 'pre') return out.verbatim(preformatted(element))
    if (tag === 'img') return out.text(String(element.properties.alt ?? ''))
    if (tag === 'br') return out.lineBreak(1)
    if (tag === 'hr') return out.lineBreak(2)
    if (tag === 'td' || tag === 'th') out.cell()
    const size = breakAround(tag, context)
    if (size) out.lineBreak(size)
    this.children(element, {
      sectioning: context.sectioning || isSectioning(tag),
      inListItem: context.inListItem || tag === 'li' || tag === 'dd',
    })
    // A heading inside this element may have opened a new section: the break belongs to it now.
    if (size) this.current.out.lineBreak(size)
  }

  private open(heading: Element, parent: Root | Element, index: number): void {
    this.close()
    const level = Number(heading.tagName[1])
    const text = headingText(heading)
    if (level === 1 && this.firstH1 === null && text !== '') this.firstH1 = text
    this.headings.length = level - 1
    this.headings[level - 1] = text
    this.current = {
      // No anchor of its own: keep the previous one, so a link lands just above this heading.
      anchor: headingAnchor(heading, parent, index) ?? this.current.anchor,
      heading: text === '' ? null : text,
      path: this.headings.filter((h): h is string => h !== undefined && h !== ''),
      out: new PlainText(),
    }
  }

  private close(): void {
    const { out, ...section } = this.current
    const text = out.toString()
    if (text !== '') this.sections.push({ ...section, text })
  }
}

function breakAround(tag: string, context: Context): BreakSize | 0 {
  if (LISTS.has(tag)) return context.inListItem ? 1 : 2
  if (PARAGRAPH_BLOCKS.has(tag)) return 2
  if (LINE_BLOCKS.has(tag)) return 1
  return 0
}

// Code keeps its text exactly; <br> inside <pre> is a newline.
function preformatted(node: Element | ElementContent): string {
  if (node.type === 'text') return node.value
  if (node.type !== 'element') return ''
  if (node.tagName === 'br') return '\n'
  return node.children.map(preformatted).join('')
}
