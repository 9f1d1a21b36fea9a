/** The WinnowError code of a call or a promise (see test/helpers/errors.ts). */
export { codeOf } from '../helpers/errors.js'

/** A deterministic pseudo-random generator in [0, 1) (mulberry32), so property data is reproducible. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
