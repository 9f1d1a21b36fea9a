/**
 * Product quantization (`core/pq.ts`): every code is its sub-vector's nearest centroid (checked by
 * brute force), training lowers the reconstruction error well below its seeds', decoding adds the
 * centroids named, and shapes that cannot work are refused.
 */
import { describe, expect, it } from 'vitest'
import { decodePq, encodePq, PQ_CENTROIDS, trainPq } from '../../src/core/pq.js'
import { seededRandom } from '../../src/core/random.js'

function clustered(n: number, dims: number, seed: number): Float32Array {
  const random = seededRandom(seed)
  const centers = Array.from({ length: 40 }, () => Float32Array.from({ length: dims }, () => random() * 2 - 1))
  const out = new Float32Array(n * dims)
  for (let i = 0; i < n; i++) {
    const c = centers[Math.floor(random() * centers.length)]!
    for (let d = 0; d < dims; d++) out[i * dims + d] = c[d]! + (random() - 0.5) * 0.2
  }
  return out
}

const mse = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0) / a.length

describe('product quantization', () => {
  const dims = 24
  const n = 3000
  const rows = clustered(n, dims, 3)

  it.each([2, 4, 8])('codes each sub-vector with its nearest centroid (dsub %i), and decodes to those centroids', (dsub) => {
    const pq = trainPq(rows, n, dims, dsub, seededRandom(1), 2000, 6)
    expect(pq.m).toBe(dims / dsub)
    expect(pq.centroids.length).toBe(pq.m * PQ_CENTROIDS * dsub)
    const codes = new Uint8Array(n * pq.m)
    encodePq(pq, rows, n, codes)
    const decoded = new Float32Array(n * dims)
    decodePq(pq, codes, n, decoded)
    for (let r = 0; r < n; r += 97) {
      for (let s = 0; s < pq.m; s++) {
        const distances = Array.from({ length: PQ_CENTROIDS }, (_, c) => {
          let sum = 0
          for (let d = 0; d < dsub; d++) sum += (rows[r * dims + s * dsub + d]! - pq.centroids[(s * PQ_CENTROIDS + c) * dsub + d]!) ** 2
          return sum
        })
        expect(distances[codes[r * pq.m + s]!]).toBe(Math.min(...distances))
        for (let d = 0; d < dsub; d++) expect(decoded[r * dims + s * dsub + d]).toBe(pq.centroids[(s * PQ_CENTROIDS + codes[r * pq.m + s]!) * dsub + d])
      }
    }
    // `add` adds to what is there.
    const base = new Float32Array(dims).fill(1)
    decodePq(pq, codes.subarray(0, pq.m), 1, base, true)
    for (let d = 0; d < dims; d++) expect(base[d]).toBeCloseTo(1 + decoded[d]!, 6)
  })

  it('training lowers the error well below its seeds, and more so with shorter sub-vectors', () => {
    const error = (dsub: number, iterations: number) => {
      const pq = trainPq(rows, n, dims, dsub, seededRandom(5), 2000, iterations)
      const codes = new Uint8Array(n * pq.m)
      encodePq(pq, rows, n, codes)
      const decoded = new Float32Array(n * dims)
      decodePq(pq, codes, n, decoded)
      return mse(rows, decoded)
    }
    const seeds = error(8, 0)
    const trained = error(8, 8)
    expect(trained).toBeLessThan(seeds * 0.8)
    expect(error(4, 8)).toBeLessThan(trained)
    // Against the spread of the data itself: the codes keep most of it.
    const mean = new Float32Array(dims)
    for (let i = 0; i < n; i++) for (let d = 0; d < dims; d++) mean[d]! += rows[i * dims + d]! / n
    const spread = rows.reduce((s, x, i) => s + (x - mean[i % dims]!) ** 2, 0) / rows.length
    expect(trained).toBeLessThan(spread * 0.05)
  })

  it('refuses a sub-vector size that does not divide the dimensions', () => {
    expect(() => trainPq(rows, n, dims, 5, seededRandom(1))).toThrow(RangeError)
  })
})
