/**
 * Front matter at the top of a markdown file: YAML between `---` lines (closed by `---` or `...`)
 * or TOML between `+++` lines. Only `title` is read, and only as a one-line scalar (plain, 'single'
 * or "double" quoted); anything fancier (block scalars, anchors) counts as no title, so the page
 * falls back to its first h1. That keeps a YAML parser out of the package for one field.
 *
 * scripts/render-docs.mjs carries a copy of this logic; test/unit/siteSources.test.ts checks
 * that both give the same titles.
 */

/** A markdown source split into its front matter title and its body. */
export interface FrontMatter {
  /** `title` from the front matter; `null` when there is no front matter or no usable title. */
  title: string | null
  /** The markdown after the front matter (the whole source when there is none). */
  body: string
}

const YAML_BLOCK = /^---[ \t]*\r?\n([\s\S]*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/
const TOML_BLOCK = /^\+\+\+[ \t]*\r?\n([\s\S]*?)\r?\n\+\+\+[ \t]*(?:\r?\n|$)/

/**
 * Splits off front matter; a byte order mark before it is ignored.
 *
 * @example
 * splitFrontMatter('---\ntitle: "Install: quick"\n---\n# Setup\n')
 * // { title: 'Install: quick', body: '# Setup\n' }
 * splitFrontMatter('# No front matter') // { title: null, body: '# No front matter' }
 */
export function splitFrontMatter(source: string): FrontMatter {
  const text = source.startsWith('\uFEFF') ? source.slice(1) : source
  const yaml = YAML_BLOCK.exec(text)
  if (yaml) return { title: readTitle(yaml[1]!, /^title[ \t]*:(.*)$/m), body: text.slice(yaml[0].length) }
  const toml = TOML_BLOCK.exec(text)
  if (toml) return { title: readTitle(toml[1]!, /^title[ \t]*=(.*)$/m), body: text.slice(toml[0].length) }
  return { title: null, body: text }
}

function readTitle(block: string, line: RegExp): string | null {
  const raw = line.exec(block)?.[1]?.trim()
  if (!raw) return null
  let value: string | null
  if (raw.startsWith('"')) value = doubleQuoted(raw)
  else if (raw.startsWith("'")) value = /^'((?:[^']|'')*)'/.exec(raw)?.[1]?.replace(/''/g, "'") ?? null
  else if (/^[|>&*!\[{]/.test(raw)) value = null // block scalar, anchor, alias, tag, flow collection
  else value = raw.replace(/\s+#.*$/, '')
  const title = value?.replace(/\s+/g, ' ').trim()
  return title ? title : null
}

// YAML and TOML double-quoted strings share JSON's escapes for everything a title needs.
function doubleQuoted(raw: string): string | null {
  const match = /^"((?:[^"\\]|\\.)*)"/.exec(raw)
  if (!match) return null
  try {
    return JSON.parse(`"${match[1]}"`) as string
  } catch {
    return match[1]!
  }
}
