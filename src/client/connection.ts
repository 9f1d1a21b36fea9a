import * as Comlink from 'comlink'
import { WinnowError } from '../errors.js'
import { ALIVE_MESSAGE, DEVICE_LOST_MESSAGE, LOCK_PREFIX, type WorkerApi, type WorkerPulse } from '../worker/protocol.js'
import { DEFAULT_HANG_TIMEOUT_MS, Heartbeat, type HangReport } from './heartbeat.js'

/** Makes a worker with the given name (the name doubles as its liveness lock). */
export type SpawnWorker = (name: string) => Worker

/** Options of one {@link WorkerConnection.call}. */
export interface CallOptions {
  signal?: AbortSignal
  /** Runs when the signal fires while the call is pending, with the worker the call went to (to tell it to stop). */
  onAbort?: (api: Comlink.Remote<WorkerApi>) => void
  /** The call loads models: the worker may be silent for longer meanwhile (see `loadSilenceMs` in heartbeat.ts). */
  load?: boolean
}

/** What a worker reports outside of call results. */
export interface ConnectionEvents {
  /** The live worker lost its WebGPU device (it can no longer run its models). */
  onDeviceLost?: (loss: { reason: string; message: string }) => void
}

/** How the connection watches its worker. */
export interface ConnectionOptions {
  /** See `WinnowOptions.hangTimeoutMs`; `Infinity` turns the heartbeat off. Default 60 s. */
  hangTimeoutMs?: number
}

let connectionCounter = 0

/**
 * Owns at most one live worker and every call pending on it. Comlink alone would leave calls
 * hanging forever when a worker dies; here every pending call is rejected with WORKER_CRASHED when
 * the worker reports an uncaught error or — detected through a Web Lock the worker holds for its
 * whole life — stops existing for any reason (crash, `close()`, out of memory). A worker that
 * lives but is stuck (a loop that never ends, a GPU queue that never completes) is found by a
 * {@link Heartbeat} while calls are pending: it is stopped and they reject with
 * WORKER_UNRESPONSIVE. The next {@link api} call starts a fresh worker.
 *
 * @example
 * const connection = new WorkerConnection((name) => new Worker(url, { type: 'module', name }))
 * const value = await connection.call((api) => api.rerank(1, q, docs), { signal })
 */
export class WorkerConnection {
  private worker: Worker | null = null
  private remote: Comlink.Remote<WorkerApi> | null = null
  private watch: AbortController | null = null
  private readonly pending = new Set<(error: WinnowError) => void>()
  private closed: WinnowError | null = null
  private readonly id = ++connectionCounter
  private generation = 0
  private heartbeat: Heartbeat | null = null
  private readonly hangTimeoutMs: number
  /** Pending calls that load models. */
  private loads = 0

  constructor(
    private readonly spawn: SpawnWorker,
    private readonly events: ConnectionEvents = {},
    options: ConnectionOptions = {},
  ) {
    this.hangTimeoutMs = options.hangTimeoutMs ?? DEFAULT_HANG_TIMEOUT_MS
  }

  /** Whether a worker is running now. */
  get alive(): boolean {
    return this.worker !== null
  }

  /** Incremented each time a new worker starts; lets callers notice a restart. */
  get workerGeneration(): number {
    return this.generation
  }

  /** The live worker's API, starting a worker when none runs. */
  api(): Comlink.Remote<WorkerApi> {
    if (this.closed) throw this.closed
    if (this.remote) return this.remote
    const generation = ++this.generation
    const name = `${LOCK_PREFIX}${this.id}-${generation}-${Math.random().toString(36).slice(2)}`
    const worker = this.spawn(name)
    const watch = new AbortController()
    worker.addEventListener('error', (event) => {
      event.preventDefault?.()
      this.crashed(generation, `the worker failed${event.message ? `: ${event.message}` : ''}`)
    })
    worker.addEventListener('messageerror', () => this.crashed(generation, 'the worker sent a message that could not be read'))
    worker.addEventListener('message', (event: MessageEvent) => {
      if (event.data?.type === DEVICE_LOST_MESSAGE && generation === this.generation && this.worker) this.events.onDeviceLost?.(event.data.loss)
      if (event.data?.type !== ALIVE_MESSAGE) return
      // The worker holds this lock until it is gone; our request is granted only then.
      void navigator.locks
        ?.request(name, { signal: watch.signal }, () => this.crashed(generation, 'the worker stopped running'))
        .catch(() => {})
    })
    this.worker = worker
    this.watch = watch
    const remote = Comlink.wrap<WorkerApi>(worker)
    this.remote = remote
    this.heartbeat = new Heartbeat({
      timeoutMs: this.hangTimeoutMs,
      loading: () => this.loads > 0,
      ping: () => remote.ping() as Promise<WorkerPulse>,
      onHung: (report) => this.hung(generation, report),
    })
    return remote
  }

