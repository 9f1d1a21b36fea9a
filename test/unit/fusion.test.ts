import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { codeOf } from '../helpers/errors.js'
import { fuse, resolveFusion, type RankedList } from '../../src/rank/fusion.js'

const list = (ids: number[], scores: number[]): RankedList => ({ ids, scores })
const nanToNull = (a: Float64Array) => Array.from(a, (x) => (Number.isNaN(x) ? null : x))

describe('fuse with rrf', () => {
  it('sums 1 / (k + rank) over the lists, rank from 1', () => {
    const out = fuse(list([3, 1, 5], [0.9, 0.8, 0.1]), list([1, 7], [12, 4]), resolveFusion({ method: 'rrf' }), 10)
    // 1: 1/62 + 1/61; 3: 1/61; 7: 1/62; 5: 1/63
    expect(Array.from(out.ids)).toEqual([1, 3, 7, 5])
    const expected = [1 / 62 + 1 / 61, 1 / 61, 1 / 62, 1 / 63]
    out.scores.forEach((s, i) => expect(s).toBeCloseTo(expected[i]!, 15))
    expect(nanToNull(out.vectorScore)).toEqual([0.8, 0.9, null, 0.1])
    expect(nanToNull(out.keywordScore)).toEqual([12, null, 4, null])
  })

  it('uses the given k and breaks ties by the smaller id', () => {
    const out = fuse(list([9, 2], [1, 0.5]), list([4], [3]), resolveFusion({ method: 'rrf', k: 1 }), 10)
    // 4 and 9 both 1/2; 2 is 1/3
    expect(Array.from(out.ids)).toEqual([4, 9, 2])
    expect(Array.from(out.scores)).toEqual([0.5, 0.5, 1 / 3])
  })

  it('keeps k items, counts an id listed twice at its first place, and handles empty lists', () => {
    const out = fuse(list([5, 6, 5], [3, 2, 1]), list([], []), resolveFusion({ method: 'rrf', k: 60 }), 2)
    expect(Array.from(out.ids)).toEqual([5, 6])
    expect(out.scores[0]).toBeCloseTo(1 / 61, 15)
    expect(fuse(list([], []), list([], []), resolveFusion({ method: 'rrf' }), 5).ids.length).toBe(0)
    expect(fuse(list([1], [1]), list([2], [1]), resolveFusion({ method: 'rrf' }), 0).ids.length).toBe(0)
  })
})

