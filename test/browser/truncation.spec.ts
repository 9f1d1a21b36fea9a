import { readFileSync } from 'node:fs'
import { expect, test } from '@playwright/test'
import { openHarness, TINY } from './helpers.js'

// PyTorch references of pairs cut longest-first (tools/references/truncation.py).
interface Case {
  name: string
  max_length: number
  query: string
  document: string
  query_tokens: number
  document_tokens: number
  kept_query: number
  kept_document: number
  logit: number
}
const cases: Case[] = JSON.parse(readFileSync(new URL('../fixtures/truncation-reference.json', import.meta.url), 'utf8')).cases

for (const device of ['wasm', 'webgpu'] as const) {
  test(`${device} fp32: pairs are cut longest-first like the reference, logits within 1e-4`, async ({ page }) => {
    await openHarness(page)
    const out = await page.evaluate(
      async ({ cases, device, model }) => {
        const { createWinnow } = (window as any).winnowApi
        const byLength = new Map<number, any>()
        const alone = []
        for (const c of cases) {
          if (!byLength.has(c.max_length)) {
            byLength.set(c.max_length, await createWinnow({ reranker: { model, dtype: 'fp32', maxLength: c.max_length }, device }))
          }
          const [r] = await byLength.get(c.max_length).rerank(c.query, [c.document])
          alone.push({ logit: r.logit, truncated: r.truncated })
        }
        const group = cases.filter((c) => c.name.startsWith('one call'))
        const together = await byLength.get(128).rerank(group[0]!.query, group.map((c) => c.document))
        const w = byLength.get(128)
        const info = { device: w.device.kind, maxLength: w.reranker.maxLength }
        for (const winnow of byLength.values()) await winnow.dispose()
        return { alone, together, info }
      },
      { cases, device, model: TINY },
    )
    expect(out.info).toEqual({ device, maxLength: 128 })
    let worst = 0
    cases.forEach((c, i) => {
      const got = out.alone[i]!
      expect(got.truncated, c.name).toEqual({ query: c.kept_query < c.query_tokens, document: c.kept_document < c.document_tokens })
      worst = Math.max(worst, Math.abs(got.logit - c.logit))
      expect(Math.abs(got.logit - c.logit), c.name).toBeLessThan(1e-4)
    })
    console.log(`[figure] ${device} fp32 truncation cases: max |Δ| vs PyTorch = ${worst.toExponential(2)} over ${cases.length} pairs`)
    // one call, the query cut for some passages only: each logit is its pair's; truncated.query on all
    const group = cases.filter((c) => c.name.startsWith('one call'))
    expect(group.map((c) => c.kept_query)).toEqual([100, 75, 62])
    for (const r of out.together) {
      expect(Math.abs(r.logit - group[r.index]!.logit)).toBeLessThan(1e-4)
      expect(r.truncated).toEqual({ query: true, document: group[r.index]!.kept_document < group[r.index]!.document_tokens })
    }
    expect(out.together).toHaveLength(3)
  })
}
