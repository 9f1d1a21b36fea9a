/**
 * Length bias through the public API in Chromium (WASM): the length-biased fixture
 * (tools/models/length_biased.py: logit = 1.25 · ln(passage tokens) + 4 · "relevant" + bias)
 * scores as its PyTorch reference; `lengthCorrection` removes the trend in `rerank()` and in a
 * collection's `search()`, and `rerankFusion` blends the reranker's order with the first stage's.
 */
import { expect, test } from '@playwright/test'
import { readFileSync } from 'node:fs'
import { openHarness } from './helpers.js'

const MODEL = 'length-biased-cross-encoder'
const reference: { formula: { slope: number; relevant_weight: number; bias: number }; cases: { query: string; passage: string; passage_tokens: number; relevant: number; logit: number }[] } = JSON.parse(
  readFileSync(new URL(`../fixtures/models/${MODEL}/reference.json`, import.meta.url), 'utf8'),
)

test('rerank(): raw logits equal the reference; lengthCorrection removes the length trend, rerankFusion uses the input order', async ({ page }) => {
  await openHarness(page)
  const { cases } = reference
  const out = await page.evaluate(
    async ({ model, query, passages }) => {
      const winnow = await (window as any).winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' }, device: 'wasm' })
      const raw = await winnow.rerank(query, passages)
      const auto = await winnow.rerank(query, passages, { lengthCorrection: 'auto' })
      const fixed = await winnow.rerank(query, passages, { lengthCorrection: 1.25 })
      const inputOrder = await winnow.rerank(query, passages, { rerankFusion: { method: 'rrf', weight: 0 } })
      const fused = await winnow.rerank(query, passages, { lengthCorrection: 'auto', rerankFusion: { method: 'rrf', k: 5, weight: 0.7 } })
      let weighted = ''
      try {
        await winnow.rerank(query, passages, { rerankFusion: { method: 'weighted' } })
      } catch (e: any) {
        weighted = e.code
      }
      await winnow.dispose()
      return { raw, auto, fixed, inputOrder, fused, weighted }
    },
    { model: MODEL, query: cases[0]!.query, passages: cases.map((c) => c.passage) },
  )
  const logits = new Map(out.raw.map((r: any) => [r.index, r.logit]))
  cases.forEach((c, i) => expect(logits.get(i)).toBeCloseTo(c.logit, 4))
  const relevant = new Set(cases.map((c, i) => (c.relevant > 0 ? i : -1)).filter((i) => i >= 0))
  const topRelevant = (results: any[]) => results.slice(0, relevant.size).filter((r) => relevant.has(r.index)).length
  expect(topRelevant(out.raw)).toBeLessThan(relevant.size) // the bias at work
  for (const results of [out.auto, out.fixed]) {
    expect(topRelevant(results)).toBe(relevant.size)
    for (const r of results) {
      const c = cases[r.index]!
      // What is left after the correction is the relevance term plus a constant.
      expect(r.logit - r.lengthAdjustment).toBeCloseTo(reference.formula.slope * Math.log(100) + reference.formula.relevant_weight * c.relevant + reference.formula.bias, 3)
      expect(r.score).toBeCloseTo(1 / (1 + Math.exp(-(r.logit - r.lengthAdjustment))), 6)
    }
  }
  expect(out.inputOrder.map((r: any) => r.index)).toEqual(cases.map((_, i) => i))
  // rrf k 5, weight 0.7 over the corrected reranker order and the input order, computed here.
  const correctedOrder = out.auto.map((r: any) => r.index)
  const expected = cases
    .map((_, i) => ({ i, f: 6 * (0.7 / (5 + correctedOrder.indexOf(i) + 1) + 0.3 / (5 + i + 1)) }))
    .sort((a, b) => b.f - a.f || correctedOrder.indexOf(a.i) - correctedOrder.indexOf(b.i))
  expect(out.fused.map((r: any) => r.index)).toEqual(expected.map((e) => e.i))
  out.fused.forEach((r: any, n: number) => expect(r.fusedScore).toBeCloseTo(expected[n]!.f, 9))
  expect(out.weighted).toBe('INVALID_INPUT')
})

test('search(): rerank: { lengthCorrection } per stage, its slope in the route, and rerankFusion over the first stage', async ({ page }) => {
  await openHarness(page)
  const { cases } = reference
  const out = await page.evaluate(
    async ({ model, cases }) => {
      const winnow = await (window as any).winnowApi.createWinnow({ reranker: { model, dtype: 'fp32' }, device: 'wasm' })
      const docs = await winnow.collection(`length-bias-${Date.now()}`, { chunking: false })
      await docs.add(cases.map((c: any, i: number) => ({ id: `c${i}`, text: c.passage })))
      // Every passage holds one of these words, so the keyword first stage returns them all.
      const query = 'relevant weather river city rain sun'
      const options = { mode: 'keyword', k: 10, candidates: 10 }
      const raw = await docs.search(query, options)
      const corrected = await docs.search(query, { ...options, rerank: { lengthCorrection: 'auto' } })
      const first = await docs.search(query, { ...options, rerank: false })
      const weighted = await docs.search(query, { ...options, rerank: { lengthCorrection: 'auto' }, rerankFusion: { method: 'weighted', weight: 0.6 } })
      await winnow.dispose()
      return { raw: [...raw], corrected: [...corrected], route: corrected.route, first: [...first], weighted: [...weighted] }
    },
    { model: MODEL, cases },
  )
  const relevantIds = new Set(cases.map((c, i) => (c.relevant > 0 ? `c${i}` : '')).filter(Boolean))
  expect(out.first).toHaveLength(cases.length)
  const top = (hits: any[]) => hits.slice(0, relevantIds.size).filter((h) => relevantIds.has(h.id)).length
  expect(top(out.raw)).toBeLessThan(relevantIds.size)
  expect(top(out.corrected)).toBe(relevantIds.size)
  expect(out.route.stages[0].lengthSlope).toBeCloseTo(reference.formula.slope, 3)
  const firstScore = new Map(out.first.map((h: any) => [h.id, h.score]))
  for (const hit of out.weighted) expect(hit.score).toBeCloseTo(0.6 * hit.rerankScore + 0.4 * (firstScore.get(hit.id) as number), 6)
  expect(out.weighted.map((h: any) => h.score)).toEqual([...out.weighted.map((h: any) => h.score)].sort((a: number, b: number) => b - a))
})
