/** Types of scripts/render-docs.mjs, for the tests (the script itself is plain JavaScript). */

/** Options of {@link renderDocs}. */
export interface RenderDocsOptions {
  /** URL of the search page, relative to `outDir` (each page gets the right `../`) or absolute. No link without it. */
  searchPage?: string
}

/** A page written by {@link renderDocs}. */
export interface RenderedPage {
  /** Path relative to `outDir`, with `/`, e.g. `guides/install.html`. */
  file: string
  /** Front matter title, else the first h1, else the file name. */
  title: string
}

/** What {@link renderDocs} did. */
export interface RenderDocsResult {
  pages: RenderedPage[]
  /** Links (as written in the markdown) to a page of the site that does not exist, or to an anchor its target lacks. */
  brokenLinks: { page: string; href: string }[]
}

/**
 * Renders every markdown file under `srcDir` to a standalone HTML page in `outDir`, plus `docs.css`.
 *
 * @example
 * await renderDocs('docs', 'dist-docs', { searchPage: '../demo/docs-search/' })
 */
export function renderDocs(srcDir: string, outDir: string, options?: RenderDocsOptions): Promise<RenderDocsResult>
