/**
 * Search hits → what the page shows: one group per docs page (in the order of each page's best
 * hit), its sections under it, each with a safe link to the section's anchor. Hit metadata comes
 * from the snapshot, which our threat model treats as hostile, so every field is checked here and
 * only plain strings leave this module.
 */

/** The fields of a hit this module reads (a `SearchHit` has them all). */
export interface HitLike {
  chunkId: string
  title?: string
  section: string | null
  path: string[]
  metadata?: Record<string, unknown>
  snippet: { text: string; highlights: [number, number][] }
}

/** One result as shown: a section of a page, with the snippets of its passages that were hit. */
export interface ResultItem {
  /** The chunk id of the section's best hit: unique in one search, keys the keyboard selection. */
  key: string
  /** `metadata.url` as the snapshot gave it ('' when it had none). */
  url: string
  /** `metadata.anchor` ('' when none: the link goes to the top of the page). */
  anchor: string
  /** The link, relative to the search page; `null` when the url is not a same-origin http(s) page. */
  href: string | null
  /** The section heading (or the page title for a page's untitled top). */
  title: string
  /** Headings above the section, outermost first (not repeating the page title or the section). */
  breadcrumb: string[]
  /** 0-based position of the section's best hit in the search's hits (best first). */
  rank: number
  /** One per passage of the section that was hit, best first. */
  snippets: { text: string; highlights: [number, number][] }[]
}

/** The sections found on one page. */
export interface PageGroup {
  /** `metadata.url`: the page, without the anchor. */
  url: string
  /** `metadata.page`, else the url. */
  page: string
  /** Link to the top of the page, or `null` (see {@link ResultItem.href}). */
  href: string | null
  items: ResultItem[]
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '')
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : [])

/**
 * The link to a docs page (and section), relative to `base`, or `null` when it would leave the
 * origin or is not http(s) (`javascript:`, `data:`, `//other.host/`): a hostile snapshot must not
 * turn a result into a script or an off-origin request.
 *
 * @example
 * safeHref('docs/guides/getting-started.html', 'install-the-package', 'https://example.org/demo/docs-search/')
 * // 'docs/guides/getting-started.html#install-the-package'
 * safeHref('javascript:alert(1)', '', 'https://example.org/') // null
 */
export function safeHref(url: string, anchor: string, base: string): string | null {
  if (url === '' && anchor === '') return null
  const href = url + (anchor ? '#' + encodeURIComponent(anchor) : '')
  let resolved: URL
  let origin: string
  try {
    resolved = new URL(href, base)
    origin = new URL(base).origin
  } catch {
    return null
  }
  if (resolved.protocol !== 'http:' && resolved.protocol !== 'https:') return null
  return resolved.origin === origin ? href : null
}

/**
 * Hits (best first) grouped by page: pages in the order of their best hit, each page's sections
 * in rank order. Passages of one section (a long section is several chunks) become one item with
 * several snippets, so no section is listed twice. The display order (pages, then sections) is
 * also the keyboard order.
 *
 * @example
 * const groups = groupByPage(results, location.href)
 * groups[0].page // 'Getting started'
 * groups[0].items[0].href // 'docs/guides/getting-started.html#install-the-package'
 */
export function groupByPage(hits: readonly HitLike[], base: string): PageGroup[] {
  const groups = new Map<string, PageGroup>()
  const sections = new WeakMap<ResultItem, string>()
  hits.forEach((hit, rank) => {
    const meta = hit.metadata ?? {}
    const url = text(meta.url)
    const anchor = text(meta.anchor)
    const page = text(meta.page) || url || 'Untitled page'
    const title = text(hit.title) || text(hit.section) || page
    const path = strings(meta.path).length > 0 ? strings(meta.path) : strings(hit.path)
    // The breadcrumb is what sits between the page title and the section title.
    const breadcrumb = path.filter((heading, i) => !(i === 0 && heading === page) && !(i === path.length - 1 && heading === title))
    const groupKey = url || `\u0000${page}` // pages without a url still group by their title
    let group = groups.get(groupKey)
    if (!group) {
      group = { url, page, href: url ? safeHref(url, '', base) : null, items: [] }
      groups.set(groupKey, group)
    }
    const snippet = { text: text(hit.snippet?.text), highlights: Array.isArray(hit.snippet?.highlights) ? hit.snippet.highlights : [] }
    // A section is its page and anchor; without either, each hit stands alone.
    const sectionKey = url || anchor ? `${url}#${anchor}` : `\u0000${hit.chunkId}`
    const same = group.items.find((item) => sections.get(item) === sectionKey)
    if (same) {
      same.snippets.push(snippet)
      return
    }
    const item: ResultItem = { key: hit.chunkId, url, anchor, href: safeHref(url, anchor, base), title, breadcrumb, rank, snippets: [snippet] }
    sections.set(item, sectionKey)
    group.items.push(item)
  })
  return [...groups.values()]
}

/** The items of `groups` in display order (the keyboard's order). */
export function flatten(groups: readonly PageGroup[]): ResultItem[] {
  return groups.flatMap((g) => g.items)
}

/** A piece of snippet text, marked when it is a query term. */
export interface SnippetPart {
  text: string
  mark: boolean
}

/**
 * A snippet cut at its highlight ranges, for building text nodes and `<mark>` elements (never
 * HTML). Ranges are repaired, not trusted: clamped to the text, rounded outward, empty or
 * malformed ones skipped, overlapping ones merged, never splitting a surrogate pair.
 *
 * @example
 * snippetParts({ text: 'Install the package', highlights: [[0, 7]] })
 * // [{ text: 'Install', mark: true }, { text: ' the package', mark: false }]
 */
export function snippetParts(snippet: { text: string; highlights: readonly (readonly [number, number])[] }): SnippetPart[] {
  const source = snippet.text
  const ranges: [number, number][] = []
  for (const range of Array.isArray(snippet.highlights) ? snippet.highlights : []) {
    if (!Array.isArray(range)) continue
    const [a, b] = range as readonly unknown[]
    if (typeof a !== 'number' || typeof b !== 'number' || !(a < b)) continue
    let start = Math.max(0, Math.floor(a))
    let end = Math.min(source.length, Math.ceil(b))
    if (start >= end) continue
    if (isLow(source, start) && isHigh(source, start - 1)) start--
    if (isLow(source, end) && isHigh(source, end - 1)) end++
    ranges.push([start, end])
  }
  ranges.sort((x, y) => x[0] - y[0])
  const parts: SnippetPart[] = []
  let at = 0
  for (const [start, end] of ranges) {
    if (end <= at) continue
    const from = Math.max(start, at)
    if (from > at) parts.push({ text: source.slice(at, from), mark: false })
    const last = parts[parts.length - 1]
    // Touching or overlapping ranges become one mark.
    if (last?.mark && from === at) last.text += source.slice(from, end)
    else parts.push({ text: source.slice(from, end), mark: true })
    at = end
  }
  if (at < source.length) parts.push({ text: source.slice(at), mark: false })
  return parts
}

function isHigh(s: string, i: number): boolean {
  const unit = s.charCodeAt(i)
  return unit >= 0xd800 && unit <= 0xdbff
}

function isLow(s: string, i: number): boolean {
  const unit = s.charCodeAt(i)
  return unit >= 0xdc00 && unit <= 0xdfff
}
