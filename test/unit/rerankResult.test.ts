/**
 * `rerank()`'s result type follows its input: `{ id, text }` objects give results whose `id` is a
 * string, strings give results without one. The types are checked by vitest's `expectTypeOf` (and
 * by `tsc -p tsconfig.test.json`, which includes this file); the values by running the page-side
 * client in Node against a fake worker that speaks the worker protocol over a MessageChannel.
 */
import * as Comlink from 'comlink'
import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import { createWinnow, type Winnow } from '../../src/client/createWinnow.js'
import type { RerankedPassage, RerankInput, RerankResult } from '../../src/types.js'
import type { Envelope, InitResult, RawRerank, WorkerApi } from '../../src/worker/protocol.js'

describe('RerankResult types', () => {
  it('gives a string id to object inputs and none to strings', () => {
    type FromObjects = RerankResult<{ id: string; text: string }>
    type FromStrings = RerankResult<string>
    expectTypeOf<FromObjects['id']>().toEqualTypeOf<string>()
    expectTypeOf<FromStrings['id']>().toEqualTypeOf<undefined>()
    expectTypeOf<FromObjects>().toMatchTypeOf<RerankedPassage>()
    expectTypeOf<FromStrings>().toMatchTypeOf<RerankedPassage>()
    // A mixed input, and the default, may or may not carry one.
    expectTypeOf<RerankResult<RerankInput>['id']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<RerankResult['id']>().toEqualTypeOf<string | undefined>()
  })

  it('infers the result type from what rerank() is given', () => {
    // Only the types matter here; the calls resolve to nothing.
    const winnow = { rerank: async () => [] } as unknown as Winnow
    const docs = [{ id: 'a.md', text: 'alpha' }]
    expectTypeOf(winnow.rerank('q', docs)).resolves.items.toHaveProperty('id').toEqualTypeOf<string>()
    expectTypeOf(winnow.rerank('q', ['alpha', 'beta'])).resolves.items.toHaveProperty('id').toEqualTypeOf<undefined>()
    expectTypeOf(winnow.rerank('q', ['alpha', { id: 'b', text: 'beta' }])).resolves.items.toHaveProperty('id').toEqualTypeOf<string | undefined>()
    // Literal and readonly inputs keep their kind.
    expectTypeOf(winnow.rerank('q', ['alpha'] as const)).resolves.items.toHaveProperty('id').toEqualTypeOf<undefined>()
    const frozen: readonly { id: string; text: string; extra: number }[] = []
    expectTypeOf(winnow.rerank('q', frozen)).resolves.items.toHaveProperty('id').toEqualTypeOf<string>()
    // @ts-expect-error an object without an id is not a rerank input
    void winnow.rerank('q', [{ text: 'no id' }])
  })
})

/** A Worker stand-in: the page side talks comlink to `api` through a MessageChannel. */
function fakeWorkerClass(api: WorkerApi) {
  return class FakeWorker extends EventTarget {
    private readonly port: MessagePort
    constructor() {
      super()
      const { port1, port2 } = new MessageChannel()
      Comlink.expose(api, port2)
      this.port = port1
      port1.addEventListener('message', (event) => this.dispatchEvent(new MessageEvent('message', { data: (event as MessageEvent).data })))
      port1.start()
    }
    postMessage(message: unknown, transfer: Transferable[] = []): void {
      this.port.postMessage(message, transfer)
    }
    terminate(): void {
      this.port.close()
    }
  }
}

