/**
 * The crash test's plan and judge, in Node: which kill lands where (seeded), the writes each kill
 * interrupts, what the store may hold afterwards, and whether the recovered index answers as an
 * index rebuilt from the stored documents does.
 */

export type KillKind = 'worker' | 'page' | 'browser'
export type OpKind = 'add' | 'delete' | 'import'
/** How the kill or the import is done: page `close` / `crash`; import `sync` / `reopen` / `first`. */
export interface KillPlan {
  n: number
  kind: KillKind
  op: OpKind
  /** `close` (page.close()) or `crash` (CDP Page.crash) for page kills; `-` otherwise. */
  how: string
  /** `sync` (syncSnapshot()), `reopen` (a new visit: collection(name, { snapshot }) imports in the background), `first` (a first visit: collection() resolves after the import). */
  importBy: 'sync' | 'reopen' | 'first' | null
  /**
   * `time`: the kill is sent after a random delay; `ack`: the moment the test process hears of an
   * acknowledgement (the tightest test of "resolved means durable", and of what follows the commit).
   */
  trigger: 'time' | 'ack'
  /** 0..1: where in the kill window the kill is sent (`time`), or which write's acknowledgement triggers it (`ack`). */
  delayFraction: number
}

export const KILL_KINDS: readonly KillKind[] = ['worker', 'page', 'browser']
export const OP_KINDS: readonly OpKind[] = ['add', 'delete', 'import']
/** The kill window spans this many times the calibrated duration of the interrupted calls, so kills land before, during and after the commit. */
export const DELAY_SPAN = 1.5

/** Words of the documents and the queries: distinct stems, no stop words. */
export const VOCAB = ['amber', 'basalt', 'cobalt', 'delta', 'fjord', 'garnet', 'indigo', 'jasper', 'kelp', 'nickel', 'onyx', 'quartz', 'topaz', 'umber', 'zircon', 'vortex']
/** Ids the plain collection's writes draw from (adds replace, deletes may miss). */
export const PLAIN_IDS = Array.from({ length: 300 }, (_, i) => `d${i}`)
/** Ids the snapshot versions draw from. */
export const SNAPSHOT_IDS = Array.from({ length: 160 }, (_, i) => `s${i}`)


const int = (rand: () => number, min: number, max: number) => min + Math.floor(rand() * (max - min + 1))
const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!

function shuffle<T>(rand: () => number, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}

/** `count` kill points, the nine (kill, operation) pairs as evenly as `count` allows, in a seeded order. */
export function planKills(count: number, rand: () => number): KillPlan[] {
  const pairs = KILL_KINDS.flatMap((kind) => OP_KINDS.map((op) => ({ kind, op })))
  const cells = shuffle(rand, [...pairs])
  const chosen = Array.from({ length: count }, (_, i) => cells[i % cells.length]!)
  return shuffle(rand, chosen).map(({ kind, op }, n) => ({
    n,
    kind,
    op,
    how: kind === 'page' ? pick(rand, ['close', 'crash']) : '-',
    importBy: op === 'import' ? pick(rand, ['sync', 'sync', 'reopen', 'first'] as const) : null,
    trigger: rand() < 0.25 ? 'ack' : 'time',
    delayFraction: rand(),
  }))
}

/** A text of 4–14 vocabulary words (repeats give term frequencies above 1) and a tag naming the write. */
export function text(rand: () => number, tag: string): string {
  const words = Array.from({ length: int(rand, 4, 14) }, () => pick(rand, VOCAB))
  words.splice(int(rand, 0, words.length), 0, tag)
  return words.join(' ')
}

export interface DocInput {
  id: string
  text: string
}
export type WriteOp = { kind: 'add'; docs: DocInput[] } | { kind: 'delete'; ids: string[] }
/** Stored documents: id → text. */
export type DocState = ReadonlyMap<string, string>

/** 1–3 writes of one kind, each an atomic batch; texts carry `t<n>x<k>` so a stored text names its write. */
export function makeWrites(kind: 'add' | 'delete', n: number, state: DocState, rand: () => number): WriteOp[] {
  const ops: WriteOp[] = []
  let s = state
  for (let k = 0, total = int(rand, 1, 3); k < total; k++) {
    let op: WriteOp
    if (kind === 'add') {
      // Mostly small batches, some large ones (a longer transaction to land in).
      const ids = shuffle(rand, [...PLAIN_IDS]).slice(0, rand() < 0.7 ? int(rand, 3, 25) : int(rand, 60, 150))
      op = { kind: 'add', docs: ids.map((id) => ({ id, text: text(rand, `t${n}x${k}`) })) }
    } else {
      const present = shuffle(rand, [...s.keys()])
      const absent = shuffle(rand, PLAIN_IDS.filter((id) => !s.has(id)))
      // At least one present id (when there is one), so the delete changes something observable.
      const ids = [...present.slice(0, rand() < 0.7 ? int(rand, 1, 10) : int(rand, 20, 60)), ...absent.slice(0, int(rand, 0, 2))]
      op = { kind: 'delete', ids: shuffle(rand, ids) }
    }
    ops.push(op)
    s = applyWrite(s, op)
  }
  return ops
}

