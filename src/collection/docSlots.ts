/**
 * Which live slots of a chunk table hold each document: an open-addressing hash table of Int32
 * (each entry one slot of the document, its *head*; keys are compared through `idOf(head)`), the
 * document's other slots linked through an Int32Array. The order of a document's slots is not
 * kept (callers sort by seq).
 *
 * Why not a Map: at a million one-passage documents, a reopen spent 1.0 s of 3.4 s in `Map.set`
 * (each freshly read id string hashed, the table rehashed as it grew) and the Map held 14 MB; this
 * table is sized once by {@link reserveDocuments} — a power of two at least twice the documents,
 * so 8 to 16 bytes a document — plus 4 bytes a slot. (A Map of slot arrays, before that, cost
 * ~150 MB.)
 *
 * @example
 * const ids = ['a', 'a']
 * const slots = new DocSlots((slot) => ids[slot]!)
 * slots.reserve(2)
 * slots.add('a', 0)
 * slots.add('a', 1)
 * [...slots.of('a')] // [1, 0]
 */
export class DocSlots {
  /** Head slot per entry; {@link EMPTY} or {@link DELETED} when none. Its length is a power of two. */
  private table = new Int32Array(64).fill(EMPTY)
  /** Entries holding a document. */
  private count = 0
  /** Entries holding a document or {@link DELETED} (probe chains run through both). */
  private used = 0
  /** The next live slot of the same document, -1 after its last. */
  private next = new Int32Array(1024)

  /** `idOf(slot)`: the document id of a slot that was added (and not removed). */
  constructor(private readonly idOf: (slot: number) => string) {}

  /** The table of the slots `live` marks 1, sized for slots below `capacity` and `documents` documents. */
  static ofLive(idOf: (slot: number) => string, live: Uint8Array, capacity: number, documents: number): DocSlots {
    const index = new DocSlots(idOf)
    index.reserve(capacity)
    index.reserveDocuments(documents)
    for (let slot = 0; slot < live.length; slot++) if (live[slot] === 1) index.add(idOf(slot), slot)
    return index
  }

  /** Makes room for slots below `capacity`. */
  reserve(capacity: number): void {
    if (capacity <= this.next.length) return
    const grown = new Int32Array(Math.max(capacity, this.next.length * 2))
    grown.set(this.next)
    this.next = grown
  }

  /** Makes room for `documents` documents in all, so adding them rehashes nothing. */
  reserveDocuments(documents: number): void {
    if (documents * 2 > this.table.length) this.rehash(documents)
  }

  add(docId: string, slot: number): void {
    const at = this.find(docId)
    if (at >= 0) {
      this.next[slot] = this.table[at]!
      this.table[at] = slot
      return
    }
    if ((this.used + 1) * 2 > this.table.length) {
      this.rehash(this.count + 1)
      return this.add(docId, slot)
    }
    const free = -at - 1
    if (this.table[free] === EMPTY) this.used++
    this.table[free] = slot
    this.next[slot] = -1
    this.count++
  }

  /** Unlinks `slot` from its document (a slot not linked is ignored). */
  remove(docId: string, slot: number): void {
    const at = this.find(docId)
    if (at < 0) return
    const head = this.table[at]!
    if (head === slot) {
      const after = this.next[slot]!
      if (after >= 0) this.table[at] = after
      else {
        this.table[at] = DELETED
        this.count--
      }
      return
    }
    let link = head
    while (this.next[link]! >= 0 && this.next[link] !== slot) link = this.next[link]!
    if (this.next[link] === slot) this.next[link] = this.next[slot]!
  }

  /** One live slot of the document, or undefined. */
  first(docId: string): number | undefined {
    const at = this.find(docId)
    return at < 0 ? undefined : this.table[at]
  }

  has(docId: string): boolean {
    return this.find(docId) >= 0
  }

  *of(docId: string): Generator<number> {
    const at = this.find(docId)
    for (let slot = at < 0 ? -1 : this.table[at]!; slot >= 0; slot = this.next[slot]!) yield slot
  }

  // The entry holding `docId`, or -(entry where it would go) - 1: the first DELETED entry of its
  // probe sequence, else the EMPTY one that ended it (linear probing; the table is never full).
  private find(docId: string): number {
    const mask = this.table.length - 1
    let free = -1
    for (let at = hashString(docId) & mask; ; at = (at + 1) & mask) {
      const head = this.table[at]!
      if (head === EMPTY) return -(free >= 0 ? free : at) - 1
      if (head === DELETED) {
        if (free < 0) free = at
      } else if (this.idOf(head) === docId) return at
    }
  }

  // A table of the smallest power of two that holds `documents` at load ≤ ½, without DELETED.
  private rehash(documents: number): void {
    const old = this.table
    let size = 64
    while (size < documents * 2) size *= 2
    this.table = new Int32Array(size).fill(EMPTY)
    const mask = size - 1
    for (const head of old) {
      if (head < 0) continue
      let at = hashString(this.idOf(head)) & mask
      while (this.table[at] !== EMPTY) at = (at + 1) & mask
      this.table[at] = head
    }
    this.used = this.count
  }
}

const EMPTY = -1
const DELETED = -2

/** FNV-1a over the UTF-16 code units, with a final mix so that linear probing sees spread low bits. */
function hashString(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  return h >>> 0
}
