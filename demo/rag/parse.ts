/**
 * File → text for the private RAG demo: plain text and markdown as they are, HTML as its main
 * content (headings kept as markdown `#` lines, so winnow's chunker still splits at them), PDF
 * through pdf.js with the offset where each page starts. Pure apart from what is passed in: the
 * HTML parser (a `<template>` on the page, see demo/trustedTypes.ts) and pdf.js are injected, so
 * Node tests can run all of it.
 */

/** The kinds of file the demo reads. */
export type FileKind = 'txt' | 'md' | 'html' | 'pdf'

/** What a file became. */
export interface ParsedFile {
  kind: FileKind
  text: string
  /** The HTML `<title>`, when there was one. */
  title?: string
  /** PDF only: `pageStarts[i]` is the offset in `text` where page `i + 1` begins. */
  pageStarts?: number[]
}

/** The part of a DOM node that {@link htmlToText} reads (a DOM `Node` fits). */
export interface HtmlNode {
  nodeType: number
  nodeName: string
  textContent: string | null
  childNodes: ArrayLike<HtmlNode>
  getAttribute?(name: string): string | null
}

/** The part of pdf.js that {@link pdfToText} uses (`import('pdfjs-dist')` fits, through a wrapper). */
export interface PdfLib {
  getDocument(source: { data: Uint8Array; isEvalSupported?: boolean; disableFontFace?: boolean }): { promise: Promise<PdfDocument> }
}
/** A loaded PDF, as far as text extraction goes. */
export interface PdfDocument {
  numPages: number
  getPage(pageNumber: number): Promise<{ getTextContent(): Promise<{ items: readonly unknown[] }>; cleanup?(): unknown }>
  destroy?(): Promise<unknown> | unknown
}

/** What {@link parseFile} needs from its environment. */
export interface ParseEnvironment {
  /** Parses HTML source into nodes without running it (on the page: a `<template>`'s content). */
  parseHtml(source: string): HtmlNode
  /** Loads pdf.js (lazily: only PDFs pay for it). */
  loadPdf(): Promise<PdfLib>
}

/** A file to parse: a `File` fits. */
export interface NamedBlob {
  name: string
  type: string
  text(): Promise<string>
  arrayBuffer(): Promise<ArrayBuffer>
}

/** File name endings per kind; `accept` for the file input is built from these. */
export const EXTENSIONS: Record<FileKind, readonly string[]> = {
  txt: ['.txt', '.text'],
  md: ['.md', '.markdown'],
  html: ['.html', '.htm', '.xhtml'],
  pdf: ['.pdf'],
}

const MIME_KINDS: Record<string, FileKind> = {
  'text/plain': 'txt',
  'text/markdown': 'md',
  'text/x-markdown': 'md',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'application/pdf': 'pdf',
}

/**
 * The kind of a file, by its name's ending first (browsers often give no MIME type for `.md`),
 * then by MIME type; null when the demo cannot read it.
 *
 * @example
 * fileKind('Notes.MD') // 'md'
 * fileKind('scan', 'application/pdf') // 'pdf'
 * fileKind('photo.jpg', 'image/jpeg') // null
 */
export function fileKind(name: string, mime = ''): FileKind | null {
  const lower = name.toLowerCase()
  for (const [kind, endings] of Object.entries(EXTENSIONS) as [FileKind, readonly string[]][]) {
    if (endings.some((e) => lower.endsWith(e))) return kind
  }
  return MIME_KINDS[mime.split(';')[0]!.trim().toLowerCase()] ?? null
}

/**
 * Reads a file into text. Rejects with an `Error` whose message says what went wrong in words
 * (an unsupported type, a PDF without a text layer, an empty file).
 *
 * @example
 * const parsed = await parseFile(file, { parseHtml: (s) => new DOMParser().parseFromString(s, 'text/html'), loadPdf })
 * // { kind: 'md', text: '# Notes\n…' }
 */
export async function parseFile(file: NamedBlob, env: ParseEnvironment): Promise<ParsedFile> {
  const kind = fileKind(file.name, file.type)
  if (!kind) throw new Error(`${file.name}: not a text, markdown, HTML or PDF file`)
  let parsed: ParsedFile
  if (kind === 'pdf') {
    parsed = { kind, ...(await pdfToText(new Uint8Array(await file.arrayBuffer()), await env.loadPdf())) }
  } else if (kind === 'html') {
    const document = env.parseHtml(await file.text())
    parsed = { kind, text: htmlToText(document) }
    const title = htmlTitle(document)
    if (title) parsed.title = title
  } else {
    parsed = { kind, text: normalizeText(await file.text()) }
  }
  if (parsed.text.trim() === '') {
    throw new Error(kind === 'pdf' ? `${file.name}: no text layer (a scanned PDF needs OCR first)` : `${file.name}: no text found`)
  }
  return parsed
}

