import { readFileSync } from 'node:fs'
import wabtInit from 'wabt'
import { describe, expect, it } from 'vitest'
import { ARENA_CHUNK_ROWS, ARENA_MAX_DIMS, loadInt8Kernel, type VectorArena } from '../../src/core/int8Kernel.js'
import { INT8DOT_WASM_BASE64 } from '../../src/core/wasm/int8dotModule.js'
import { seeded } from './helpers.js'

function arena(): VectorArena {
  const kernel = loadInt8Kernel()
  // Node 20's V8 runs WebAssembly SIMD: were this null, the WASM path would go untested.
  expect(kernel).not.toBeNull()
  const made = kernel!.createArena()
  expect(made).not.toBeNull()
  return made!
}

/** Random int8 codes over the full range, -128 included (the store could hold it). */
function randomCodes(length: number, seed: number): Int8Array {
  const random = seeded(seed)
  return Int8Array.from({ length }, () => Math.floor(random() * 256) - 128)
}

function randomQuery(dims: number, seed: number): Int8Array {
  const random = seeded(seed)
  return Int8Array.from({ length: dims }, () => Math.floor(random() * 255) - 127)
}

function sameBytes(a: Int8Array, b: Int8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length))
}

function referenceDots(query: Int8Array, codes: Int8Array, rows: number): number[] {
  const dims = query.length
  return Array.from({ length: rows }, (_, r) => {
    let s = 0
    for (let i = 0; i < dims; i++) s += query[i]! * codes[r * dims + i]!
    return s
  })
}

describe('int8dot module', () => {
  it('is what int8dot.wat compiles to (run `npm run build:wasm` after editing the .wat)', async () => {
    const wabt = await wabtInit()
    const path = 'src/core/wasm/int8dot.wat'
    const module = wabt.parseWat(path, readFileSync(path, 'utf8'), { simd: true })
    try {
      module.validate()
      const { buffer } = module.toBinary({ write_debug_names: false })
      expect(INT8DOT_WASM_BASE64).toBe(Buffer.from(buffer).toString('base64'))
    } finally {
      module.destroy()
    }
  })

  it('exports only `dots` and imports only its memory', () => {
    const module = new WebAssembly.Module(Buffer.from(INT8DOT_WASM_BASE64, 'base64'))
    expect(WebAssembly.Module.exports(module)).toEqual([{ name: 'dots', kind: 'function' }])
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }])
  })
})

describe('loadInt8Kernel', () => {
  it('returns null when the engine rejects the kernel (no SIMD), or when validating throws', () => {
    expect(loadInt8Kernel({ validate: () => false })).toBeNull()
    expect(
      loadInt8Kernel({
        validate: () => {
          throw new Error('no WebAssembly here')
        },
      }),
    ).toBeNull()
  })

  it('validates the kernel bytes themselves', () => {
    let seen: Uint8Array | null = null
    loadInt8Kernel({ validate: (bytes) => ((seen = bytes), true) })
    expect(Buffer.from(seen!).toString('base64')).toBe(INT8DOT_WASM_BASE64)
  })
})

