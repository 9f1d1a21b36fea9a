/**
 * One background merge round, in steps an add can slip between. Built without any lock (reads
 * only); then, under the write lock, a segment id is reserved (`manifest.staging`); its records
 * are written in steps of their own ({@link stagingSteps}), each a short transaction an add waits
 * for at most; and a last commit under the write lock names the segment and drops the merged ones.
 * A merge that does not finish (a closed tab) leaves its id in `staging`: the next merge, in any
 * tab, deletes what it wrote before planning its own. Merges hold the collection's merge lock
 * throughout, so that clean-up never races a merge still staging.
 */
import type { Coordination } from '../store/coordination.js'
import type { CollectionStore, Manifest, QuantizedBlockRecord, SegmentRecord, WriteBatch } from '../store/types.js'
import type { ChunkTable } from './chunkTable.js'
import { buildMerge, finishMerge, finishStaged, maxMergeRows, planMerge, segmentStats, stagedMerge, stagingSteps, withoutStaging, type MergeIndexOptions, type MergePlan } from './compaction.js'

/** What a merge needs of the engine whose collection it merges. */
export interface MergeHost {
  readonly name: string
  readonly store: CollectionStore
  readonly coordination: Coordination
  isClosed(): boolean
  /** Waits for the adds and deletes in flight ({@link WritesFirst.pause}); called between steps. */
  pause(): Promise<void>
  /** Brings the view up to date with the store (another tab's commits). */
  refresh(): Promise<void>
  current(): { table: ChunkTable; manifest: Manifest }
  /** How merges partition large segments (the ANN index). */
  index?: MergeIndexOptions
  /** What to merge next, instead of {@link planMerge} (an optimize: see `planOptimize`). */
  plan?: (table: ChunkTable, maxRows: number) => MergePlan | null
  /** Commits a batch as this engine's own (see LocalCommits): `committed` and `merged` follow it at once. */
  commit(batch: WriteBatch): Promise<void>
  /** After each commit, under the write lock: the manifest it wrote. */
  committed(manifest: Manifest): void
  /** After the merge's last commit, under the write lock: the view follows from what it wrote. */
  merged(removed: readonly number[], segment: SegmentRecord | null, quantized: QuantizedBlockRecord[]): void
}

/**
 * Merge rounds under the collection's merge lock until none is planned (a write that lands
 * meanwhile is planned with the rest); a failed or dropped round ends them quietly (it changed
 * nothing visible; the next write starts merges again). Each round that commits leaves fewer
 * segments or fewer tombstones, so the rounds end.
 *
 * @example
 * engine.compacting = runMerges(host)
 */
export async function runMerges(host: MergeHost): Promise<void> {
  await host.coordination
    .withMergeLock(host.name, async () => {
      while (!host.isClosed()) if (!(await mergeRound(host))) return
    })
    .catch(() => {})
}

/**
 * Plans and runs one merge; false when there was nothing to merge or the merge was dropped (its
 * segments were removed meanwhile). Call it under the collection's merge lock.
 *
 * @example
 * await coordination.withMergeLock(name, async () => { while (await mergeRound(host)); })
 */
export async function mergeRound(host: MergeHost): Promise<boolean> {
  const { store, coordination, name } = host
  await host.refresh()
  await clearStaging(host)
  const { table, manifest } = host.current()
  const plan = host.plan ? host.plan(table, maxMergeRows(manifest.dims)) : planMerge(segmentStats(table), maxMergeRows(manifest.dims))
  if (!plan) return false
  const built = await buildMerge(store, plan, manifest, (seq) => table.hasSeq(seq), () => host.pause(), host.index)
  const valid = () => !host.isClosed() && plan.segments.every((id) => host.current().table.segments.includes(id))

  // Reserve an id and write the merged segment's records ahead, step by step.
  let staged: ReturnType<typeof stagedMerge> = null
  if (built.putSegments?.length) {
    const id = await coordination.withWriteLock(name, async () => {
      await host.refresh()
      if (!valid()) return null
      const m = host.current().manifest
      const next: Manifest = { ...m, nextSegment: m.nextSegment + 1, generation: m.generation + 1, updatedAt: Date.now(), staging: [...(m.staging ?? []), m.nextSegment] }
      await host.commit({ manifest: next })
      host.committed(next)
      return m.nextSegment
    })
    if (id === null) return false
    staged = stagedMerge(built, id)!
    // A failed step leaves the id in `staging`; the next merge clears it.
    for (const step of stagingSteps(staged)) {
      await host.pause()
      await store.stage(step)
    }
    await host.pause()
  }

  return coordination.withWriteLock(name, async () => {
    await host.refresh()
    const m = host.current().manifest
    if (!valid()) {
      if (staged) {
        const next = withoutStaging({ ...m, generation: m.generation + 1, updatedAt: Date.now() }, staged.id)
        await host.commit({ manifest: next, deleteSegments: [staged.id] })
        host.committed(next)
      }
      return false
    }
    const batch = staged ? finishStaged(built, staged, m) : finishMerge(built, m)
    await host.commit(batch)
    host.committed(batch.manifest)
    host.merged(plan.segments, batch.putSegments?.[0] ?? null, staged ? staged.quantized : (batch.putQuantized ?? []))
    return true
  })
}

/** Deletes what merges that did not finish wrote (their ids in `manifest.staging`). */
async function clearStaging(host: MergeHost): Promise<void> {
  if (!host.current().manifest.staging?.length) return
  await host.coordination.withWriteLock(host.name, async () => {
    await host.refresh()
    const m = host.current().manifest
    const left = m.staging ?? []
    if (left.length === 0) return
    const { staging: _gone, ...rest } = m
    const next: Manifest = { ...rest, generation: m.generation + 1, updatedAt: Date.now() }
    await host.commit({ manifest: next, deleteSegments: left })
    host.committed(next)
  })
}

/**
 * Lets writes go first: a merge calls {@link pause} between its steps (a few thousand rows of
 * work), which waits until the adds and deletes in flight when it was called have finished. Writes
 * that start later do not extend that wait, so a stream of adds slows a merge but never stops it.
 *
 * @example
 * const writes = new WritesFirst()
 * await writes.track(() => engine.addNow(docs)) // in add()
 * await writes.pause()                           // in the merge, between steps
 */
export class WritesFirst {
  private started = 0
  private finished = 0
  private waiters: { until: number; resolve: () => void }[] = []

  async track<T>(work: () => Promise<T>): Promise<T> {
    this.started++
    try {
      return await work()
    } finally {
      this.finished++
      this.waiters = this.waiters.filter((w) => (w.until <= this.finished ? (w.resolve(), false) : true))
    }
  }

  /** Yields to the event loop, then waits for the writes in flight now. */
  async pause(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 0))
    const until = this.started
    if (until > this.finished) await new Promise<void>((resolve) => this.waiters.push({ until, resolve }))
  }
}
