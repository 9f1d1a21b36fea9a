import { describe, expect, it } from 'vitest'
import { Heartbeat, heartbeatInterval, loadSilenceMs, type HangReport } from '../../src/client/heartbeat.js'
import type { WorkerPulse } from '../../src/worker/protocol.js'

/**
 * A heartbeat on a hand-driven clock: `advance(ms)` moves time and fires the interval as often as
 * it would have fired; the worker answers (or not) as the test says.
 */
function rig(timeoutMs: number, loading?: () => boolean) {
  let now = 0
  let timer: (() => void) | null = null
  const pings: ((pulse: WorkerPulse) => void)[] = []
  const hangs: HangReport[] = []
  const heartbeat = new Heartbeat({
    timeoutMs,
    loading,
    ping: () => new Promise<WorkerPulse>((resolve) => pings.push(resolve)),
    onHung: (report) => hangs.push(report),
    now: () => now,
    setInterval: (fn) => (timer = fn),
    clearInterval: () => (timer = null),
  })
  const interval = heartbeatInterval(timeoutMs)
  const flush = () => new Promise<void>((r) => setTimeout(r, 0))
  return {
    heartbeat,
    hangs,
    pings,
    /** Answers the latest heartbeat. */
    async answer(pulse: WorkerPulse) {
      pings.at(-1)!(pulse)
      await flush()
    },
    /** Moves the clock by `ms` in interval steps, firing the timer each step. */
    async advance(ms: number, answer?: WorkerPulse) {
      for (let t = 0; t < ms; t += interval) {
        now += interval
        timer?.()
        if (answer) pings.at(-1)?.(answer)
        await flush()
      }
    },
    /** One gap of `ms` without any tick between (a suspended machine, a throttled tab). */
    async sleep(ms: number) {
      now += ms
      timer?.()
      await flush()
    },
    get ticking() {
      return timer !== null
    },
  }
}

describe('Heartbeat', () => {
  it('sends a heartbeat at once, and one per interval while each is answered; an idle worker is never hung', async () => {
    const r = rig(6000)
    r.heartbeat.start()
    expect(r.pings).toHaveLength(1)
    await r.answer({ busy: false, progress: 0, loading: false })
    await r.advance(60_000, { busy: false, progress: 0, loading: false })
    expect(r.hangs).toEqual([])
    expect(r.pings.length).toBeGreaterThan(50)
  })

  it('a worker that answers nothing for the timeout is hung (silent), reported once, and the heartbeat stops', async () => {
    const r = rig(6000)
    r.heartbeat.start()
    await r.advance(5000)
    expect(r.hangs).toEqual([])
    await r.advance(1000)
    expect(r.hangs).toEqual([{ reason: 'silent', ms: 6000 }])
    expect(r.ticking).toBe(false)
    await r.advance(20_000)
    expect(r.hangs).toHaveLength(1)
  })

  it('a worker that answers but whose running task passes no checkpoint for the timeout is hung (stalled)', async () => {
    const r = rig(6000)
    r.heartbeat.start()
    await r.answer({ busy: true, progress: 7, loading: false })
    await r.advance(5000, { busy: true, progress: 7, loading: false })
    expect(r.hangs).toEqual([])
    await r.advance(2000, { busy: true, progress: 7, loading: false })
    expect(r.hangs).toHaveLength(1)
    expect(r.hangs[0]!.reason).toBe('stalled')
    expect(r.hangs[0]!.ms).toBeGreaterThanOrEqual(6000)
  })

  it('progress between batches, or going idle, resets the stall: a long run of short batches is not hung', async () => {
    const r = rig(6000)
    r.heartbeat.start()
    let progress = 0
    for (let i = 0; i < 40; i++) {
      // Each batch takes 4 s (under the timeout), then the task passes a checkpoint.
      await r.advance(4000, { busy: true, progress, loading: false })
      progress++
    }
    await r.advance(5000, { busy: false, progress, loading: false })
    await r.advance(5000, { busy: true, progress: progress + 1, loading: false })
    expect(r.hangs).toEqual([])
  })

  it('a busy batch that blocks the worker for less than the timeout is not hung: the late answer clears the silence', async () => {
    const r = rig(6000)
    r.heartbeat.start()
    await r.advance(5000)
    await r.answer({ busy: true, progress: 3, loading: false })
    await r.advance(5000)
    await r.answer({ busy: true, progress: 4, loading: false })
    await r.advance(3000, { busy: false, progress: 4, loading: false })
    expect(r.hangs).toEqual([])
  })

  it('a long gap between ticks (the machine slept, the tab was throttled) counts as two intervals, not as a hang', async () => {
    const r = rig(6000)
    r.heartbeat.start()
    await r.sleep(3_600_000)
    expect(r.hangs).toEqual([])
    await r.answer({ busy: true, progress: 1, loading: false })
    await r.sleep(3_600_000)
    expect(r.hangs).toEqual([])
  })

  it('stop() forgets what it measured: silence before a stop does not count after a start', async () => {
    const r = rig(6000)
    r.heartbeat.start()
    await r.advance(5000)
    r.heartbeat.stop()
    r.heartbeat.start()
    await r.advance(5000)
    expect(r.hangs).toEqual([])
    // An answer to a heartbeat sent before the stop is ignored; the new one is still outstanding.
    r.pings[0]!({ busy: false, progress: 0, loading: false })
    await r.advance(1000)
    expect(r.hangs).toEqual([{ reason: 'silent', ms: 6000 }])
  })

  it('while the page waits for a load, the worker may be silent 5 × the timeout, at least a minute; after it, the timeout holds again', async () => {
    let loading = true
    const r = rig(6000, () => loading)
    r.heartbeat.start()
    await r.advance(59_000)
    expect(r.hangs).toEqual([])
    await r.advance(1000)
    expect(r.hangs).toEqual([{ reason: 'silent', ms: 60_000 }])
    expect(loadSilenceMs(60_000)).toBe(300_000)

    const after = rig(6000, () => loading)
    after.heartbeat.start()
    await after.answer({ busy: false, progress: 0, loading: false })
    loading = false
    await after.advance(7000) // one tick sends the next heartbeat, six more find it unanswered
    expect(after.hangs).toEqual([{ reason: 'silent', ms: 6000 }])
  })

  it('a warm-up or load the worker reports (loading: true) may make no progress for as long; a real batch may not', async () => {
    const r = rig(6000)
    r.heartbeat.start()
    await r.answer({ busy: true, progress: 1, loading: true })
    await r.advance(50_000, { busy: true, progress: 1, loading: true })
    expect(r.hangs).toEqual([])
    await r.advance(8000, { busy: true, progress: 2, loading: false })
    expect(r.hangs).toHaveLength(1)
    expect(r.hangs[0]!.reason).toBe('stalled')
  })

  it('Infinity turns it off; the interval is a sixth of the timeout between 50 ms and 10 s', async () => {
    const r = rig(Number.POSITIVE_INFINITY)
    r.heartbeat.start()
    expect(r.ticking).toBe(false)
    expect(r.pings).toEqual([])
    expect(heartbeatInterval(60_000)).toBe(10_000)
    expect(heartbeatInterval(600_000)).toBe(10_000)
    expect(heartbeatInterval(3000)).toBe(500)
    expect(heartbeatInterval(100)).toBe(50)
  })
})
