import { WinnowError } from '../errors.js'
import type { LoadedCrossEncoder } from '../models/loadCrossEncoder.js'
import type { RerankerPort } from '../search/types.js'
import { pairTokens, ThroughputMeter } from '../rank/throughput.js'
import type { Dtype } from '../types.js'
import type { Checkpoint } from '../core/checkpoint.js'
import type { SerialQueue } from '../models/queue.js'

/** A loaded reranker with its measured speed. */
export interface RerankerEntry {
  model: string
  dtype: Dtype
  loaded: LoadedCrossEncoder
  meter: ThroughputMeter
}

/** Queue id of calibration runs: never cancelled by a caller. */
const CALIBRATION = -2
/** Pairs per calibration run: enough to time a batch, little enough to keep start-up short. */
const CALIBRATION_PAIRS = 2
/** A passage of about 150 tokens, the size of a typical chunk's first half; the words do not matter. */
const CALIBRATION_PASSAGE = Array.from({ length: 110 }, (_, i) => ['memory', 'leak', 'garbage', 'collector', 'reference', 'heap', 'page', 'worker', 'index', 'query', 'passage'][i % 11]).join(' ')
const CALIBRATION_QUERY = 'what causes memory leaks in a long running page'

/**
 * The worker's rerankers, by model and dtype: the instance's own one, plus any a search names
 * (`rerank: { model }` or a cascade), each loaded once on first use and shared by every
 * collection. A failed load is forgotten, so the next search tries again. Each reranker is
 * calibrated once loaded (a warm-up run, then a timed one) and re-timed by every run after.
 *
 * @example
 * const pool = new RerankerPool(queue, (model, dtype) => loadCrossEncoder({ model, dtype, device: 'wasm' }), resolveDtype)
 * const entry = await pool.get('Xenova/ms-marco-TinyBERT-L-2-v2')
 * const logits = await pool.port(entry, callId, checkpoint).score(query, passages)
 */
export class RerankerPool {
  private readonly entries = new Map<string, Promise<RerankerEntry>>()
  private defaultKey: string | null = null

  constructor(
    private readonly queue: SerialQueue,
    private readonly load: (model: string, dtype: Dtype) => Promise<LoadedCrossEncoder>,
    /** The dtype this device uses for a stage's choice (throws for one it cannot run). */
    private readonly resolveDtype: (choice: unknown) => Dtype,
  ) {}

  /** Registers the instance's reranker (loaded at init; disposed by its owner, not here). */
  setDefault(model: string, dtype: Dtype, loaded: LoadedCrossEncoder): void {
    const key = keyOf(model, dtype)
    this.defaultKey = key
    this.entries.set(key, this.calibrated({ model, dtype, loaded, meter: new ThroughputMeter() }))
  }

  /** The reranker for `model` (null: the instance's own) at `dtype` (default: the device's default). */
  get(model: string | null, dtype?: unknown): Promise<RerankerEntry> {
    if (dtype === undefined && this.defaultKey !== null && (model === null || model === this.defaultModel())) {
      return this.entries.get(this.defaultKey)!
    }
    if (model === null && this.defaultKey === null) return Promise.reject(new WinnowError('INTERNAL', 'no default reranker'))
    const name = model ?? this.defaultModel()
    let resolved: Dtype
    try {
      resolved = this.resolveDtype(dtype)
    } catch (error) {
      return Promise.reject(error)
    }
    const key = keyOf(name, resolved)
    let entry = this.entries.get(key)
    if (!entry) {
      entry = this.load(name, resolved).then((loaded) => this.calibrated({ model: name, dtype: resolved, loaded, meter: new ThroughputMeter() }))
      this.entries.set(key, entry)
      entry.catch(() => {
        if (this.entries.get(key) === entry) this.entries.delete(key)
      })
    }
    return entry
  }

  /**
   * A pipeline port over `entry` for one call: runs through the worker's queue under `callId` (so
   * a cancel drops it), and times the model's own work (not the wait in the queue) for the meter.
   */
  port(entry: RerankerEntry, callId: number, checkpoint: Checkpoint): RerankerPort {
    const { encoder } = entry.loaded
    return {
      model: entry.model,
      dtype: entry.dtype,
      maxLength: encoder.settings.maxLength,
      meter: entry.meter,
      score: (query, passages) =>
        this.queue.run(callId, async (queueCheckpoint) => {
          const started = performance.now()
          const scores = await encoder.score(query, passages, async () => {
            await queueCheckpoint()
            await checkpoint()
          })
          entry.meter.record(tokensOf(query, passages, encoder.settings.maxLength), performance.now() - started)
          return { logits: scores.logits, documentTokens: scores.documentTokens }
        }),
    }
  }

  /** Records a run made outside a pipeline (`winnow.rerank`), so the meter follows all use. */
  record(entry: RerankerEntry, query: string, passages: readonly string[], ms: number): void {
    entry.meter.record(tokensOf(query, passages, entry.loaded.encoder.settings.maxLength), ms)
  }

  /** Frees every reranker this pool loaded (not the instance's own). */
  async dispose(): Promise<void> {
    const owned = [...this.entries].filter(([key]) => key !== this.defaultKey).map(([, entry]) => entry)
    this.entries.clear()
    this.defaultKey = null
    await Promise.all(owned.map((entry) => entry.then((e) => e.loaded.dispose()).catch(() => {})))
  }

  private defaultModel(): string {
    if (this.defaultKey === null) throw new WinnowError('INTERNAL', 'no default reranker')
    return this.defaultKey.slice(0, this.defaultKey.lastIndexOf('@'))
  }

  /** Warm-up (first runs pay for kernel compilation and allocation), then one timed run. */
  private async calibrated(entry: RerankerEntry): Promise<RerankerEntry> {
    const passages = Array.from({ length: CALIBRATION_PAIRS }, () => CALIBRATION_PASSAGE)
    const { encoder } = entry.loaded
    await this.queue
      .run(CALIBRATION, async () => {
        await encoder.score(CALIBRATION_QUERY, passages)
        const started = performance.now()
        await encoder.score(CALIBRATION_QUERY, passages)
        this.record(entry, CALIBRATION_QUERY, passages, performance.now() - started)
      }, { warmUp: true })
      .catch(() => {
        // Uncalibrated: the first real run measures it; a model that cannot run fails there, typed.
      })
    return entry
  }
}

function keyOf(model: string, dtype: Dtype): string {
  return `${model}@${dtype}`
}

function tokensOf(query: string, passages: readonly string[], maxLength: number): number {
  let total = 0
  for (const passage of passages) total += pairTokens(query, passage, maxLength)
  return total
}
