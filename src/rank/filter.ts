/**
 * Metadata filters, applied before the top-k (so `k` results come back whenever `k` chunks pass):
 * {@link compileFilter} validates a caller's filter once and turns it into a predicate;
 * {@link buildAllowedMask} runs that predicate over every slot to get the mask the scans take.
 *
 * Semantics, in one place:
 * - A filter maps top-level metadata fields to conditions; all must hold (AND). A dot in a key is
 *   part of the key, not a path.
 * - A condition is a scalar (shorthand for `{ eq }`) or an object of operators, all of which must
 *   hold: `eq`, `ne`, `in`, `nin`, `gt`, `gte`, `lt`, `lte`, `exists`.
 * - Equality is strict: `1` does not match `'1'`. A metadata array matches `eq`/`in` when any
 *   element does (tags), and a range when any one element satisfies every bound.
 * - Ranges compare numbers with numbers and strings with strings (by UTF-16 code units, so ISO
 *   dates order correctly); a value of the other type, or NaN, never matches.
 * - A missing field (or `undefined`, or no metadata at all) fails `eq`, `in` and ranges, and passes
 *   `ne` and `nin` ("not tagged x" includes untagged). `exists: true` asks for the field to be
 *   present; `null` is a present value and matches only `null`.
 */
import { invalidInput } from '../errors.js'

/** A metadata value a condition can compare against. */
export type Scalar = string | number | boolean | null

/** Operators of a condition; every one given must hold. */
export interface Operators {
  eq?: Scalar
  ne?: Scalar
  in?: readonly Scalar[]
  nin?: readonly Scalar[]
  gt?: number | string
  gte?: number | string
  lt?: number | string
  lte?: number | string
  exists?: boolean
}

/** A scalar (equality) or an object of {@link Operators}. */
export type Condition = Scalar | Operators

/**
 * A filter compiled by {@link compileFilter} from the public `Filter` (field name → {@link Condition},
 * all must hold): whether one chunk's metadata passes.
 */
export type CompiledFilter = (metadata: Record<string, unknown> | undefined) => boolean

type Test = (value: unknown) => boolean

const OPERATORS = ['eq', 'ne', 'in', 'nin', 'gt', 'gte', 'lt', 'lte', 'exists'] as const
const RANGE = ['gt', 'gte', 'lt', 'lte'] as const

/**
 * Validates `filter` and compiles it into a predicate over one chunk's metadata. `undefined`,
 * `null` and `{}` mean "no filter" and return `null`, so callers can skip the mask entirely.
 *
 * @throws WinnowError `INVALID_INPUT`, naming the field, for anything that is not a valid
 *   condition: an unknown operator, an `undefined` condition (remove the key instead), an array
 *   (use `{ in: [...] }`), NaN, a Date (compare ISO strings), mixed number/string range bounds.
 * @example
 * const passes = compileFilter({ lang: 'en', year: { gte: 2020 }, tags: { in: ['faq', 'guide'] } })
 * passes?.({ lang: 'en', year: 2023, tags: ['guide', 'setup'] }) // true
 * passes?.({ lang: 'en', year: '2023' })                         // false: a string is not a number
 */
export function compileFilter(filter: unknown): CompiledFilter | null {
  if (filter === undefined || filter === null) return null
  if (!isPlainObject(filter)) {
    throw invalidInput(`filter must be an object mapping metadata fields to conditions, like { lang: 'en' }; got ${shown(filter)}`)
  }
  const keys = Object.keys(filter)
  if (keys.length === 0) return null
  const tests = keys.map((key) => compileCondition(key, (filter as Record<string, unknown>)[key]))
  const own = Object.prototype.hasOwnProperty
  return (metadata) => {
    for (let i = 0; i < keys.length; i++) {
      // Own properties only: `constructor` or `toString` must read as missing, not as Object's.
      const key = keys[i]!
      const value = metadata != null && own.call(metadata, key) ? metadata[key] : undefined
      if (!tests[i]!(value)) return false
    }
    return true
  }
}

/**
 * Runs `predicate` over the metadata of every slot: `mask[slot]` is 1 when the slot passes, else 0.
 * Holes and `undefined` entries are passed to the predicate as "no metadata".
 *
 * @example
 * const predicate = compileFilter(options.filter)
 * const allowed = predicate ? buildAllowedMask(table.metadata, predicate) : null
 * scanQuantized(query, blocks, n, allowed)
 */
export function buildAllowedMask(
  metadata: readonly (Record<string, unknown> | undefined)[],
  predicate: CompiledFilter,
): Uint8Array {
  const mask = new Uint8Array(metadata.length)
  for (let slot = 0; slot < metadata.length; slot++) mask[slot] = predicate(metadata[slot]) ? 1 : 0
  return mask
}

