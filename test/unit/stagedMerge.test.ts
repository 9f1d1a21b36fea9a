/**
 * Merges written ahead of their commit (`manifest.staging`, `store.stage`): an add lands while a
 * merge's records are being written, the staged records are invisible to every read, a merge
 * that fails part-way (a closed tab) leaves nothing visible and the next merge deletes what it
 * wrote, and a merge whose segments a clear() removed meanwhile deletes its own. Memory and
 * IndexedDB (fake-indexeddb) backends.
 */
import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { describe, expect, it } from 'vitest'
import { STAGE_ROWS } from '../../src/collection/compaction.js'
import { WritesFirst } from '../../src/collection/merging.js'
import { CollectionEngine } from '../../src/collection/engine.js'
import { searchCollection } from '../../src/search/searchCollection.js'
import { createCoordination } from '../../src/store/coordination.js'
import { IdbBackend } from '../../src/store/idb.js'
import { MemoryBackend } from '../../src/store/memory.js'
import type { CollectionStore, StagedRecords, StoreBackend } from '../../src/store/types.js'

const DIMS = 4
const PER_ADD = 700 // the eleven segments, of like size, all merge: 7,700 rows, two staging steps
const none = async () => {}

/** The store with `stage` replaced: `onStage(step, records)` runs before each step is written. */
function gated(store: CollectionStore, onStage: (step: number, records: StagedRecords) => Promise<void>): CollectionStore {
  let step = 0
  return new Proxy(store, {
    get(target, key) {
      if (key === 'stage') return async (records: StagedRecords) => {
        await onStage(step++, records)
        return target.stage(records)
      }
      const value = Reflect.get(target, key) as unknown
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
    },
  })
}

/**
 * The store held at the merge's second staging step until `release()`; `atSecondStep` resolves
 * when it gets there, and `steps` lists each step's int8 block count.
 */
function heldAtSecondStep(store: CollectionStore) {
  let release = () => {}
  const gate = new Promise<void>((resolve) => (release = resolve))
  let reached = () => {}
  const atSecondStep = new Promise<void>((resolve) => (reached = resolve))
  const steps: number[] = []
  const held = gated(store, async (step, records) => {
    steps.push(records.putQuantized!.length)
    if (step === 1) {
      reached()
      await gate
    }
  })
  return { store: held, atSecondStep, release, steps }
}

function docs(from: number, count: number) {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i
    // Distinct vectors (no ties in the vector ranking) from the document number.
    const vector = [Math.sin(n * 12.9898) * 43758.5453, Math.sin(n * 78.233) * 12345.6789, Math.sin(n * 39.425) * 5432.1, Math.cos(n * 3.7) * 999.7].map((x) => x - Math.floor(x) - 0.5)
    return { id: `d${n}`, text: `passage ${n} about lighthouse${n % 1000}`, vector }
  })
}

/** Everything a reader sees: count, keyword and vector hits (ids and scores), and one get. */
async function answers(c: CollectionEngine) {
  // Every match (about 18), sorted: BM25 ties are ordered by slot, which a merge changes.
  const keyword = (await searchCollection(c, { query: 'lighthouse3 lighthouse5', mode: 'keyword', k: 100 }, none)).hits.map((h) => [h.id, h.score.toFixed(6)]).sort()
  const vector = (await searchCollection(c, { query: '', mode: 'vector', vector: [1, 0.3, 0, 0], k: 20 }, none)).hits.map((h) => [h.id, h.score.toFixed(6)])
  return { count: await c.count(), keyword, vector, get: (await c.get('d17'))?.text }
}

/** Segment ids any record of the store names (segments, int8 runs, postings), for leftovers. */
async function recordSegments(store: CollectionStore, ids: number[]) {
  const quantized = new Set((await store.readQuantized()).map((q) => q.segment))
  const withPostings = []
  for (const id of ids) if ((await store.readSegmentPostings(id)).length > 0) withPostings.push(id)
  return { segments: (await store.readSegments()).map((s) => s.id), quantized: [...quantized].sort((a, b) => a - b), postings: withPostings }
}

