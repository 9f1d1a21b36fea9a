// node bench/rescore-precision.mjs — does the vector stage's rescoring need fp32 rows?
//
// Three seeded sets of 100,000 unit vectors × 384 (random Gaussian; 200 isotropic clusters; 200
// tight clusters sharing three outlier dimensions, the case where int8's per-row scale is coarse),
// 100 queries each (a data point plus noise). For each query: exact top-10 by fp32 brute force;
// then winnow's stage — int8 scan for candidateCount(10) = 50 candidates — rescored with the rows
// in fp32 (what the store keeps), in fp16 (half the bytes), or in int8 (no second copy at all);
// and in fp32 after the rescoring cut (rescoreCut: only candidates within 2 × 6σ of the 10th int8
// score), with how many candidates it keeps and the largest int8 score error in σ.
// Prints recall@10 against exact and the largest score error; saves bench/results/<date>-rescore.json.
// Never part of the tests. Needs dist/ (node scripts/build-lib.mjs).
import { mkdirSync, writeFileSync } from 'node:fs'
import { quantize } from '../dist/core/quantize.js'
import { scanQuantized, candidateCount, rescoreExact, rescoreCut, queryScale, maxRowScale } from '../dist/rank/vectorScan.js'
let seed = 12345
const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32)
const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd())
const D = 384
function unit(v) { let n = 0; for (const x of v) n += x * x; n = Math.sqrt(n); for (let i = 0; i < v.length; i++) v[i] /= n; return v }
function makeSet(kind, N) {
  const X = new Float32Array(N * D)
  const centers = Array.from({ length: 200 }, () => unit(Float32Array.from({ length: D }, gauss)))
  for (let i = 0; i < N; i++) {
    const v = new Float32Array(D)
    if (kind === 'random') for (let d = 0; d < D; d++) v[d] = gauss()
    else {
      const c = centers[i % 200]
      const noise = kind === 'clustered' ? 0.6 : 0.14
      for (let d = 0; d < D; d++) v[d] = c[d] + (gauss() * noise) / Math.sqrt(D) * 3
      if (kind === 'anisotropic') { v[0] += 2.5; v[1] -= 2; v[2] += 1.5 }
    }
    X.set(unit(v), i * D)
  }
  return X
}
const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer)
function toHalfAndBack(x) {
  // round-to-nearest-even float32 -> float16 -> float32
  f32[0] = x; const b = u32[0]; const sign = b >>> 31; let exp = (b >>> 23) & 0xff; let man = b & 0x7fffff
  let h
  if (exp === 0xff) h = (sign << 15) | 0x7c00 | (man ? 0x200 : 0)
  else { let e = exp - 127 + 15
    if (e >= 31) h = (sign << 15) | 0x7c00
    else if (e <= 0) { if (e < -10) h = sign << 15; else { man |= 0x800000; const shift = 14 - e; let m = man >>> shift; const rem = man & ((1 << shift) - 1); const half = 1 << (shift - 1); if (rem > half || (rem === half && (m & 1))) m++; h = (sign << 15) | m } }
    else { let m = man >>> 13; const rem = man & 0x1fff; if (rem > 0x1000 || (rem === 0x1000 && (m & 1))) { m++; if (m === 0x400) { m = 0; e++ } } h = e >= 31 ? (sign << 15) | 0x7c00 : (sign << 15) | (e << 10) | m } }
  const s = h >>> 15, e2 = (h >>> 10) & 0x1f, m2 = h & 0x3ff
  let v = e2 === 0 ? m2 * 2 ** -24 : e2 === 31 ? (m2 ? NaN : Infinity) : (1 + m2 / 1024) * 2 ** (e2 - 15)
  return s ? -v : v
}
const out = { date: new Date().toISOString().slice(0, 10), command: 'node bench/rescore-precision.mjs', vectors: 100_000, dims: 384, queries: 100, k: 10, candidates: 50, sets: {} }
for (const kind of ['random', 'clustered', 'anisotropic']) {
  const N = 100_000
  const X = makeSet(kind, N)
  const X16 = X.map(toHalfAndBack)
  const { codes, scales } = quantize(X, D)
  const Xq = new Float32Array(N * D); for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) Xq[i * D + d] = codes[i * D + d] * scales[i]
  const blocks = []
  for (let b = 0; b * 64 < N; b++) { const from = b * 64, to = Math.min(N, from + 64); blocks.push({ slots: Int32Array.from({ length: to - from }, (_, r) => from + r), dims: D, codes: codes.subarray(from * D, to * D), scales: scales.subarray(from, to), arena: undefined }) }
  const Q = 100, k = 10
  const res = { fp32: 0, fp16: 0, int8: 0, scanOnly: 0, maxErr16: 0, maxErr8: 0, cut: 0, kept: 0, maxSigmas: 0, same: 0 }
  const rowScale = maxRowScale(blocks)
  for (let q = 0; q < Q; q++) {
    const base = Math.floor(rnd() * N)
    const query = unit(Float32Array.from({ length: D }, (_, d) => X[base * D + d] + gauss() * 0.05))
    // exact
    const exact = []
    for (let i = 0; i < N; i++) { let s = 0; for (let d = 0; d < D; d++) s += X[i * D + d] * query[d]; exact.push([s, i]) }
    exact.sort((a, b) => b[0] - a[0]); const truth = new Set(exact.slice(0, k).map((e) => e[1])); const exactScore = new Map(exact.slice(0, 200).map((e) => [e[1], e[0]]))
    const c = candidateCount(k, N)
    const approx = scanQuantized(query, blocks, c)
    res.scanOnly += [...approx.slots.slice(0, k)].filter((s) => truth.has(s)).length / k
    const sigma = Math.sqrt((queryScale(query) ** 2 + rowScale ** 2) / 12)
    approx.slots.forEach((slot, j) => { let e = 0; for (let d = 0; d < D; d++) e += X[slot * D + d] * query[d]; res.maxSigmas = Math.max(res.maxSigmas, Math.abs(approx.scores[j] - e) / sigma) })
    const keep = rescoreCut(approx.scores, k, queryScale(query), rowScale)
    res.kept += keep
    const gather = (slots) => { const rows = new Float32Array(slots.length * D); slots.forEach((s, j) => rows.set(X.subarray(s * D, (s + 1) * D), j * D)); return rescoreExact(query, slots, rows, D, k) }
    const cutTop = gather(approx.slots.subarray(0, keep))
    res.cut += [...cutTop.slots].filter((s) => truth.has(s)).length / k
    res.same += String([...cutTop.slots]) === String([...gather(approx.slots).slots]) ? 1 : 0
    for (const [name, M] of [['fp32', X], ['fp16', X16], ['int8', Xq]]) {
      const rows = new Float32Array(approx.slots.length * D); approx.slots.forEach((s, j) => rows.set(M.subarray(s * D, (s + 1) * D), j * D))
      const top = rescoreExact(query, approx.slots, rows, D, k)
      res[name] += [...top.slots].filter((s) => truth.has(s)).length / k
      if (name !== 'fp32') top.slots.forEach((s, j) => { const e = exactScore.get(s); if (e !== undefined) res[name === 'fp16' ? 'maxErr16' : 'maxErr8'] = Math.max(res[name === 'fp16' ? 'maxErr16' : 'maxErr8'], Math.abs(top.scores[j] - e)) })
    }
  }
  out.sets[kind] = { recallScanOnly: res.scanOnly / Q, recallFp32: res.fp32 / Q, recallFp16: res.fp16 / Q, recallInt8: res.int8 / Q, maxScoreErrorFp16: res.maxErr16, maxScoreErrorInt8: res.maxErr8, recallFp32Cut: res.cut / Q, cutCandidatesMean: res.kept / Q, cutSameTop10: res.same / Q, largestInt8ErrorSigmas: res.maxSigmas }
  console.log(kind, `recall@10: int8 scan alone ${(res.scanOnly / Q).toFixed(4)}, rescored fp32 ${(res.fp32 / Q).toFixed(4)}, fp16 ${(res.fp16 / Q).toFixed(4)}, int8 ${(res.int8 / Q).toFixed(4)}; max |score - exact| fp16 ${res.maxErr16.toExponential(2)}, int8 ${res.maxErr8.toExponential(2)}; cut: recall ${(res.cut / Q).toFixed(4)}, ${(res.kept / Q).toFixed(1)} of ${candidateCount(k, N)} rescored, same top 10 ${res.same}/${Q}, largest int8 error ${res.maxSigmas.toFixed(2)}σ`)
}
mkdirSync('bench/results', { recursive: true })
writeFileSync(`bench/results/${out.date}-rescore.json`, JSON.stringify(out, null, 2) + '\n')
console.log(`saved bench/results/${out.date}-rescore.json`)