function compileCondition(field: string, condition: unknown): Test {
  if (condition === undefined) throw invalidInput(`filter.${field} is undefined; remove the key to not filter on it`, { field })
  if (Array.isArray(condition)) throw invalidInput(`filter.${field} is an array; use { in: [...] } to match any of several values`, { field })
  if (!isPlainObject(condition)) return equals(checkScalar(field, 'value', condition))

  const ops = Object.keys(condition)
  if (ops.length === 0) throw invalidInput(`filter.${field} is an empty condition; give a value or an operator (${OPERATORS.join(', ')})`, { field })
  const c = condition as Record<string, unknown>
  const tests: Test[] = []
  for (const op of ops) {
    if (!(OPERATORS as readonly string[]).includes(op)) {
      throw invalidInput(`filter.${field} has an unknown operator '${op}'; use ${OPERATORS.join(', ')}`, { field })
    }
  }
  if ('eq' in c) tests.push(equals(checkScalar(field, 'eq', c.eq)))
  if ('ne' in c) tests.push(not(equals(checkScalar(field, 'ne', c.ne))))
  if ('in' in c) tests.push(oneOf(checkList(field, 'in', c.in)))
  if ('nin' in c) tests.push(not(oneOf(checkList(field, 'nin', c.nin))))
  if (RANGE.some((op) => op in c)) tests.push(range(field, c))
  if ('exists' in c) {
    if (typeof c.exists !== 'boolean') throw invalidInput(`filter.${field}.exists must be true or false, got ${shown(c.exists)}`, { field })
    const wanted = c.exists
    tests.push((v) => (v !== undefined) === wanted)
  }
  if (tests.length === 1) return tests[0]!
  return (v) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(v)) return false
    return true
  }
}

// `includes` is SameValueZero, which differs from === only for NaN, and NaN is refused in filters.
function equals(x: Scalar): Test {
  return (v) => v === x || (Array.isArray(v) && v.includes(x))
}

function oneOf(list: readonly Scalar[]): Test {
  const set = new Set<unknown>(list)
  return (v) => {
    if (!Array.isArray(v)) return set.has(v)
    for (let i = 0; i < v.length; i++) if (set.has(v[i])) return true
    return false
  }
}

function not(test: Test): Test {
  return (v) => !test(v)
}

function range(field: string, c: Record<string, unknown>): Test {
  let type: 'number' | 'string' | undefined
  for (const op of RANGE) {
    if (!(op in c)) continue
    const bound = c[op]
    const t = typeof bound
    if ((t !== 'number' && t !== 'string') || Number.isNaN(bound)) {
      throw invalidInput(`filter.${field}.${op} must be a number or a string (an ISO date for dates), got ${shown(bound)}`, { field })
    }
    if (type !== undefined && t !== type) throw invalidInput(`filter.${field} mixes number and string bounds; use one type`, { field })
    type = t as 'number' | 'string'
  }
  // `typeof x === type` first: `'10' > 9` would coerce, and mixed types must never match.
  const gt = c.gt as number | string | undefined
  const gte = c.gte as number | string | undefined
  const lt = c.lt as number | string | undefined
  const lte = c.lte as number | string | undefined
  const inRange = (x: unknown): boolean =>
    typeof x === type &&
    (gt === undefined || (x as number | string) > gt) &&
    (gte === undefined || (x as number | string) >= gte) &&
    (lt === undefined || (x as number | string) < lt) &&
    (lte === undefined || (x as number | string) <= lte)
  return (v) => {
    if (!Array.isArray(v)) return inRange(v)
    for (let i = 0; i < v.length; i++) if (inRange(v[i])) return true
    return false
  }
}

function checkScalar(field: string, op: string, x: unknown): Scalar {
  if (x === null || typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && !Number.isNaN(x))) return x
  const hint = x instanceof Date ? '; compare ISO strings instead, e.g. { gte: date.toISOString() }' : ''
  throw invalidInput(`filter.${field}${op === 'value' ? '' : `.${op}`} must be a string, number, boolean or null, got ${shown(x)}${hint}`, { field })
}

function checkList(field: string, op: string, list: unknown): readonly Scalar[] {
  if (!Array.isArray(list)) throw invalidInput(`filter.${field}.${op} must be an array of values, got ${shown(list)}`, { field })
  return list.map((x) => checkScalar(field, op, x))
}

function isPlainObject(x: unknown): x is object {
  if (typeof x !== 'object' || x === null) return false
  const proto = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}

function shown(x: unknown): string {
  if (typeof x === 'string') return `'${x}'`
  if (x instanceof Date) return 'a Date'
  try {
    return typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x)
  } catch {
    return Object.prototype.toString.call(x)
  }
}
