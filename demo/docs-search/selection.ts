/**
 * The keyboard selection in the result list, as a pure state machine: the page feeds it key
 * presses and new result lists, and renders `active` (aria-activedescendant on the search box).
 * The selection follows a result, not a position: when the reranked list replaces the first
 * stage's, the selected section stays selected wherever it moved, or the selection is cleared.
 */

/** Result keys in display order, and the selected one's index (-1: none). */
export interface SelectionState {
  readonly keys: readonly string[]
  readonly active: number
}

export type SelectionAction =
  /** ArrowDown: the next result; from none, the first; from the last, the first again. */
  | { type: 'next' }
  /** ArrowUp: the previous result; from none, the last; from the first, the last. */
  | { type: 'previous' }
  /** Escape: no selection. */
  | { type: 'clear' }
  /** A new result list: keep the selected key if it is still there. */
  | { type: 'replace'; keys: readonly string[] }

/** No results, nothing selected. */
export const EMPTY_SELECTION: SelectionState = { keys: [], active: -1 }

/**
 * The state after `action`.
 *
 * @example
 * let s = reduceSelection(EMPTY_SELECTION, { type: 'replace', keys: ['a', 'b'] })
 * s = reduceSelection(s, { type: 'next' }) // selects 'a'
 * s = reduceSelection(s, { type: 'replace', keys: ['b', 'a'] }) // 'a' still selected, now at 1
 */
export function reduceSelection(state: SelectionState, action: SelectionAction): SelectionState {
  const n = state.keys.length
  switch (action.type) {
    case 'next':
      if (n === 0) return state
      return { keys: state.keys, active: state.active < 0 ? 0 : (state.active + 1) % n }
    case 'previous':
      if (n === 0) return state
      return { keys: state.keys, active: state.active <= 0 ? n - 1 : state.active - 1 }
    case 'clear':
      return state.active === -1 ? state : { keys: state.keys, active: -1 }
    case 'replace': {
      const selected = activeKey(state)
      return { keys: [...action.keys], active: selected === null ? -1 : action.keys.indexOf(selected) }
    }
  }
}

/**
 * The selected result's key, or `null`.
 *
 * @example
 * activeKey({ keys: ['a', 'b'], active: 1 }) // 'b'
 */
export function activeKey(state: SelectionState): string | null {
  return state.active >= 0 && state.active < state.keys.length ? state.keys[state.active]! : null
}