/**
 * Plain text as winnow should see it: no byte-order mark, `\n` line ends.
 *
 * @example
 * normalizeText('\uFEFFa\r\nb') // 'a\nb'
 */
export function normalizeText(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n')
}

const ELEMENT = 1
const TEXT = 3
/** Never content: code, styling, embedded objects, site navigation and forms. */
const SKIP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'NAV', 'ASIDE', 'IFRAME', 'SVG', 'CANVAS', 'OBJECT', 'EMBED', 'FORM', 'BUTTON', 'SELECT', 'HEAD', 'TITLE'])
/** Site chrome when the whole body is the content; kept inside `<main>`/`<article>` (an article's header holds its title). */
const CHROME = new Set(['HEADER', 'FOOTER'])
const BLOCKS = new Set([
  'ADDRESS', 'ARTICLE', 'BLOCKQUOTE', 'BODY', 'DD', 'DETAILS', 'DIV', 'DL', 'DT', 'FIELDSET', 'FIGCAPTION', 'FIGURE',
  'FOOTER', 'HEADER', 'HR', 'MAIN', 'OL', 'P', 'SECTION', 'SUMMARY', 'TABLE', 'TBODY', 'THEAD', 'TFOOT', 'UL', 'CAPTION',
])
const LINES = new Set(['TR', 'LI', 'BR'])
const CELLS = new Set(['TD', 'TH'])

/**
 * The main content of an HTML document as text: the first `<main>` (or `role="main"`), else the
 * first `<article>`, else `<body>` without its `<header>`/`<footer>`; scripts, styles, navigation,
 * asides and forms dropped. Headings become markdown `#` lines, list items `- ` lines, blocks are
 * separated by a blank line, and whitespace inside a block collapses (except in `<pre>`).
 *
 * @example
 * htmlToText(new DOMParser().parseFromString('<nav>Home</nav><main><h2>Lens</h2><p>A  Fresnel lens.</p></main>', 'text/html'))
 * // '## Lens\n\nA Fresnel lens.'
 */
export function htmlToText(document: HtmlNode): string {
  const root = findFirst(document, isMain) ?? findFirst(document, (n) => name(n) === 'ARTICLE') ?? findFirst(document, (n) => name(n) === 'BODY') ?? document
  const out = new TextBuilder()
  const dropChrome = name(root) === 'BODY' || root === document
  const walk = (node: HtmlNode, pre: boolean): void => {
    if (node.nodeType === TEXT) return out.text(node.textContent ?? '', pre)
    if (node.nodeType !== ELEMENT && node !== document && node.nodeType !== 9 && node.nodeType !== 11) return
    const tag = name(node)
    if (SKIP.has(tag) || (dropChrome && CHROME.has(tag))) return
    const heading = /^H([1-6])$/.exec(tag)
    if (heading) {
      const text = collapse(node.textContent ?? '').trim()
      if (text) out.heading(`${'#'.repeat(Number(heading[1]))} ${text}`)
      return
    }
    if (tag === 'BR') return out.lineBreak()
    if (tag === 'PRE') {
      out.blockBreak()
      walkChildren(node, true)
      return out.blockBreak()
    }
    if (tag === 'LI') {
      out.lineBreak()
      out.marker('- ')
      walkChildren(node, pre)
      return out.endLine()
    }
    if (CELLS.has(tag)) {
      out.text(' ', false)
      walkChildren(node, pre)
      return out.text(' ', false)
    }
    const block = BLOCKS.has(tag) ? 'block' : LINES.has(tag) ? 'line' : null
    if (block === 'block') out.blockBreak()
    else if (block === 'line') out.lineBreak()
    walkChildren(node, pre)
    if (block === 'block') out.blockBreak()
    else if (block === 'line') out.lineBreak()
  }
  const walkChildren = (node: HtmlNode, pre: boolean) => {
    for (let i = 0; i < node.childNodes.length; i++) walk(node.childNodes[i]!, pre)
  }
  walk(root, false)
  return out.finish()
}

/**
 * The document's `<title>`, whitespace collapsed; null when absent or empty.
 *
 * @example
 * htmlTitle(new DOMParser().parseFromString('<title> Gull  Point </title>', 'text/html')) // 'Gull Point'
 */
export function htmlTitle(document: HtmlNode): string | null {
  const title = findFirst(document, (n) => name(n) === 'TITLE')
  const text = title ? collapse(title.textContent ?? '').trim() : ''
  return text || null
}

