import { describe, expect, it } from 'vitest'
import type { Checkpoint } from '../../src/core/checkpoint.js'
import { SerialQueue } from '../../src/models/queue.js'
import { codeOf } from './helpers.js'

/** A promise resolved from outside. */
function gate() {
  let open!: () => void
  const promise = new Promise<void>((r) => (open = r))
  return { promise, open }
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0))


describe('SerialQueue', () => {
  it('runs tasks one at a time, in arrival order', async () => {
    const queue = new SerialQueue()
    let active = 0
    let maxActive = 0
    const order: number[] = []
    const task = (n: number) => async () => {
      active++
      maxActive = Math.max(maxActive, active)
      order.push(n)
      await tick()
      await tick()
      active--
      return n * 10
    }
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => queue.run(n, task(n))))
    expect(results).toEqual([10, 20, 30, 40, 50])
    expect(order).toEqual([1, 2, 3, 4, 5])
    expect(maxActive).toBe(1)
    expect(queue.size).toBe(0)
  })

  it('rejects a cancelled queued task with ABORTED at once and never runs it', async () => {
    const queue = new SerialQueue()
    const first = gate()
    let ran = false
    const a = queue.run(1, () => first.promise.then(() => 'a'))
    const b = queue.run(2, async () => {
      ran = true
      return 'b'
    })
    queue.cancel(2)
    expect(await codeOf(b)).toBe('ABORTED') // settles while task 1 is still blocked
    first.open()
    expect(await a).toBe('a')
    await tick()
    expect(ran).toBe(false)
  })

  it('makes a running task fail with ABORTED at its next checkpoint', async () => {
    const queue = new SerialQueue()
    const step = gate()
    let reached = 0
    const p = queue.run(7, async (checkpoint: Checkpoint) => {
      await checkpoint()
      reached = 1
      await step.promise
      await checkpoint() // throws here
      reached = 2
      return 'done'
    })
    await tick()
    expect(reached).toBe(1)
    queue.cancel(7)
    step.open()
    expect(await codeOf(p)).toBe('ABORTED')
    expect(reached).toBe(1)
  })

  it('yields to the event loop at each checkpoint, so a cancel sent as a task lands mid-call', async () => {
    const queue = new SerialQueue()
    let iterations = 0
    setTimeout(() => queue.cancel(11), 0) // a macrotask, like a message from the page
    const p = queue.run(11, async (checkpoint: Checkpoint) => {
      // Without a macrotask yield in checkpoint(), this loop would never let the timer run.
      for (; iterations < 100_000; iterations++) await checkpoint()
      return 'finished'
    })
    expect(await codeOf(p)).toBe('ABORTED')
    expect(iterations).toBeLessThan(100_000)
  })

  it('rejects a cancelled running task even if it finishes without a checkpoint', async () => {
    const queue = new SerialQueue()
    const step = gate()
    const p = queue.run(3, async () => {
      await step.promise
      return 'value'
    })
    await tick()
    queue.cancel(3)
    step.open()
    expect(await codeOf(p)).toBe('ABORTED')
  })

  it('does not let a failing task block later tasks', async () => {
    const queue = new SerialQueue()
    const boom = new Error('boom')
    const a = queue.run(1, async () => {
      throw boom
    })
    const b = queue.run(2, async () => 'after')
    await expect(a).rejects.toBe(boom)
    expect(await b).toBe('after')
  })

  it('ignores cancel of an unknown id', async () => {
    const queue = new SerialQueue()
    const step = gate()
    const a = queue.run(1, () => step.promise.then(() => 'a'))
    const b = queue.run(2, async () => 'b')
    queue.cancel(99)
    step.open()
    expect(await a).toBe('a')
    expect(await b).toBe('b')
  })

  it('pulse(): busy while a task runs; progress moves when a task starts, passes a checkpoint, or ends', async () => {
    const queue = new SerialQueue()
    expect(queue.pulse()).toEqual({ busy: false, progress: 0, loading: false })
    const inBatch = gate()
    const reached = gate()
    let checkpoint!: Checkpoint
    const task = queue.run(1, async (c) => {
      checkpoint = c
      reached.open()
      await inBatch.promise // a batch that does not end: no checkpoint, no progress
      await c()
      return 'done'
    })
    await reached.promise
    const started = queue.pulse()
    expect(started.busy).toBe(true)
    await tick()
    expect(queue.pulse()).toEqual(started) // stuck inside the batch: the counter stands still
    inBatch.open()
    expect(await task).toBe('done')
    expect(checkpoint).toBeTypeOf('function')
    await tick()
    const ended = queue.pulse()
    expect(ended.busy).toBe(false)
    expect(ended.progress).toBe(started.progress + 2) // the checkpoint, then the end
    expect(started.loading).toBe(false)
    const warm = gate()
    const warming = queue.run(2, () => warm.promise, { warmUp: true })
    await tick()
    expect(queue.pulse()).toMatchObject({ busy: true, loading: true })
    warm.open()
    await warming
  })

  it('counts queued and running tasks', async () => {
    const queue = new SerialQueue()
    expect(queue.size).toBe(0)
    const step = gate()
    const a = queue.run(1, () => step.promise)
    const b = queue.run(2, async () => undefined)
    const c = queue.run(3, async () => undefined)
    expect(queue.size).toBe(3)
    queue.cancel(3)
    expect(queue.size).toBe(2)
    await codeOf(c)
    step.open()
    await Promise.all([a, b])
    await tick()
    expect(queue.size).toBe(0)
  })
})
