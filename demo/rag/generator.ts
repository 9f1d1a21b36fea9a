/**
 * The `generate(prompt)` hook: a host page plugs in its own local LLM (WebLLM, transformers.js, …);
 * the demo bundles none. See demo/rag/README.md.
 */

/** What the demo passes to a generator besides the prompt. */
export interface GenerateOptions {
  /** Fires when the user asks something else or forgets everything: stop generating. */
  signal: AbortSignal
}

/**
 * A local LLM: returns the answer whole (a string or a Promise of one), or streams it as an async
 * iterable of text pieces, each appended to what came before.
 */
export type Generator = (prompt: string, options: GenerateOptions) => string | AsyncIterable<string> | Promise<string | AsyncIterable<string>>

/**
 * Runs a generator and reports the answer as it grows. Resolves with the whole answer; rejects
 * with the generator's error, or with an `AbortError` `DOMException` once `signal` fires (pieces
 * that arrive after the abort are not reported).
 *
 * @example
 * const answer = await runGenerator(async function* () { yield 'Hel'; yield 'lo' }, prompt, {
 *   signal, onText: (sofar) => (output.textContent = sofar),
 * }) // 'Hello', after onText('Hel') and onText('Hello')
 */
export async function runGenerator(
  generate: Generator,
  prompt: string,
  options: { signal: AbortSignal; onText?: (answerSoFar: string) => void },
): Promise<string> {
  const { signal, onText } = options
  const check = () => {
    if (signal.aborted) throw new DOMException('the generation was aborted', 'AbortError')
  }
  check()
  const result = await generate(prompt, { signal })
  check()
  if (typeof result === 'string') {
    onText?.(result)
    return result
  }
  if (result === null || typeof result !== 'object' || typeof (result as AsyncIterable<string>)[Symbol.asyncIterator] !== 'function') {
    throw new TypeError('a generator must return a string, a Promise of a string, or an async iterable of strings')
  }
  let answer = ''
  for await (const piece of result) {
    check()
    answer += String(piece)
    onText?.(answer)
  }
  check()
  return answer
}
