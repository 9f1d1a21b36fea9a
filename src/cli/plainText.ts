/**
 * A writer of plain text from a walk over markup: inline text has its whitespace collapsed (as a
 * browser would lay it out), blocks ask for line breaks or blank lines, code is kept verbatim,
 * table cells are joined with `' | '`. Breaks are only written between pieces of content, so the
 * result never starts or ends with whitespace and never has trailing spaces on a line.
 */

/** What ends a block: `1` a line break (list items, rows), `2` a blank line (paragraphs). */
export type BreakSize = 1 | 2

/** The separator written between two non-empty table cells of one row. */
export const CELL_SEPARATOR = ' | '

/**
 * Collects plain text. One instance per section.
 *
 * @example
 * const out = new PlainText()
 * out.text('Hello\n   world')
 * out.lineBreak(2)
 * out.verbatim('  npm install\n')
 * out.toString() // 'Hello world\n\n  npm install'
 */
export class PlainText {
  private readonly parts: string[] = []
  private newlines = 0
  private atLineStart = true
  private pendingSpace = false
  private pendingSeparator = false

  /**
   * Appends inline text: runs of HTML whitespace become one space, and a space at the start of a
   * line is dropped.
   *
   * @example
   * const out = new PlainText()
   * out.text(' a \n b ')
   * out.text('c')
   * out.toString() // 'a b c'
   */
  text(raw: string): void {
    const collapsed = raw.replace(/[ \t\n\f\r]+/g, ' ')
    if (collapsed.startsWith(' ')) this.pendingSpace = true
    const body = collapsed.trim()
    if (body === '') return
    this.emit(body)
    if (collapsed.endsWith(' ')) this.pendingSpace = true
  }

  /**
   * Appends text exactly as given (code blocks), as a block of its own; trailing newlines are cut.
   *
   * @example
   * const out = new PlainText()
   * out.text('Run:')
   * out.verbatim('# not a heading\n  indented\n')
   * out.toString() // 'Run:\n\n# not a heading\n  indented'
   */
  verbatim(raw: string): void {
    const body = raw.replace(/[\r\n]+$/, '')
    if (body.trim() === '') return
    this.lineBreak(2)
    this.emit(body)
    this.lineBreak(2)
  }

  /**
   * Asks for at least `size` newlines before the next content (none are written if none follows).
   *
   * @example
   * const out = new PlainText()
   * out.text('a'); out.lineBreak(1); out.lineBreak(2); out.text('b')
   * out.toString() // 'a\n\nb'
   */
  lineBreak(size: BreakSize): void {
    if (this.parts.length > 0) this.newlines = Math.max(this.newlines, size)
  }

  /**
   * Marks the start of a table cell: the next content on this line is preceded by {@link CELL_SEPARATOR}.
   *
   * @example
   * const out = new PlainText()
   * out.cell(); out.text('a'); out.cell(); out.cell(); out.text('b')
   * out.toString() // 'a | b'
   */
  cell(): void {
    if (!this.atLineStart && this.newlines === 0) this.pendingSeparator = true
  }

  /**
   * The text so far.
   *
   * @example
   * new PlainText().toString() // ''
   */
  toString(): string {
    return this.parts.join('')
  }

  private emit(content: string): void {
    if (this.newlines > 0) {
      this.parts.push('\n'.repeat(this.newlines))
      this.atLineStart = true
    } else if (!this.atLineStart && this.pendingSeparator) {
      this.parts.push(CELL_SEPARATOR)
    } else if (!this.atLineStart && this.pendingSpace) {
      this.parts.push(' ')
    }
    this.parts.push(content)
    this.newlines = 0
    this.pendingSpace = false
    this.pendingSeparator = false
    this.atLineStart = content.endsWith('\n')
  }
}
