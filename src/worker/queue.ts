import { WinnowError } from '../errors.js'

/** Throws ABORTED when the task has been cancelled; call it between units of work. */
export type Checkpoint = () => void

interface Entry {
  id: number
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
 * const result = queue.run(7, async (checkpoint) => { for (const b of batches) { checkpoint(); await run(b) } })
 * queue.cancel(7) // → result rejects with ABORTED
 */
export class SerialQueue {
  private readonly waiting: Entry[] = []
  private running: Entry | null = null

  run<T>(id: number, task: (checkpoint: Checkpoint) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ id, task, resolve: resolve as (v: unknown) => void, reject, cancelled: false })
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

  private pump(): void {
    if (this.running) return
    const entry = this.waiting.shift()
    if (!entry) return
    this.running = entry
    const checkpoint: Checkpoint = () => {
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
        this.pump()
      })
  }
}

function aborted(): WinnowError {
  return new WinnowError('ABORTED', 'the call was aborted')
}
