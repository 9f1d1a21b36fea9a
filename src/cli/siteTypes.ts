/** The shapes {@link readSite} returns: a site as pages, a page as sections. No runtime code. */

/** One section of a page: the text under a heading, up to the next heading of any level. */
export interface SiteSection {
  /**
   * The fragment that links to the section (without `#`): the heading's id. `''` for the text
   * before the first heading. In HTML, a heading with no anchor of its own keeps the previous
   * section's anchor, so a link still lands just above it.
   */
  anchor: string
  /** The heading's text; `null` for the text before the first heading. */
  heading: string | null
  /** Heading texts from the outermost (the h1) to this section's own; `[]` before the first heading. */
  path: string[]
  /** Plain text: paragraphs split by blank lines, list items and table rows one per line, code verbatim. */
  text: string
}

/** One page of a site. */
export interface SitePage {
  /** `baseUrl` + the file's path relative to the site folder (markdown as `.html` by default). */
  url: string
  /** Front matter title or `<title>`, else the first h1, else the file name without extension. */
  title: string
  /** Sections in document order; sections without text are left out. */
  sections: SiteSection[]
}