/** Writes of known sizes (small, large, twice each) to measure a write's fixed and per-document cost. */
export function calibrationWrites(kind: 'add' | 'delete', state: DocState, rand: () => number): WriteOp[] {
  const ops: WriteOp[] = []
  let s = state
  for (const size of kind === 'add' ? [10, 120, 10, 120] : [5, 40, 5, 40]) {
    const ids = shuffle(rand, kind === 'add' ? [...PLAIN_IDS] : [...s.keys()]).slice(0, size)
    const op: WriteOp = kind === 'add' ? { kind, docs: ids.map((id) => ({ id, text: text(rand, 'calibration') })) } : { kind, ids }
    ops.push(op)
    s = applyWrite(s, op)
  }
  return ops
}

/** Documents a write names. */
export function sizeOf(op: WriteOp): number {
  return op.kind === 'add' ? op.docs.length : op.ids.length
}

/** Least-squares line through (size, ms): a write's fixed and per-document cost. */
export function fitCost(sizes: readonly number[], ms: readonly number[]): { fixed: number; perDoc: number } {
  const n = sizes.length
  const mx = sizes.reduce((a, b) => a + b, 0) / n
  const my = ms.reduce((a, b) => a + b, 0) / n
  const sxx = sizes.reduce((a, x) => a + (x - mx) ** 2, 0)
  const perDoc = sxx > 0 ? Math.max(0, sizes.reduce((a, x, i) => a + (x - mx) * (ms[i]! - my), 0) / sxx) : 0
  return { fixed: Math.max(0.5, my - perDoc * mx), perDoc }
}

export function applyWrite(state: DocState, op: WriteOp): Map<string, string> {
  const next = new Map(state)
  if (op.kind === 'add') for (const d of op.docs) next.set(d.id, d.text)
  else for (const id of op.ids) next.delete(id)
  return next
}

function sameState(a: DocState, b: DocState): boolean {
  if (a.size !== b.size) return false
  for (const [id, t] of a) if (b.get(id) !== t) return false
  return true
}

export interface WriteVerdict {
  /** Writes found applied (a prefix of the program), or null when the store matches no prefix. */
  applied: number | null
  /** Acknowledged writes found in the store. */
  survived: number
  /** Acknowledged writes missing from the store. */
  lost: number
  /** Writes found partly applied. */
  partial: number
  problems: string[]
}

/**
 * The store after a kill must be the state after some prefix of the program no shorter than the
 * acknowledged part: every acknowledged write there, the write in flight all there or not at all.
 */
export function judgeWrites(before: DocState, ops: readonly WriteOp[], acked: number, recovered: DocState): WriteVerdict {
  const prefixes: DocState[] = [before]
  for (const op of ops) prefixes.push(applyWrite(prefixes.at(-1)!, op))
  let applied: number | null = null
  for (let p = prefixes.length - 1; p >= 0; p--) {
    if (sameState(prefixes[p]!, recovered)) {
      applied = p
      break
    }
  }
  if (applied !== null && applied >= acked) return { applied, survived: acked, lost: 0, partial: 0, problems: [] }
  if (applied !== null) {
    return { applied, survived: applied, lost: acked - applied, partial: 0, problems: [`only ${applied} of ${acked} acknowledged writes are stored`] }
  }
  // No prefix matches: say which write is partial and which acknowledged ones lost documents.
  const problems: string[] = []
  let partial = 0
  let lost = 0
  for (let k = 0; k < ops.length; k++) {
    const op = ops[k]!
    const ids = op.kind === 'add' ? op.docs.map((d) => d.id) : op.ids.filter((id) => prefixes[k]!.has(id))
    // The ids this write decides in the end (no later write touches them).
    const later = new Set(ops.slice(k + 1).flatMap((o) => (o.kind === 'add' ? o.docs.map((d) => d.id) : o.ids)))
    const own = ids.filter((id) => !later.has(id))
    const done = own.filter((id) => recovered.get(id) === prefixes[k + 1]!.get(id)).length
    const undone = own.filter((id) => recovered.get(id) === prefixes[k]!.get(id) && prefixes[k]!.get(id) !== prefixes[k + 1]!.get(id)).length
    if (done > 0 && undone > 0) {
      partial++
      problems.push(`write ${k} (${op.kind}, ${ids.length} ids) is partial: ${done} applied, ${undone} not`)
    } else if (k < acked && undone > 0) {
      lost++
      problems.push(`acknowledged write ${k} (${op.kind}) is missing`)
    }
  }
  const untouched = new Set(ops.flatMap((o) => (o.kind === 'add' ? o.docs.map((d) => d.id) : o.ids)))
  const strays = [...new Set([...before.keys(), ...recovered.keys()])].filter((id) => !untouched.has(id) && before.get(id) !== recovered.get(id))
  if (strays.length > 0) problems.push(`documents no write touched changed: ${strays.slice(0, 5).join(', ')}`)
  if (problems.length === 0) problems.push('the store matches no prefix of the program')
  return { applied: null, survived: acked - lost, lost, partial, problems }
}

