import type { WorkerPulse } from '../worker/protocol.js'

/** Default for `hangTimeoutMs`: a worker that says nothing, or makes no progress, for this long is hung. */
export const DEFAULT_HANG_TIMEOUT_MS = 60_000

/** Why a worker was found hung, and for how long it had been so. */
export interface HangReport {
  /** `'silent'`: it answered no heartbeat (its event loop is blocked); `'stalled'`: it answers, but its running task passed no checkpoint. */
  reason: 'silent' | 'stalled'
  ms: number
}

/**
 * How long a worker may stay silent (or stalled) while it loads or warms up a model, at least:
 * starting a worker (parsing its script, compiling WASM), creating a session and a first run
 * (compiling shaders) block it or run as one long step, for seconds on a slow device.
 */
export const MIN_LOAD_SILENCE_MS = 60_000
/** A load may stay silent this many times `hangTimeoutMs` (and at least {@link MIN_LOAD_SILENCE_MS}). */
export const LOAD_SILENCE_FACTOR = 5

/** The silence a load may keep, for a given `hangTimeoutMs`. */
export function loadSilenceMs(hangTimeoutMs: number): number {
  return Math.max(MIN_LOAD_SILENCE_MS, LOAD_SILENCE_FACTOR * hangTimeoutMs)
}

/** What a {@link Heartbeat} needs; the clock and timers are injectable for tests. */
export interface HeartbeatOptions {
  /** How long silence or a stall may last before `onHung`; it also sets the interval. */
  timeoutMs: number
  /** Whether the page knows a model load is pending (the worker then may be silent for {@link loadSilenceMs}). */
  loading?: () => boolean
  /** Sends one heartbeat; resolves with the worker's answer (or never, when it is hung). */
  ping: () => Promise<WorkerPulse>
  onHung: (report: HangReport) => void
  now?: () => number
  setInterval?: (fn: () => void, ms: number) => unknown
  clearInterval?: (timer: unknown) => void
}

/**
 * Tells a hung worker from a slow one while calls are pending. Every `timeoutMs / 6` (at most
 * 10 s) it sends a heartbeat that the worker answers whenever its event loop is free, that is
 * between two batches of a model run; the answer says whether a task runs and how far it got
 * (see `SerialQueue.pulse`). The worker is hung when no answer came for `timeoutMs` (a synchronous
 * loop that never ends: a batch of WASM work blocks the loop too, for seconds at most), or when
 * the answers say a task runs but has passed no checkpoint for `timeoutMs` (a WebGPU queue that
 * never completes). While a model loads or warms up (its first run compiles kernels or shaders in
 * one batch), either may last {@link loadSilenceMs} instead: starting a worker and creating a
 * session block its event loop, for seconds on a slow device, with nothing to answer between.
 *
 * Time is counted in ticks, each worth at most two intervals: a machine that slept, or a
 * background tab whose timers the browser throttled, does not find its worker hung on waking.
 *
 * @example
 * const heartbeat = new Heartbeat({ timeoutMs: 60_000, ping: () => remote.ping(), onHung: (r) => restart(r) })
 * heartbeat.start() // while calls are pending
 * heartbeat.stop()  // when none is
 */
export class Heartbeat {
  private timer: unknown = null
  private lastTick = 0
  private outstanding = false
  private sent = 0
  private silentMs = 0
  private stalledMs = 0
  private pulse: WorkerPulse | null = null
  private stallMark = -1
  private readonly intervalMs: number
  private readonly now: () => number
  private readonly setTimer: (fn: () => void, ms: number) => unknown
  private readonly clearTimer: (timer: unknown) => void

  constructor(private readonly options: HeartbeatOptions) {
    this.intervalMs = heartbeatInterval(options.timeoutMs)
    this.now = options.now ?? (() => performance.now())
    this.setTimer = options.setInterval ?? ((fn, ms) => setInterval(fn, ms))
    this.clearTimer = options.clearInterval ?? ((timer) => clearInterval(timer as ReturnType<typeof setInterval>))
  }

  /** Whether it is ticking. */
  get running(): boolean {
    return this.timer !== null
  }

  /** Starts ticking (no-op when it already is); the first heartbeat goes out at once. */
  start(): void {
    if (this.timer !== null || !Number.isFinite(this.options.timeoutMs)) return
    this.reset()
    this.lastTick = this.now()
    this.timer = this.setTimer(() => this.tick(), this.intervalMs)
    this.send()
  }

  /** Stops ticking and forgets what it measured; an answer still on its way is ignored. */
  stop(): void {
    if (this.timer !== null) this.clearTimer(this.timer)
    this.timer = null
    this.reset()
  }

  /** One tick: counts silence and stalls, reports a hang, sends the next heartbeat. */
  tick(): void {
    if (this.timer === null) return
    const now = this.now()
    const step = Math.min(Math.max(0, now - this.lastTick), 2 * this.intervalMs)
    this.lastTick = now
    if (this.outstanding) this.silentMs += step
    if (this.pulse?.busy && this.pulse.progress === this.stallMark) this.stalledMs += step
    // While a model loads or warms up (the page's pending call says so, or the worker's last answer did).
    const loading = this.options.loading?.() === true || this.pulse?.loading === true
    const limit = loading ? loadSilenceMs(this.options.timeoutMs) : this.options.timeoutMs
    if (this.silentMs >= limit || this.stalledMs >= limit) {
      const report: HangReport = this.silentMs >= limit ? { reason: 'silent', ms: Math.round(this.silentMs) } : { reason: 'stalled', ms: Math.round(this.stalledMs) }
      this.stop()
      this.options.onHung(report)
      return
    }
    if (!this.outstanding) this.send()
  }

  private send(): void {
    const id = ++this.sent
    this.outstanding = true
    this.options.ping().then(
      (pulse) => {
        if (id !== this.sent || this.timer === null) return
        this.outstanding = false
        this.silentMs = 0
        if (!pulse.busy || pulse.progress !== this.stallMark) {
          this.stalledMs = 0
          this.stallMark = pulse.progress
        }
        this.pulse = pulse
      },
      () => {
        // The worker is gone: the connection learns that through its own channels.
      },
    )
  }

  private reset(): void {
    this.sent++
    this.outstanding = false
    this.silentMs = 0
    this.stalledMs = 0
    this.pulse = null
    this.stallMark = -1
  }
}

/** A sixth of the timeout, between 50 ms and 10 s: several heartbeats fit in any timeout. */
export function heartbeatInterval(timeoutMs: number): number {
  return Math.min(10_000, Math.max(50, Math.floor(timeoutMs / 6)))
}
