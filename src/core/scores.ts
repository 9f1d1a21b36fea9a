/**
 * Turning cross-encoder logits into scores. One logit → sigmoid; two logits → softmax of the
 * positive class, which equals sigmoid(positive − negative), so both heads yield one raw logit
 * and one 0..1 score. (A one-logit head under softmax would score everything 1.0.)
 */

/** How to read a classifier head. */
export interface ScoreHead {
  numLabels: 1 | 2
  /** Column of the positive (relevant) class for two-logit heads; 0 for one-logit heads. */
  positiveIndex: number
}

const POSITIVE_LABEL = /^(label_1|1|relevant|positive|true|yes|entailment|pos)$/i

/**
 * Reads the head from a Hugging Face config (`id2label`, `num_labels`). Heads with more than two
 * labels are not relevance rankers and are rejected.
 *
 * @example
 * scoreHeadFromConfig({ id2label: { 0: 'LABEL_0' } })                     // { numLabels: 1, positiveIndex: 0 }
 * scoreHeadFromConfig({ id2label: { 0: 'relevant', 1: 'irrelevant' } })   // { numLabels: 2, positiveIndex: 0 }
 */
export function scoreHeadFromConfig(config: { id2label?: Record<string, string>; num_labels?: number }): ScoreHead {
  const labels = config.id2label ?? {}
  const n = Object.keys(labels).length || config.num_labels || 1
  if (n === 1) return { numLabels: 1, positiveIndex: 0 }
  if (n !== 2) throw new RangeError(`a cross-encoder needs 1 or 2 output labels; this model has ${n}`)
  let positiveIndex = 1
  for (const [key, name] of Object.entries(labels)) {
    if (POSITIVE_LABEL.test(String(name).trim())) positiveIndex = Number(key)
  }
  if (positiveIndex !== 0 && positiveIndex !== 1) positiveIndex = 1
  return { numLabels: 2, positiveIndex }
}

/**
 * Raw score of row `row` in a flat `[rows, numLabels]` logits buffer.
 *
 * @example
 * rawLogit(new Float32Array([0.2, 1.5]), 0, { numLabels: 2, positiveIndex: 1 }) // 1.3
 */
export function rawLogit(logits: ArrayLike<number>, row: number, head: ScoreHead): number {
  if (head.numLabels === 1) return logits[row]!
  const pos = logits[row * 2 + head.positiveIndex]!
  const neg = logits[row * 2 + (1 - head.positiveIndex)]!
  return pos - neg
}

/**
 * Numerically stable logistic function.
 *
 * @example
 * sigmoid(0) // 0.5
 */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x))
  const e = Math.exp(x)
  return e / (1 + e)
}
