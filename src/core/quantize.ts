/**
 * Int8 symmetric per-vector quantization: row `r` is stored as `codes[r*dims .. +dims]` in
 * [-127, 127] and one fp32 `scale`, with `value ≈ code * scale` and `scale = max|value| / 127`.
 *
 * Why symmetric and nothing more per row: embedding components are centred on 0, so a zero point
 * would buy little, and it would cost a correction term (`zeroPoint * Σ query`) in the scan's inner
 * loop result plus one more number per row. The approximate dot product
 * `scale_row * scale_query * Σ code_row·code_query` then has an error of about 1e-3 on unit
 * vectors, and the exact fp32 rescoring of a few extra candidates (see `candidateCount`) absorbs it.
 * -127 (not -128) keeps the range symmetric, so negating a vector negates its codes exactly.
 */

/**
 * Quantizes the `vectors.length / dims` rows of `vectors` into `codes` and `scales`, starting at row
 * `offsetRows` of the outputs (so a block can be filled batch by batch without copying). A zero row
 * gets scale 0 and all-zero codes. Rows must be finite (check with `isFiniteVector`): NaN codes would
 * be stored as 0 and silently distort the row.
 *
 * @throws RangeError when `dims` is not a positive integer, `vectors` is not whole rows, or the
 *   outputs are too short.
 * @example
 * const codes = new Int8Array(2 * 384)
 * const scales = new Float32Array(2)
 * quantizeInto(firstRow, 384, codes, scales, 0)
 * quantizeInto(secondRow, 384, codes, scales, 1)
 */
export function quantizeInto(
  vectors: Float32Array,
  dims: number,
  codes: Int8Array,
  scales: Float32Array,
  offsetRows = 0,
): void {
  if (!Number.isInteger(dims) || dims <= 0) throw new RangeError(`dims must be a positive integer, got ${dims}`)
  if (vectors.length % dims !== 0) {
    throw new RangeError(`vectors holds ${vectors.length} values, not a whole number of ${dims}-dim rows`)
  }
  const rows = vectors.length / dims
  if (!Number.isInteger(offsetRows) || offsetRows < 0) throw new RangeError(`offsetRows must be a non-negative integer, got ${offsetRows}`)
  if ((offsetRows + rows) * dims > codes.length || offsetRows + rows > scales.length) {
    throw new RangeError(`codes/scales hold fewer than the ${offsetRows + rows} rows needed`)
  }
  for (let r = 0; r < rows; r++) {
    const from = r * dims
    let maxAbs = 0
    for (let i = 0; i < dims; i++) {
      const a = Math.abs(vectors[from + i]!)
      if (a > maxAbs) maxAbs = a
    }
    const to = (offsetRows + r) * dims
    if (maxAbs === 0) {
      codes.fill(0, to, to + dims)
      scales[offsetRows + r] = 0
      continue
    }
    const inv = 127 / maxAbs
    for (let i = 0; i < dims; i++) {
      // Half away from zero (Math.round sends -63.5 to -63 but 63.5 to 64), so that a negated row
      // gets exactly negated codes: ±0.5 then truncation by `| 0`, about twice as fast as
      // Math.round here. (It differs from exact rounding only for |y| one ulp under 0.5, where the
      // sum rounds up to 1: an error of 0.5 either way.) Rounding can overshoot 127 by one ulp of
      // inv, and Int8Array would wrap 128 to -128, so clamp.
      const y = vectors[from + i]! * inv
      const q = (y < 0 ? y - 0.5 : y + 0.5) | 0
      codes[to + i] = q > 127 ? 127 : q < -127 ? -127 : q
    }
    scales[offsetRows + r] = maxAbs / 127
  }
}

/**
 * Quantizes `vectors.length / dims` packed rows into fresh arrays.
 *
 * @example
 * const { codes, scales } = quantize(new Float32Array([0.6, -0.8]), 2)
 * // codes: Int8Array [95, -127], scales: Float32Array [0.8 / 127]
 */
export function quantize(vectors: Float32Array, dims: number): { codes: Int8Array; scales: Float32Array } {
  if (!Number.isInteger(dims) || dims <= 0) throw new RangeError(`dims must be a positive integer, got ${dims}`)
  const rows = Math.floor(vectors.length / dims)
  const codes = new Int8Array(rows * dims)
  const scales = new Float32Array(rows)
  quantizeInto(vectors, dims, codes, scales, 0)
  return { codes, scales }
}

/**
 * The vectors int8 codes stand for: row `r`'s component `d` is `codes[r × dims + d] × scales[r]`.
 *
 * @example
 * dequantize(new Int8Array([95, -127]), new Float32Array([0.8 / 127]), 2) // ≈ [0.598, -0.8]
 */
export function dequantize(codes: Int8Array, scales: Float32Array, dims: number): Float32Array {
  const out = new Float32Array(codes.length)
  for (let r = 0; r < scales.length; r++) for (let j = r * dims, end = j + dims; j < end; j++) out[j] = codes[j]! * scales[r]!
  return out
}