describe('merge rounds', () => {
  /** Polls `done` every 5 ms for up to `ms`; whether it came true. */
  const until = async (done: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; !done(); await new Promise((r) => setTimeout(r, 5))) if (Date.now() > end) return false
    return true
  }

  it('go on round after round while adds land, until none is planned (not four rounds per write)', async () => {
    const held: (() => void)[] = []
    let free = false
    const store = gated(await new MemoryBackend().open('rounds'), () => (free ? Promise.resolve() : new Promise<void>((resolve) => held.push(resolve))))
    const c = await CollectionEngine.open('rounds', { store, coordination: createCoordination({}), embedder: null }, {})
    let n = 0
    const addSegments = async (count: number) => {
      for (let i = 0; i < count; i++) await c.add(docs(n++, 1), none)
    }
    await addSegments(11) // more than ten segments: a merge round starts, held at its staging step
    let rounds = 0
    for (let r = 0; r < 6; r++) {
      if (!(await until(() => held.length > 0, 2000))) break
      rounds++
      await addSegments(11) // eleven more segments land while the round is held
      held.shift()!()
    }
    free = true
    held.splice(0).forEach((release) => release())
    await c.idle()
    // Each held round left more than ten segments behind it, so a sixth round ran, and the last
    // left none to merge.
    expect(rounds).toBe(6)
    expect(c.view().table.segments.length).toBeLessThanOrEqual(10)
    expect(await c.count()).toBe(n)
  })
})

describe('merges staged ahead of their commit', () => {
  for (const [kind, makeBackend] of [
    ['memory', () => new MemoryBackend()],
    ['IndexedDB', () => ((globalThis.indexedDB = new IDBFactory()), new IdbBackend())],
  ] as [string, () => StoreBackend][]) {
    it(`${kind}: an add and a search land while a merge's records are being written; the merge then lands in ${Math.ceil((11 * PER_ADD) / STAGE_ROWS)} steps`, async () => {
      const backend = makeBackend()
      const coordination = createCoordination({})
      const { store, atSecondStep, release, steps } = heldAtSecondStep(await backend.open('g'))
      const c = await CollectionEngine.open('g', { store, coordination, embedder: null }, {})
      for (let i = 0; i < 11; i++) await c.add(docs(i * PER_ADD, PER_ADD), none)
      await atSecondStep
      const segmentsBefore = c.segmentCount()
      const during = await Promise.race([
        c.add(docs(11 * PER_ADD, 10), none).then(() => 'landed'),
        new Promise((resolve) => setTimeout(() => resolve('waited for the merge'), 3000)),
      ])
      expect(during).toBe('landed')
      const whileStaging = await answers(c)
      expect(whileStaging.count).toBe(11 * PER_ADD + 10)
      // The staged segment is in the store but no read counts it.
      const manifest = (await (await backend.open('g')).readManifest())!
      expect(manifest.staging).toHaveLength(1)
      release()
      await c.idle()
      expect(steps.length).toBe(Math.ceil((11 * PER_ADD) / STAGE_ROWS))
      expect(steps.reduce((a, b) => a + b, 0)).toBe(Math.ceil((11 * PER_ADD) / 64))
      expect(c.segmentCount()).toBeLessThan(segmentsBefore)
      expect((await (await backend.open('g')).readManifest())!.staging).toBeUndefined()
      expect(await answers(c)).toEqual(whileStaging)
      const reopened = await CollectionEngine.open('g', { store: await backend.open('g'), coordination, embedder: null }, {})
      expect(await answers(reopened)).toEqual(whileStaging)
      c.close()
      reopened.close()
      coordination.close()
    })

    it(`${kind}: a merge that fails part-way leaves nothing visible; the next merge deletes what it staged`, async () => {
      const backend = makeBackend()
      const coordination = createCoordination({})
      let fail = true
      const store = gated(await backend.open('f'), async (step) => {
        if (fail && step === 1) throw new Error('the tab closed')
      })
      const c = await CollectionEngine.open('f', { store, coordination, embedder: null }, {})
      for (let i = 0; i < 11; i++) await c.add(docs(i * PER_ADD, PER_ADD), none)
      await c.idle()
      const raw = await backend.open('f')
      const manifest = (await raw.readManifest())!
      expect(manifest.staging).toHaveLength(1)
      const orphan = manifest.staging![0]!
      // Half of it was written, and nothing reads it.
      const left = await recordSegments(raw, [orphan])
      expect(left.segments).not.toContain(orphan)
      expect(left.quantized).toContain(orphan)
      expect(left.postings).toEqual([orphan])
      const expected = await answers(c)
      expect(expected.count).toBe(11 * PER_ADD)
      const reopened = await CollectionEngine.open('f', { store: await backend.open('f'), coordination, embedder: null }, {})
      expect(await answers(reopened)).toEqual(expected)
      reopened.close()
      // The next write's merge clears the leftovers first, then merges.
      fail = false
      await c.add(docs(11 * PER_ADD, 5), none)
      await c.idle()
      const after = await recordSegments(raw, [orphan])
      expect(after.quantized).not.toContain(orphan)
      expect(after.postings).toEqual([])
      expect((await raw.readManifest())!.staging).toBeUndefined()
      expect(c.segmentCount()).toBeLessThanOrEqual(10)
      const final = await answers(c)
      expect(final.count).toBe(11 * PER_ADD + 5)
      expect(final.keyword).toEqual(expected.keyword) // the five new ones match neither term
      c.close()
      coordination.close()
    })

    it(`${kind}: a merge whose segments a clear() removed while it staged deletes what it wrote`, async () => {
      const backend = makeBackend()
      const coordination = createCoordination({})
      const { store, atSecondStep, release } = heldAtSecondStep(await backend.open('c'))
      const c = await CollectionEngine.open('c', { store, coordination, embedder: null }, {})
      for (let i = 0; i < 11; i++) await c.add(docs(i * PER_ADD, PER_ADD), none)
      await atSecondStep
      await c.clear()
      await c.add(docs(0, 3), none)
      release()
      await c.idle()
      const raw = await backend.open('c')
      expect((await raw.readManifest())!.staging).toBeUndefined()
      const segments = (await raw.readSegments()).map((s) => s.id)
      expect((await raw.readQuantized()).every((q) => segments.includes(q.segment))).toBe(true)
      const now = await answers(c)
      expect(now.count).toBe(3)
      expect(now.vector.map(([id]) => id).sort()).toEqual(['d0', 'd1', 'd2'])
      c.close()
      coordination.close()
    })
  }
})

