/**
 * The page side of the crash test, installed as `window.__crash` by `page.evaluate(installCrashPage)`
 * (so it must stay self-contained: no imports, no outer names). It drives the public API only;
 * acknowledgements go out through the `crashAck` binding the moment a promise resolves, so the test
 * process holds them whatever is killed next.
 */

/** An acknowledgement (or failure) of write `i` of kill point `n`. */
export interface Ack {
  n: number
  i: number
  ok: boolean
  /** Milliseconds since the operation started (in the page). */
  ms?: number
  result?: unknown
  code?: string
}

export interface PageHit {
  chunkId: string
  score: number
  text: string
}

/** What a verification reads back. */
export interface PlainReadback {
  count: number
  stored: Record<string, string | null>
  recovered: Record<string, PageHit[]>
  rebuilt: Record<string, PageHit[]>
  crashedCalls: number
}

export interface SnapshotReadback {
  listed: boolean
  databasesBefore: string[]
  before: (PlainReadback & { version: string | null }) | null
  outcome: string
  /** How long that sync took (an import when `outcome` is 'imported'): keeps the kill window's scale current. */
  syncMs: number
  after: { version: string | null; count: number }
  /** `winnow-snapshot:<name>:*` databases once the next open/sync is done (and the old version's deletion had time to run). */
  databases: string[]
}

