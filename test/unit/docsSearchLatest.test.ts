import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isAbortError, latestWins, type RunContext } from '../../demo/docs-search/latest.ts'

/** A search that settles when the test says so, and rejects with ABORTED when aborted (as winnow's does). */
function controllableRun() {
  const calls: { input: string; context: RunContext; resolve(): void; reject(error: unknown): void }[] = []
  const rendered: string[] = []
  const run = (input: string, context: RunContext) =>
    new Promise<void>((resolve, reject) => {
      const call = {
        input,
        context,
        resolve: () => {
          if (context.isLatest()) rendered.push(input)
          resolve()
        },
        reject,
      }
      context.signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { code: 'ABORTED' })))
      calls.push(call)
    })
  return { calls, rendered, run }
}

beforeEach(() => void vi.useFakeTimers())
afterEach(() => void vi.useRealTimers())

describe('latestWins', () => {
  it('debounces: only the input after a quiet delay runs', async () => {
    const { calls, run } = controllableRun()
    const searches = latestWins({ delayMs: 120, run })
    searches.schedule('i')
    await vi.advanceTimersByTimeAsync(100)
    searches.schedule('in')
    await vi.advanceTimersByTimeAsync(100)
    searches.schedule('ins')
    expect(calls).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(119)
    expect(calls).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(calls.map((c) => c.input)).toEqual(['ins'])
    expect(searches.busy).toBe(true)
    calls[0]!.resolve()
    await vi.advanceTimersByTimeAsync(0)
    expect(searches.busy).toBe(false)
  })

  it('a new keystroke aborts the search in flight at once, and the stale one never renders', async () => {
    const { calls, rendered, run } = controllableRun()
    const onError = vi.fn()
    const searches = latestWins({ delayMs: 120, run, onError })
    searches.schedule('old')
    await vi.advanceTimersByTimeAsync(120)
    const old = calls[0]!
    searches.schedule('new')
    expect(old.context.signal.aborted).toBe(true) // before the debounce of 'new' is over
    expect(old.context.isLatest()).toBe(false)
    old.resolve() // a result that arrives anyway (the worker answered before it saw the abort)
    await vi.advanceTimersByTimeAsync(120)
    calls[1]!.resolve()
    await vi.advanceTimersByTimeAsync(0)
    expect(rendered).toEqual(['new'])
    expect(onError).not.toHaveBeenCalled() // the ABORTED rejection is swallowed
  })

  it('reports a real failure of the latest run, and drops failures of stale runs', async () => {
    const { calls, run } = controllableRun()
    const onError = vi.fn()
    const searches = latestWins({ delayMs: 10, run, onError, isAbort: (e) => (e as { code?: string }).code === 'ABORTED' })
    void searches.runNow('stale')
    void searches.runNow('latest')
    calls[0]!.reject(new Error('stale failure')) // already aborted: its rejection is ABORTED first anyway
    calls[1]!.reject(Object.assign(new Error('worker crashed'), { code: 'WORKER_CRASHED' }))
    await vi.advanceTimersByTimeAsync(0)
    expect(onError).toHaveBeenCalledTimes(1)
    expect(onError.mock.calls[0]![0]).toMatchObject({ code: 'WORKER_CRASHED' })
    expect(onError.mock.calls[0]![1]).toBe('latest')
  })

  it('a non-abort failure of a superseded run is dropped too', async () => {
    const onError = vi.fn()
    let fail!: (error: unknown) => void
    const searches = latestWins<string>({
      delayMs: 10,
      // Ignores its signal: fails later with a real error.
      run: (input) => (input === 'a' ? new Promise((_, reject) => (fail = reject)) : Promise.resolve()),
      onError,
    })
    void searches.runNow('a')
    void searches.runNow('b')
    fail(new Error('late failure'))
    await vi.advanceTimersByTimeAsync(0)
    expect(onError).not.toHaveBeenCalled()
  })

  it('runNow skips the debounce and cancels a scheduled input; cancel drops everything', async () => {
    const { calls, run } = controllableRun()
    const searches = latestWins({ delayMs: 120, run })
    searches.schedule('typed')
    const done = searches.runNow('entered')
    await vi.advanceTimersByTimeAsync(500)
    expect(calls.map((c) => c.input)).toEqual(['entered'])
    calls[0]!.resolve()
    await expect(done).resolves.toBeUndefined()
    searches.schedule('later')
    searches.cancel()
    await vi.advanceTimersByTimeAsync(500)
    expect(calls).toHaveLength(1)
    expect(searches.busy).toBe(false)
  })

  it('cancel aborts the run in flight', async () => {
    const { calls, run } = controllableRun()
    const searches = latestWins({ delayMs: 0, run })
    void searches.runNow('q')
    searches.cancel()
    expect(calls[0]!.context.signal.aborted).toBe(true)
    expect(calls[0]!.context.isLatest()).toBe(false)
  })
})

describe('isAbortError', () => {
  it('knows winnow’s ABORTED code and DOM AbortErrors, nothing else', () => {
    expect(isAbortError({ code: 'ABORTED' })).toBe(true)
    expect(isAbortError(new DOMException('stop', 'AbortError'))).toBe(true)
    expect(isAbortError(Object.assign(new Error('x'), { code: 'WORKER_CRASHED' }))).toBe(false)
    expect(isAbortError(null)).toBe(false)
    expect(isAbortError('ABORTED')).toBe(false)
  })
})
