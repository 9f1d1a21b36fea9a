/**
 * How fast a reranker reads pairs on this device, for `rerankBudgetMs`: milliseconds per estimated
 * token, an exponentially weighted average over its runs (a warm-up run calibrates it; every
 * later rerank refreshes it). Tokens are estimated from characters ({@link pairTokens}) both when
 * measuring and when predicting, so the estimate's bias cancels out.
 */

/** Weight of the newest run in the moving average: recent enough to follow thermal or load changes. */
const SMOOTHING = 0.3
/** Characters per token for English WordPiece text (≈ 4.2 on SciFact); only a unit, see above. */
const CHARS_PER_TOKEN = 4

/**
 * Estimated tokens of one (query, passage) pair as the cross-encoder reads it: the pair's length
 * plus its special tokens, capped at what the model keeps.
 *
 * @example
 * pairTokens('memory leaks', 'A leak happens when…'.repeat(10), 512) // 55
 */
export function pairTokens(query: string, passage: string, maxLength: number): number {
  return Math.min(maxLength, Math.ceil((query.length + passage.length) / CHARS_PER_TOKEN) + 3)
}

/**
 * A reranker's measured speed.
 *
 * @example
 * const meter = new ThroughputMeter()
 * meter.record(2_000, 150)   // 2,000 estimated tokens in 150 ms
 * meter.estimateMs(4_000)    // 300
 */
export class ThroughputMeter {
  private msPerToken: number | null = null
  private runs = 0

  /** Adds one run: `tokens` estimated tokens scored in `ms` of model time. Runs of nothing are ignored. */
  record(tokens: number, ms: number): void {
    if (!(tokens > 0) || !(ms >= 0) || !Number.isFinite(ms)) return
    const observed = ms / tokens
    this.msPerToken = this.msPerToken === null ? observed : SMOOTHING * observed + (1 - SMOOTHING) * this.msPerToken
    this.runs++
  }

  /** Predicted ms for `tokens`, or null before any run. */
  estimateMs(tokens: number): number | null {
    return this.msPerToken === null ? null : tokens * this.msPerToken
  }

  /** Estimated tokens per second, or null before any run. */
  get tokensPerSecond(): number | null {
    return this.msPerToken === null || this.msPerToken === 0 ? null : 1000 / this.msPerToken
  }

  /** Runs recorded so far. */
  get samples(): number {
    return this.runs
  }
}

/** A stage as the budget sees it: its speed, and how many of what it reads go on. */
export interface BudgetStage {
  meter: ThroughputMeter
  keep: number | null
}

/** What {@link fitBudget} chose. */
export interface BudgetFit {
  /** Candidates (from the top) the first stage reranks. */
  count: number
  /** Predicted ms of all stages for `count`. */
  estimatedMs: number
  /** The first stage's measured speed (estimated tokens per second). */
  tokensPerSecond: number
}

/**
 * Share of a budget planned for: run times scatter around the estimate (batch padding, the
 * machine's other work), and a budget is a promise to the page, so the plan leaves a margin.
 * Measured with `npm run bench:search` (MiniLM-L6 q8, WASM): planning for the whole budget kept 60% of
 * 1,000 ms budgets; planning for 0.9 of it keeps 90–95% of 100–1,000 ms budgets, and all within 1.2×.
 */
export const BUDGET_PLANNED_SHARE = 0.9

/**
 * The most top candidates whose rerank (every stage of the cascade; a later stage reads what the
 * earlier one kept) is predicted to fit {@link BUDGET_PLANNED_SHARE} of `budgetMs`. Null when a
 * stage has no measurement yet.
 *
 * @example
 * fitBudget(300, [{ meter, keep: null }], [120, 90, 200, 150]) // { count: 2, … } at 1 ms per token (270 ms ≤ 0.9 × 300)
 */
export function fitBudget(budgetMs: number, stages: readonly BudgetStage[], tokens: readonly number[]): BudgetFit | null {
  if (stages.length === 0 || stages.some((s) => s.meter.tokensPerSecond === null)) return null
  const prefix = new Float64Array(tokens.length + 1)
  for (let i = 0; i < tokens.length; i++) prefix[i + 1] = prefix[i]! + tokens[i]!
  // Later stages read the best of what was kept, not the first-stage top; its tokens are
  // estimated from the top of the first-stage list, which is as long on average.
  const cost = (count: number): number => {
    let total = 0
    let reading = count
    for (const stage of stages) {
      total += stage.meter.estimateMs(prefix[reading]!)!
      if (stage.keep !== null) reading = Math.min(reading, stage.keep)
    }
    return total
  }
  const planned = budgetMs * BUDGET_PLANNED_SHARE
  let count = tokens.length
  while (count > 0 && cost(count) > planned) count--
  return { count, estimatedMs: cost(count), tokensPerSecond: stages[0]!.meter.tokensPerSecond! }
}