export function installCrashPage(): void {
  const w = window as any
  const api = w.winnowApi
  const st: { W: any; plain: any; snap: any; settled: boolean } = { W: null, plain: null, snap: null, settled: true }
  const send = (m: Ack) => {
    try {
      void w.crashAck(m)
    } catch {
      // the binding is gone with the page
    }
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
  let crashedCalls = 0
  /** After a worker kill the first call may be the one that finds the worker dead; the next runs on a fresh one. */
  const retry = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn()
      } catch (e: any) {
        if (e?.code !== 'WORKER_CRASHED' || attempt >= 3) throw e
        crashedCalls++
      }
    }
  }
  const readTexts = async (h: any, ids: string[]) =>
    Object.fromEntries(await Promise.all(ids.map(async (id) => [id, ((await h.get(id)) as { text: string } | null)?.text ?? null]))) as Record<string, string | null>
  const search = async (h: any, queries: string[]) => {
    const out: Record<string, PageHit[]> = {}
    for (const q of queries) {
      const hits = await h.search(q, { mode: 'keyword', k: 1000, snippet: false })
      out[q] = hits.map((x: any) => ({ chunkId: x.chunkId, score: x.firstStageScore, text: x.text }))
    }
    return out
  }
  /** A fresh collection holding exactly the stored documents, searched the same way, then deleted. */
  const rebuild = async (name: string, stored: Record<string, string | null>, queries: string[]) => {
    const rb = await st.W.collection(name, { chunking: false })
    const docs = Object.entries(stored)
      .filter(([, t]) => t !== null)
      .map(([id, text]) => ({ id, text }))
    if (docs.length > 0) await rb.add(docs)
    const out = await search(rb, queries)
    await st.W.deleteCollection(name)
    return out
  }
  const readBack = async (h: any, ids: string[], queries: string[], rebuiltName: string): Promise<PlainReadback> => {
    crashedCalls = 0
    const count = await retry<number>(() => h.count())
    const stored = await readTexts(h, ids)
    return { count, stored, recovered: await search(h, queries), rebuilt: await rebuild(rebuiltName, stored, queries), crashedCalls }
  }
  const snapshotDatabases = async (name: string) =>
    (await indexedDB.databases())
      .map((d) => d.name ?? '')
      .filter((n) => n.startsWith(`winnow-snapshot:${name}:`))
      .sort()

  const crash = {
    /** A fresh instance (keyword only) and the plain collection. */
    async open(): Promise<void> {
      if (st.W) await st.W.dispose().catch(() => {})
      st.W = await api.createWinnow({ reranker: false })
      st.plain = await st.W.collection('plain', { chunking: false })
      st.snap = null
      // Start the worker now, so a kill has one to find.
      await st.W.listCollections()
    },
    async add(docs: { id: string; text: string }[]) {
      return st.plain.add(docs)
    },
    /** First import of the main snapshot collection (setup, not a kill point). */
    async importSnapshot(name: string, url: string) {
      st.snap = await st.W.collection(name, { snapshot: url })
      return (await st.snap.info()).snapshot?.version ?? null
    },
    /** Runs writes and returns how long each took (calibration). */
    async timeWrites(ops: ({ kind: 'add'; docs: { id: string; text: string }[] } | { kind: 'delete'; ids: string[] })[]) {
      const ms: number[] = []
      for (const op of ops) {
        const t = performance.now()
        if (op.kind === 'add') await st.plain.add(op.docs)
        else await st.plain.delete(op.ids)
        ms.push(performance.now() - t)
      }
      return ms
    },
    async timeSync(name: string) {
      if (!st.snap) st.snap = await st.W.collection(name, {})
      const t = performance.now()
      const outcome = await st.snap.syncSnapshot()
      return { outcome, ms: performance.now() - t }
    },
    /** Untimed set-up before a kill point's operation starts. */
    async prepare(importBy: string | null, name: string) {
      if (!st.W || importBy === 'reopen') await crash.open()
      if (importBy === 'sync' && st.snap?.name !== name) st.snap = await st.W.collection(name, {})
    },
    /** Starts the operation and returns at once; `settled()` says when its calls have all settled. */
    start(n: number, work: { ops?: any[]; importBy?: string; name?: string; url?: string }): void {
      st.settled = false
      const t0 = performance.now()
      const ack = (m: Ack) => send({ ...m, ms: performance.now() - t0 })
      const run = async () => {
        if (work.ops) {
          for (let i = 0; i < work.ops.length; i++) {
            const op = work.ops[i]
            try {
              const result = op.kind === 'add' ? await st.plain.add(op.docs) : await st.plain.delete(op.ids)
              ack({ n, i, ok: true, result })
            } catch (e: any) {
              ack({ n, i, ok: false, code: e?.code ?? String(e) })
              return
            }
          }
          return
        }
        try {
          if (work.importBy === 'sync') {
            const outcome = await st.snap.syncSnapshot()
            ack({ n, i: 0, ok: outcome === 'imported', result: outcome })
          } else if (work.importBy === 'reopen') {
            // A later visit: serves the stored version at once and imports the new one in the background.
            st.snap = await st.W.collection(work.name, {
              snapshot: work.url,
              onSnapshotProgress: (p: any) => {
                if (p.phase === 'done') ack({ n, i: 0, ok: p.outcome === 'imported', result: p.outcome, code: p.error?.code })
              },
            })
          } else {
            // A first visit: collection() resolves once the import is complete.
            await st.W.collection(work.name, { snapshot: work.url })
            ack({ n, i: 0, ok: true, result: 'imported' })
          }
        } catch (e: any) {
          ack({ n, i: 0, ok: false, code: e?.code ?? String(e) })
        }
      }
      void run().finally(() => {
        st.settled = true
      })
    },
    settled: () => st.settled,
    /** Reads the plain collection back (through the same handle: after a worker kill it reopens on a fresh worker). */
    async verifyPlain(ids: string[], queries: string[], rebuiltName: string): Promise<PlainReadback> {
      return readBack(st.plain, ids, queries, rebuiltName)
    },
    /**
     * Reads a snapshot collection back as stored (opened without a URL: no background sync), then does
     * the next successful open/sync and lists its version databases.
     */
    async verifySnapshot(name: string, url: string, ids: string[], queries: string[], rebuiltName: string): Promise<SnapshotReadback> {
      await crash.open()
      const listed = ((await st.W.listCollections()) as string[]).includes(name)
      const databasesBefore = await snapshotDatabases(name)
      let before: SnapshotReadback['before'] = null
      let h: any
      let outcome: string
      let syncMs = 0
      if (listed) {
        h = await st.W.collection(name, {})
        const version = ((await h.info()).snapshot?.version as string | undefined) ?? null
        before = { version, ...(await readBack(h, ids, queries, rebuiltName)) }
        const t = performance.now()
        outcome = await h.syncSnapshot()
        syncMs = performance.now() - t
      } else {
        h = await st.W.collection(name, { snapshot: url })
        outcome = 'first visit'
      }
      const after = { version: ((await h.info()).snapshot?.version as string | undefined) ?? null, count: await h.count() }
      // The replaced version is deleted once its last reader is done: give that a moment.
      let databases = await snapshotDatabases(name)
      for (let t = 0; t < 50 && databases.length > 1; t++) {
        await sleep(100)
        databases = await snapshotDatabases(name)
      }
      st.snap = h
      return { listed, databasesBefore, before, outcome, syncMs, after, databases }
    },
    /** Deletes a first-visit collection; returns its version databases left afterwards. */
    async drop(name: string) {
      if (st.snap && st.snap.name === name) st.snap = null
      await st.W.deleteCollection(name)
      return snapshotDatabases(name)
    },
  }
  w.__crash = crash
}
