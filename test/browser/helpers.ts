import { readFileSync } from 'node:fs'
import type { Page } from '@playwright/test'

export const HARNESS = '/test/browser/pages/harness.html'

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
  page.context().on('request', (r) => requests.push(r.url()))
  await page.goto(HARNESS)
  await page.waitForFunction(() => (window as unknown as { harnessReady?: boolean }).harnessReady === true)
  return requests
}
