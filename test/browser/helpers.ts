import { readFileSync } from 'node:fs'
import type { Page } from '@playwright/test'

export const HARNESS = '/test/browser/pages/harness.html'
export const TINY = 'tiny-random-cross-encoder'

export interface ReferencePair {
  query: string
  document: string
  logit: number
  input_ids: number[]
}

/** PyTorch fp32 reference logits of the tiny cross-encoder. */
export function crossEncoderReference(): ReferencePair[] {
  const path = new URL('../fixtures/models/tiny-random-cross-encoder/reference.json', import.meta.url)
  return JSON.parse(readFileSync(path, 'utf8')).pairs
}

/** Opens the harness and records every request the page and its workers make. */
export async function openHarness(page: Page): Promise<string[]> {
  const requests: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  await page.goto(HARNESS)
  await page.waitForFunction(() => (window as unknown as { harnessReady?: boolean }).harnessReady === true)
  return requests
}

/** Result of {@link scoreReference}: each reference pair scored alone, plus the device used. */
export interface ReferenceRun {
  logits: number[]
  device: { kind: string; reason: string; threads: number; adapter?: { isFallbackAdapter: boolean } }
  reranker: { dtype: string; maxLength: number; numLabels: number }
}

/** Scores each reference pair alone on the given device and dtype, through the public API. */
export async function scoreReference(page: Page, device: string, dtype: string): Promise<ReferenceRun> {
  return page.evaluate(
    async ({ pairs, device, dtype, model }) => {
      const { createWinnow } = (window as any).winnowApi
      const winnow = await createWinnow({ reranker: { model, dtype }, device })
      const logits: number[] = []
      for (const p of pairs) logits.push((await winnow.rerank(p.query, [p.document]))[0].logit)
      const out = { logits, device: winnow.device, reranker: winnow.reranker }
      await winnow.dispose()
      return out
    },
    { pairs: crossEncoderReference(), device, dtype, model: TINY },
  )
}

/** Largest absolute difference between two equally long arrays. */
export function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0)
}

/** Runs a function in the page and returns the WinnowError code it rejects with (or 'resolved'). */
export async function errorCode(page: Page, body: string): Promise<{ code: string; details: any }> {
  return page.evaluate(async (body) => {
    const api = (window as any).winnowApi
    try {
      await new Function('api', `return (async () => { ${body} })()`)(api)
      return { code: 'resolved', details: null }
    } catch (e: any) {
      return { code: e instanceof api.WinnowError ? e.code : `not a WinnowError: ${e}`, details: e.details ?? null }
    }
  }, body)
}
