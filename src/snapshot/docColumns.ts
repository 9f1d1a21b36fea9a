/**
 * A format-2 segment's documents, read from its columns as they are asked for (a
 * {@link DocColumns}): the lazy store opens a million passages without making a million id strings
 * or document objects — a search reads the ids of its hits, one by one.
 *
 * Ids are front-coded (`segmentTables.ts`): each shares some leading characters with the id before
 * it and stores the rest. Every {@link ID_RESTART}th id shares none, so id `i` is rebuilt from the
 * restart before it: at most 255 steps. A caller reading most of the column (a lookup by id builds
 * the table of every document) gets it decoded once, whole.
 */
import type { WinnowError } from '../errors.js'
import type { DocColumns, SegmentDoc } from '../store/types.js'

/** Ids between two that share nothing with the one before (written since 2026-12-07). */
export const ID_RESTART = 256

type Malformed = (kind: string, why: string) => WinnowError

/**
 * The front-coded ids of one segment: `prefixes[i]` characters of id `i − 1`, then `tail`'s next
 * `tailLengths[i]` characters.
 */
export class FrontCodedIds {
  private starts: Uint32Array | null = null
  private all: string[] | null = null
  private reads = 0
  private last = { index: -1, id: '' }

  /**
   * @throws what `malformed` makes when the columns disagree in length or a restart shares
   *   characters (a damaged table); an id that claims more characters than the one before it is
   *   found as it is read, and thrown then.
   */
  constructor(
    private readonly prefixes: Uint8Array,
    private readonly tail: string,
    private readonly tailLengths: Uint8Array | Uint16Array | Uint32Array,
    private readonly malformed: Malformed,
  ) {
    let total = 0
    for (let i = 0; i < tailLengths.length; i++) total += tailLengths[i]!
    let restartsShare = false
    for (let i = 0; i < prefixes.length; i += ID_RESTART) restartsShare ||= prefixes[i] !== 0
    if (tailLengths.length !== prefixes.length || total !== tail.length || restartsShare) throw damaged(malformed)
  }

  get length(): number {
    return this.prefixes.length
  }

  at(index: number): string {
    if (this.all) return this.all[index]!
    if (++this.reads > Math.max(ID_RESTART, this.prefixes.length / 16)) return (this.all = this.decodeAll())[index]!
    const starts = (this.starts ??= this.tailStarts())
    // From the restart at or before `index`, or from the id read last when it lies between.
    let from = index - (index % ID_RESTART)
    let id = ''
    if (this.last.index >= from && this.last.index <= index) {
      from = this.last.index + 1
      id = this.last.id
    }
    for (let i = from; i <= index; i++) id = this.step(id, i, starts[i]!, starts[i + 1]!)
    this.last = { index, id }
    return id
  }

  private decodeAll(): string[] {
    const out = new Array<string>(this.prefixes.length)
    let id = ''
    for (let i = 0, at = 0; i < out.length; i++) {
      const end = at + this.tailLengths[i]!
      out[i] = id = this.step(id, i, at, end)
      at = end
    }
    return out
  }

  private step(previous: string, i: number, from: number, to: number): string {
    const keep = this.prefixes[i]!
    if (keep > previous.length) throw damaged(this.malformed)
    return previous.slice(0, keep) + this.tail.slice(from, to)
  }

  private tailStarts(): Uint32Array {
    const starts = new Uint32Array(this.prefixes.length + 1)
    for (let i = 0; i < this.tailLengths.length; i++) starts[i + 1] = starts[i]! + this.tailLengths[i]!
    return starts
  }
}

/**
 * Ids front-coded with a restart every {@link ID_RESTART} ids.
 *
 * @example
 * frontCode(['guide/a', 'guide/b']) // { prefixes: [0, 6], tail: 'guide/ab', tailLengths: [7, 1] }
 */
export function frontCode(ids: readonly string[]): { prefixes: Uint8Array; tail: string; tailLengths: Uint8Array | Uint16Array | Uint32Array } {
  const prefixes = new Uint8Array(ids.length)
  const lengths = new Uint32Array(ids.length)
  const rest: string[] = []
  let previous = ''
  ids.forEach((id, i) => {
    let k = 0
    if (i % ID_RESTART !== 0) while (k < 255 && k < previous.length && k < id.length && previous.charCodeAt(k) === id.charCodeAt(k)) k++
    prefixes[i] = k
    rest.push(id.slice(k))
    lengths[i] = id.length - k
    previous = id
  })
  const longest = lengths.reduce((m, l) => Math.max(m, l), 0)
  return { prefixes, tail: rest.join(''), tailLengths: longest < 256 ? Uint8Array.from(lengths) : longest < 65536 ? Uint16Array.from(lengths) : lengths }
}

/**
 * A segment's documents from its columns: ids (front-coded), titles (tables written before titles
 * moved to the documents shards) and metadata (each distinct object once, `metadataOf[i]` 1 + its
 * index, 0 for none).
 *
 * @throws what `malformed` makes when the columns disagree in length or point past the values.
 */
export function docColumns(ids: FrontCodedIds, titles: readonly (string | null)[] | null, metadataOf: Uint32Array | undefined, values: readonly Record<string, unknown>[] | null, malformed: Malformed): DocColumns {
  const n = ids.length
  if ((titles && titles.length !== n) || (metadataOf && metadataOf.length !== n) || (metadataOf === undefined) !== (values === null)) throw damaged(malformed)
  if (metadataOf) for (let i = 0; i < n; i++) if (metadataOf[i]! > values!.length) throw damaged(malformed)
  return {
    length: n,
    at(index: number): SegmentDoc | undefined {
      if (!Number.isInteger(index) || index < 0 || index >= n) return undefined
      const doc: SegmentDoc = { id: ids.at(index) }
      const title = titles?.[index]
      if (title !== undefined && title !== null) doc.title = title
      const m = metadataOf?.[index] ?? 0
      if (m > 0) doc.metadata = values![m - 1]
      return doc
    },
  }
}

function damaged(malformed: Malformed): WinnowError {
  return malformed('segments', 'a segment table has damaged document ids')
}
