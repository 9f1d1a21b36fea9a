/** Seeded randomness for what must come out the same on every run (k-means samples, tests). */

/**
 * A seeded 32-bit generator (mulberry32): uniform floats in [0, 1).
 *
 * @example
 * const random = seededRandom(7)
 * random() // 0.…, the same on every run
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
