/**
 * DocSlots (collection/docSlots.ts) against a Map of sets, over random adds and removes: the same
 * documents, the same slots per document, `first` one of them.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DocSlots } from '../../src/collection/docSlots.js'

describe('DocSlots', () => {
  it('holds the slots a Map of sets holds, through any adds and removes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3000 })), { maxLength: 300 }), (ops) => {
        const slots = new DocSlots()
        const model = new Map<string, Set<number>>()
        const owner = new Map<number, string>()
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
          for (let k = 0; k < 6; k++) {
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
})
