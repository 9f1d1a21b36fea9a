// A synthetic docs site for the lazy-snapshot bench: `pages` pages, each one heading section of
// 150-600 words drawn from a Zipf-distributed vocabulary of made-up words (seeded), with a title of
// three rarer words. Synthetic text, stated as such in every figure made from it: it measures bytes
// and speed, never relevance.
import { rowRandom } from './vectorSets.mjs'

const seeded = (seed) => rowRandom(seed, 0)

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'po', 'qua', 'ber', 'dan', 'fel', 'gor', 'hin', 'jul', 'mar', 'nos', 'pel', 'ris', 'tam', 'vin', 'wes']

/** `size` distinct made-up words, the most frequent first. */
export function vocabulary(size, seed = 1) {
  const rand = seeded(seed)
  const words = new Set()
  while (words.size < size) {
    const n = 2 + Math.floor(rand() * 3)
    let w = ''
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(rand() * SYLLABLES.length)]
    words.add(w)
  }
  return [...words]
}

/** Word ranks drawn with probability ∝ 1 / (rank + 1). */
function zipf(size, rand) {
  const cdf = new Float64Array(size)
  let sum = 0
  for (let r = 0; r < size; r++) cdf[r] = sum += 1 / (r + 1)
  return () => {
    const x = rand() * sum
    let lo = 0
    let hi = size - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid] < x) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** The pages as documents for `buildSnapshot`, and the vocabulary (for queries). */
export function syntheticSite(pages, { seed = 7, vocabularySize = 20_000 } = {}) {
  const words = vocabulary(vocabularySize, seed)
  const rand = seeded(seed + 1)
  const draw = zipf(words.length, rand)
  const documents = Array.from({ length: pages }, (_, i) => {
    const title = [0, 1, 2].map(() => words[200 + Math.floor(rand() * 5000)]).join(' ')
    const length = 150 + Math.floor(rand() * 450)
    const body = Array.from({ length }, (_, j) => words[draw()] + ((j + 1) % 14 === 0 ? '.' : '')).join(' ')
    return { id: `/docs/page-${i}.html`, title, text: `${title}\n\n${body}`, metadata: { url: `/docs/page-${i}.html` } }
  })
  return { documents, words }
}

/** `n` queries of 1-3 words of mid frequency (ranks 50-3000), seeded. */
export function siteQueries(words, n, seed = 3) {
  const rand = seeded(seed)
  return Array.from({ length: n }, () => Array.from({ length: 1 + Math.floor(rand() * 3) }, () => words[50 + Math.floor(rand() * 2950)]).join(' '))
}
