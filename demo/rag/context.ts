/**
 * The prompt an LLM would get: instructions, the best passages as numbered sources under a token
 * budget, and the question. Pure; tokens are estimated (see {@link estimateTokens}) unless a real
 * counter is passed. Overlapping passages of one file are joined first ({@link mergeOverlapping}).
 */

/** Characters per token assumed by {@link estimateTokens}: about right for English with BPE/WordPiece vocabularies. */
export const CHARS_PER_TOKEN = 4

/**
 * Estimated tokens of a text: `ceil(characters / 4)`. A rough, model-independent figure (winnow
 * exposes no tokenizer on the page, and the LLM's own tokenizer is the one that counts); pass
 * `countTokens` to {@link assembleContext} for an exact one.
 *
 * @example
 * estimateTokens('four') // 1
 * estimateTokens('a heliostat follows the sun') // 7
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN)
}

/** A passage offered to the prompt, best first. */
export interface ContextPassage {
  text: string
  /** The source file's name. */
  file: string
  /** Where in the file, in words (e.g. `page 2, chars 420–700`). */
  position: string
}

/** A passage with where it sits in its file's text: `text` is `fileText.slice(start, end)`. */
export interface OffsetPassage {
  text: string
  file: string
  start: number
  end: number
}

/** Passages of one file that {@link mergeOverlapping} joined into one source. */
export interface MergedPassage extends OffsetPassage {
  /** Indices (into the input, ascending: best first) of the passages it joins. */
  members: number[]
}

/**
 * Joins passages of the same file whose character ranges overlap or touch, so a prompt never
 * carries the same text twice (winnow's chunks of one section overlap by design). The joined text
 * is rebuilt from the offsets: each later passage adds only what lies past the text so far. A
 * passage whose text does not match its offsets' length is left alone, never spliced blindly.
 * Sources come best first: in the order of their best passage.
 *
 * @example
 * mergeOverlapping([
 *   { file: 'a.md', start: 0, end: 11, text: 'hello world' },
 *   { file: 'b.md', start: 0, end: 3, text: 'bee' },
 *   { file: 'a.md', start: 6, end: 17, text: 'world again' },
 * ])
 * // [{ file: 'a.md', start: 0, end: 17, text: 'hello world again', members: [0, 2] },
 * //  { file: 'b.md', start: 0, end: 3, text: 'bee', members: [1] }]
 */
export function mergeOverlapping(passages: readonly OffsetPassage[]): MergedPassage[] {
  const byFile = new Map<string, number[]>()
  for (const [i, p] of passages.entries()) {
    const list = byFile.get(p.file) ?? []
    list.push(i)
    byFile.set(p.file, list)
  }
  const merged: MergedPassage[] = []
  for (const [file, indices] of byFile) {
    const consistent = indices.filter((i) => passages[i]!.text.length === passages[i]!.end - passages[i]!.start)
    for (const i of indices) {
      if (!consistent.includes(i)) merged.push({ ...pick(passages[i]!), file, members: [i] })
    }
    consistent.sort((a, b) => passages[a]!.start - passages[b]!.start || passages[b]!.end - passages[a]!.end || a - b)
    let open: MergedPassage | null = null
    for (const i of consistent) {
      const p = passages[i]!
      if (open && p.start <= open.end) {
        if (p.end > open.end) {
          open.text += p.text.slice(open.end - p.start)
          open.end = p.end
        }
        open.members.push(i)
        continue
      }
      open = { ...pick(p), file, members: [i] }
      merged.push(open)
    }
  }
  for (const m of merged) m.members.sort((a, b) => a - b)
  return merged.sort((a, b) => a.members[0]! - b.members[0]!)
}

function pick(p: OffsetPassage): OffsetPassage {
  return { text: p.text, file: p.file, start: p.start, end: p.end }
}

/** Options of {@link assembleContext}. */
export interface ContextOptions {
  /** Most tokens the whole prompt may take. */
  budgetTokens: number
  /** Default {@link DEFAULT_INSTRUCTIONS}. */
  instructions?: string
  /** Default {@link estimateTokens}. */
  countTokens?: (text: string) => number
  /** A first passage that does not fit whole is cut to fit when at least this many tokens are left for its text. Default 32. */
  minPartialTokens?: number
}

