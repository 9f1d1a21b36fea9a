/**
 * Which live slots of a chunk table hold each document: one slot per document in a Map, the
 * others linked through an Int32Array. A Map of slot arrays cost ~150 MB of worker memory at a
 * million one-passage documents (an array object per document); this costs the Map's entries and
 * 4 bytes a slot. The order of a document's slots is not kept (callers sort by seq).
 *
 * @example
 * const slots = new DocSlots()
 * slots.reserve(2)
 * slots.add('a', 0)
 * slots.add('a', 1)
 * [...slots.of('a')] // [1, 0]
 */
export class DocSlots {
  private readonly head = new Map<string, number>()
  /** The next live slot of the same document, -1 after its last. */
  private next = new Int32Array(1024)

  /** Makes room for slots below `capacity`. */
  reserve(capacity: number): void {
    if (capacity <= this.next.length) return
    const grown = new Int32Array(Math.max(capacity, this.next.length * 2))
    grown.set(this.next)
    this.next = grown
  }

  add(docId: string, slot: number): void {
    this.next[slot] = this.head.get(docId) ?? -1
    this.head.set(docId, slot)
  }

  /** Unlinks `slot` from its document (a slot not linked is ignored). */
  remove(docId: string, slot: number): void {
    const head = this.head.get(docId)
    if (head === undefined) return
    if (head === slot) {
      const after = this.next[slot]!
      if (after < 0) this.head.delete(docId)
      else this.head.set(docId, after)
      return
    }
    let at = head
    while (this.next[at]! >= 0 && this.next[at] !== slot) at = this.next[at]!
    if (this.next[at] === slot) this.next[at] = this.next[slot]!
  }

  /** One live slot of the document, or undefined. */
  first(docId: string): number | undefined {
    return this.head.get(docId)
  }

  has(docId: string): boolean {
    return this.head.has(docId)
  }

  *of(docId: string): Generator<number> {
    for (let at = this.head.get(docId) ?? -1; at >= 0; at = this.next[at]!) yield at
  }
}
