/**
 * A fixed-capacity min-heap that keeps the `k` best (highest-scoring) integer ids seen. Scores live
 * in a typed array, so pushing allocates nothing: hot loops (vector scan, BM25) call {@link TopK.push}
 * once per item.
 *
 * Ties: among equal scores the smaller id wins, so results do not depend on scan order.
 *
 * @example
 * const top = new TopK(3)
 * for (let i = 0; i < scores.length; i++) top.push(i, scores[i])
 * const { ids, scores: best } = top.sorted() // best first
 */
export class TopK {
  readonly capacity: number
  private readonly ids: Int32Array
  private readonly scores: Float64Array
  private size = 0

  constructor(k: number) {
    this.capacity = Math.max(0, Math.floor(k))
    this.ids = new Int32Array(this.capacity)
    this.scores = new Float64Array(this.capacity)
  }

  /** How many items are held (at most `capacity`). */
  get length(): number {
    return this.size
  }

  /** The score an item must beat to enter once the heap is full; `-Infinity` before that. */
  get threshold(): number {
    return this.size < this.capacity ? -Infinity : this.scores[0]!
  }

  /** Offers one item; keeps it only if it is among the best `capacity` so far. */
  push(id: number, score: number): void {
    if (this.capacity === 0 || Number.isNaN(score)) return
    if (this.size < this.capacity) {
      let i = this.size++
      // Sift up.
      while (i > 0) {
        const parent = (i - 1) >> 1
        if (!worse(score, id, this.scores[parent]!, this.ids[parent]!)) break
        this.ids[i] = this.ids[parent]!
        this.scores[i] = this.scores[parent]!
        i = parent
      }
      this.ids[i] = id
      this.scores[i] = score
      return
    }
    if (!worse(this.scores[0]!, this.ids[0]!, score, id)) return
    this.siftDown(id, score)
  }

  /** The held items, best first (ties: smaller id first). Does not change the heap. */
  sorted(): { ids: Int32Array; scores: Float64Array } {
    const order = Array.from({ length: this.size }, (_, i) => i)
    order.sort((a, b) => this.scores[b]! - this.scores[a]! || this.ids[a]! - this.ids[b]!)
    const ids = new Int32Array(this.size)
    const scores = new Float64Array(this.size)
    order.forEach((from, to) => {
      ids[to] = this.ids[from]!
      scores[to] = this.scores[from]!
    })
    return { ids, scores }
  }

  private siftDown(id: number, score: number): void {
    let i = 0
    const n = this.size
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      let child = left
      if (right < n && worse(this.scores[right]!, this.ids[right]!, this.scores[left]!, this.ids[left]!)) child = right
      if (!worse(this.scores[child]!, this.ids[child]!, score, id)) break
      this.ids[i] = this.ids[child]!
      this.scores[i] = this.scores[child]!
      i = child
    }
    this.ids[i] = id
    this.scores[i] = score
  }
}

/** Whether item a ranks below item b (lower score, or equal score and larger id). */
function worse(scoreA: number, idA: number, scoreB: number, idB: number): boolean {
  return scoreA < scoreB || (scoreA === scoreB && idA > idB)
}
