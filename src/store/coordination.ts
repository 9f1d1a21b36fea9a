/**
 * How tabs (and their workers) share a collection: writes take an exclusive Web Lock named after
 * the collection, and every commit is announced on a BroadcastChannel so other tabs refresh their
 * in-memory view before their next read. A snapshot collection's pointer moving to a new version
 * is announced on the same channel as a message of its own kind, so mirrors in other tabs swap.
 */
export interface Coordination {
  /** Runs `work` while holding the collection's write lock (across tabs where Web Locks exist). */
  withWriteLock<T>(collection: string, work: () => Promise<T>): Promise<T>
  /**
   * Runs `work` while holding the collection's merge lock: one merge at a time across tabs, so
   * the merge that clears what an unfinished one staged never races one still staging.
   */
  withMergeLock<T>(collection: string, work: () => Promise<T>): Promise<T>
  /** Tells other tabs that `collection` changed (generation = the manifest's new generation). */
  announce(collection: string, generation: number): void
  /** Calls `listener` when another tab announces a change; returns an unsubscribe function. */
  subscribe(listener: (collection: string, generation: number) => void): () => void
  /** Tells other tabs that the snapshot collection `collection`'s version pointer moved. */
  announcePointer(collection: string): void
  /** Calls `listener` when another tab announces a moved pointer; returns an unsubscribe function. */
  subscribePointers(listener: (collection: string) => void): () => void
  close(): void
}

const LOCK_PREFIX = 'winnow-collection:'
const MERGE_LOCK_PREFIX = 'winnow-merge:'
const CHANNEL = 'winnow-collections'

/** The channel's messages: a commit (`{ collection, generation }`) or a moved snapshot pointer. */
type Message = { collection: string; generation: number } | { kind: 'pointer'; collection: string }

interface LockManagerLike {
  request<T>(name: string, options: { mode: 'exclusive' }, callback: () => Promise<T>): Promise<T>
}

/**
 * Web Locks + BroadcastChannel where they exist (browsers, including workers); otherwise an
 * in-process mutex and, in Node, a process-local BroadcastChannel.
 *
 * @example
 * const coordination = createCoordination()
 * await coordination.withWriteLock('handbook', () => store.commit(batch))
 */
export function createCoordination(scope: { navigator?: { locks?: unknown } } = globalThis): Coordination {
  const locks = scope.navigator?.locks as LockManagerLike | undefined
  const local = new Map<string, Promise<unknown>>()
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null
  const listeners = new Set<(collection: string, generation: number) => void>()
  const pointerListeners = new Set<(collection: string) => void>()
  if (channel) {
    channel.onmessage = (event: MessageEvent) => {
      const data = event.data as { kind?: unknown; collection?: unknown; generation?: unknown } | null
      if (typeof data?.collection !== 'string') return
      if (data.kind === 'pointer') {
        for (const l of pointerListeners) l(data.collection)
        return
      }
      if (data.kind !== undefined || typeof data.generation !== 'number') return
      for (const l of listeners) l(data.collection, data.generation)
    }
    // Node keeps the process alive while a BroadcastChannel is open.
    ;(channel as unknown as { unref?: () => void }).unref?.()
  }
  const exclusive = <T>(name: string, work: () => Promise<T>): Promise<T> => {
    if (locks) return locks.request(name, { mode: 'exclusive' }, work)
    const previous = local.get(name) ?? Promise.resolve()
    const run = previous.then(work, work)
    local.set(
      name,
      run.catch(() => {}),
    )
    return run
  }
  return {
    withWriteLock(collection, work) {
      return exclusive(LOCK_PREFIX + collection, work)
    },
    withMergeLock(collection, work) {
      return exclusive(MERGE_LOCK_PREFIX + collection, work)
    },
    announce(collection, generation) {
      channel?.postMessage({ collection, generation } satisfies Message)
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    announcePointer(collection) {
      channel?.postMessage({ kind: 'pointer', collection } satisfies Message)
    },
    subscribePointers(listener) {
      pointerListeners.add(listener)
      return () => pointerListeners.delete(listener)
    },
    close() {
      listeners.clear()
      pointerListeners.clear()
      channel?.close()
    },
  }
}
