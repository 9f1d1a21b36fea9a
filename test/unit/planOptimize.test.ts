import { expect, it } from 'vitest'
import { planOptimize } from '../../src/collection/compaction.js'

const seg = (id: number, live: number, vectors = true) => ({ id, live, vectors })

it('merges the smallest segments of a kind while they fit, at least two; then partitions a large one alone; then stops', () => {
  // Vector segments first: 5 + 10 + 20 fit 40; 30 would not.
  expect(planOptimize([seg(1, 30), seg(2, 10), seg(3, 5), seg(4, 20)], 40, 100, new Set())).toEqual({ segments: [2, 3, 4] })
  // Keyword-only segments merge among themselves.
  expect(planOptimize([seg(1, 50, false), seg(2, 60, false), seg(3, 500)], 200, 1000, new Set())).toEqual({ segments: [1, 2] })
  // Nothing fits together: a segment past minRows that is not partitioned is rewritten alone.
  expect(planOptimize([seg(1, 300), seg(2, 400)], 500, 350, new Set())).toEqual({ segments: [2] })
  expect(planOptimize([seg(1, 300), seg(2, 400)], 500, 350, new Set([2]))).toBeNull()
  // Keyword-only segments are never rewritten alone; one segment of each kind is done.
  expect(planOptimize([seg(1, 10_000, false), seg(2, 10)], 500, 5, new Set([2]))).toBeNull()
})
