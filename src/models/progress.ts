import type { LoadProgress } from '../types.js'

/** The events transformers.js reports through `progress_callback` that winnow reads. */
export interface LoaderEvent {
  status: string
  file?: string
  loaded?: number
  total?: number
}

/**
 * Turns transformers.js per-file events (tokenizer and model load in parallel, each with its own
 * totals) into one stream with an overall fraction over every file of the load.
 *
 * @example
 * const progress = new ProgressTracker('m', (e) => bar.value = e.overall)
 * AutoTokenizer.from_pretrained('m', { progress_callback: progress.listener })
 */
export class ProgressTracker {
  private readonly files = new Map<string, { loaded: number; total: number }>()

  constructor(
    private readonly model: string,
    private readonly emit: (event: LoadProgress) => void,
  ) {}

  readonly listener = (event: LoaderEvent): void => {
    const file = event.file
    if (!file) return
    if (event.status === 'progress' && typeof event.loaded === 'number') {
      const total = typeof event.total === 'number' && event.total > 0 ? event.total : event.loaded
      this.files.set(file, { loaded: event.loaded, total })
      this.send('progress', file)
    } else if (event.status === 'done') {
      const seen = this.files.get(file)
      if (seen) seen.loaded = seen.total
      else this.files.set(file, { loaded: 0, total: 0 })
      this.send('done', file)
    }
  }

  /** Reports that the model can run. */
  ready(): void {
    for (const f of this.files.values()) f.loaded = f.total
    this.send('ready', '')
  }

  private send(status: LoadProgress['status'], file: string): void {
    let loaded = 0
    let total = 0
    for (const f of this.files.values()) {
      loaded += f.loaded
      total += f.total
    }
    const own = this.files.get(file)
    this.emit({
      model: this.model,
      status,
      file,
      loaded: own?.loaded ?? loaded,
      total: own?.total ?? total,
      overall: status === 'ready' ? 1 : total > 0 ? Math.min(1, loaded / total) : 0,
    })
  }
}