describe('rerank() results at run time', () => {
  let winnow: Winnow
  beforeEach(async () => {
    // Scores the length of each passage: longer is better, so the order is known.
    const api: Partial<WorkerApi> = {
      async init(): Promise<Envelope<InitResult>> {
        return {
          ok: true,
          value: { device: { kind: 'wasm', reason: 'fake', threads: 1 }, reranker: { model: 'fake', dtype: 'q8', maxLength: 512, numLabels: 1 }, embedder: null },
        }
      },
      async rerank(_callId: number, _query: string, documents: string[]): Promise<Envelope<RawRerank>> {
        // A length-biased fake: logit = 2 · ln(length) + 3 for passages marked '!', else the
        // length; the length counts as the tokens read.
        const biased = documents.some((d) => d.startsWith('biased'))
        const logits = Float32Array.from(documents, (d) => (biased ? 2 * Math.log(d.length) + (d.includes('!') ? 3 : 0) : d.length))
        return { ok: true, value: { logits, queryTruncated: false, documentTruncated: documents.map(() => false), documentTokens: Uint32Array.from(documents, (d) => d.length) } }
      },
      cancel() {},
      async dispose() {},
    }
    vi.stubGlobal('Worker', fakeWorkerClass(api as WorkerApi))
    winnow = await createWinnow({ workerUrl: 'fake-worker.js', modelBaseUrl: 'http://app.test/models/', wasmBaseUrl: 'http://app.test/ort/' })
  })
  afterEach(async () => {
    await winnow.dispose()
    vi.unstubAllGlobals()
  })

  it('carries each object’s id, best first', async () => {
    const ranked = await winnow.rerank('q', [
      { id: 'short', text: 'ab' },
      { id: 'long', text: 'abcdef' },
      { id: 'mid', text: 'abcd' },
    ])
    expect(ranked.map((r) => [r.id, r.index])).toEqual([['long', 1], ['mid', 2], ['short', 0]])
  })

  it('gives string inputs no id property at all', async () => {
    const ranked = await winnow.rerank('q', ['ab', 'abcdef'])
    expect(ranked.map((r) => r.index)).toEqual([1, 0])
    for (const r of ranked) expect(Object.keys(r).sort()).toEqual(['index', 'logit', 'score', 'truncated'])
  })

  it('gives ids to exactly the object inputs of a mixed array', async () => {
    const ranked = await winnow.rerank('q', ['abc', { id: 'obj', text: 'abcdefgh' }])
    expect(ranked.map((r) => ('id' in r ? r.id : 'none'))).toEqual(['obj', 'none'])
  })

  describe('lengthCorrection and rerankFusion', () => {
    // 12 passages of growing length; every fourth is the relevant one ('!'), and the short relevant
    // passages lose to long filler until the length trend is removed.
    const passages = Array.from({ length: 12 }, (_, i) => `biased${i % 4 === 0 ? '!' : '.'}${'x'.repeat(8 * (i + 1) * (i % 4 === 0 ? 1 : 3))}`)
    const relevant = passages.map((p, i) => (p.includes('!') ? i : -1)).filter((i) => i >= 0)

    it("'auto' removes the trend: the relevant passages come first, each result says what was subtracted", async () => {
      const plain = await winnow.rerank('q', passages, { topK: 3 })
      expect(plain.map((r) => r.index).sort()).not.toEqual(relevant)
      const corrected = await winnow.rerank('q', passages, { lengthCorrection: 'auto' })
      expect(corrected.slice(0, 3).map((r) => r.index).sort((a, b) => a - b)).toEqual(relevant)
      for (const r of corrected) {
        const slope = r.lengthAdjustment! / Math.log(passages[r.index]!.length / 100)
        expect(slope).toBeCloseTo(2, 4)
        expect(r.score).toBeCloseTo(1 / (1 + Math.exp(-(r.logit - r.lengthAdjustment!))), 9)
      }
      const fixed = await winnow.rerank('q', passages, { lengthCorrection: 2, topK: 3 })
      expect(fixed.map((r) => r.index).sort((a, b) => a - b)).toEqual(relevant)
      expect(fixed[0]!.lengthAdjustment).toBeCloseTo(2 * Math.log(passages[fixed[0]!.index]!.length / 100), 9)
    })

    it('rerankFusion with the input order: weight 0 keeps the input order, 1 the reranker’s; fusedScore orders', async () => {
      const byReranker = (await winnow.rerank('q', ['ab', 'abcdef', 'abcd'])).map((r) => r.index)
      expect(byReranker).toEqual([1, 2, 0])
      const inputOrder = await winnow.rerank('q', ['ab', 'abcdef', 'abcd'], { rerankFusion: { method: 'rrf', weight: 0 } })
      expect(inputOrder.map((r) => r.index)).toEqual([0, 1, 2])
      expect(inputOrder[0]!.fusedScore).toBeCloseTo(1, 12)
      const even = await winnow.rerank('q', ['ab', 'abcdef', 'abcd'], { rerankFusion: { method: 'rrf', k: 1 } })
      // k 1: ab (ranks 3, 1) 2·(0.5/4 + 0.5/2) = 0.75; abcdef (1, 2) 2·(0.5/2 + 0.5/3) ≈ 0.833; abcd (2, 3) 2·(0.5/3 + 0.5/4) ≈ 0.583.
      expect(even.map((r) => r.index)).toEqual([1, 0, 2])
      expect(even.map((r) => r.fusedScore)).toEqual([expect.closeTo(5 / 6, 12), expect.closeTo(0.75, 12), expect.closeTo(7 / 12, 12)])
      expect(even[0]!.score).toBeCloseTo(1 / (1 + Math.exp(-6)), 9) // score stays the cross-encoder's
    })

    it('bad options are INVALID_INPUT before anything runs; weighted fusion needs first-stage scores', async () => {
      await expect(winnow.rerank('q', ['a'], { lengthCorrection: 'on' as never })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
      await expect(winnow.rerank('q', ['a'], { rerankFusion: { method: 'weighted' } as never })).rejects.toThrow(/needs first-stage scores/)
      await expect(winnow.rerank('q', [], { rerankFusion: { method: 'rrf', weight: -1 } })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    })
  })
})
