import { describe, expect, it } from 'vitest'
import { WinnowError } from '../../src/errors.js'
import { buildAllowedMask, compileFilter, type CompiledFilter } from '../../src/rank/filter.js'

type Meta = Record<string, unknown> | undefined

const DOCS: Meta[] = [
  /* 0 */ { lang: 'en', year: 2019, tags: ['faq', 'setup'], date: '2023-01-15' },
  /* 1 */ { lang: 'de', year: 2021, tags: ['guide'], date: '2023-06-30T12:00:00Z' },
  /* 2 */ { lang: 'en', year: 2023, tags: [], draft: true },
  /* 3 */ { lang: 'en', year: '2022', tags: 'faq', draft: false },
  /* 4 */ { lang: null, year: 2020, score: NaN },
  /* 5 */ undefined,
  /* 6 */ { lang: 'fr', tags: ['guide', 'faq'], nested: { lang: 'en' } },
]

/** Slots of DOCS that pass `filter`. */
function passing(filter: unknown): number[] {
  const predicate = compileFilter(filter) as CompiledFilter
  expect(predicate).not.toBeNull()
  return DOCS.flatMap((m, slot) => (predicate(m) ? [slot] : []))
}

function errorOf(filter: unknown): WinnowError | undefined {
  try {
    compileFilter(filter)
  } catch (e) {
    if (e instanceof WinnowError) return e
    throw e
  }
  return undefined
}

describe('compileFilter: equality', () => {
  it('matches a scalar strictly, never across types', () => {
    expect(passing({ lang: 'en' })).toEqual([0, 2, 3])
    expect(passing({ year: 2022 })).toEqual([])
    expect(passing({ year: '2022' })).toEqual([3])
    expect(passing({ draft: false })).toEqual([3])
    expect(passing({ lang: { eq: 'de' } })).toEqual([1])
  })

  it('matches null only where the value is null, not where the field is missing', () => {
    expect(passing({ lang: null })).toEqual([4])
  })

  it('matches an array value when any element matches', () => {
    expect(passing({ tags: 'faq' })).toEqual([0, 3, 6])
    expect(passing({ tags: 'guide' })).toEqual([1, 6])
  })

  it('ANDs several fields', () => {
    expect(passing({ lang: 'en', tags: 'faq' })).toEqual([0, 3])
    expect(passing({ lang: 'en', year: { gte: 2020 } })).toEqual([2])
  })

  it('reads top-level own fields only', () => {
    expect(passing({ 'nested.lang': 'en' })).toEqual([])
    expect(passing({ constructor: { exists: true } })).toEqual([])
    expect(passing({ toString: { ne: 'x' } })).toEqual([0, 1, 2, 3, 4, 5, 6])
  })
})

describe('compileFilter: in / ne / nin / exists', () => {
  it('in matches any listed value, elementwise for arrays; an empty list matches nothing', () => {
    expect(passing({ lang: { in: ['de', 'fr'] } })).toEqual([1, 6])
    expect(passing({ tags: { in: ['setup', 'guide'] } })).toEqual([0, 1, 6])
    expect(passing({ year: { in: [2019, '2022'] } })).toEqual([0, 3])
    expect(passing({ lang: { in: [] } })).toEqual([])
  })

  it('ne and nin are the negations, so a missing field passes them', () => {
    expect(passing({ lang: { ne: 'en' } })).toEqual([1, 4, 5, 6])
    expect(passing({ tags: { ne: 'faq' } })).toEqual([1, 2, 4, 5])
    expect(passing({ lang: { nin: ['en', null] } })).toEqual([1, 5, 6])
  })

  it('exists tells present (null included) from missing', () => {
    expect(passing({ draft: { exists: true } })).toEqual([2, 3])
    expect(passing({ year: { exists: false } })).toEqual([5, 6])
    expect(passing({ lang: { exists: true } })).toEqual([0, 1, 2, 3, 4, 6])
  })

  it('several operators in one condition must all hold', () => {
    expect(passing({ tags: { eq: 'faq', ne: 'setup' } })).toEqual([3, 6])
  })
})

