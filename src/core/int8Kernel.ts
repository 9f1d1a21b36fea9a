/**
 * The WebAssembly SIMD kernel behind the int8 vector scan, and the *vector arena* it reads from.
 *
 * The kernel (`wasm/int8dot.wat`, ~300 bytes) computes one i32 dot product per row between an
 * int8 query (widened to int16 lanes) and contiguous int8 rows. A kernel can only read its own
 * linear memory, and copying 38 MB of codes in per query would cost more than the scan, so the
 * codes *live* there: a {@link VectorArena} is one `WebAssembly.Memory` that the table copies each
 * block's codes into once, when the block is loaded, and the scan passes offsets. Blocks appended
 * one after another lie back to back, so a whole table is scanned with a few calls.
 *
 * Layout of an arena's memory: `[0, 128 KiB)` the query lanes (up to {@link ARENA_MAX_DIMS} int16),
 * `[128 KiB, 144 KiB)` the results of one call ({@link ARENA_CHUNK_ROWS} i32: small enough to stay
 * in L1/L2 while JavaScript reads them back), then the codes, appended with a bump pointer and never
 * freed: an arena belongs to one in-memory table, and a rebuilt table starts a new arena while the
 * old one is garbage-collected with the old table.
 *
 * @example
 * const kernel = defaultInt8Kernel()              // null without WebAssembly SIMD
 * const arena = kernel?.createArena() ?? null
 * const at = arena?.append(block.codes) ?? -1     // -1: keep the block in JavaScript memory
 */
import { INT8DOT_WASM_BASE64 } from './wasm/int8dotModule.js'

/** Largest `dims` an arena scans: the kernel's i32 sums cannot overflow below 132,104 (see the .wat). */
export const ARENA_MAX_DIMS = 65_536
/** Rows scored per kernel call. */
export const ARENA_CHUNK_ROWS = 4096

const PAGE_BYTES = 65_536
const MAX_PAGES = 65_536 // 4 GiB, wasm32's ceiling; engines may refuse earlier (grow throws)
const QUERY_AT = 0
const RESULTS_AT = ARENA_MAX_DIMS * 2
const CODES_AT = RESULTS_AT + ARENA_CHUNK_ROWS * 4

type DotsFn = (query: number, codes: number, rows: number, dims: number, out: number) => void

/** Options of {@link loadInt8Kernel}. */
export interface Int8KernelOptions {
  /**
   * Whether this engine accepts the kernel's bytes; default `WebAssembly.validate`, which is false
   * where WebAssembly SIMD is missing. Tests pass `() => false` to force the JavaScript fallback.
   */
  validate?: (bytes: Uint8Array) => boolean
}

/**
 * The compiled kernel; hands out arenas. Get one with {@link loadInt8Kernel} or
 * {@link defaultInt8Kernel}.
 *
 * @example
 * const arena = loadInt8Kernel()?.createArena()
 */
export class Int8Kernel {
  /** @internal Use {@link loadInt8Kernel}. */
  constructor(private readonly module: WebAssembly.Module) {}

  /**
   * A new, empty arena with its own memory and kernel instance (cheap: the module is compiled
   * once). Null when the engine refuses the memory (address space exhausted).
   */
  createArena(): VectorArena | null {
    try {
      return new VectorArena(this.module)
    } catch {
      return null
    }
  }
}

/**
 * Compiles the kernel synchronously (it is tiny, so even a main thread may). Null where WebAssembly,
 * its SIMD proposal, or compiling at run time (a CSP without `'wasm-unsafe-eval'`) is unavailable:
 * callers then keep the JavaScript scan.
 *
 * @example
 * const kernel = loadInt8Kernel({ validate: () => false }) // null: the fallback, as in tests
 */
export function loadInt8Kernel(options: Int8KernelOptions = {}): Int8Kernel | null {
  if (typeof WebAssembly !== 'object' || typeof atob !== 'function') return null
  const bytes = kernelBytes()
  try {
    const validate = options.validate ?? ((b: Uint8Array<ArrayBuffer>) => WebAssembly.validate(b))
    if (!validate(bytes)) return null
    return new Int8Kernel(new WebAssembly.Module(bytes))
  } catch {
    return null
  }
}

let shared: Int8Kernel | null | undefined

/**
 * The kernel for this engine, compiled on first use and then shared (one module per realm; each
 * arena instantiates it over its own memory).
 *
 * @example
 * const table = new ChunkTable({ kernel: defaultInt8Kernel() })
 */
export function defaultInt8Kernel(): Int8Kernel | null {
  if (shared === undefined) shared = loadInt8Kernel()
  return shared
}

