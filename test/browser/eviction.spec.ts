/**
 * A collection that disappears under an open handle: deleted by deleteCollection in the same tab or
 * in another one, its database deleted from the page, or the origin's storage cleared by the browser
 * (CDP Storage.clearDataForOrigin, what "clear site data" and storage-pressure eviction do). Every
 * call of the old handle rejects with COLLECTION_DELETED (never INTERNAL, never a hang, never an
 * empty collection created in its place), and `winnow.collection(name)` then opens a clean one.
 */
import { expect, test, type Page } from '@playwright/test'
import { openHarness } from './helpers.js'

const BOUND_MS = 30_000
const DOCS = [
  { id: 'a', text: 'memory leaks in long running pages' },
  { id: 'b', text: 'garbage collection of detached nodes' },
  { id: 'c', text: 'a lighthouse on the rocky shore' },
]

/** Opens a keyword-only instance and collection `name` holding DOCS, as `window.instance` / `window.docs`. */
async function openCollection(page: Page, name: string): Promise<void> {
  await page.evaluate(
    async ({ name, docs }) => {
      const w = window as any
      w.instance = await w.winnowApi.createWinnow({ reranker: false })
      w.docs = await w.instance.collection(name)
      await w.docs.add(docs)
      // Every call of a handle, each as { code, reason } (or 'resolved'), bounded so none can hang.
      w.everyCall = async (handle: any, bound: number) => {
        const calls: Record<string, () => Promise<unknown>> = {
          count: () => handle.count(),
          get: () => handle.get('a'),
          info: () => handle.info(),
          search: () => handle.search('memory', { mode: 'keyword', k: 5 }),
          add: () => handle.add([{ id: 'late', text: 'written after the collection was gone' }]),
          delete: () => handle.delete(['a']),
          clear: () => handle.clear(),
        }
        const out: Record<string, string> = {}
        for (const [label, call] of Object.entries(calls)) {
          const timeout = new Promise((resolve) => setTimeout(() => resolve('TIMEOUT'), bound))
          out[label] = (await Promise.race([
            call().then(
              () => 'resolved',
              (e: any) => (e instanceof w.winnowApi.WinnowError ? `${e.code}/${e.details.reason ?? ''}` : `not a WinnowError: ${e}`),
            ),
            timeout,
          ])) as string
        }
        return out
      }
    },
    { name, docs: DOCS },
  )
}

/** After the old handle failed: the collection was not recreated, and a new open is clean and works. */
async function reopenIsClean(page: Page, name: string) {
  return page.evaluate(
    async ({ name, docs }) => {
      const w = window as any
      const listedAfterFailures = (await w.instance.listCollections()).includes(name)
      const fresh = await w.instance.collection(name)
      const countFresh = await fresh.count()
      await fresh.add(docs)
      const hits = (await fresh.search('lighthouse', { mode: 'keyword', k: 5 })).map((h: any) => h.id)
      const oldStillRefused = await w.docs.count().then(
        () => 'resolved',
        (e: any) => e.code,
      )
      await w.instance.deleteCollection(name)
      await w.instance.dispose()
      return { listedAfterFailures, countFresh, hits, oldStillRefused }
    },
    { name, docs: DOCS },
  )
}

const REFUSED = (reason: string) => ({ count: `COLLECTION_DELETED/${reason}`, get: `COLLECTION_DELETED/${reason}`, info: `COLLECTION_DELETED/${reason}`, search: `COLLECTION_DELETED/${reason}`, add: `COLLECTION_DELETED/${reason}`, delete: `COLLECTION_DELETED/${reason}`, clear: `COLLECTION_DELETED/${reason}` })

test('deleteCollection in the same tab: the old handle is refused with COLLECTION_DELETED, nothing is recreated, a new open is clean', async ({ page }) => {
  await openHarness(page)
  await openCollection(page, 'gone-here')
  const calls = await page.evaluate(async (bound) => {
    const w = window as any
    await w.instance.deleteCollection('gone-here')
    return w.everyCall(w.docs, bound)
  }, BOUND_MS)
  expect(calls).toEqual(REFUSED('deleted'))
  expect(await reopenIsClean(page, 'gone-here')).toEqual({ listedAfterFailures: false, countFresh: 0, hits: ['c'], oldStillRefused: 'COLLECTION_DELETED' })
})

