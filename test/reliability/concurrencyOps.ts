/**
 * The concurrency test's operations: generated from a seed (fast-check), run by two pages at once,
 * logged with when each was invoked and acknowledged. Shared by the spec (Node) and the page.
 */
import fc from 'fast-check'

export type PageName = 'A' | 'B'

export interface ConcDoc {
  id: string
  text: string
  metadata: { page: PageName; op: number; slot: number }
}

export type ConcOp =
  | { kind: 'add'; docs: ConcDoc[] }
  | { kind: 'delete'; ids: string[] }
  | { kind: 'clear' }
  | { kind: 'count' }
  | { kind: 'search'; query: string }

/** One operation as it happened on its page. Times are `performance.timeOrigin + performance.now()`. */
export interface LoggedOp {
  page: PageName
  /** Position in its page's program. */
  n: number
  op: ConcOp
  invokedAt: number
  ackedAt: number
  /** add: `replaced`; delete: how many existed; count: the count; search: hit ids; clear: null. */
  result: unknown
  error?: string
}

/** Words of the texts, and the terms searched during and after the run. */
export const VOCAB = ['harbour', 'lantern', 'granite', 'meadow', 'orchard', 'pylon', 'quarry', 'tundra']
/** Ids per page range: `a0..`, `b0..`; each page writes mostly its own range, sometimes the other's. */
export const IDS_PER_PAGE = 30

/** The version tag an add writes into a document's text: tells which add the stored version came from. */
export function versionTag(page: PageName, n: number): string {
  return `v${page.toLowerCase()}${n}x`
}

/** Reads the version tag back from a stored text. */
export function versionOf(text: string): string | null {
  return /\b(v[ab]\d+x)\b/.exec(text)?.[1] ?? null
}

const idIn = (range: 'a' | 'b') => fc.integer({ min: 0, max: IDS_PER_PAGE - 1 }).map((i) => `${range}${i}`)

function opArbitrary(page: PageName): fc.Arbitrary<Omit<ConcOp, 'docs'> & { ids?: string[]; words?: string[][] }> {
  const own = page === 'A' ? 'a' : 'b'
  const other = page === 'A' ? 'b' : 'a'
  const id = fc.oneof({ weight: 3, arbitrary: idIn(own) }, { weight: 1, arbitrary: idIn(other) })
  const words = fc.array(fc.constantFrom(...VOCAB), { minLength: 2, maxLength: 6 })
  return fc.oneof(
    { weight: 40, arbitrary: fc.uniqueArray(id, { minLength: 1, maxLength: 4 }).chain((ids) => fc.array(words, { minLength: ids.length, maxLength: ids.length }).map((w) => ({ kind: 'add' as const, ids, words: w }))) },
    { weight: 24, arbitrary: fc.array(fc.oneof(idIn('a'), idIn('b')), { minLength: 1, maxLength: 3 }).map((ids) => ({ kind: 'delete' as const, ids })) },
    { weight: 30, arbitrary: fc.array(fc.constantFrom(...VOCAB), { minLength: 1, maxLength: 2 }).map((w) => ({ kind: 'search' as const, query: w.join(' ') })) },
    { weight: 5, arbitrary: fc.constant({ kind: 'count' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  )
}

/**
 * The program of one page: `count` operations from `seed`.
 *
 * @example
 * const ops = generateOps('A', 1000, 42)
 */
export function generateOps(page: PageName, count: number, seed: number): ConcOp[] {
  const raw = fc.sample(opArbitrary(page), { seed: seed + (page === 'A' ? 0 : 7919), numRuns: count })
  return raw.map((r, n): ConcOp => {
    if (r.kind !== 'add') return r as ConcOp
    const docs = r.ids!.map((id, slot) => ({ id, text: `${r.words![slot]!.join(' ')} ${versionTag(page, n)}`, metadata: { page, op: n, slot } }))
    return { kind: 'add', docs }
  })
}

/** Every id either page may touch. */
export function allIds(): string[] {
  return ['a', 'b'].flatMap((r) => Array.from({ length: IDS_PER_PAGE }, (_, i) => `${r}${i}`))
}
