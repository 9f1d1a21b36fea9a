/**
 * Pages of sections → documents for a collection or a snapshot: one document per section.
 */
import type { DocumentInput } from '../types.js'
import type { SitePage } from './siteTypes.js'

/**
 * One document per section: `id` = url + `#anchor` (just the url for the text before the first
 * heading), `title` = the heading (or the page title), `text` = the section's text, and
 * `metadata` = `{ url, anchor, page, path }`.
 *
 * Ids are unique: when two sections would share one (an HTML page repeating an id, or a heading
 * without anchor that keeps the previous one), the later ones get `~2`, `~3`, ... appended (the
 * first free suffix, in page and section order, never one another section uses as its real id).
 * `metadata.url` and `metadata.anchor` stay what the link needs.
 *
 * @example
 * toDocuments([{ url: 'guide.html', title: 'Guide', sections: [
 *   { anchor: 'setup', heading: 'Setup', path: ['Guide', 'Setup'], text: 'npm i winnow' }] }])
 * // [{ id: 'guide.html#setup', title: 'Setup', text: 'npm i winnow',
 * //    metadata: { url: 'guide.html', anchor: 'setup', page: 'Guide', path: ['Guide', 'Setup'] } }]
 */
export function toDocuments(pages: readonly SitePage[]): DocumentInput[] {
  const taken = new Set<string>()
  for (const page of pages) addSectionIds(page, taken)
  const used = new Set<string>()
  return pages.flatMap((page) => pageDocuments(page, taken, used))
}

/** Adds the ids a page's sections would have before deduplication (what `taken` of {@link pageDocuments} holds). */
export function addSectionIds(page: SitePage, taken: Set<string>): void {
  for (const section of page.sections) taken.add(baseId(page.url, section.anchor))
}

/**
 * A page's documents, as {@link toDocuments} makes them, given every page's section ids (`taken`)
 * and the ids given so far (`used`, updated): pages in order, one at a time.
 */
export function pageDocuments(page: SitePage, taken: ReadonlySet<string>, used: Set<string>): DocumentInput[] {
  return page.sections.map((section) => {
    const base = baseId(page.url, section.anchor)
    let id = base
    for (let n = 2; used.has(id) || (id !== base && taken.has(id)); n++) id = `${base}~${n}`
    used.add(id)
    return {
      id,
      title: section.heading ?? page.title,
      text: section.text,
      metadata: { url: page.url, anchor: section.anchor, page: page.title, path: [...section.path] },
    }
  })
}

function baseId(url: string, anchor: string): string {
  return anchor ? `${url}#${anchor}` : url
}
