/**
 * The prompt an LLM would get: instructions, the best passages as numbered sources under a token
 * budget, and the question. Pure; tokens are estimated (see {@link estimateTokens}) unless a real
 * counter is passed.
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
