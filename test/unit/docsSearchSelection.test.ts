import { describe, expect, it } from 'vitest'
import { activeKey, EMPTY_SELECTION, reduceSelection, type SelectionAction, type SelectionState } from '../../demo/docs-search/selection.ts'

function run(state: SelectionState, ...actions: SelectionAction[]): SelectionState {
  return actions.reduce(reduceSelection, state)
}

const three = reduceSelection(EMPTY_SELECTION, { type: 'replace', keys: ['a', 'b', 'c'] })

describe('keyboard selection', () => {
  it('starts with nothing selected; down selects the first, then each next, wrapping to the first', () => {
    expect(activeKey(three)).toBeNull()
    expect(activeKey(run(three, { type: 'next' }))).toBe('a')
    expect(activeKey(run(three, { type: 'next' }, { type: 'next' }, { type: 'next' }))).toBe('c')
    expect(activeKey(run(three, { type: 'next' }, { type: 'next' }, { type: 'next' }, { type: 'next' }))).toBe('a')
  })

  it('up from nothing or from the first selects the last', () => {
    expect(activeKey(run(three, { type: 'previous' }))).toBe('c')
    expect(activeKey(run(three, { type: 'next' }, { type: 'previous' }))).toBe('c')
    expect(activeKey(run(three, { type: 'previous' }, { type: 'previous' }))).toBe('b')
  })

  it('escape clears; arrows on an empty list do nothing', () => {
    expect(activeKey(run(three, { type: 'next' }, { type: 'clear' }))).toBeNull()
    expect(run(EMPTY_SELECTION, { type: 'next' }, { type: 'previous' })).toEqual(EMPTY_SELECTION)
  })

  it('follows the selected result when a new list replaces the old one, and drops it when it is gone', () => {
    const onB = run(three, { type: 'next' }, { type: 'next' })
    const moved = reduceSelection(onB, { type: 'replace', keys: ['c', 'b', 'd'] })
    expect(moved).toEqual({ keys: ['c', 'b', 'd'], active: 1 })
    expect(activeKey(run(moved, { type: 'next' }))).toBe('d')
    const gone = reduceSelection(onB, { type: 'replace', keys: ['x', 'y'] })
    expect(gone).toEqual({ keys: ['x', 'y'], active: -1 })
    expect(reduceSelection(onB, { type: 'replace', keys: [] })).toEqual({ keys: [], active: -1 })
  })

  it('does not keep a reference to the caller’s array', () => {
    const keys = ['a', 'b']
    const state = reduceSelection(EMPTY_SELECTION, { type: 'replace', keys })
    keys.push('c')
    expect(state.keys).toEqual(['a', 'b'])
  })
})
