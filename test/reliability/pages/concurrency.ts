/**
 * One page's side of the concurrency test: open the shared collection, run a program of
 * operations one after another (logging when each was invoked and acknowledged), read the final
 * state, and replay an order of writes serially into a fresh collection.
 */
import { createWinnow, type Collection, type Winnow } from '../../../src/index.ts'
import type { ConcOp, LoggedOp, PageName } from '../concurrencyOps.ts'
import { describeError, settle } from './settle.ts'

let winnow: Winnow | null = null
const open = new Map<string, Collection>()

const now = () => performance.timeOrigin + performance.now()

async function collection(name: string): Promise<Collection> {
  winnow ??= await createWinnow({ reranker: false })
  let c = open.get(name)
  if (!c) {
    c = await winnow.collection(name)
    open.set(name, c)
  }
  return c
}

async function perform(c: Collection, op: ConcOp): Promise<unknown> {
  switch (op.kind) {
    case 'add':
      return (await c.add(op.docs)).replaced
    case 'delete':
      return c.delete(op.ids)
    case 'clear':
      await c.clear()
      return null
    case 'count':
      return c.count()
    case 'search':
      return (await c.search(op.query, { mode: 'keyword', k: 1000, snippet: false })).map((h) => h.id)
  }
}

/** Opens the collection (and the instance) before the run starts, so both pages start together. */
export async function prepare(name: string): Promise<void> {
  await collection(name)
}

/**
 * Runs `ops` in order; each must settle within `boundMs` or the run stops (a deadlock would).
 *
 * @example
 * const log = await runProgram('shared', 'A', ops, 30_000)
 */
export async function runProgram(name: string, page: PageName, ops: ConcOp[], boundMs: number): Promise<{ log: LoggedOp[]; stuck: string | null }> {
  const c = await collection(name)
  const log: LoggedOp[] = []
  for (let n = 0; n < ops.length; n++) {
    const op = ops[n]!
    const invokedAt = now()
    const settled = await settle(() => perform(c, op), boundMs)
    const ackedAt = now()
    if (settled.kind === 'timeout') return { log, stuck: `page ${page} op ${n} (${op.kind}) did not settle within ${boundMs} ms` }
    const entry: LoggedOp = { page, n, op, invokedAt, ackedAt, result: settled.kind === 'resolved' ? settled.value : null }
    if (settled.kind !== 'resolved') entry.error = `${settled.kind}: ${settled.error}`
    log.push(entry)
  }
  return { log, stuck: null }
}

/** What a collection holds: count, every id's stored version, and the hits for each term. */
export interface Snapshot {
  count: number
  docs: Record<string, { text: string; metadata: unknown; title: unknown; chunks: number } | null>
  terms: Record<string, string[]>
}

/** Reads `ids` with get() and searches each of `terms` (keyword, every hit). */
export async function snapshot(name: string, ids: string[], terms: string[]): Promise<Snapshot> {
  const c = await collection(name)
  const docs: Snapshot['docs'] = {}
  for (const id of ids) {
    const d = await c.get(id)
    docs[id] = d && { text: d.text, metadata: d.metadata, title: d.title, chunks: d.chunks }
  }
  const out: Snapshot = { count: await c.count(), docs, terms: {} }
  for (const term of terms) out.terms[term] = (await c.search(term, { mode: 'keyword', k: 10_000, snippet: false })).map((h) => h.chunkId).sort()
  return out
}

/** Replays writes one at a time into a fresh collection; returns each one's result. */
export async function replay(name: string, ops: ConcOp[]): Promise<unknown[]> {
  if (winnow) await winnow.deleteCollection(name)
  open.delete(name)
  const c = await collection(name)
  const results: unknown[] = []
  for (const op of ops) {
    try {
      results.push(await perform(c, op))
    } catch (error) {
      results.push(`error: ${describeError(error)}`)
    }
  }
  return results
}