/** What {@link assembleContext} built. */
export interface AssembledContext {
  /** The whole prompt: instructions, sources, question. */
  prompt: string
  /** The sources block alone. */
  context: string
  /** Passages used, from the best: always the first `included` of those offered, cited `[1]`…`[included]`. */
  included: number
  /** Passages left out for the budget. */
  omitted: number
  /** Whether the last included passage was cut to fit. */
  cut: boolean
  /** Tokens of `prompt`, by the counter used. */
  tokens: number
  budgetTokens: number
  /** The prompt is over budget even without sources (instructions and question alone). */
  overBudget: boolean
}

/** Instructions that open the prompt. */
export const DEFAULT_INSTRUCTIONS =
  "Answer the question using only the numbered sources below, which come from the user's own files. " +
  'Cite the sources you use as [1], [2], … . If the sources do not contain the answer, say so.'

/**
 * Builds the prompt: passages are taken best first while the whole prompt stays within
 * `budgetTokens`, and stop at the first that does not fit (so the citations `[n]` match the
 * passages' ranks). When not even the best passage fits, it is cut at a word boundary to what is
 * left, if that is at least `minPartialTokens`. Each source is headed `[n] file, position`.
 *
 * @example
 * const { prompt, included } = assembleContext('What is a heliostat?', [
 *   { text: 'A heliostat is a mirror that follows the sun.', file: 'observatory.pdf', position: 'page 2, chars 40–86' },
 * ], { budgetTokens: 500 })
 * // prompt: '…\n\nSources:\n\n[1] observatory.pdf, page 2, chars 40–86\nA heliostat is a mirror that follows the sun.\n\nQuestion: What is a heliostat?\nAnswer:'
 */
export function assembleContext(question: string, passages: readonly ContextPassage[], options: ContextOptions): AssembledContext {
  const { budgetTokens, instructions = DEFAULT_INSTRUCTIONS, countTokens = estimateTokens, minPartialTokens = 32 } = options
  const build = (sources: string[]) => {
    const context = sources.join('\n\n')
    const prompt = `${instructions}\n\nSources:\n\n${context || '(none)'}\n\nQuestion: ${question.trim()}\nAnswer:`
    return { context, prompt }
  }
  const sources: string[] = []
  let cut = false
  const bare = build([])
  const overBudget = countTokens(bare.prompt) > budgetTokens
  if (!overBudget) {
    for (const [i, passage] of passages.entries()) {
      const source = `${heading(i + 1, passage)}\n${passage.text.trim()}`
      if (countTokens(build([...sources, source]).prompt) <= budgetTokens) {
        sources.push(source)
        continue
      }
      if (i === 0) {
        const partial = cutToFit(passage, (candidate) => countTokens(build([candidate]).prompt) <= budgetTokens, countTokens, minPartialTokens)
        if (partial !== null) {
          sources.push(partial)
          cut = true
        }
      }
      break
    }
  }
  const { context, prompt } = build(sources)
  return { prompt, context, included: sources.length, omitted: passages.length - sources.length, cut, tokens: countTokens(prompt), budgetTokens, overBudget }
}

function heading(n: number, passage: ContextPassage): string {
  return `[${n}] ${passage.file}${passage.position ? `, ${passage.position}` : ''}`
}

/** The longest word-boundary prefix of the first passage that fits, marked with `…`; null when too little fits. */
function cutToFit(
  passage: ContextPassage,
  fits: (source: string) => boolean,
  countTokens: (text: string) => number,
  minPartialTokens: number,
): string | null {
  const text = passage.text.trim()
  const head = `${heading(1, passage)} (excerpt)\n`
  // Binary search over the cut length: fitting is monotonic in it.
  let lo = 0
  let hi = text.length
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (fits(`${head}${wordPrefix(text, mid)}…`)) lo = mid
    else hi = mid - 1
  }
  const body = wordPrefix(text, lo)
  if (body === '' || countTokens(body) < minPartialTokens) return null
  return `${head}${body}…`
}

/** `text` cut to at most `length` characters, back to the last whitespace when that cuts a word. */
function wordPrefix(text: string, length: number): string {
  if (length >= text.length) return text
  const cut = text.slice(0, length)
  const space = cut.search(/\s\S*$/)
  return (space > 0 ? cut.slice(0, space) : cut).trimEnd()
}