describe('VectorArena.dots', () => {
  it.each([1, 3, 8, 15, 16, 17, 31, 33, 384, 1000])('equals scalar dot products for %i dims, at unaligned offsets', (dims) => {
    const a = arena()
    a.append(new Int8Array([5])) // every later block starts at an odd offset
    const rows = 37
    const codes = randomCodes(rows * dims, dims)
    const at = a.append(codes)
    expect(at % 2).toBe(1)
    const query = randomQuery(dims, dims + 1)
    a.setQuery(query)
    const sums = a.dots(at, rows, dims)
    expect(Array.from(sums.subarray(0, rows))).toEqual(referenceDots(query, codes, rows))
    // A sub-range of rows, starting mid-block.
    const part = a.dots(at + 5 * dims, 3, dims)
    expect(Array.from(part.subarray(0, 3))).toEqual(referenceDots(query, codes, rows).slice(5, 8))
  })

  it('does not overflow at the largest dims and the most extreme codes', () => {
    const a = arena()
    const dims = ARENA_MAX_DIMS
    const rows = new Int8Array(2 * dims)
    rows.fill(-128, 0, dims) // row 0: -128 × 127 per component
    rows.fill(127, dims) // row 1: 127 × 127
    const at = a.append(rows)
    a.setQuery(new Int8Array(dims).fill(127))
    const sums = a.dots(at, 2, dims)
    expect(sums[0]).toBe(-128 * 127 * dims) // -1,065,353,216, inside i32
    expect(sums[1]).toBe(127 * 127 * dims)
  })

  it('refuses calls outside its codes, over the chunk size, or with a query of other dims', () => {
    const a = arena()
    const at = a.append(randomCodes(10 * 4, 1))
    a.setQuery(randomQuery(4, 2))
    expect(() => a.dots(at, 11, 4)).toThrow(RangeError)
    expect(() => a.dots(0, 1, 4)).toThrow(RangeError) // the scratch, not codes
    expect(() => a.dots(at, ARENA_CHUNK_ROWS + 1, 0)).toThrow(RangeError)
    expect(() => a.dots(at, 2, 8)).toThrow(RangeError)
    expect(() => a.setQuery(new Int8Array(ARENA_MAX_DIMS + 1))).toThrow(RangeError)
  })
})

describe('VectorArena growth', () => {
  it('keeps every block intact across growth; earlier views detach and fresh ones read the same bytes', () => {
    const a = arena()
    const dims = 384
    const blocks: { at: number; codes: Int8Array }[] = []
    const firstView = (() => {
      const codes = randomCodes(64 * dims, 100)
      const at = a.append(codes)
      blocks.push({ at, codes })
      return a.view(at, codes.length)
    })()
    const generation = a.generation
    for (let i = 1; i < 120; i++) {
      const codes = randomCodes(64 * dims, 100 + i)
      blocks.push({ at: a.append(codes), codes })
    }
    expect(a.generation).toBeGreaterThan(generation + 3) // ~3 MB from 192 KiB, a quarter at a time
    expect(firstView.length).toBe(0) // detached by growth
    expect(a.codeBytes).toBe(120 * 64 * dims)
    expect(a.byteLength).toBeLessThanOrEqual(Math.ceil((a.codeBytes + 147_456) * 1.25 / 65_536) * 65_536 + 65_536)
    const query = randomQuery(dims, 7)
    a.setQuery(query)
    for (const [i, { at, codes }] of blocks.entries()) {
      expect(blocks[i - 1] ? at : -1).toBe(blocks[i - 1] ? blocks[i - 1]!.at + blocks[i - 1]!.codes.length : -1) // back to back
      expect(sameBytes(a.view(at, codes.length), codes)).toBe(true)
      if (i % 17 === 0) expect(Array.from(a.dots(at, 64, dims).subarray(0, 64))).toEqual(referenceDots(query, codes, 64))
    }
    // All 7,680 rows in one pass over two windows: same sums as block by block.
    const all = new Int8Array(120 * 64 * dims)
    blocks.forEach(({ codes }, i) => all.set(codes, i * codes.length))
    const expected = referenceDots(query, all, 120 * 64)
    const got = [...a.dots(blocks[0]!.at, ARENA_CHUNK_ROWS, dims).subarray(0, ARENA_CHUNK_ROWS)]
    got.push(...a.dots(blocks[0]!.at + ARENA_CHUNK_ROWS * dims, 120 * 64 - ARENA_CHUNK_ROWS, dims).subarray(0, 120 * 64 - ARENA_CHUNK_ROWS))
    expect(got).toEqual(expected)
  })

  it('returns -1 instead of throwing when the memory cannot grow that far', () => {
    const a = arena()
    const generation = a.generation
    expect(a.reserve(5 * 2 ** 30)).toBe(false) // beyond wasm32's 4 GiB
    expect(a.append({ length: 5 * 2 ** 30 } as Int8Array)).toBe(-1)
    expect(a.generation).toBe(generation)
    expect(a.append(new Int8Array([1, 2]))).toBeGreaterThan(0) // still usable
  })
})
