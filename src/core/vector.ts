/**
 * Plain fp32 vector math over typed arrays. Vectors of a collection live packed in one
 * `Float32Array` (row after row), so every function takes offsets instead of slicing: a view or a
 * copy per row would allocate inside the scan loop.
 */

/**
 * Dot product of `dims` components of `a` (from `aOffset`) and `b` (from `bOffset`), accumulated in
 * double precision. `dims` defaults to what both arrays have left after their offsets.
 *
 * @example
 * dot(new Float32Array([1, 2]), new Float32Array([3, 4]))                 // 11
 * dot(packed, query, row * dims, 0, dims)                                  // row `row` of a packed matrix · query
 */
export function dot(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  aOffset = 0,
  bOffset = 0,
  dims: number = Math.min(a.length - aOffset, b.length - bOffset),
): number {
  let sum = 0
  for (let i = 0; i < dims; i++) sum += a[aOffset + i]! * b[bOffset + i]!
  return sum
}

/**
 * Scales `v` to unit length IN PLACE and returns the same array (no copy: callers normalise freshly
 * embedded rows they own; pass `v.slice()` to keep the original). A zero vector has no direction, so
 * it is left all-zero rather than filled with NaN; it then scores 0 against every query.
 *
 * @example
 * normalize(new Float32Array([3, 4]))  // Float32Array [0.6, 0.8]
 * normalize(new Float32Array([0, 0]))  // Float32Array [0, 0]
 */
export function normalize(v: Float32Array): Float32Array {
  const norm = Math.sqrt(dot(v, v))
  if (norm === 0) return v
  const inv = 1 / norm
  for (let i = 0; i < v.length; i++) v[i] = v[i]! * inv
  return v
}

/**
 * Whether every component is a finite number (no NaN, no ±Infinity). One bad component would make
 * every score against that vector NaN, and NaN never enters a top-k, so a row would silently vanish.
 *
 * @example
 * isFiniteVector(new Float32Array([0.1, -2]))  // true
 * isFiniteVector(new Float32Array([0.1, NaN])) // false
 */
export function isFiniteVector(v: ArrayLike<number>): boolean {
  for (let i = 0; i < v.length; i++) {
    // x - x is 0 for finite x and NaN for NaN and ±Infinity: one comparison covers both.
    const x = v[i]!
    if (x - x !== 0) return false
  }
  return true
}
