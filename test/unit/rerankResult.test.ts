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
        return { ok: true, value: { logits: Float32Array.from(documents, (d) => d.length), queryTruncated: false, documentTruncated: documents.map(() => false) } }
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
})
