// Seeded vector sets for the scale benchmark (bench/scale.mjs), the same in the page and in Node:
// every row is a pure function of (set, seed, row index), so the page generates the rows it adds,
// batch by batch, and Node regenerates them for the exact ground truth without a byte crossing.
//
//   random     uniform on the unit sphere (Gaussian rows, normalised): no structure for a
//              partition to use, the worst case for any ANN index.
//   clustered  n / 100 random unit centres; each row a centre plus isotropic Gaussian noise of
//              norm ≈ 1 (σ = 1/√dims), renormalised: cosine to its centre ≈ 0.7, close to MiniLM's
//              top neighbours. The same set as bench/peers.mjs's vector part. Flat: the centres are
//              unrelated (near-orthogonal), so at 1M there are 10,000 clusters and no coarser
//              structure — the hard case for any partition with fewer lists than clusters.
//   topics     the same rows around n / 100 subtopic centres, but the subtopics come in n / 10,000
//              topics (at least 10): a subtopic centre is its topic's centre plus noise of norm 1,
//              renormalised (cosine ≈ 0.7 to the topic). Neighbours are graded, as in real
//              embeddings: same subtopic ≈ 0.5, same topic ≈ 0.25, unrelated ≈ 0.
// Queries are rows n, n + 1, … of the same set (drawn the same way, not stored).

/** mulberry32 seeded by two integers. */
export function rowRandom(seed, index) {
  let a = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Gaussian draws (Box-Muller, both halves used) from a uniform generator (also bench/pages/peers.js). */
export function gaussian(random) {
  let spare = null
  return () => {
    if (spare !== null) {
      const s = spare
      spare = null
      return s
    }
    const r = Math.sqrt(-2 * Math.log(1 - random()))
    const t = 2 * Math.PI * random()
    spare = r * Math.sin(t)
    return r * Math.cos(t)
  }
}

/**
 * A set's generator: `row(i, out, at)` writes unit row `i` into `out` from `at`.
 *
 * @example
 * const set = vectorSet('clustered', { n: 100000, dims: 384, seed: 7 })
 * const rows = new Float32Array(5000 * 384)
 * for (let i = 0; i < 5000; i++) set.row(i, rows, i * 384)
 */
export function vectorSet(kind, { n, dims, seed }) {
  if (kind !== 'random' && kind !== 'clustered' && kind !== 'topics') throw new Error(`unknown vector set ${kind}`)
  const sigma = 1 / Math.sqrt(dims)
  let centres = null
  let k = 0
  if (kind !== 'random') {
    k = Math.max(10, Math.round(n / 100))
    const topics = Math.max(10, Math.round(n / 10000))
    const topicCentre = new Float32Array(dims)
    centres = new Float32Array(k * dims)
    for (let c = 0; c < k; c++) {
      const g = gaussian(rowRandom(seed ^ 0x5bd1e995, c))
      if (kind === 'topics') {
        const t = gaussian(rowRandom(seed ^ 0x1b873593, c % topics))
        let tn = 0
        for (let d = 0; d < dims; d++) tn += (topicCentre[d] = t()) ** 2
        for (let d = 0; d < dims; d++) topicCentre[d] /= Math.sqrt(tn)
      }
      let norm = 0
      for (let d = 0; d < dims; d++) norm += (centres[c * dims + d] = (kind === 'topics' ? topicCentre[d] + sigma * g() : g())) ** 2
      const inv = 1 / Math.sqrt(norm)
      for (let d = 0; d < dims; d++) centres[c * dims + d] *= inv
    }
  }
  return {
    kind,
    n,
    dims,
    row(i, out, at = 0) {
      const random = rowRandom(seed, i)
      const g = gaussian(random)
      let norm = 0
      if (centres) {
        const c = Math.floor(random() * k) * dims
        for (let d = 0; d < dims; d++) norm += (out[at + d] = centres[c + d] + sigma * g()) ** 2
      } else {
        for (let d = 0; d < dims; d++) norm += (out[at + d] = g()) ** 2
      }
      const inv = 1 / Math.sqrt(norm)
      for (let d = 0; d < dims; d++) out[at + d] *= inv
    },
  }
}

/** Synthetic passage text for row `i`: 10 words of a 30,000-word Zipf-like vocabulary (BM25 at scale). */
export function passageText(seed, i) {
  const random = rowRandom(seed ^ 0x27d4eb2f, i)
  const words = []
  for (let w = 0; w < 10; w++) words.push(`w${Math.floor(30000 ** random())}`)
  return words.join(' ')
}
