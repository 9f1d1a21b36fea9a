/**
 * How a collection reads the int8 blocks its reopen left unread (`ChunkTable.vectorsPending`): in
 * the background shortly after the open, or for the first vector search if it comes sooner.
 */
import { WinnowError } from '../errors.js'
import type { CollectionStore, QuantizedBlockRecord } from '../store/types.js'
import type { ChunkTable } from './chunkTable.js'

/**
 * How long after an open its int8 blocks are read in the background. Read with the open, or at
 * once after it, they slowed a keyword search made right after it and did not speed up vectors.
 */
export const INT8_PREFETCH_MS = 300

/** Int8 runs per read of {@link readInt8}: about 3 MiB at 384 dims. */
const INT8_READ_RUNS = 2

/**
 * Reads the int8 blocks of `segments`, a few runs at a time where the store can: one 37 MiB read
 * would hold up a keyword search's requests behind it for its whole length.
 *
 * @example
 * table.loadInt8(await readInt8(store, table.pendingSegments()))
 */
export async function readInt8(store: CollectionStore, segments: readonly number[]): Promise<QuantizedBlockRecord[]> {
  if (!store.readQuantizedPart) return store.readQuantized(segments)
  const out: QuantizedBlockRecord[] = []
  for (const segment of segments) for await (const blocks of int8Parts(store, segment, INT8_READ_RUNS)) out.push(...blocks)
  return out
}

/**
 * One segment's int8 blocks, `runs` runs a read where the store can (else all in one): a caller
 * may let other requests pass between the parts.
 *
 * @example
 * for await (const blocks of int8Parts(store, 7, 4)) use(blocks)
 */
export async function* int8Parts(store: CollectionStore, segment: number, runs: number): AsyncGenerator<QuantizedBlockRecord[]> {
  if (!store.readQuantizedPart) {
    yield await store.readQuantized([segment])
    return
  }
  for (let from: number | null = 0; from !== null; ) {
    const part: { blocks: QuantizedBlockRecord[]; next: number | null } = await store.readQuantizedPart(segment, from, runs)
    yield part.blocks
    from = part.next
  }
}

/**
 * One collection's int8 loading: one read shared by concurrent callers, a failed one failing its
 * waiters and not kept, the blocks placed into whatever table is current when they arrive.
 *
 * @example
 * const int8 = new Int8Loader({ name, store, table: () => engine.table, refresh: () => engine.refresh() })
 * int8.schedule()        // after a lazy open
 * await int8.load()      // before a vector scan
 */
export class Int8Loader {
  /** Whether reloads read the int8 blocks too: once a read of them began. */
  wanted = false
  private loading: Promise<void> | null = null
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(private readonly host: { name: string; store: CollectionStore; table(): ChunkTable; refresh(): Promise<void> }) {}

  /** Reads them in the background after `ms` (a search may read them sooner). */
  schedule(ms = INT8_PREFETCH_MS): void {
    this.timer = setTimeout(() => void this.load().catch(() => {}), ms)
  }

  cancel(): void {
    clearTimeout(this.timer)
  }

  /** Resolves once the current table has no pending segment. A segment another tab merged away meanwhile is caught up by a refresh, which reloads. */
  async load(): Promise<void> {
    const { host } = this
    for (let round = 0; host.table().vectorsPending; round++) {
      if (round > 0) await host.refresh()
      if (!host.table().vectorsPending) return
      if (round > 2) throw new WinnowError('INTERNAL', `collection '${host.name}': the int8 blocks of segments ${host.table().pendingSegments().join(', ')} could not be read`)
      if (!this.loading) this.start(readInt8(host.store, host.table().pendingSegments()))
      await this.loading
    }
  }

  private start(read: Promise<QuantizedBlockRecord[]>): void {
    this.wanted = true
    const loading = read.then((loaded) => this.host.table().loadInt8(loaded)).finally(() => {
      if (this.loading === loading) this.loading = null
    })
    loading.catch(() => {})
    this.loading = loading
  }
}
