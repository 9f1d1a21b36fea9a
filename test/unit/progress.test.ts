import { describe, expect, it } from 'vitest'
import { ProgressTracker } from '../../src/models/progress.js'
import type { LoadProgress } from '../../src/types.js'

function tracker() {
  const events: LoadProgress[] = []
  const t = new ProgressTracker('tiny', (e) => events.push(e))
  return { t, events, last: () => events.at(-1)! }
}

describe('ProgressTracker', () => {
  it('aggregates two files into one overall fraction', () => {
    const { t, events, last } = tracker()
    t.listener({ status: 'progress', file: 'onnx/model.onnx', loaded: 50, total: 100 })
    expect(last()).toEqual({ model: 'tiny', status: 'progress', file: 'onnx/model.onnx', loaded: 50, total: 100, overall: 0.5 })
    t.listener({ status: 'progress', file: 'tokenizer.json', loaded: 0, total: 300 })
    expect(last()).toEqual({ model: 'tiny', status: 'progress', file: 'tokenizer.json', loaded: 0, total: 300, overall: 50 / 400 })
    expect(events).toHaveLength(2)
  })

  it("marks a file complete on 'done'", () => {
    const { t, last } = tracker()
    t.listener({ status: 'progress', file: 'a', loaded: 50, total: 100 })
    t.listener({ status: 'progress', file: 'b', loaded: 0, total: 300 })
    t.listener({ status: 'done', file: 'a' })
    expect(last()).toMatchObject({ status: 'done', file: 'a', loaded: 100, total: 100, overall: 100 / 400 })
  })

  it("emits overall 1 with status 'ready'", () => {
    const { t, last } = tracker()
    t.listener({ status: 'progress', file: 'a', loaded: 10, total: 100 })
    t.listener({ status: 'progress', file: 'b', loaded: 0, total: 300 })
    t.ready()
    expect(last()).toEqual({ model: 'tiny', status: 'ready', file: '', loaded: 400, total: 400, overall: 1 })
  })

  it('ignores events without a file and statuses it does not read', () => {
    const { t, events } = tracker()
    t.listener({ status: 'progress', loaded: 5, total: 10 })
    t.listener({ status: 'initiate', file: 'a' })
    t.listener({ status: 'download', file: 'a' })
    expect(events).toEqual([])
  })

  it('never reports NaN when totals are 0 or missing', () => {
    const { t, events, last } = tracker()
    t.listener({ status: 'progress', file: 'a', loaded: 0, total: 0 })
    expect(last().overall).toBe(0)
    t.listener({ status: 'progress', file: 'b', loaded: 40 })
    expect(last()).toMatchObject({ file: 'b', loaded: 40, total: 40 })
    t.listener({ status: 'done', file: 'c' }) // a file that reported no progress
    expect(last()).toMatchObject({ file: 'c', loaded: 0, total: 0 })
    t.ready()
    for (const e of events) {
      expect(Number.isNaN(e.overall)).toBe(false)
      expect(e.overall).toBeGreaterThanOrEqual(0)
      expect(e.overall).toBeLessThanOrEqual(1)
    }
    expect(last().overall).toBe(1)
  })

  it('keeps overall within 0..1 when loaded overshoots total', () => {
    const { t, last } = tracker()
    t.listener({ status: 'progress', file: 'a', loaded: 150, total: 100 })
    expect(last().overall).toBe(1)
  })
})
