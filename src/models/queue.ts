import { WinnowError } from '../errors.js'
import type { Checkpoint } from '../core/checkpoint.js'


interface Entry {
  id: number
  /** A model's first runs (kernel and shader compilation): one long batch, reported as loading. */
  warmUp: boolean
  task: (checkpoint: Checkpoint) => Promise<unknown>
  resolve: (value: unknown) => void
  reject: (reason: unknown) => void
  cancelled: boolean
}

/**
 * Runs tasks one at a time in arrival order (one model session cannot run two batches at once).
 * `cancel(id)` drops a queued task at once and makes a running one fail at its next checkpoint.
 * A failed task never blocks the ones behind it.
 *
 * @example
 * const queue = new SerialQueue()
 * const result = queue.run(7, async (checkpoint) => { for (const b of batches) { await checkpoint(); await run(b) } })
 * queue.cancel(7) // → result rejects with ABORTED
 */
export class SerialQueue {
  private readonly waiting: Entry[] = []
  private running: Entry | null = null
  private steps = 0

  run<T>(id: number, task: (checkpoint: Checkpoint) => Promise<T>, options: { warmUp?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ id, warmUp: options.warmUp === true, task, resolve: resolve as (v: unknown) => void, reject, cancelled: false })
      this.pump()
    })
  }

  cancel(id: number): void {
    const at = this.waiting.findIndex((e) => e.id === id)
    if (at >= 0) {
      const [entry] = this.waiting.splice(at, 1)
      entry!.reject(aborted())
    } else if (this.running?.id === id) {
      this.running.cancelled = true
    }
  }

  /** Tasks queued or running. */
  get size(): number {
    return this.waiting.length + (this.running ? 1 : 0)
  }

  /**
   * What the page's heartbeat reads: whether a task runs, and a counter that moves whenever one
   * starts, passes a checkpoint (between batches) or ends. A task that runs while the counter
   * stands still is stuck inside one batch (a GPU queue that never completes) — unless it is a
   * warm-up (`loading`), whose one batch may compile for long.
   *
   * @example
   * queue.pulse() // { busy: true, progress: 41, loading: false }
   */
  pulse(): { busy: boolean; progress: number; loading: boolean } {
    return { busy: this.running !== null, progress: this.steps, loading: this.running?.warmUp ?? false }
  }

  private pump(): void {
    if (this.running) return
    const entry = this.waiting.shift()
    if (!entry) return
    this.running = entry
    this.steps++
    const checkpoint: Checkpoint = async () => {
      this.steps++
      await yieldToEventLoop()
      if (entry.cancelled) throw aborted()
    }
    Promise.resolve()
      .then(() => entry.task(checkpoint))
      .then(
        (value) => (entry.cancelled ? entry.reject(aborted()) : entry.resolve(value)),
        (error) => entry.reject(error),
      )
      .finally(() => {
        this.running = null
        this.steps++
        this.pump()
      })
  }
}

/**
 * Lets queued tasks (incoming messages) run. Inference promises resolve through microtasks only, so
 * without this a long call would not see its cancel message until it had finished. A MessageChannel
 * round trip is a task without the 4 ms clamp of nested setTimeout.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel()
    channel.port1.onmessage = () => {
      channel.port1.close()
      resolve()
    }
    channel.port2.postMessage(null)
  })
}

function aborted(): WinnowError {
  return new WinnowError('ABORTED', 'the call was aborted')
}
