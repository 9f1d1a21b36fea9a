/**
 * This engine's own commits, between their transaction and the view change that follows it.
 *
 * A commit's caller awaits the store and then changes the view synchronously (tombstones, the new
 * segment, the manifest). The store may still await work after the transaction is durable (the
 * list files of merged segments are removed then), and a read's refresh running meanwhile finds a
 * stored generation the view lacks: applied by the refresh and again by the caller, a segment sat
 * in the view twice (its passages counted twice, a later add of one of them "replacing" a copy).
 * A refresh therefore applies what it read only when no local commit is landing and the view has
 * not changed since it started; otherwise it waits for the commit and reads again.
 *
 * @example
 * const local = new LocalCommits()
 * await local.commit(store, batch); applyToView(batch); local.changed()
 * // in a refresh: const v = local.version; ...reads...; if (await local.stale(v)) retry()
 */
import type { CollectionStore, WriteBatch } from '../store/types.js'

export class LocalCommits {
  /** Bumped by every change of the view (a local commit applied, a refresh applied). */
  version = 0
  private readonly landing = new Set<Promise<void>>()

  /** Commits through `store`; the caller changes the view right after it resolves, then calls {@link changed}. */
  commit(store: CollectionStore, batch: WriteBatch): Promise<void> {
    const run = store.commit(batch)
    this.landing.add(run)
    // Queued behind the caller's own continuation (registered after this): the caller has applied
    // the commit to the view by the time it leaves the set.
    const leave = () => queueMicrotask(() => this.landing.delete(run))
    run.then(leave, leave)
    return run
  }

  changed(): void {
    this.version++
  }

  /**
   * Whether reads made since `version` may be stale: a local commit is landing (waited for) or
   * the view changed meanwhile. The caller then reads again.
   */
  async stale(version: number): Promise<boolean> {
    if (this.landing.size > 0) {
      await Promise.allSettled([...this.landing])
      return true
    }
    return version !== this.version
  }
}