describe('compileFilter: ranges', () => {
  it('compares numbers with numbers only', () => {
    expect(passing({ year: { gte: 2020 } })).toEqual([1, 2, 4])
    expect(passing({ year: { gt: 2019, lt: 2023 } })).toEqual([1, 4])
    expect(passing({ year: { lte: 2019 } })).toEqual([0])
    expect(passing({ score: { gte: -Infinity } })).toEqual([]) // NaN never matches
  })

  it('compares strings lexicographically, so ISO dates work', () => {
    expect(passing({ date: { gte: '2023-01-01', lt: '2023-07-01' } })).toEqual([0, 1])
    expect(passing({ date: { gt: '2023-06-30' } })).toEqual([1]) // the longer timestamp sorts after the day
    expect(passing({ year: { gte: '2020' } })).toEqual([3]) // only the string year
  })

  it('needs one array element to satisfy every bound', () => {
    const predicate = compileFilter({ n: { gt: 5, lt: 10 } })!
    expect(predicate({ n: [1, 20] })).toBe(false) // 20 > 5 and 1 < 10, but no single element is in (5, 10)
    expect(predicate({ n: [1, 7] })).toBe(true)
  })
})

describe('compileFilter: no filter and invalid filters', () => {
  it('returns null for undefined, null and {}', () => {
    expect(compileFilter(undefined)).toBeNull()
    expect(compileFilter(null)).toBeNull()
    expect(compileFilter({})).toBeNull()
  })

  it.each([
    ['an unknown operator', { n: { between: [1, 2] } }, 'n', 'between'],
    ['an undefined condition', { lang: undefined }, 'lang', 'remove the key'],
    ['an array condition', { tags: ['a', 'b'] }, 'tags', '{ in: [...] }'],
    ['an empty condition', { lang: {} }, 'lang', 'empty'],
    ['NaN', { year: NaN }, 'year', 'NaN'],
    ['a Date', { when: new Date(0) }, 'when', 'ISO'],
    ['a Date bound', { when: { gte: new Date(0) } }, 'when', 'ISO'],
    ['a NaN bound', { year: { lt: NaN } }, 'year', 'NaN'],
    ['mixed bounds', { year: { gte: 2020, lt: '2024' } }, 'year', 'mixes'],
    ['a boolean bound', { draft: { gt: false } }, 'draft', 'number or a string'],
    ['in without an array', { lang: { in: 'en' } }, 'lang', 'array'],
    ['an object inside in', { lang: { in: [{ a: 1 }] } }, 'lang', 'string, number'],
    ['exists not boolean', { lang: { exists: 1 } }, 'lang', 'true or false'],
    ['a nested object as value', { meta: { lang: 'en' } }, 'meta', "unknown operator 'lang'"],
  ])('refuses %s with INVALID_INPUT naming the field', (_, filter, field, hint) => {
    const err = errorOf(filter)
    expect(err?.code).toBe('INVALID_INPUT')
    expect(err?.details).toEqual({ field })
    expect(err?.message).toContain(`filter.${field}`)
    expect(err?.message).toContain(hint)
  })

  it.each([['a string', 'lang=en'], ['an array', [{ lang: 'en' }]], ['a number', 3]])('refuses %s as the whole filter', (_, filter) => {
    expect(errorOf(filter)?.code).toBe('INVALID_INPUT')
  })
})

describe('buildAllowedMask', () => {
  it('marks the slots that pass, treating holes as no metadata', () => {
    const metadata: Meta[] = [{ lang: 'en' }, undefined, { lang: 'de' }]
    metadata[4] = { lang: 'en' } // slot 3 is a hole
    const mask = buildAllowedMask(metadata, compileFilter({ lang: 'en' })!)
    expect(Array.from(mask)).toEqual([1, 0, 0, 0, 1])
    expect(Array.from(buildAllowedMask(metadata, compileFilter({ lang: { ne: 'de' } })!))).toEqual([1, 1, 0, 1, 1])
  })
})