describe('fuse with weighted scores', () => {
  // Normalised: vector 40 → 1, 10 → 0.5, 30 → 0; keyword 30 → 1, 15 → 0. The ids are chosen so
  // that breaking ties by id alone would give a different order in every test below.
  const vector = list([40, 10, 30], [0.9, 0.5, 0.1])
  const keyword = list([30, 15], [8, 2])

  it('combines min-max normalised scores with alpha', () => {
    const out = fuse(vector, keyword, resolveFusion({ method: 'weighted', alpha: 0.75 }), 10)
    // 40: .75; 10: .375; 30: .25; 15: 0
    expect(Array.from(out.ids)).toEqual([40, 10, 30, 15])
    expect(Array.from(out.scores)).toEqual([0.75, 0.375, 0.25, 0])
    expect(nanToNull(out.vectorScore)).toEqual([0.9, 0.5, 0.1, null])
    expect(nanToNull(out.keywordScore)).toEqual([null, null, 8, 2])
  })

  it('defaults alpha to 0.5 and breaks a tie by the rank in the vector list', () => {
    const out = fuse(vector, keyword, resolveFusion({ method: 'weighted' }), 10)
    // 40: .5 and 30: .5 tie; 40 ranks first in the vector list
    expect(Array.from(out.ids)).toEqual([40, 30, 10, 15])
    expect(Array.from(out.scores)).toEqual([0.5, 0.5, 0.25, 0])
  })

  it('alpha 0 gives exactly the keyword order, then vector-only items in vector order', () => {
    // 15 normalises to 0 like the vector-only 40 and 10, yet comes right after 30; then 40
    // before 10, as in the vector list.
    const out = fuse(vector, keyword, resolveFusion({ method: 'weighted', alpha: 0 }), 10)
    expect(Array.from(out.ids)).toEqual([30, 15, 40, 10])
    expect(Array.from(out.scores)).toEqual([1, 0, 0, 0])
  })

  it('alpha 1 gives exactly the vector order, then keyword-only items', () => {
    // 30 normalises to 0 like the keyword-only 15, and stays ahead of it.
    const out = fuse(vector, keyword, resolveFusion({ method: 'weighted', alpha: 1 }), 10)
    expect(Array.from(out.ids)).toEqual([40, 10, 30, 15])
    expect(Array.from(out.scores)).toEqual([1, 0.5, 0, 0])
  })

  it('normalises a single item or all-equal scores to 1', () => {
    const out = fuse(list([8], [0.3]), list([2, 3], [5, 5]), resolveFusion({ method: 'weighted', alpha: 0.5 }), 10)
    expect(Array.from(out.ids)).toEqual([8, 2, 3])
    expect(Array.from(out.scores)).toEqual([0.5, 0.5, 0.5])
  })

  it('alpha 0 and 1 reproduce either list for any input', () => {
    const ranked = fc
      .uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 15 })
      .chain((ids) => fc.array(fc.integer({ min: -5, max: 5 }), { minLength: ids.length, maxLength: ids.length }).map((s) => ({ ids, scores: s.sort((a, b) => b - a) })))
    fc.assert(
      fc.property(ranked, ranked, (vec, kw) => {
        const all = (first: RankedList, second: RankedList) => [...Array.from(first.ids), ...Array.from(second.ids).filter((id) => !Array.from(first.ids).includes(id))]
        expect(Array.from(fuse(vec, kw, resolveFusion({ method: 'weighted', alpha: 0 }), 100).ids)).toEqual(all(kw, vec))
        expect(Array.from(fuse(vec, kw, resolveFusion({ method: 'weighted', alpha: 1 }), 100).ids)).toEqual(all(vec, kw))
      }),
    )
  })

  it('refuses a scores array shorter than its ids and a negative k', () => {
    expect(codeOf(() => fuse(list([1, 2], [1]), list([], []), resolveFusion({ method: 'rrf' }), 5))).toBe('INVALID_INPUT')
    expect(codeOf(() => fuse(vector, keyword, resolveFusion({ method: 'rrf' }), -1))).toBe('INVALID_INPUT')
    expect(codeOf(() => fuse(vector, keyword, resolveFusion({ method: 'weighted', alpha: 2 }), 5))).toBe('INVALID_INPUT')
  })
})

describe('resolveFusion', () => {
  it('fills defaults', () => {
    expect(resolveFusion(undefined)).toEqual({ method: 'rrf', k: 60 })
    expect(resolveFusion({ method: 'rrf' })).toEqual({ method: 'rrf', k: 60 })
    expect(resolveFusion({ method: 'rrf', k: 10 })).toEqual({ method: 'rrf', k: 10 })
    expect(resolveFusion({ method: 'weighted' })).toEqual({ method: 'weighted', alpha: 0.5 })
    expect(resolveFusion({ method: 'weighted', alpha: 0 })).toEqual({ method: 'weighted', alpha: 0 })
    expect(resolveFusion({ method: 'weighted', alpha: 1 })).toEqual({ method: 'weighted', alpha: 1 })
  })

  it.each([
    ['an unknown method', { method: 'max' }],
    ['a method in the wrong case', { method: 'RRF' }],
    ['no method', { alpha: 0.5 }],
    ['alpha below 0', { method: 'weighted', alpha: -0.1 }],
    ['alpha above 1', { method: 'weighted', alpha: 1.1 }],
    ['alpha NaN', { method: 'weighted', alpha: NaN }],
    ['alpha as a string', { method: 'weighted', alpha: '0.5' }],
    ['k of 0', { method: 'rrf', k: 0 }],
    ['a negative k', { method: 'rrf', k: -5 }],
    ['an infinite k', { method: 'rrf', k: Infinity }],
    ['alpha with rrf', { method: 'rrf', alpha: 0.3 }],
    ['a string', 'rrf'],
    ['an array', [{ method: 'rrf' }]],
  ])('refuses %s with INVALID_INPUT', (_, value) => {
    expect(codeOf(() => resolveFusion(value))).toBe('INVALID_INPUT')
  })
})