describe('WritesFirst: merges let writes go first', () => {
  it('pause() waits for the writes in flight when it is called, not for later ones', async () => {
    const writes = new WritesFirst()
    const events: string[] = []
    const gate = () => {
      let open = () => {}
      const opened = new Promise<void>((resolve) => (open = resolve))
      return { opened, open }
    }
    const first = gate()
    const w1 = writes.track(async () => {
      await first.opened
      events.push('write 1 done')
    })
    const paused = writes.pause().then(() => events.push('merge resumes'))
    await new Promise((resolve) => setTimeout(resolve, 5)) // pause() has taken its count
    const second = gate()
    const w2 = writes.track(async () => {
      await second.opened
      events.push('write 2 done')
    })
    first.open()
    await w1
    await paused
    second.open()
    await w2
    expect(events).toEqual(['write 1 done', 'merge resumes', 'write 2 done'])
    // Nothing in flight: pause() only yields.
    const t = performance.now()
    await writes.pause()
    expect(performance.now() - t).toBeLessThan(500)
  })

  it('a failed write counts as finished', async () => {
    const writes = new WritesFirst()
    const failing = writes.track(async () => {
      throw new Error('quota')
    })
    await expect(failing).rejects.toThrow('quota')
    await writes.pause() // would hang if the failure were not counted
  })
})

describe('a merge waits for an add in flight before its next step', () => {
  it('memory: no staging step is written while an add is in flight', async () => {
    const backend = new MemoryBackend()
    const coordination = createCoordination({})
    const raw = await backend.open('w')
    let postingsGate: Promise<void> | null = null
    let openPostings = () => {}
    let inPostings = () => {}
    const reachedPostings = new Promise<void>((resolve) => (inPostings = resolve))
    let commitGate: Promise<void> | null = null
    let staged = 0
    const store = new Proxy(raw, {
      get(target, key) {
        if (key === 'readSegmentPostings') return async (id: number) => {
          inPostings()
          if (postingsGate) await postingsGate
          return target.readSegmentPostings(id)
        }
        if (key === 'stage') return async (records: StagedRecords) => {
          staged++
          return target.stage(records)
        }
        const value = Reflect.get(target, key) as unknown
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    })
    const c = await CollectionEngine.open('w', { store, coordination, embedder: null }, {})
    for (let i = 0; i < 10; i++) await c.add(docs(i * PER_ADD, PER_ADD), none)
    await c.idle()
    postingsGate = new Promise<void>((resolve) => (openPostings = resolve))
    await c.add(docs(10 * PER_ADD, PER_ADD), none) // the eleventh segment: a merge starts
    await reachedPostings
    let openCommit = () => {}
    commitGate = new Promise<void>((resolve) => (openCommit = resolve))
    // In flight, before it takes the write lock: its checkpoint waits (as one between embedding batches would).
    const late = c.add(docs(11 * PER_ADD, 5), () => commitGate!)
    openPostings()
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(staged).toBe(0) // the merge paused for the add
    openCommit()
    await late
    await c.idle()
    expect(staged).toBe(Math.ceil((11 * PER_ADD) / STAGE_ROWS))
    expect(await c.count()).toBe(11 * PER_ADD + 5)
    c.close()
    coordination.close()
  })
})
