import { env, type Tensor } from '@huggingface/transformers'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CrossEncoder, type LogitsModel, type PairTokenizer } from '../../src/models/crossEncoder.js'
import { loadCrossEncoder, type LoadedCrossEncoder } from '../../src/models/loadCrossEncoder.js'

// References: tools/references/truncation.py (own tokenizer, tokenizers' LongestFirst rule, PyTorch forward).
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url))
env.allowRemoteModels = false
env.allowLocalModels = true
env.localModelPath = `${FIXTURES}models/`

interface Case {
  name: string
  max_length: number
  query: string
  document: string
  query_tokens: number
  document_tokens: number
  kept_query: number
  kept_document: number
  input_ids: number[]
  token_type_ids: number[]
  logit: number
}
const cases: Case[] = JSON.parse(readFileSync(`${FIXTURES}truncation-reference.json`, 'utf8')).cases
const loaded = new Map<number, LoadedCrossEncoder>()
/** Every model call, to compare the ids fed with the reference's. */
const calls: { ids: number[]; types: number[]; dims: number[] }[] = []
const spied = new Map<number, CrossEncoder>()

beforeAll(async () => {
  for (const maxLength of new Set(cases.map((c) => c.max_length))) {
    const l = await loadCrossEncoder({ model: 'tiny-random-cross-encoder', dtype: 'fp32', device: 'cpu', maxLength })
    loaded.set(maxLength, l)
    const model = (l.encoder as unknown as { model: LogitsModel }).model
    const spy: LogitsModel = async (inputs: Record<string, Tensor>) => {
      calls.push({
        ids: Array.from(inputs.input_ids!.data as BigInt64Array, Number),
        types: Array.from(inputs.token_type_ids!.data as BigInt64Array, Number),
        dims: inputs.input_ids!.dims.slice(),
      })
      return model(inputs)
    }
    const tokenizer = (l.encoder as unknown as { tokenizer: PairTokenizer }).tokenizer
    spied.set(maxLength, new CrossEncoder(tokenizer, spy, l.encoder.settings))
  }
})
afterAll(async () => {
  for (const l of loaded.values()) await l.dispose()
})

describe('longest-first truncation against PyTorch references (Node, fp32)', () => {
  it('covers the cases the rule distinguishes', () => {
    expect(cases.length).toBeGreaterThanOrEqual(16)
    expect(new Set(cases.map((c) => c.max_length))).toEqual(new Set([127, 128]))
    // a pair that fits with a query over half the budget is not cut (the old ⌊room/2⌋ bound cut it)
    const fits = cases.find((c) => c.name.startsWith('fits'))!
    expect(fits.kept_query).toBe(90)
    expect(fits.kept_query).toBeGreaterThan(Math.floor((fits.max_length - 3) / 2))
  })

  for (const c of cases) {
    it(`${c.name}: same ids, same flags, logit within 1e-4`, async () => {
      calls.length = 0
      const r = await spied.get(c.max_length)!.score(c.query, [c.document])
      expect(calls).toHaveLength(1)
      expect(calls[0]!.dims).toEqual([1, c.input_ids.length])
      expect(calls[0]!.ids).toEqual(c.input_ids)
      expect(calls[0]!.types).toEqual(c.token_type_ids)
      expect(r.queryTruncated).toBe(c.kept_query < c.query_tokens)
      expect(r.documentTruncated).toEqual([c.kept_document < c.document_tokens])
      expect(Math.abs(r.logits[0]! - c.logit)).toBeLessThan(1e-4)
    })
  }

  it('cuts the query per pair in one call and reports it when any pair cut it', async () => {
    const group = cases.filter((c) => c.name.startsWith('one call'))
    expect(group).toHaveLength(3)
    expect(new Set(group.map((c) => c.query)).size).toBe(1)
    expect(group.map((c) => c.kept_query)).toEqual([100, 75, 62])
    const r = await loaded.get(128)!.encoder.score(group[0]!.query, group.map((c) => c.document))
    group.forEach((c, i) => expect(Math.abs(r.logits[i]! - c.logit)).toBeLessThan(1e-4))
    expect(r.queryTruncated).toBe(true)
    expect(r.documentTruncated).toEqual([false, false, true])
    // the pair that fits alone: its query is whole
    const alone = await loaded.get(128)!.encoder.score(group[0]!.query, [group[0]!.document])
    expect(alone.queryTruncated).toBe(false)
  })
})
