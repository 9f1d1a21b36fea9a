;; int8 × int16 dot products for the vector scan (see src/core/int8Kernel.ts), WebAssembly SIMD128.
;; Compiled by `npm run build:wasm` into int8dotModule.ts; a unit test recompiles it and fails if
;; the committed bytes are stale.
;;
;; dots(queryPtr, codesPtr, rows, dims, outPtr): for r in [0, rows), writes
;;   out[r] = Σ_i query[i] · codes[r·dims + i]   as an i32 at outPtr + 4r
;; where `query` is `dims` int16 lanes (the int8 query codes, pre-widened once per query so the
;; inner loop widens only the rows) and the rows are `rows × dims` contiguous int8 codes. No
;; alignment is required: rows start wherever `dims` puts them.
;;
;; Overflow: query codes lie in [-127, 127] (core/quantize) and row codes in [-128, 127], so one
;; product is at most 128 · 127 = 16,256 in magnitude and a whole row's sum at most dims · 16,256.
;; That stays below 2^31 for dims ≤ 132,104; the arena accepts dims ≤ 65,536 (≤ 1.07e9), so
;; neither a lane of i32x4.dot_i16x8_s (which holds a quarter of the sum) nor the total can wrap.
;;
;; Shape, measured on Node 20 (V8 11.3, x64), 100k × 384 rows (38 MB, memory-bound) and 10k × 384
;; (3.8 MB, cache-resident), p50 of 30 calls: this loop, one 16-byte load widened by
;; extend_{low,high} and two i32x4.dot_i16x8_s, 1.9 ms / 0.18 ms. Unrolling to 32 bytes with two
;; accumulators: 1.98 / 0.18; two rows per pass sharing each query load: 1.91 / 0.17; widening
;; loads (v128.load8x8_s): 2.0 / 0.20; int8 query with i16x8.extmul + extadd_pairwise: 2.7 / 0.25.
;; None pays for its extra code, so this is the simple one.
(module
  (import "env" "memory" (memory 1))
  (func (export "dots") (param $query i32) (param $codes i32) (param $rows i32) (param $dims i32) (param $out i32)
    (local $outEnd i32) (local $rowEnd i32) (local $vecEnd i32) (local $p i32) (local $q i32)
    (local $v v128) (local $acc v128) (local $sum i32)
    (local.set $outEnd (i32.add (local.get $out) (i32.shl (local.get $rows) (i32.const 2))))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $out) (local.get $outEnd)))
        (local.set $rowEnd (i32.add (local.get $codes) (local.get $dims)))
        (local.set $vecEnd (i32.add (local.get $codes) (i32.and (local.get $dims) (i32.const -16))))
        (local.set $p (local.get $codes))
        (local.set $q (local.get $query))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        ;; 16 codes per step: widen the low and high halves to i16x8, multiply-add against the
        ;; matching 8 query lanes each.
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_u (local.get $p) (local.get $vecEnd)))
            (local.set $v (v128.load align=1 (local.get $p)))
            (local.set $acc
              (i32x4.add (local.get $acc)
                (i32x4.add
                  (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (v128.load align=1 (local.get $q)))
                  (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (v128.load offset=16 align=1 (local.get $q))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 32)))
            (br $vec)))
        (local.set $sum
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
            (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
        ;; The dims % 16 codes left over, one at a time.
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $p) (local.get $rowEnd)))
            (local.set $sum (i32.add (local.get $sum) (i32.mul (i32.load8_s (local.get $p)) (i32.load16_s align=1 (local.get $q)))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $q (i32.add (local.get $q) (i32.const 2)))
            (br $tail)))
        (i32.store align=1 (local.get $out) (local.get $sum))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $codes (local.get $rowEnd))
        (br $row)))))
