/**
 * The fuzz loop in the page: generates `calls` commands from a seed, makes each call through the
 * public API with a time bound, judges it against the oracle, and checks the store against the
 * model every `checkEvery` calls and at the end.
 */
import fc from 'fast-check'
import { createWinnow, highlight, type Collection, type Winnow } from '../../../src/index.ts'
import { command, COLLECTIONS, type CollectionKey, type Command } from './arbitraries.ts'
import { checkAddResult, checkHighlight, checkHits, checkStored } from './checks.ts'
import { allowAbort, applyAdd, expectAdd, expectDelete, expectGet, expectOpen, expectRerank, expectSearch, type CollectionModel, type Expected } from './oracle.ts'
import { settle, type Settled } from './settle.ts'
import { build, describeSpec, type BuildContext, type Spec } from './spec.ts'
import { seeded } from '../../unit/helpers.ts'

export interface FuzzOptions {
  seed: number
  calls: number
  /** Longest a call may take to settle. */
  boundMs: number
  /** Check the store against the model after every this many calls. */
  checkEvery: number
}

export interface FuzzFailure {
  index: number
  kind: 'non-winnow-error' | 'sync-throw' | 'timeout' | 'mismatch' | 'consistency'
  op: string
  message: string
  input?: string
}

export interface FuzzFigures {
  seed: number
  calls: number
  byOp: Record<string, number>
  resolved: number
  typedErrors: number
  byCode: Record<string, number>
  nonWinnowErrors: number
  syncThrows: number
  timeouts: number
  mismatches: number
  /** Calls whose signal aborted while they ran, and that rejected with ABORTED (allowed; nothing may have changed). */
  abortedMidCall: number
  consistencyChecks: number
  consistencyFailures: number
  failures: number
  maxSettleMs: number
  maxSettleCall: string
  p50SettleMs: number
  p99SettleMs: number
  boundMs: number
  documentsAtEnd: Record<string, number>
  /** Documents in adds that resolved, and the longest text among them. */
  documentsWritten: number
  longestTextWritten: number
  wallMs: number
  failureDetails: FuzzFailure[]
}

const NAMES: Record<CollectionKey, string> = { kw: 'fuzz-kw', small: 'fuzz-small', vec: 'fuzz-vec' }
const LATE_GRACE_MS = 60_000
const MAX_DETAILS = 60