/** Accumulates text with pending breaks, so empty blocks leave no blank lines and spaces never pile up. */
class TextBuilder {
  private parts: string[] = []
  /** 0: none, 1: newline, 2: blank line — the strongest asked for since the last text. */
  private pending = 0
  private lastChar = '\n'
  /** Right after a list marker: a block inside the item (`<li><p>`) must not break the line. */
  private afterMarker = false

  text(raw: string, pre: boolean): void {
    let text = pre ? raw.replace(/\r\n?/g, '\n') : collapse(raw)
    if (text === '') return
    if (!pre && (this.pending > 0 || this.lastChar === ' ' || this.lastChar === '\n')) text = text.replace(/^ /, '')
    if (text === '') return
    if (this.pending > 0 && this.parts.length > 0) this.parts.push(this.pending === 2 ? '\n\n' : '\n')
    this.pending = 0
    this.afterMarker = false
    this.parts.push(text)
    this.lastChar = text[text.length - 1]!
  }

  heading(line: string): void {
    this.blockBreak()
    this.text(line, true)
    this.blockBreak()
  }

  /** A line prefix such as `- `, kept with the text that follows it. */
  marker(prefix: string): void {
    this.text(prefix, true)
    this.afterMarker = true
  }

  /** Ends a list item's line, even an empty item's. */
  endLine(): void {
    this.afterMarker = false
    this.lineBreak()
  }

  lineBreak(): void {
    if (!this.afterMarker) this.pending = Math.max(this.pending, 1)
  }

  blockBreak(): void {
    if (!this.afterMarker) this.pending = 2
  }

  finish(): string {
    return this.parts
      .join('')
      .split('\n')
      .map((line) => line.replace(/[ \t]+$/, ''))
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim()
  }
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ')
}

function name(node: HtmlNode): string {
  return node.nodeName.toUpperCase()
}

function isMain(node: HtmlNode): boolean {
  return node.nodeType === ELEMENT && (name(node) === 'MAIN' || node.getAttribute?.('role') === 'main')
}

/** Depth-first, document order; never descends into skipped elements (a `<main>` inside `<template>` is no content). */
function findFirst(node: HtmlNode, test: (n: HtmlNode) => boolean): HtmlNode | null {
  for (let i = 0; i < node.childNodes.length; i++) {
    const child = node.childNodes[i]!
    if (child.nodeType !== ELEMENT) continue
    if (test(child)) return child
    if (name(child) === 'TEMPLATE' || name(child) === 'SCRIPT') continue
    const found = findFirst(child, test)
    if (found) return found
  }
  return null
}

/**
 * A PDF's text layer, page by page (pages separated by a blank line), with the offset where each
 * page starts. Text items are joined as pdf.js lays them out; an item that ends a line ends it here.
 *
 * @example
 * const { text, pageStarts } = await pdfToText(bytes, pdfjs)
 * // pageStarts: [0, 412] — page 2 starts at text[412]
 */
export async function pdfToText(data: Uint8Array, pdfjs: PdfLib): Promise<{ text: string; pageStarts: number[] }> {
  // isEvalSupported: false — text extraction needs no compiled font programs, and no eval runs.
  const document = await pdfjs.getDocument({ data, isEvalSupported: false, disableFontFace: true }).promise
  try {
    let text = ''
    const pageStarts: number[] = []
    for (let number = 1; number <= document.numPages; number++) {
      const page = await document.getPage(number)
      const content = await page.getTextContent()
      let pageText = ''
      for (const item of content.items) {
        if (!item || typeof item !== 'object' || typeof (item as { str?: unknown }).str !== 'string') continue // marked-content markers
        const { str, hasEOL } = item as { str: string; hasEOL?: boolean }
        pageText += str + (hasEOL ? '\n' : '')
      }
      page.cleanup?.()
      pageText = pageText.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim()
      if (text !== '') text += '\n\n'
      pageStarts.push(text.length)
      text += pageText
    }
    return { text, pageStarts }
  } finally {
    await document.destroy?.()
  }
}

/**
 * The 1-based page holding `offset`, from a PDF's page starts.
 *
 * @example
 * pageAt([0, 412, 900], 500) // 2
 */
export function pageAt(pageStarts: readonly number[], offset: number): number {
  let lo = 0
  let hi = pageStarts.length - 1
  if (hi < 0) return 1
  // Last page whose start is ≤ offset.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (pageStarts[mid]! <= offset) lo = mid
    else hi = mid - 1
  }
  return lo + 1
}
