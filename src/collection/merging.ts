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
import type { CollectionStore, Manifest, QuantizedBlockRecord, SegmentRecord } from '../store/types.js'
import type { ChunkTable } from './chunkTable.js'
import { buildMerge, finishMerge, finishStaged, planMerge, segmentStats, stagedMerge, stagingSteps, withoutStaging } from './compaction.js'

/** What a merge needs of the engine whose collection it merges. */
export interface MergeHost {
  readonly name: string
  readonly store: CollectionStore
  readonly coordination: Coordination
  isClosed(): boolean
  /** Brings the view up to date with the store (another tab's commits). */
  refresh(): Promise<void>
  current(): { table: ChunkTable; manifest: Manifest }
  /** After each commit, under the write lock: the manifest it wrote. */
  committed(manifest: Manifest): void
  /** After the merge's last commit, under the write lock: the view follows from what it wrote. */
  merged(removed: readonly number[], segment: SegmentRecord | null, quantized: QuantizedBlockRecord[]): void
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
  const plan = planMerge(segmentStats(table))
  if (!plan) return false
  const built = await buildMerge(store, plan, manifest, (seq) => table.hasSeq(seq))
  const valid = () => !host.isClosed() && plan.segments.every((id) => host.current().table.segments.includes(id))

  // Reserve an id and write the merged segment's records ahead, step by step.
  let staged: ReturnType<typeof stagedMerge> = null
  if (built.putSegments?.length) {
    const id = await coordination.withWriteLock(name, async () => {
      await host.refresh()
      if (!valid()) return null
      const m = host.current().manifest
      const next: Manifest = { ...m, nextSegment: m.nextSegment + 1, generation: m.generation + 1, updatedAt: Date.now(), staging: [...(m.staging ?? []), m.nextSegment] }
      await store.commit({ manifest: next })
      host.committed(next)
      return m.nextSegment
    })
    if (id === null) return false
    staged = stagedMerge(built, id)!
    // A failed step leaves the id in `staging`; the next merge clears it.
    for (const step of stagingSteps(staged)) await store.stage(step)
  }

  return coordination.withWriteLock(name, async () => {
    await host.refresh()
    const m = host.current().manifest
    if (!valid()) {
      if (staged) {
        const next = withoutStaging({ ...m, generation: m.generation + 1, updatedAt: Date.now() }, staged.id)
        await store.commit({ manifest: next, deleteSegments: [staged.id] })
        host.committed(next)
      }
      return false
    }
    const batch = staged ? finishStaged(built, staged, m) : finishMerge(built, m)
    await store.commit(batch)
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
    await host.store.commit({ manifest: next, deleteSegments: left })
    host.committed(next)
  })
}