test('deleteCollection in another tab: the handle in this one is refused with COLLECTION_DELETED, nothing is recreated, a new open is clean', async ({ page, context }) => {
  await openHarness(page)
  await openCollection(page, 'gone-there')
  const other = await context.newPage()
  await openHarness(other)
  await other.evaluate(async () => {
    const w = window as any
    const instance = await w.winnowApi.createWinnow({ reranker: false })
    await instance.deleteCollection('gone-there')
    await instance.dispose()
  })
  const calls = await page.evaluate((bound) => (window as any).everyCall((window as any).docs, bound), BOUND_MS)
  expect(calls).toEqual(REFUSED('deleted'))
  expect(await reopenIsClean(page, 'gone-there')).toEqual({ listedAfterFailures: false, countFresh: 0, hits: ['c'], oldStillRefused: 'COLLECTION_DELETED' })
})

test("another tab deletes the collection and creates one of the same name: this tab's old handle is refused (deleted, then replaced), the other tab's data untouched", async ({ page, context }) => {
  await openHarness(page)
  await openCollection(page, 'replaced')
  const other = await context.newPage()
  await openHarness(other)
  await other.evaluate(async () => {
    const w = window as any
    w.instance = await w.winnowApi.createWinnow({ reranker: false })
    await w.instance.deleteCollection('replaced')
    w.docs = await w.instance.collection('replaced')
    await w.docs.add([{ id: 'theirs', text: 'the other tab wrote this' }])
  })
  const calls = await page.evaluate((bound) => (window as any).everyCall((window as any).docs, bound), BOUND_MS)
  // This tab's worker saw the deletion ('deleted') and then finds another collection there ('replaced').
  for (const outcome of Object.values(calls)) expect(outcome).toMatch(/^COLLECTION_DELETED\/(deleted|replaced)$/)
  expect(Object.keys(calls)).toHaveLength(7)
  expect(await other.evaluate(async () => ({ count: await (window as any).docs.count(), theirs: (await (window as any).docs.get('theirs'))?.text }))).toEqual({ count: 1, theirs: 'the other tab wrote this' })
})

test("the collection's database deleted from the page underneath: COLLECTION_DELETED, not INTERNAL; a new open is clean", async ({ page }) => {
  await openHarness(page)
  await openCollection(page, 'deleted-underneath')
  const calls = await page.evaluate(async (bound) => {
    const w = window as any
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.deleteDatabase('winnow:deleted-underneath')
      request.onsuccess = () => resolve()
      request.onerror = () => reject(request.error)
      request.onblocked = () => reject(new Error('the delete was blocked: winnow kept its connection open'))
    })
    return w.everyCall(w.docs, bound)
  }, BOUND_MS)
  expect(calls).toEqual(REFUSED('deleted'))
  expect(await reopenIsClean(page, 'deleted-underneath')).toEqual({ listedAfterFailures: false, countFresh: 0, hits: ['c'], oldStillRefused: 'COLLECTION_DELETED' })
})

for (const storageTypes of ['indexeddb', 'all'] as const) {
  test(`the browser clears the origin's storage (CDP Storage.clearDataForOrigin, ${storageTypes}) while a collection is open and an add runs: typed errors, no hang; a new open is clean`, async ({ page, context }) => {
    await openHarness(page)
    const name = `evicted-${storageTypes}`
    await openCollection(page, name)
    const origin = new URL(page.url()).origin
    const cdp = await context.newCDPSession(page)
    // A large add in flight when the storage goes: it must settle with a typed error (or have landed before).
    await page.evaluate((bound) => {
      const w = window as any
      const big = Array.from({ length: 3000 }, (_, i) => ({ id: `big-${i}`, text: `bulk${i} a passage about memory leaks and garbage collection in long running pages` }))
      const timeout = new Promise((resolve) => setTimeout(() => resolve('TIMEOUT'), bound))
      w.inFlight = Promise.race([w.docs.add(big).then(() => 'resolved', (e: any) => (e instanceof w.winnowApi.WinnowError ? e.code : `not a WinnowError: ${e}`)), timeout])
    }, BOUND_MS)
    await cdp.send('Storage.clearDataForOrigin', { origin, storageTypes })
    const inFlight = await page.evaluate(() => (window as any).inFlight)
    const calls = await page.evaluate((bound) => (window as any).everyCall((window as any).docs, bound), BOUND_MS)
    console.log(`[eviction] ${storageTypes}: the add in flight ${inFlight}; then ${JSON.stringify(calls)}`)
    // The add either landed before the clear or failed typed; then every call says the collection is gone.
    expect(['resolved', 'COLLECTION_DELETED', 'STORAGE_UNAVAILABLE']).toContain(inFlight)
    // Chromium announces the clearing to open connections as a deletion (versionchange to null).
    expect(calls).toEqual(REFUSED('deleted'))
    expect(await reopenIsClean(page, name)).toEqual({ listedAfterFailures: false, countFresh: 0, hits: ['c'], oldStillRefused: 'COLLECTION_DELETED' })
  })
}
