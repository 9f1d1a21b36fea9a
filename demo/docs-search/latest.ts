/**
 * "Latest wins" for search as you type: each new input aborts the search in flight at once (the
 * worker stops scoring for a query nobody waits for), waits for a quiet moment (debounce), then
 * runs. A run learns through `isLatest()` whether it may still touch the page, so a slow, stale
 * search can never overwrite a newer one's results, and its abort error is swallowed here.
 */

/** What each run gets. */
export interface RunContext {
  /** Aborted as soon as a newer input arrives, or on `cancel()`. */
  signal: AbortSignal
  /** True while no newer input has arrived: check it before every render. */
  isLatest(): boolean
}

/** setTimeout / clearTimeout, injectable for tests. */
export interface Timers {
  set(callback: () => void, ms: number): unknown
  clear(handle: unknown): void
}

/** Options of {@link latestWins}. */
export interface LatestWinsOptions<T> {
  /** Quiet time before a scheduled input runs, in ms. */
  delayMs: number
  /** The work: render through `context.isLatest()`. */
  run(input: T, context: RunContext): Promise<void>
  /** A failure of the latest run that is not an abort. Stale runs' failures are dropped. */
  onError?(error: unknown, input: T): void
  /** Which errors are aborts. Default: an object whose `code` is `'ABORTED'` or `name` is `'AbortError'`. */
  isAbort?(error: unknown): boolean
  timers?: Timers
}

/** The controller. */
export interface LatestWins<T> {
  /** Aborts the run in flight and runs `input` after `delayMs` without a newer call. */
  schedule(input: T): void
  /** Aborts the run in flight and runs `input` now; resolves when it is done (never rejects). */
  runNow(input: T): Promise<void>
  /** Aborts the run in flight and drops a scheduled one. */
  cancel(): void
  /** Whether a run is scheduled or in flight. */
  readonly busy: boolean
}

/** The default abort test: winnow's `ABORTED` code or a DOM `AbortError`. */
export function isAbortError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const e = error as { code?: unknown; name?: unknown }
  return e.code === 'ABORTED' || e.name === 'AbortError'
}

const defaultTimers: Timers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/**
 * @example
 * const searches = latestWins({
 *   delayMs: 120,
 *   run: async (q, { signal, isLatest }) => {
 *     const hits = await docs.search(q, { signal })
 *     if (isLatest()) render(hits)
 *   },
 *   onError: (error) => showError(error),
 * })
 * input.addEventListener('input', () => searches.schedule(input.value))
 */
export function latestWins<T>(options: LatestWinsOptions<T>): LatestWins<T> {
  const timers = options.timers ?? defaultTimers
  const isAbort = options.isAbort ?? isAbortError
  let generation = 0
  let timer: unknown = null
  let controller: AbortController | null = null

  function supersede(): number {
    generation++
    if (timer !== null) timers.clear(timer)
    timer = null
    controller?.abort()
    controller = null
    return generation
  }

  async function start(input: T, mine: number): Promise<void> {
    const own = new AbortController()
    controller = own
    const isLatest = () => mine === generation && !own.signal.aborted
    try {
      await options.run(input, { signal: own.signal, isLatest })
    } catch (error) {
      if (isLatest() && !isAbort(error)) options.onError?.(error, input)
    } finally {
      if (controller === own) controller = null
    }
  }

  return {
    schedule(input) {
      const mine = supersede()
      timer = timers.set(() => {
        timer = null
        void start(input, mine)
      }, options.delayMs)
    },
    runNow(input) {
      return start(input, supersede())
    },
    cancel() {
      supersede()
    },
    get busy() {
      return timer !== null || controller !== null
    },
  }
}
