import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fileKind, htmlTitle, htmlToText, normalizeText, pageAt, parseFile, pdfToText, type HtmlNode, type NamedBlob, type PdfLib } from '../../demo/rag/parse.ts'

/** A minimal DOM tree for htmlToText (Node has no DOMParser): elements and text nodes. */
type Child = HtmlNode | string
const text = (value: string): HtmlNode => ({ nodeType: 3, nodeName: '#text', textContent: value, childNodes: [] })
function el(tag: string, attrs: Record<string, string> | Child = {}, ...children: Child[]): HtmlNode {
  if (typeof attrs === 'string' || 'nodeType' in attrs) return el(tag, {}, attrs as Child, ...children)
  const nodes = children.map((c) => (typeof c === 'string' ? text(c) : c))
  return {
    nodeType: 1,
    nodeName: tag.toUpperCase(),
    get textContent() {
      return nodes.map((n) => n.textContent).join('')
    },
    childNodes: nodes,
    getAttribute: (name) => (attrs as Record<string, string>)[name] ?? null,
  }
}
const doc = (...children: HtmlNode[]): HtmlNode => ({ nodeType: 9, nodeName: '#document', textContent: null, childNodes: children })

const fixture = (name: string) => new URL(`../fixtures/rag/${name}`, import.meta.url)
const blob = (name: string, content: string | Uint8Array, type = ''): NamedBlob => ({
  name,
  type,
  text: async () => (typeof content === 'string' ? content : new TextDecoder().decode(content)),
  arrayBuffer: async () => {
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  },
})
async function nodePdfjs(): Promise<PdfLib> {
  return (await import('pdfjs-dist/legacy/build/pdf.mjs')) as unknown as PdfLib
}
const noHtml = () => {
  throw new Error('no HTML expected')
}
const noPdf = async (): Promise<PdfLib> => {
  throw new Error('no PDF expected')
}

describe('fileKind', () => {
  it('goes by the name first, then the MIME type', () => {
    expect(fileKind('notes.txt')).toBe('txt')
    expect(fileKind('README.MD')).toBe('md')
    expect(fileKind('a.markdown', 'text/plain')).toBe('md')
    expect(fileKind('page.htm')).toBe('html')
    expect(fileKind('paper.PDF')).toBe('pdf')
    expect(fileKind('download', 'application/pdf')).toBe('pdf')
    expect(fileKind('page', 'text/html; charset=utf-8')).toBe('html')
    expect(fileKind('photo.jpg', 'image/jpeg')).toBeNull()
    expect(fileKind('archive.pdf.zip')).toBeNull()
  })
})

describe('htmlToText', () => {
  const page = doc(
    el('html',
      el('head', el('title', ' The  lighthouse '), el('style', '.x { color: red }'), el('script', "track('quasarflux')")),
      el('body',
        el('nav', el('a', 'Home'), ' ', el('a', 'Harbourmaster')),
        el('header', el('p', 'Society newsletter')),
        el('main',
          el('h1', 'The lighthouse'),
          el('p', 'Built in 1871\n   from   granite.'),
          el('h2', 'The ', el('em', 'lens')),
          el('p', 'A first-order ', el('strong', 'Fresnel'), ' lens.', el('br'), 'Visible for miles.'),
          el('ul', el('li', 'Three keepers'), el('li', el('p', 'Automated in 1962'))),
          el('pre', 'line 1\n  indented'),
          el('table', el('tr', el('td', 'a'), el('td', 'b'))),
          el('aside', 'Related: quokkas'),
          el('script', 'quasarflux()'),
          el('template', el('p', 'never shown')),
        ),
        el('footer', 'Contact the harbourmaster'),
      ),
    ),
  )

  it('keeps the main content with markdown headings and drops scripts, styles, navigation and chrome', () => {
    expect(htmlToText(page)).toBe(
      [
        '# The lighthouse',
        '',
        'Built in 1871 from granite.',
        '',
        '## The lens',
        '',
        'A first-order Fresnel lens.',
        'Visible for miles.',
        '',
        '- Three keepers',
        '- Automated in 1962',
        '',
        'line 1',
        '  indented',
        '',
        'a b',
      ].join('\n'),
    )
  })

  it('falls back to <article>, then to <body> without its header and footer', () => {
    const article = doc(el('body', el('header', 'Site'), el('article', el('header', el('h1', 'Title')), el('p', 'Body.')), el('footer', 'Footer')))
    expect(htmlToText(article)).toBe('# Title\n\nBody.')
    const body = doc(el('html', el('body', el('header', 'Site name'), el('div', 'Plain ', el('span', 'content')), el('div', 'More'), el('footer', 'Footer'))))
    expect(htmlToText(body)).toBe('Plain content\n\nMore')
    const roleMain = doc(el('body', el('div', { role: 'main' }, el('p', 'Here')), el('p', 'Not here')))
    expect(htmlToText(roleMain)).toBe('Here')
    const emptyItem = doc(el('body', el('ul', el('li'), el('li', 'b'))))
    expect(htmlToText(emptyItem)).toBe('-\n- b')
  })

  it('reads the title, and says null without one', () => {
    expect(htmlTitle(page)).toBe('The lighthouse')
    expect(htmlTitle(doc(el('body', el('p', 'x'))))).toBeNull()
  })
})

