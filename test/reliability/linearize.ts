/**
 * Finds the serial order the two pages' writes took, from what each page observed.
 *
 * Writes to a collection are serialized by a cross-tab Web Lock, so they happened in some linear
 * order; but the order in which the pages *heard back* is not that order (an acknowledgement
 * travels worker → page, and a page can be slow to run it). What is trustworthy:
 * - each page's own operations happened in its program order (it awaits each one);
 * - an operation took effect between its invocation and its acknowledgement (both read from one
 *   clock, `performance.timeOrigin + performance.now()`), so one acknowledged before the other
 *   was invoked came first;
 * - every result is what that operation saw: `add` reports how many ids it replaced, `delete`
 *   how many existed, `count` the count.
 * A depth-first search over merges of the two programs, pruned by those facts and memoised on
 * (position in A, position in B, store state), finds an order that explains every result and the
 * final state, or proves there is none (Wing & Gong's linearizability check, with P-compositional
 * memoisation as in Porcupine). Searches are left out: they must only never fail.
 */
import { versionOf, versionTag, type LoggedOp } from './concurrencyOps.js'

/** Ids → the version tag stored (absent: no document). */
type State = Map<string, string>

export interface Linearization {
  /** The order found, or null when no order explains the observations. */
  order: LoggedOp[] | null
  /** Search nodes visited. */
  visited: number
  /**
   * Operations that had to be placed before one acknowledged earlier (the search follows the
   * acknowledgements wherever the results allow): acknowledgement order is not commit order.
   */
  reorderedVsAck: number
  /** Writes whose [invoked, acknowledged] interval overlapped a write of the other page: truly concurrent. */
  overlapping: number
  /** Why no order was found (the deepest point reached). */
  reason?: string
}

/** Applies `op` to `state` if the op's observed result is consistent with it; returns the new state or null. */
function step(state: State, op: LoggedOp): State | null {
  if (op.error) return null
  switch (op.op.kind) {
    case 'add': {
      const replaced = op.op.docs.filter((d) => state.has(d.id)).length
      if (replaced !== op.result) return null
      const next = new Map(state)
      for (const d of op.op.docs) next.set(d.id, versionTag(op.page, op.n))
      return next
    }
    case 'delete': {
      const existed = [...new Set(op.op.ids)].filter((id) => state.has(id))
      if (existed.length !== op.result) return null
      const next = new Map(state)
      for (const id of existed) next.delete(id)
      return next
    }
    case 'clear':
      return new Map()
    case 'count':
      return state.size === op.result ? state : null
    default:
      return state
  }
}

function key(i: number, j: number, state: State, ids: readonly string[]): string {
  let s = `${i},${j}:`
  for (const id of ids) s += `${state.get(id) ?? '-'},`
  return s
}

/**
 * Searches for an order of `a` and `b` (each in program order) consistent with their results, the
 * real-time order (with `marginMs` of slack for clock granularity) and `final` (id → stored text).
 *
 * @example
 * const { order } = linearize(logA, logB, finalTexts, allIds(), 1)
 */
export function linearize(
  a: LoggedOp[],
  b: LoggedOp[],
  final: Record<string, string | null>,
  ids: readonly string[],
  marginMs = 1,
  maxVisited = 5_000_000,
): Linearization {
  const A = a.filter((op) => op.op.kind !== 'search')
  const B = b.filter((op) => op.op.kind !== 'search')
  const finalState: State = new Map()
  for (const id of ids) {
    const text = final[id]
    if (text != null) finalState.set(id, versionOf(text) ?? '?')
  }
  const finalKey = key(A.length, B.length, finalState, ids)
  const isWrite = (op: LoggedOp) => op.op.kind !== 'count'
  const overlapping = [...A.filter(isWrite).map((x) => [x, B] as const), ...B.filter(isWrite).map((x) => [x, A] as const)].filter(([x, other]) =>
    other.some((y) => isWrite(y) && y.invokedAt < x.ackedAt && x.invokedAt < y.ackedAt),
  ).length
  const seen = new Set<string>()
  let visited = 0
  let deepest = { i: 0, j: 0 }
  const order: LoggedOp[] = []

  // Iterative DFS: frames hold the position, the state and which branch to try next.
  // Of the two candidates, the one acknowledged first is tried first: the order found follows the
  // acknowledgements wherever the results allow, so `reorderedVsAck` counts forced departures.
  const stack: { i: number; j: number; state: State; branch: 0 | 1 | 2 }[] = [{ i: 0, j: 0, state: new Map(), branch: 0 }]
  const firstFrom = (i: number, j: number): 'A' | 'B' => (!B[j] || (A[i] && A[i]!.ackedAt <= B[j]!.ackedAt) ? 'A' : 'B')
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!
    const { i, j, state } = frame
    if (frame.branch === 0) {
      visited++
      if (visited > maxVisited) return { order: null, visited, reorderedVsAck: 0, overlapping, reason: `gave up after ${maxVisited} nodes` }
      if (i + j > deepest.i + deepest.j) deepest = { i, j }
      const k = key(i, j, state, ids)
      if (i === A.length && j === B.length) {
        if (k === finalKey) return { order: [...order], visited, reorderedVsAck: countReordered(order), overlapping }
      }
      if (seen.has(k)) {
        stack.pop()
        order.pop()
        continue
      }
      seen.add(k)
    }
    // Branch 1 and 2: the next op of one page, then of the other. An op may go next only if the
    // other page's next op was not acknowledged before it was invoked.
    let pushed = false
    while (frame.branch < 2 && !pushed) {
      frame.branch = (frame.branch + 1) as 1 | 2
      const first = firstFrom(i, j)
      const fromA = (frame.branch === 1) === (first === 'A')
      const mine = fromA ? A[i] : B[j]
      const theirs = fromA ? B[j] : A[i]
      if (!mine) continue
      if (theirs && theirs.ackedAt + marginMs < mine.invokedAt) continue
      const next = step(state, mine)
      if (!next) continue
      order.push(mine)
      stack.push({ i: fromA ? i + 1 : i, j: fromA ? j : j + 1, state: next, branch: 0 })
      pushed = true
    }
    if (!pushed) {
      stack.pop()
      order.pop()
    }
  }
  const at = (list: LoggedOp[], n: number) => (list[n] ? `${list[n]!.page}#${list[n]!.n} ${list[n]!.op.kind} → ${JSON.stringify(list[n]!.result)}` : 'end')
  return {
    order: null,
    visited,
    reorderedVsAck: 0,
    overlapping,
    reason: `no order explains the results; the furthest consistent prefix placed ${deepest.i} of A's and ${deepest.j} of B's writes (next: ${at(A, deepest.i)} / ${at(B, deepest.j)})`,
  }
}

/** How many operations in `order` were acknowledged after an operation placed later. */
function countReordered(order: LoggedOp[]): number {
  let n = 0
  let latestAck = -Infinity
  for (const op of order) {
    if (op.ackedAt < latestAck) n++
    latestAck = Math.max(latestAck, op.ackedAt)
  }
  return n
}