/**
 * Runs the fuzz and returns its figures (failures included, never thrown).
 *
 * @example
 * const figures = await runFuzz({ seed: 42, calls: 1000, boundMs: 10_000, checkEvery: 250 })
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzFigures> {
  const started = performance.now()
  const commands = fc.sample(command, { seed: options.seed, numRuns: options.calls })
  const figures: FuzzFigures = {
    seed: options.seed, calls: 0, byOp: {}, resolved: 0, typedErrors: 0, byCode: {}, nonWinnowErrors: 0, syncThrows: 0, timeouts: 0,
    mismatches: 0, abortedMidCall: 0, consistencyChecks: 0, consistencyFailures: 0, failures: 0, maxSettleMs: 0, maxSettleCall: '', p50SettleMs: 0, p99SettleMs: 0,
    boundMs: options.boundMs, documentsAtEnd: {}, documentsWritten: 0, longestTextWritten: 0, wallMs: 0, failureDetails: [],
  }
  const settleTimes: number[] = []
  const winnow: Winnow = await createWinnow({ reranker: false })
  const handles = {} as Record<CollectionKey, Collection>
  const models = {} as Record<CollectionKey, CollectionModel>
  for (const key of Object.keys(COLLECTIONS) as CollectionKey[]) {
    await winnow.deleteCollection(NAMES[key])
    // The vector collection partitions from 64 passages and probes 2 lists, so that fuzzed adds,
    // deletes and merges run through the vector index (collection/ivfBuild.ts) too.
    handles[key] = await winnow.collection(NAMES[key], { maxTextLength: COLLECTIONS[key].maxTextLength, ...(key === 'vec' ? { vectorIndex: { minRows: 64, probes: 2 } } : {}) })
    models[key] = { name: NAMES[key], limit: COLLECTIONS[key].maxTextLength, docs: new Map(), dims: null, vectorSource: 'none' }
  }
  const rng = seeded(options.seed)

  const fail = (failure: FuzzFailure) => {
    figures.failures++
    if (figures.failureDetails.length < MAX_DETAILS) figures.failureDetails.push(failure)
    console.log(`[fuzz] FAILURE #${failure.index} ${failure.op} (${failure.kind}): ${failure.message}${failure.input ? `\n  input: ${failure.input}` : ''}`)
  }

  /** Makes a call, bounded; a call past the bound is a failure, and is then waited for a while longer. */
  const call = async (index: number, label: string, fn: () => unknown): Promise<{ first: Settled; final: Settled }> => {
    const first = await settle(fn, options.boundMs)
    let final = first
    if (first.kind === 'timeout') {
      const late = await settle(() => first.late, LATE_GRACE_MS)
      if (late.kind === 'timeout') throw new Error(`call #${index} (${label}) did not settle within ${options.boundMs + LATE_GRACE_MS} ms: stopping the fuzz`)
      final = late
    }
    return { first, final }
  }

  /** Judges one outcome against the expectation; true when it matched. */
  const judge = <T>(index: number, cmd: Command, first: Settled, expected: Expected<T>, check: (value: unknown, want: T) => string | null): boolean => {
    const input = describeCommand(cmd)
    settleTimes.push(first.ms)
    if (first.ms > figures.maxSettleMs) {
      figures.maxSettleMs = first.ms
      figures.maxSettleCall = `#${index} ${cmd.op}`
    }
    if (first.kind === 'timeout') {
      figures.timeouts++
      fail({ index, kind: 'timeout', op: cmd.op, message: `did not settle within ${options.boundMs} ms`, input })
      return false
    }
    if (first.kind === 'sync-throw') {
      figures.syncThrows++
      fail({ index, kind: 'sync-throw', op: cmd.op, message: `threw synchronously instead of rejecting: ${first.error}`, input })
      return false
    }
    if (first.kind === 'rejected') {
      if (first.code === null) {
        figures.nonWinnowErrors++
        fail({ index, kind: 'non-winnow-error', op: cmd.op, message: `rejected with ${first.error}`, input })
        return false
      }
      figures.typedErrors++
      figures.byCode[first.code] = (figures.byCode[first.code] ?? 0) + 1
      if (first.code === 'ABORTED' && expected.mayAbort) {
        figures.abortedMidCall++
        return false
      }
      if (expected.ok || expected.code !== first.code) {
        figures.mismatches++
        fail({ index, kind: 'mismatch', op: cmd.op, message: `rejected with ${first.error}; expected ${expected.ok ? 'a resolve' : `${expected.code} (${expected.why})`}`, input })
        return false
      }
      return true
    }
    figures.resolved++
    if (!expected.ok) {
      figures.mismatches++
      fail({ index, kind: 'mismatch', op: cmd.op, message: `resolved; expected ${expected.code} (${expected.why})`, input })
      return false
    }
    const wrong = check(first.value, expected.value)
    if (wrong) {
      figures.mismatches++
      fail({ index, kind: 'mismatch', op: cmd.op, message: wrong, input })
      return false
    }
    return true
  }

  /** After a write whose outcome the model did not predict, start the collection over. */
  const reset = async (key: CollectionKey) => {
    await handles[key].clear()
    Object.assign(models[key], { docs: new Map(), dims: null, vectorSource: 'none' })
  }

  const consistency = async (index: number, full: boolean) => {
    for (const key of Object.keys(COLLECTIONS) as CollectionKey[]) {
      const model = models[key]
      const handle = handles[key]
      const problems: string[] = []
      const checked = async (label: string, fn: () => Promise<unknown>, check: (v: unknown) => string | null) => {
        figures.consistencyChecks++
        const { first } = await call(index, label, fn)
        const problem = first.kind === 'resolved' ? check(first.value) : `${label} ${first.kind}: ${'error' in first ? first.error : ''}`
        if (problem) problems.push(problem)
      }
      await checked('count', () => handle.count(), (v) => (v === model.docs.size ? null : `count() is ${String(v)}, the model has ${model.docs.size}`))
      await checked('info', () => handle.info(), (v) => {
        const info = v as { documents: number; dims: number | null; vectorSource: string }
        if (info.documents !== model.docs.size) return `info().documents is ${info.documents}, the model has ${model.docs.size}`
        if (info.dims !== model.dims || info.vectorSource !== model.vectorSource) return `info() has dims ${info.dims} / ${info.vectorSource}, the model ${model.dims} / ${model.vectorSource}`
        return null
      })
      const ids = [...model.docs.keys()]
      const sample = full ? ids : pick(ids, 12, rng)
      for (const id of sample) await checked('get', () => handle.get(id), (v) => checkStored(id, v, model.docs.get(id)!))
      const absent = Array.from({ length: 40 }, (_, i) => `doc-${i}`).filter((id) => !model.docs.has(id))
      for (const id of pick(absent, 3, rng)) await checked('get', () => handle.get(id), (v) => checkStored(id, v, null))
      const withToken = ids.filter((id) => model.docs.get(id)!.token !== null)
      for (const id of full ? pick(withToken, 25, rng) : pick(withToken, 3, rng)) {
        const token = model.docs.get(id)!.token!
        await checked('search', () => handle.search(token, { mode: 'keyword', k: 10, snippet: false }), (v) =>
          (v as { id: string }[]).some((h) => h.id === id) ? null : `a keyword search for '${token}' does not find '${id.slice(0, 40)}'`,
        )
      }
      for (const problem of problems) {
        figures.consistencyFailures++
        fail({ index, kind: 'consistency', op: `check ${key}`, message: problem })
      }
      if (problems.length > 0) await reset(key)
    }
  }

  for (let index = 0; index < commands.length; index++) {
    const cmd = commands[index]!
    figures.calls++
    figures.byOp[cmd.op] = (figures.byOp[cmd.op] ?? 0) + 1
    const key = 'c' in cmd ? cmd.c : 'kw'
    let docIndex = 0
    const ctx: BuildContext = { token: () => `zq${index}d${docIndex++}x`, limit: COLLECTIONS[key].maxTextLength }
    const model = models[key]
    const handle = handles[key]
    const v = (spec: Spec) => build(spec, ctx) as never
    switch (cmd.op) {
      case 'add': {
        const docs = v(cmd.docs)
        const opts = v(cmd.options)
        const expected = allowAbort(expectAdd(model, docs, opts), opts)
        const { first, final } = await call(index, 'add', () => handle.add(docs, opts))
        const matched = judge(index, cmd, first, expected, checkAddResult)
        if (matched && expected.ok) {
          applyAdd(model, expected.value)
          figures.documentsWritten += expected.value.docs.length
          for (const { doc } of expected.value.docs) figures.longestTextWritten = Math.max(figures.longestTextWritten, doc.text.length)
        } else if (!matched && final.kind === 'resolved') await reset(key)
        break
      }
      case 'delete': {
        const ids = v(cmd.ids)
        const expected = expectDelete(model, ids)
        const { first, final } = await call(index, 'delete', () => handle.delete(ids))
        const matched = judge(index, cmd, first, expected, (value, present) => (value === present.length ? null : `delete resolved ${String(value)}, expected ${present.length}`))
        if (matched && expected.ok) for (const id of expected.value) model.docs.delete(id)
        else if (!matched && final.kind === 'resolved') await reset(key)
        break
      }
      case 'get': {
        const id = v(cmd.id)
        const expected = expectGet(model, id)
        const { first } = await call(index, 'get', () => handle.get(id))
        judge(index, cmd, first, expected, (value, want) => checkStored(id, value, want))
        break
      }
      case 'count': {
        const { first } = await call(index, 'count', () => handle.count())
        judge(index, cmd, first, { ok: true, value: model.docs.size }, (value, want) => (value === want ? null : `count() is ${String(value)}, the model has ${want}`))
        break
      }
      case 'info': {
        const { first } = await call(index, 'info', () => handle.info())
        judge(index, cmd, first, { ok: true, value: model }, (value, m) => {
          const info = value as { documents: number; name: string }
          return info.documents === m.docs.size && info.name === m.name ? null : `info() says ${info.documents} documents, the model has ${m.docs.size}`
        })
        break
      }
      case 'clear': {
        const { first } = await call(index, 'clear', () => handle.clear())
        if (judge(index, cmd, first, { ok: true, value: null }, (value) => (value === undefined ? null : 'clear() resolved with a value'))) {
          Object.assign(model, { docs: new Map(), dims: null, vectorSource: 'none' })
        } else await reset(key)
        break
      }
      case 'search': {
        const query = v(cmd.query)
        const opts = v(cmd.options)
        const expected = allowAbort(expectSearch(model, query, opts), opts)
        const { first } = await call(index, 'search', () => handle.search(query, opts))
        judge(index, cmd, first, expected, (value, want) => checkHits(model, value, want, highlight as (s: unknown) => string))
        break
      }
      case 'highlight': {
        const snippet = v(cmd.snippet) as { text?: unknown } | null
        const opts = v(cmd.options)
        const valid = typeof snippet === 'object' && snippet !== null && typeof snippet.text === 'string'
        const expected: Expected<string> = valid ? { ok: true, value: snippet.text as string } : { ok: false, code: 'INVALID_INPUT', why: 'not a snippet' }
        let first: Settled
        try {
          first = { kind: 'resolved', value: highlight(snippet as never, opts), ms: 0 }
        } catch (error) {
          first = await settle(() => Promise.reject(error), 1000)
        }
        judge(index, cmd, first, expected, (html, text) => checkHighlight(html, text))
        break
      }
      case 'rerank': {
        const query = v(cmd.query)
        const docs = v(cmd.docs)
        const opts = v(cmd.options)
        const { first } = await call(index, 'rerank', () => winnow.rerank(query, docs, opts))
        judge(index, cmd, first, expectRerank(query, docs, opts), () => 'rerank resolved without a reranker')
        break
      }
      case 'open': {
        const name = v(cmd.name)
        const opts = v(cmd.options)
        const expected = expectOpen(name, opts)
        const { first } = await call(index, 'open', () => winnow.collection(name, opts))
        if (judge(index, cmd, first, expected, () => null) && first.kind === 'resolved') {
          const opened = first.value as Collection
          const steps = await settle(async () => {
            await opened.add([{ id: 'x', text: 'opened by the fuzz' }])
            const n = await opened.count()
            const listed = (await winnow.listCollections()).includes(name)
            await winnow.deleteCollection(name)
            const gone = !(await winnow.listCollections()).includes(name)
            if (n !== 1 || !listed || !gone) throw new Error(`count ${n}, listed ${listed}, gone after deleteCollection ${gone}`)
          }, options.boundMs)
          if (steps.kind !== 'resolved') fail({ index, kind: 'consistency', op: 'open', message: `a collection named ${describeSpec(cmd.name)}: ${'error' in steps ? steps.error : steps.kind}` })
        }
        break
      }
    }
    if ((index + 1) % options.checkEvery === 0) await consistency(index, false)
    if ((index + 1) % 1000 === 0) console.log(`[fuzz] ${index + 1} calls, ${figures.failures} failures, max settle ${Math.round(figures.maxSettleMs)} ms`)
  }
  await consistency(commands.length, true)
  for (const key of Object.keys(COLLECTIONS) as CollectionKey[]) figures.documentsAtEnd[key] = models[key].docs.size
  settleTimes.sort((a, b) => a - b)
  figures.p50SettleMs = Math.round(settleTimes[Math.floor(settleTimes.length * 0.5)] ?? 0)
  figures.p99SettleMs = Math.round(settleTimes[Math.floor(settleTimes.length * 0.99)] ?? 0)
  figures.maxSettleMs = Math.round(figures.maxSettleMs)
  figures.wallMs = Math.round(performance.now() - started)
  await winnow.dispose()
  return figures
}

function describeCommand(cmd: Command): string {
  return describeSpec(cmd as unknown as Spec)
}

/** `n` distinct elements of `items`, chosen by `rng`. */
function pick<T>(items: readonly T[], n: number, rng: () => number): T[] {
  const copy = [...items]
  const out: T[] = []
  while (out.length < n && copy.length > 0) out.push(copy.splice(Math.floor(rng() * copy.length), 1)[0]!)
  return out
}