describe('pdfToText', () => {
  it('extracts each page of the fixture PDF, with where each page starts', async () => {
    const { text, pageStarts } = await pdfToText(new Uint8Array(readFileSync(fixture('observatory.pdf'))), await nodePdfjs())
    expect(pageStarts).toHaveLength(2)
    expect(pageStarts[0]).toBe(0)
    expect(text.startsWith('Observatory Field Notes\nThe dome opens an hour after sunset')).toBe(true)
    expect(text.slice(pageStarts[1]!).startsWith('Solar Tracking\nA heliostat is a flat mirror')).toBe(true)
    expect(text.slice(0, pageStarts[1]!)).not.toContain('heliostat')
    expect(text.slice(pageStarts[1]! - 2, pageStarts[1]!)).toBe('\n\n')
    expect(pageAt(pageStarts, text.indexOf('heliostat'))).toBe(2)
    expect(pageAt(pageStarts, text.indexOf('reflecting telescope'))).toBe(1)
  })
})

describe('pageAt', () => {
  it('finds the last page starting at or before the offset', () => {
    expect(pageAt([0, 10, 20], 0)).toBe(1)
    expect(pageAt([0, 10, 20], 9)).toBe(1)
    expect(pageAt([0, 10, 20], 10)).toBe(2)
    expect(pageAt([0, 10, 20], 25)).toBe(3)
    expect(pageAt([0, 10, 10, 30], 12)).toBe(3) // an empty page 2
    expect(pageAt([], 5)).toBe(1)
  })
})

describe('parseFile', () => {
  it('reads text and markdown as they are, without a BOM or CRLF', async () => {
    expect(await parseFile(blob('a.txt', '\uFEFFone\r\ntwo'), { parseHtml: noHtml, loadPdf: noPdf })).toEqual({ kind: 'txt', text: 'one\ntwo' })
    const md = readFileSync(fixture('sourdough.md'), 'utf8')
    expect(await parseFile(blob('sourdough.md', md), { parseHtml: noHtml, loadPdf: noPdf })).toEqual({ kind: 'md', text: md })
    expect(normalizeText('a\rb')).toBe('a\nb')
  })

  it('parses HTML through the given parser, with its title', async () => {
    const parsed = await parseFile(blob('x.html', '<p>ignored by the fake parser</p>'), {
      parseHtml: () => doc(el('html', el('head', el('title', 'T')), el('body', el('main', el('p', 'Main text'))))),
      loadPdf: noPdf,
    })
    expect(parsed).toEqual({ kind: 'html', text: 'Main text', title: 'T' })
  })

  it('loads pdf.js only for PDFs', async () => {
    let loads = 0
    const loadPdf = async () => {
      loads++
      return nodePdfjs()
    }
    await parseFile(blob('a.md', '# A'), { parseHtml: noHtml, loadPdf })
    expect(loads).toBe(0)
    const pdf = await parseFile(blob('observatory.pdf', new Uint8Array(readFileSync(fixture('observatory.pdf')))), { parseHtml: noHtml, loadPdf })
    expect(loads).toBe(1)
    expect(pdf.kind).toBe('pdf')
    expect(pdf.pageStarts).toHaveLength(2)
    expect(pdf.text).toContain('Our heliostat feeds the spectrograph')
  })

  it('refuses unsupported and empty files with a message naming the file', async () => {
    const env = { parseHtml: () => doc(el('body', el('script', 'x'))), loadPdf: noPdf }
    await expect(parseFile(blob('photo.jpg', 'x', 'image/jpeg'), env)).rejects.toThrow('photo.jpg: not a text, markdown, HTML or PDF file')
    await expect(parseFile(blob('empty.txt', ' \n '), env)).rejects.toThrow('empty.txt: no text found')
    await expect(parseFile(blob('script-only.html', '<script>x</script>'), env)).rejects.toThrow('script-only.html: no text found')
  })
})
