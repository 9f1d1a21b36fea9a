import { describe, expect, it } from 'vitest'
import { WinnowError } from '../../src/errors.js'
import type { LoadedCrossEncoder } from '../../src/models/loadCrossEncoder.js'
import { fitBudget, pairTokens, ThroughputMeter } from '../../src/rank/throughput.js'
import type { Dtype } from '../../src/types.js'
import { SerialQueue } from '../../src/models/queue.js'
import { RerankerPool } from '../../src/worker/rerankers.js'
import { codeOf } from './helpers.js'

/** A stand-in for a loaded cross-encoder: logit = passage length, and a count of runs and frees. */
function fakeLoaded(name: string, log: string[]): LoadedCrossEncoder {
  return {
    numLabels: 1,
    encoder: {
      settings: { maxLength: 128 },
      score: async (_query: string, passages: readonly string[], checkpoint?: () => Promise<void>) => {
        await checkpoint?.()
        log.push(`score ${name} ${passages.length}`)
        return { logits: Float32Array.from(passages, (p) => p.length), queryTruncated: false, documentTruncated: passages.map(() => false), documentTokens: Uint32Array.from(passages, (p) => p.length), batches: 1 }
      },
    } as unknown as LoadedCrossEncoder['encoder'],
    dispose: async () => {
      log.push(`dispose ${name}`)
    },
  }
}

function pool(log: string[], failFirst = new Set<string>()) {
  const queue = new SerialQueue()
  const loads: string[] = []
  const p = new RerankerPool(
    queue,
    async (model, dtype) => {
      loads.push(`${model}@${dtype}`)
      if (failFirst.delete(model)) throw new WinnowError('MODEL_LOAD_FAILED', `${model}: 404`)
      return fakeLoaded(`${model}@${dtype}`, log)
    },
    (choice) => {
      if (choice === undefined) return 'q8'
      if (typeof choice !== 'string') throw new WinnowError('INVALID_INPUT', 'bad dtype')
      return choice as Dtype
    },
  )
  return { pool: p, loads, queue }
}

describe('RerankerPool', () => {
  it('loads each model and dtype once, shares it, and calibrates it on load', async () => {
    const log: string[] = []
    const { pool: p, loads } = pool(log)
    p.setDefault('default', 'fp32', fakeLoaded('default@fp32', log))
    const [a, b] = await Promise.all([p.get('tiny'), p.get('tiny', 'q8')])
    expect(a).toBe(b)
    expect(loads).toEqual(['tiny@q8'])
    expect(a.meter.samples).toBe(1) // warm-up run, then one timed run recorded
    expect(log.filter((l) => l.startsWith('score tiny'))).toHaveLength(2)
    // The instance's own reranker: by null, or by its model name without a dtype.
    const own = await p.get(null)
    expect(own.model).toBe('default')
    expect(await p.get('default')).toBe(own)
    expect((await p.get('default', 'q4')).dtype).toBe('q4') // another dtype is another model
    expect(loads).toEqual(['tiny@q8', 'default@q4'])
  })

  it('forgets a failed load so the next search retries; bad dtypes are typed errors', async () => {
    const log: string[] = []
    const { pool: p, loads } = pool(log, new Set(['flaky']))
    expect(await codeOf(p.get('flaky'))).toBe('MODEL_LOAD_FAILED')
    expect((await p.get('flaky')).model).toBe('flaky')
    expect(loads).toEqual(['flaky@q8', 'flaky@q8'])
    expect(await codeOf(p.get('x', 42))).toBe('INVALID_INPUT')
  })

  it('without an instance reranker, asking for the default one (or a model by default) is a typed INTERNAL error', async () => {
    const { pool: p, loads } = pool([])
    expect(await codeOf(p.get(null))).toBe('INTERNAL')
    expect(await codeOf(p.get(null, 'q8'))).toBe('INTERNAL')
    expect(loads).toEqual([])
  })

  it('ports score through the queue, refresh the meter, and stop when cancelled', async () => {
    const log: string[] = []
    const { pool: p, queue } = pool(log)
    const entry = await p.get('tiny')
    const port = p.port(entry, 7, async () => {})
    expect(Array.from((await port.score('q', ['ab', 'abcd'])).logits)).toEqual([2, 4])
    expect(entry.meter.samples).toBe(2)
    const pending = p.port(entry, 8, async () => {}).score('q', ['x'])
    queue.cancel(8)
    expect(await codeOf(pending)).toBe('ABORTED')
  })

  it('dispose frees what it loaded, not the instance reranker', async () => {
    const log: string[] = []
    const { pool: p } = pool(log)
    p.setDefault('default', 'fp32', fakeLoaded('default@fp32', log))
    await p.get('tiny')
    await p.dispose()
    expect(log.filter((l) => l.startsWith('dispose'))).toEqual(['dispose tiny@q8'])
  })
})

describe('throughput', () => {
  it('the meter averages ms per token, newest weighted 0.3', () => {
    const meter = new ThroughputMeter()
    expect(meter.estimateMs(100)).toBeNull()
    meter.record(100, 100) // 1 ms/token
    meter.record(100, 200) // 2 ms/token → 0.3·2 + 0.7·1 = 1.3
    expect(meter.estimateMs(10)).toBeCloseTo(13, 10)
    expect(meter.tokensPerSecond).toBeCloseTo(1000 / 1.3, 8)
    meter.record(0, 50) // nothing scored: ignored
    meter.record(10, NaN)
    expect(meter.samples).toBe(2)
  })

  it('fitBudget takes the most top candidates whose cascade fits', () => {
    const fast = new ThroughputMeter()
    fast.record(1, 1) // 1 ms per token
    const slow = new ThroughputMeter()
    slow.record(1, 10) // 10 ms per token
    const tokens = [10, 10, 10, 10, 10]
    // Plans for 90% of the budget: 35 ms → 31.5 ms → three passages of 10 ms.
    expect(fitBudget(35, [{ meter: fast, keep: null }], tokens)!.count).toBe(3)
    expect(fitBudget(33, [{ meter: fast, keep: null }], tokens)!.count).toBe(2)
    // Second stage reads at most 1 passage (10 tokens × 10 ms = 100 ms on its own).
    expect(fitBudget(150, [{ meter: fast, keep: 1 }, { meter: slow, keep: null }], tokens)!.count).toBe(3)
    expect(fitBudget(110, [{ meter: fast, keep: 1 }, { meter: slow, keep: null }], tokens)!.count).toBe(0)
    expect(fitBudget(10, [{ meter: new ThroughputMeter(), keep: null }], tokens)).toBeNull()
    expect(pairTokens('ab', 'x'.repeat(4000), 512)).toBe(512)
    expect(pairTokens('abcd', 'abcd', 512)).toBe(5)
  })
})
