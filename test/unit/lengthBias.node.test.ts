/**
 * The length-biased fixture (tools/models/length_biased.py: logit = 1.25 · ln(passage tokens) +
 * 4 · "relevant" + bias) through winnow's cross-encoder in Node: its logits are the PyTorch
 * reference's, the bias is visible in the raw order, and lengthAdjustments removes exactly it.
 */
import { env } from '@huggingface/transformers'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { lengthAdjustments, LENGTH_REFERENCE_TOKENS } from '../../src/rank/lengthTrend.js'
import { loadCrossEncoder, type LoadedCrossEncoder } from '../../src/models/loadCrossEncoder.js'

const MODELS = fileURLToPath(new URL('../fixtures/models/', import.meta.url))
const MODEL = 'length-biased-cross-encoder'
env.allowRemoteModels = false
env.allowLocalModels = true
env.localModelPath = MODELS

interface Case {
  query: string
  passage: string
  passage_tokens: number
  relevant: number
  logit: number
}
const reference: { formula: { slope: number; relevant_weight: number; bias: number }; cases: Case[] } = JSON.parse(readFileSync(`${MODELS}${MODEL}/reference.json`, 'utf8'))

let loaded: LoadedCrossEncoder
beforeAll(async () => {
  loaded = await loadCrossEncoder({ model: MODEL, dtype: 'fp32', device: 'cpu' })
})
afterAll(async () => {
  await loaded.dispose()
})

describe('a reranker with a known length bias (Node)', () => {
  it('scores as the PyTorch reference and reads the passage tokens the reference counted', async () => {
    const { query } = reference.cases[0]!
    const scores = await loaded.encoder.score(query, reference.cases.map((c) => c.passage))
    reference.cases.forEach((c, i) => {
      expect(scores.logits[i]).toBeCloseTo(c.logit, 4)
      expect(scores.documentTokens[i]).toBe(c.passage_tokens)
    })
  })

  it("the raw order favours length; 'auto' and the known slope remove the trend and leave the relevance term", async () => {
    const { query } = reference.cases[0]!
    const { cases } = reference
    const scores = await loaded.encoder.score(query, cases.map((c) => c.passage))
    const top = (values: ArrayLike<number>) => Array.from(values, (v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i)
    const relevant = cases.map((c, i) => (c.relevant > 0 ? i : -1)).filter((i) => i >= 0)
    // Raw: long passages without "relevant" beat the short relevant ones.
    const rawTop = top(scores.logits).slice(0, relevant.length)
    expect(rawTop.filter((i) => cases[i]!.relevant === 0).length).toBeGreaterThanOrEqual(2)
    for (const correction of ['auto', reference.formula.slope] as const) {
      const { slope, adjustments } = lengthAdjustments(scores.logits, scores.documentTokens, correction)
      expect(slope).toBeCloseTo(reference.formula.slope, 4)
      const corrected = Array.from(scores.logits, (l, i) => l - adjustments[i]!)
      // What is left is the relevance term plus a constant: 1.25 · ln(100) + 4 · relevant + bias.
      cases.forEach((c, i) => {
        const expected = reference.formula.slope * Math.log(LENGTH_REFERENCE_TOKENS) + reference.formula.relevant_weight * c.relevant + reference.formula.bias
        expect(corrected[i]).toBeCloseTo(expected, 3)
      })
      expect(new Set(top(corrected).slice(0, relevant.length))).toEqual(new Set(relevant))
    }
  })
})