/** One search hit as the page reports it: chunk id, raw first-stage (BM25) score, passage text. */
export interface Hit {
  chunkId: string
  score: number
  text: string
}

/** Queries: each vocabulary word alone (which measures the term's idf ratio) and a few pairs and triples. */
export function makeQueries(rand: () => number): { singles: string[]; multis: string[] } {
  const multis = Array.from({ length: 4 }, (_, i) => shuffle(rand, [...VOCAB]).slice(0, i % 2 === 0 ? 2 : 3).join(' '))
  return { singles: [...VOCAB], multis }
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b)) + 1e-12

/**
 * Compares the recovered index with one rebuilt from its stored documents (keyword search, all hits).
 * The hits must be the same passages with the same texts. Scores: BM25's document frequency counts
 * chunks deleted or replaced but not yet compacted away (as Lucene does), so a recovered collection
 * may give a term a smaller idf than the rebuilt one; everything else (tf, lengths, counts, average
 * length) must be exact. So each term's scores must differ by one factor ≤ 1 across all hits (`exact`:
 * a factor of 1), and a multi-term query's scores must be the sum of its terms' rebuilt scores times
 * those factors.
 */
export function compareSearch(
  singles: readonly string[],
  multis: readonly string[],
  recovered: Record<string, Hit[]>,
  rebuilt: Record<string, Hit[]>,
  exact: boolean,
): { mismatches: number; compared: number; exactTerms: number; problems: string[] } {
  const problems: string[] = []
  let mismatches = 0
  let exactTerms = 0
  const ratio = new Map<string, number>()
  const samePassages = (q: string): boolean => {
    const a = recovered[q]!
    const b = new Map(rebuilt[q]!.map((h) => [h.chunkId, h]))
    const bad = a.length !== b.size || a.some((h) => b.get(h.chunkId)?.text !== h.text)
    if (bad) problems.push(`'${q}': ${a.length} hits vs ${b.size} rebuilt, or other passages/texts (recovered ${a.slice(0, 4).map((h) => h.chunkId)}, rebuilt ${[...b.keys()].slice(0, 4)})`)
    const sorted = a.every((h, i) => i === 0 || a[i - 1]!.score >= h.score)
    if (!sorted) problems.push(`'${q}': recovered hits are not in descending score order`)
    return !bad && sorted
  }
  for (const q of singles) {
    if (!samePassages(q)) {
      mismatches++
      continue
    }
    const rb = new Map(rebuilt[q]!.map((h) => [h.chunkId, h.score]))
    const ratios = recovered[q]!.map((h) => h.score / rb.get(h.chunkId)!)
    const r = ratios[0] ?? 1
    const ok = ratios.every((x) => close(x, r)) && r <= 1 + 1e-9 && r > 0 && (!exact || close(r, 1))
    if (!ok) {
      mismatches++
      problems.push(`'${q}': score ratios recovered/rebuilt ${[...new Set(ratios.map((x) => x.toFixed(9)))].slice(0, 4).join(', ')} are not one factor${exact ? ' of 1' : ' ≤ 1'}`)
      continue
    }
    ratio.set(q, r)
    if (close(r, 1)) exactTerms++
  }
  for (const q of multis) {
    if (!samePassages(q)) {
      mismatches++
      continue
    }
    const terms = q.split(' ')
    if (terms.some((t) => !ratio.has(t))) continue
    const parts = terms.map((t) => ({ r: ratio.get(t)!, scores: new Map(rebuilt[t]!.map((h) => [h.chunkId, h.score])) }))
    const wrong = recovered[q]!.filter((h) => !close(h.score, parts.reduce((s, p) => s + p.r * (p.scores.get(h.chunkId) ?? 0), 0)))
    if (wrong.length > 0) {
      mismatches++
      problems.push(`'${q}': ${wrong.length} hits score other than the sum of their terms' (first ${wrong[0]!.chunkId} ${wrong[0]!.score})`)
    }
  }
  return { mismatches, compared: singles.length + multis.length, exactTerms, problems }
}