  /**
   * Runs `fn` against the worker. Rejects with ABORTED as soon as `signal` fires (without waiting for
   * the worker), with WORKER_CRASHED if the worker dies first, or DISPOSED after {@link close}.
   */
  call<T>(fn: (api: Comlink.Remote<WorkerApi>) => Promise<T>, options: CallOptions = {}): Promise<T> {
    const { signal } = options
    if (signal?.aborted) return Promise.reject(abortError(signal))
    let api: Comlink.Remote<WorkerApi>
    try {
      api = this.api()
    } catch (e) {
      return Promise.reject(e)
    }
    const heartbeat = this.heartbeat
    return new Promise<T>((resolve, reject) => {
      let settled = false
      const settle = () => {
        if (!settled && options.load) this.loads--
        settled = true
        this.pending.delete(fail)
        if (this.pending.size === 0) heartbeat?.stop()
        signal?.removeEventListener('abort', onAbort)
      }
      const fail = (error: WinnowError) => {
        settle()
        reject(error)
      }
      const onAbort = () => {
        fail(abortError(signal!))
        try {
          options.onAbort?.(api)
        } catch {
          // the worker may already be gone; nothing to stop then
        }
      }
      this.pending.add(fail)
      if (options.load) this.loads++
      // Watched while anything is pending; an idle worker cannot keep a call waiting.
      heartbeat?.start()
      signal?.addEventListener('abort', onAbort, { once: true })
      let sent: Promise<T>
      try {
        sent = fn(api)
      } catch (error) {
        // Comlink reads the arguments synchronously (a revoked Proxy throws there): a bad argument.
        fail(toWinnowError(error, 'INVALID_INPUT'))
        return
      }
      sent.then(
        (value) => {
          settle()
          resolve(value)
        },
        (error: unknown) => fail(toWinnowError(error)),
      )
    })
  }

  /** Stops the worker (if any) and rejects pending calls with `reason`; the next call starts a new one. */
  restart(reason: WinnowError): void {
    this.stop(reason)
  }

  /** Stops for good: pending and future calls reject with `reason`. */
  close(reason: WinnowError): void {
    this.closed = reason
    this.stop(reason)
  }

  private crashed(generation: number, why: string): void {
    if (generation !== this.generation || !this.worker) return
    this.stop(new WinnowError('WORKER_CRASHED', `${why}; pending calls were rejected and the next call starts a new worker`))
  }

  private hung(generation: number, report: HangReport): void {
    if (generation !== this.generation || !this.worker) return
    const what =
      report.reason === 'silent'
        ? `the worker answered no heartbeat for ${report.ms} ms (something blocks it)`
        : `the worker's running call made no progress for ${report.ms} ms (a GPU queue that never completes?)`
    this.stop(
      new WinnowError(
        'WORKER_UNRESPONSIVE',
        `${what}; it was stopped, pending calls were rejected, and the next call starts a new worker. If your device is this slow, raise hangTimeoutMs (now ${this.hangTimeoutMs} ms)`,
        { reason: report.reason, ms: report.ms, hangTimeoutMs: this.hangTimeoutMs },
      ),
    )
  }

  private stop(reason: WinnowError): void {
    const worker = this.worker
    this.heartbeat?.stop()
    this.heartbeat = null
    this.watch?.abort()
    this.remote?.[Comlink.releaseProxy]()
    this.worker = null
    this.remote = null
    this.watch = null
    worker?.terminate()
    for (const fail of [...this.pending]) fail(reason)
  }
}

/**
 * Runs a call that changes nothing (rerank, search, get, count, info) once more when it failed with
 * DEVICE_LOST: the loss moved the instance to WASM (a new worker, loading already), so the second
 * run happens there and the caller never sees the loss. Writes are not retried this way: one that
 * failed may have to be checked first, and the caller decides.
 *
 * @example
 * const hits = await retryAfterDeviceLoss(signal, () => search(query))
 */
export async function retryAfterDeviceLoss<T>(signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    if (!(error instanceof WinnowError) || error.code !== 'DEVICE_LOST' || signal?.aborted) throw error
    return run()
  }
}

/** The ABORTED error for a signal, keeping its reason as `cause`. */
export function abortError(signal: AbortSignal): WinnowError {
  return new WinnowError('ABORTED', 'the call was aborted', {}, { cause: signal.reason })
}

/**
 * Failures of the transport itself: an argument postMessage cannot clone (or comlink cannot read)
 * is the caller's mistake.
 */
function toWinnowError(error: unknown, fallback: 'INTERNAL' | 'INVALID_INPUT' = 'INTERNAL'): WinnowError {
  if (error instanceof WinnowError) return error
  if ((error as { name?: string } | null)?.name === 'DataCloneError' || fallback === 'INVALID_INPUT') {
    return new WinnowError(
      'INVALID_INPUT',
      `an argument cannot be sent to the worker (${error instanceof Error ? error.message : String(error)}); use plain objects, strings, numbers, arrays and typed arrays`,
    )
  }
  return new WinnowError('INTERNAL', String(error))
}