/**
 * One `WebAssembly.Memory` holding int8 rows, appended once, plus the kernel over it. Views into
 * the memory (from {@link VectorArena.view}) are detached whenever it grows: re-derive them after
 * any {@link VectorArena.append} or {@link VectorArena.reserve} for which {@link generation}
 * changed.
 *
 * @example
 * const at = arena.append(codes)         // byte offset, or -1 when the memory cannot grow
 * arena.setQuery(queryCodes)
 * const sums = arena.dots(at, rows, dims) // sums[r] for r < rows, valid until the next call
 */
export class VectorArena {
  /** Bumped each time the memory grows (and every earlier view is detached). */
  generation = 0
  private readonly memory: WebAssembly.Memory
  private readonly kernel: DotsFn
  private top = CODES_AT
  private queryDims = -1
  private queryLanes!: Int16Array
  private results!: Int32Array

  /** @internal Use {@link Int8Kernel.createArena}. */
  constructor(module: WebAssembly.Module) {
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(CODES_AT / PAGE_BYTES) })
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } })
    this.kernel = instance.exports.dots as unknown as DotsFn
    this.bindViews()
  }

  /** Bytes of codes held. */
  get codeBytes(): number {
    return this.top - CODES_AT
  }

  /** Bytes the memory occupies: the codes, spare capacity from growing ahead, and 144 KiB of scratch. */
  get byteLength(): number {
    return this.memory.buffer.byteLength
  }

  /**
   * Makes room for `bytes` more bytes of codes, growing by at least a quarter so that a table
   * loaded block by block grows O(log n) times. False when the engine refuses the memory.
   */
  reserve(bytes: number): boolean {
    const need = this.top + bytes
    const have = this.memory.buffer.byteLength
    if (need <= have) return true
    const current = have / PAGE_BYTES
    const exact = Math.ceil(need / PAGE_BYTES)
    if (exact > MAX_PAGES) return false
    const ahead = Math.min(MAX_PAGES, Math.max(exact, current + (current >> 2)))
    for (const pages of ahead > exact ? [ahead, exact] : [exact]) {
      try {
        this.memory.grow(pages - current)
        this.generation++
        this.bindViews()
        return true
      } catch {
        // RangeError: no memory for that much; try the exact size before giving up.
      }
    }
    return false
  }

  /** Copies `codes` in after the last block; returns their byte offset, or -1 if there is no room. */
  append(codes: Int8Array): number {
    if (!this.reserve(codes.length)) return -1
    const at = this.top
    new Int8Array(this.memory.buffer, at, codes.length).set(codes)
    this.top += codes.length
    return at
  }

  /** Drops every block (the memory stays): the next {@link append} starts at the first offset again. */
  reset(): void {
    this.top = CODES_AT
  }

  /** A view of `length` codes at byte `offset`, valid until the memory next grows. */
  view(offset: number, length: number): Int8Array {
    return new Int8Array(this.memory.buffer, offset, length)
  }

  /** Sets the query the next {@link dots} calls score against (`codes.length` ≤ {@link ARENA_MAX_DIMS}). */
  setQuery(codes: Int8Array): void {
    if (codes.length > ARENA_MAX_DIMS) throw new RangeError(`the arena scans at most ${ARENA_MAX_DIMS} dims, got ${codes.length}`)
    // Widened once here, so that the kernel widens only the rows.
    this.queryLanes.set(codes)
    this.queryDims = codes.length
  }

  /**
   * Integer dot products of the query with `rows` (≤ {@link ARENA_CHUNK_ROWS}) rows of `dims` codes
   * starting at byte `offset`. The result's first `rows` entries hold them; it is overwritten by
   * the next call.
   */
  dots(offset: number, rows: number, dims: number): Int32Array {
    if (dims !== this.queryDims) throw new RangeError(`the query set has ${this.queryDims} dims, the rows ${dims}`)
    if (!(rows >= 0 && rows <= ARENA_CHUNK_ROWS) || offset < CODES_AT || offset + rows * dims > this.top) {
      throw new RangeError(`rows ${rows} × ${dims} at ${offset} lie outside the arena's codes`)
    }
    this.kernel(QUERY_AT, offset, rows, dims, RESULTS_AT)
    return this.results
  }

  private bindViews(): void {
    this.queryLanes = new Int16Array(this.memory.buffer, QUERY_AT, ARENA_MAX_DIMS)
    this.results = new Int32Array(this.memory.buffer, RESULTS_AT, ARENA_CHUNK_ROWS)
  }
}

/** The kernel's bytes, decoded from the committed base64. */
function kernelBytes(): Uint8Array<ArrayBuffer> {
  const text = atob(INT8DOT_WASM_BASE64)
  const bytes = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i)
  return bytes
}
