import { afterEach, describe, expect, it } from 'vitest'
import { createCoordination, type Coordination } from '../../src/store/coordination.js'

/** A name no other test uses, should a channel ever reach another file's tabs. */
const NAME = 'coordination.test'
const opened: Coordination[] = []
/** One tab's coordination (Node's BroadcastChannel reaches the others in this process). */
function tab(): Coordination {
  const c = createCoordination({})
  opened.push(c)
  return c
}

afterEach(() => {
  for (const c of opened.splice(0)) c.close()
})

/** Waits until `check` holds (messages cross the channel asynchronously). */
async function until(check: () => boolean): Promise<void> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > 2000) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('cross-tab coordination', () => {
  it('a commit reaches the other tabs’ commit listeners, never the pointer listeners, nor the tab that sent it', async () => {
    const a = tab()
    const b = tab()
    const commits: string[] = []
    const pointers: string[] = []
    const own: string[] = []
    b.subscribe((collection, generation) => commits.push(`${collection}@${generation}`))
    b.subscribePointers((collection) => pointers.push(collection))
    a.subscribe((collection) => own.push(collection))
    a.announce(NAME, 7)
    await until(() => commits.length === 1)
    await new Promise((r) => setTimeout(r, 20))
    expect(commits).toEqual([`${NAME}@7`])
    expect(pointers).toEqual([])
    expect(own).toEqual([])
  })

  it('a moved snapshot pointer is a message of its own kind: pointer listeners get the collection, commit listeners nothing', async () => {
    const a = tab()
    const b = tab()
    const commits: string[] = []
    const pointers: string[] = []
    b.subscribe((collection) => commits.push(collection))
    b.subscribePointers((collection) => pointers.push(collection))
    a.announcePointer(NAME)
    await until(() => pointers.length === 1)
    await new Promise((r) => setTimeout(r, 20))
    expect(pointers).toEqual([NAME])
    expect(commits).toEqual([])
  })

  it('unsubscribing and closing stop both kinds of listener', async () => {
    const a = tab()
    const b = tab()
    const c = tab()
    const heard: string[] = []
    const stopCommits = b.subscribe((collection) => heard.push(`b commit ${collection}`))
    const stopPointers = b.subscribePointers((collection) => heard.push(`b pointer ${collection}`))
    c.subscribe((collection) => heard.push(`c commit ${collection}`))
    c.subscribePointers((collection) => heard.push(`c pointer ${collection}`))
    stopCommits()
    stopPointers()
    c.close()
    a.announce(NAME, 1)
    a.announcePointer(NAME)
    await new Promise((r) => setTimeout(r, 30))
    expect(heard).toEqual([])
  })

  it('ignores messages that are neither a commit nor a pointer', async () => {
    const b = tab()
    const heard: string[] = []
    b.subscribe((collection) => heard.push(`commit ${collection}`))
    b.subscribePointers((collection) => heard.push(`pointer ${collection}`))
    const raw = new BroadcastChannel('winnow-collections')
    raw.postMessage({ collection: NAME })
    raw.postMessage({ kind: 'other', collection: NAME, generation: 3 })
    raw.postMessage(null)
    raw.postMessage({ kind: 'pointer', collection: 5 })
    raw.postMessage({ collection: NAME, generation: 2 })
    await until(() => heard.length === 1)
    await new Promise((r) => setTimeout(r, 20))
    raw.close()
    expect(heard).toEqual([`commit ${NAME}`])
  })
})

describe('locks', () => {
  for (const [kind, scope] of [
    ['Web Locks', { navigator: { locks: fakeLocks() } }],
    ['in-process', {}],
  ] as const) {
    it(`${kind}: the merge lock admits one merge at a time, and writes go on while a merge holds it`, async () => {
      const c = createCoordination(scope)
      opened.push(c)
      const order: string[] = []
      let release = () => {}
      const held = new Promise<void>((resolve) => (release = resolve))
      const first = c.withMergeLock(NAME, async () => {
        order.push('merge 1 starts')
        await held
        order.push('merge 1 ends')
      })
      const second = c.withMergeLock(NAME, async () => {
        order.push('merge 2 starts')
      })
      await c.withWriteLock(NAME, async () => {
        order.push('write')
      })
      release()
      await Promise.all([first, second])
      expect(order).toEqual(['merge 1 starts', 'write', 'merge 1 ends', 'merge 2 starts'])
    })
  }
})

/** A LockManager stand-in: exclusive locks by name, granted in request order. */
function fakeLocks() {
  const queues = new Map<string, Promise<unknown>>()
  return {
    request<T>(name: string, _options: { mode: 'exclusive' }, callback: () => Promise<T>): Promise<T> {
      const previous = queues.get(name) ?? Promise.resolve()
      const run = previous.then(callback, callback)
      queues.set(name, run.catch(() => {}))
      return run
    },
  }
}
