/**
 * HTML headings (`<h1>` … `<h6>`) in a text, outside the ranges markdown excludes (code blocks,
 * front matter) and outside inline code spans.
 */
import { cleanHtmlTitle, MAX_TITLE_SOURCE, type Heading } from './headingTitles.js'

/**
 * The HTML headings of `text`, skipping the [start, end) pairs of `excluded` (ascending).
 *
 * @example
 * findHtmlHeadings('<h2>Install</h2> text', []) // [{ level: 2, text: 'Install', start: 0, end: 16 }]
 */
export function findHtmlHeadings(text: string, excluded: readonly number[]): Heading[] {
  const headings: Heading[] = []
  let exclusion = 0 // index into `excluded`, advanced as tags move forward
  // Backticks seen on the current line so far: an odd count means the tag sits in inline code.
  let scanned = 0
  let ticks = 0
  let openLevel = 0
  let openStart = 0
  let openInner = 0
  // `[^<>]*` stops at the next `<`, so all attempts together read the text about once.
  const tag = /<(\/?)h([1-6])(?=[\s>/])[^<>]*>/gi
  for (let m = tag.exec(text); m !== null; m = tag.exec(text)) {
    const at = m.index
    while (exclusion < excluded.length && excluded[exclusion + 1]! <= at) exclusion += 2
    if (exclusion < excluded.length && excluded[exclusion]! <= at) continue
    for (; scanned < at; scanned++) {
      const c = text.charCodeAt(scanned)
      if (c === 10) ticks = 0
      else if (c === 96) ticks++
    }
    const level = Number(m[2])
    if (m[1] === '') {
      // A second opening tag before a close means the first was never closed: the latest wins.
      openLevel = ticks % 2 === 0 ? level : 0
      openStart = at
      openInner = at + m[0].length
    } else if (level === openLevel) {
      const title = cleanHtmlTitle(text.slice(openInner, Math.min(at, openInner + MAX_TITLE_SOURCE)))
      if (title !== '') headings.push({ level, text: title, start: openStart, end: at + m[0].length })
      openLevel = 0
    }
  }
  return headings
}
