/**
 * Heading titles as a reader sees them: markdown inline syntax (links, images, emphasis, escapes,
 * inline HTML) and HTML tags removed, character references decoded, whitespace collapsed; code
 * spans kept verbatim; and the shape of a heading. Used by the heading finders (headings.ts,
 * htmlHeadings.ts).
 */

/** A heading found in a document. */
export interface Heading {
  /** 1 (`#`, `===`, `<h1>`) to 6. */
  level: number
  /** The heading's text with markup and tags stripped, entities decoded, whitespace collapsed. */
  text: string
  /** Where the heading begins: its `#` line, the first line of a setext paragraph, or the `<hN` tag. */
  start: number
  /** Just past the heading: end of its line, of the setext underline, or of the closing tag. */
  end: number
}


/** Longest heading source read for its title, in characters. */
export const MAX_TITLE_SOURCE = 2000

const MARKUP = /[`[\]<>*_~\\&]/

// Code spans keep their content verbatim; everything else loses links, images, tags and emphasis.
/**
 * A markdown heading's title.
 *
 * @example
 * cleanMarkdownTitle('Install *with* [npm](https://npmjs.com) `npm i` ') // 'Install with npm npm i'
 */
export function cleanMarkdownTitle(source: string): string {
  const s = source.slice(0, MAX_TITLE_SOURCE)
  if (!MARKUP.test(s)) return collapse(s)
  let out = ''
  let last = 0
  for (const m of s.matchAll(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g)) {
    out += stripMarkdownInline(s.slice(last, m.index)) + m[2]!
    last = m.index + m[0].length
  }
  return collapse(out + stripMarkdownInline(s.slice(last)))
}

function stripMarkdownInline(s: string): string {
  return decodeEntities(
    s
      .replace(/!?\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])/g, '$1')
      .replace(/<((?:https?|mailto):[^>\s]*)>/gi, '$1')
      .replace(/<br\s*\/?>/gi, ' ')
      .replace(/<[^>]*>/g, '')
      // Delimiter runs touch a space or punctuation on one side; intraword ones (snake_case) stay.
      .replace(/(?<=^|[\s\p{P}])[*_~]+|[*_~]+(?=$|[\s\p{P}])/gu, '')
      .replace(/\\([!-/:-@[-`{-~])/g, '$1'),
  )
}

/**
 * An HTML heading's title, from what is between its tags.
 *
 * @example
 * cleanHtmlTitle('Caf&eacute;<br>menu') // 'Caf&eacute; menu'
 */
export function cleanHtmlTitle(inner: string): string {
  return collapse(decodeEntities(inner.replace(/<br\s*\/?>/gi, ' ').replace(/<[^>]*>/g, '')))
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' }

function decodeEntities(s: string): string {
  return s.replace(/&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));/g, (whole, dec?: string, hex?: string, name?: string) => {
    if (name !== undefined) return NAMED_ENTITIES[name.toLowerCase()] ?? whole
    const cp = dec !== undefined ? Number(dec) : parseInt(hex!, 16)
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : whole
  })
}

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim()
}
