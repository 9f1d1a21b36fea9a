/**
 * DocSlots (collection/docSlots.ts) against a Map of sets, over random adds and removes: the same
 * documents, the same slots per document, `first` one of them — through the table's growth (it
 * starts at 64 entries) and the DELETED entries removals leave in probe chains.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DocSlots } from '../../src/collection/docSlots.js'

describe('DocSlots', () => {
  it('holds the slots a Map of sets holds, through any adds and removes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 3000 })), { maxLength: 300 }), (ops) => {
        const owner = new Map<number, string>()
        const slots = new DocSlots((slot) => owner.get(slot)!)
        const model = new Map<string, Set<number>>()
        for (const [add, d, slot] of ops) {
          const doc = `d${d}`
          if (add && !owner.has(slot)) {
            slots.reserve(slot + 1)
            slots.add(doc, slot)
            owner.set(slot, doc)
            model.set(doc, (model.get(doc) ?? new Set()).add(slot))
          } else if (!add && owner.get(slot) === doc) {
            slots.remove(doc, slot)
            owner.delete(slot)
            model.get(doc)!.delete(slot)
            if (model.get(doc)!.size === 0) model.delete(doc)
          } else if (!add) {
            slots.remove(doc, slot) // not its slot: nothing changes
          }
          for (let k = 0; k <= 80; k += 8) {
            const id = `d${k}`
            const want = [...(model.get(id) ?? [])].sort((a, b) => a - b)
            expect([...slots.of(id)].sort((a, b) => a - b)).toEqual(want)
            expect(slots.has(id)).toBe(want.length > 0)
            const first = slots.first(id)
            expect(first === undefined ? want.length === 0 : want.includes(first)).toBe(true)
          }
        }
      }),
      { numRuns: 200 },
    )
  })

  it('finds every document among many after removals left DELETED entries, and after a reserve', () => {
    const ids: string[] = []
    const slots = new DocSlots((slot) => ids[slot]!)
    const n = 20_000
    slots.reserve(2 * n)
    for (let i = 0; i < n; i++) {
      ids[i] = `doc-${i}`
      slots.add(ids[i]!, i)
    }
    for (let i = 0; i < n; i += 2) slots.remove(ids[i]!, i)
    // New documents reuse the DELETED entries; a second chunk of an odd document joins its list.
    for (let i = n; i < 2 * n; i++) {
      ids[i] = i % 2 === 0 ? `new-${i}` : `doc-${i - n}`
      slots.add(ids[i]!, i)
    }
    slots.reserveDocuments(4 * n)
    for (let i = 0; i < n; i++) {
      const want = i % 2 === 0 ? [] : [i, i + n]
      expect([...slots.of(`doc-${i}`)].sort((a, b) => a - b)).toEqual(want)
    }
    for (let i = n; i < 2 * n; i += 2) expect(slots.first(`new-${i}`)).toBe(i)
    expect(slots.has('doc-0')).toBe(false)
    expect(slots.has('absent')).toBe(false)
  })
})
