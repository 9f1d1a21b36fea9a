/**
 * The byte layout of one snapshot shard, shared by the Node writer and the worker's importer.
 *
 * A shard is gzip (so its size does not depend on how a static host compresses) of:
 * `"WNSH"` · u32 layout version · u32 JSON byte length · JSON (UTF-8) · zero padding to 8 bytes ·
 * one binary area. The JSON is the shard's records with every typed array replaced by
 * `{ "$t": "u32", "o": offset, "n": length }` pointing into the binary area, so large numeric data
 * (postings, int8 codes) is stored raw instead of as JSON numbers. Little-endian throughout.
 */

import { WinnowError } from '../errors.js'

const MAGIC = 0x48534e57 // "WNSH" read as a little-endian u32
/** Layout version of a shard's bytes (not of the snapshot manifest). */
export const SHARD_LAYOUT = 1

type ArrayKind = 'u8' | 'i8' | 'u16' | 'u32' | 'f32'
type AnyTyped = Uint8Array | Int8Array | Uint16Array | Uint32Array | Float32Array

const CONSTRUCTORS = {
  u8: Uint8Array,
  i8: Int8Array,
  u16: Uint16Array,
  u32: Uint32Array,
  f32: Float32Array,
} as const

function kindOf(value: unknown): ArrayKind | null {
  if (value instanceof Uint8Array) return 'u8'
  if (value instanceof Int8Array) return 'i8'
  if (value instanceof Uint16Array) return 'u16'
  if (value instanceof Uint32Array) return 'u32'
  if (value instanceof Float32Array) return 'f32'
  return null
}

/**
 * Serializes JSON-compatible data that may hold typed arrays into a shard's (uncompressed) bytes.
 *
 * @example
 * const bytes = encodeRecords({ seqs: new Uint32Array([1, 2]) })
 * decodeRecords(bytes) // { seqs: Uint32Array [1, 2] }
 */
export function encodeRecords(data: unknown): Uint8Array {
  const arrays: AnyTyped[] = []
  let offset = 0
  const json = JSON.stringify(data, function (this: unknown, key: string, value: unknown) {
    // JSON.stringify calls toJSON-less typed arrays with the array itself: swap in a reference.
    const kind = kindOf((this as Record<string, unknown>)[key])
    if (!kind) return value
    const array = (this as Record<string, AnyTyped>)[key]!
    offset = align(offset, array.BYTES_PER_ELEMENT)
    const ref = { $t: kind, o: offset, n: array.length }
    arrays.push(array)
    offset += array.byteLength
    return ref
  })
  const text = new TextEncoder().encode(json)
  const head = align(12 + text.length, 8)
  const out = new Uint8Array(head + offset)
  const view = new DataView(out.buffer)
  view.setUint32(0, MAGIC, true)
  view.setUint32(4, SHARD_LAYOUT, true)
  view.setUint32(8, text.length, true)
  out.set(text, 12)
  let at = 0
  for (const array of arrays) {
    at = align(at, array.BYTES_PER_ELEMENT)
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), head + at)
    at += array.byteLength
  }
  return out
}

/**
 * Reads what {@link encodeRecords} wrote. Typed arrays come back as fresh copies (aligned, owned).
 *
 * @throws WinnowError SNAPSHOT_INVALID when the bytes are not a shard of a known layout.
 * @example
 * const records = decodeRecords(await gunzip(bytes)) as DocumentsShard
 */
export function decodeRecords(bytes: Uint8Array): unknown {
  if (bytes.length < 12) throw corrupt('it is shorter than its header')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (view.getUint32(0, true) !== MAGIC) throw corrupt('it does not start with the shard signature')
  const layout = view.getUint32(4, true)
  if (layout !== SHARD_LAYOUT) throw new WinnowError('SNAPSHOT_INVALID', `a snapshot shard has layout ${layout}; this winnow reads layout ${SHARD_LAYOUT}. Rebuild the snapshot with this version`, { reason: 'incompatible' })
  const length = view.getUint32(8, true)
  if (12 + length > bytes.length) throw corrupt('its JSON part runs past the end')
  const head = align(12 + length, 8)
  const binary = bytes.subarray(Math.min(head, bytes.length))
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + length)))
  } catch (error) {
    throw corrupt(`its JSON part does not parse (${(error as Error).message})`)
  }
  return revive(parsed, binary)
}

function revive(value: unknown, binary: Uint8Array): unknown {
  if (Array.isArray(value)) return value.map((v) => revive(v, binary))
  if (value === null || typeof value !== 'object') return value
  const ref = value as { $t?: unknown; o?: unknown; n?: unknown }
  if (typeof ref.$t === 'string') {
    const Ctor = CONSTRUCTORS[ref.$t as ArrayKind]
    if (!Ctor || !Number.isInteger(ref.o) || !Number.isInteger(ref.n) || (ref.o as number) < 0 || (ref.n as number) < 0) throw corrupt('it holds a malformed array reference')
    const start = ref.o as number
    const end = start + (ref.n as number) * Ctor.BYTES_PER_ELEMENT
    if (end > binary.length) throw corrupt('an array runs past the end of the shard')
    // slice() copies into a fresh, aligned buffer that the caller owns.
    return new Ctor(binary.slice(start, end).buffer)
  }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = revive(v, binary)
  return out
}

/**
 * gzip through the platform's CompressionStream (browsers, Node 18+): deterministic for the same input.
 *
 * @example
 * const packed = await gzip(encodeRecords(records))
 */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return pipe(bytes, new CompressionStream('gzip'))
}

/**
 * gunzip; a damaged stream becomes SNAPSHOT_INVALID.
 *
 * @example
 * const bytes = await gunzip(packed)
 */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  try {
    return await pipe(bytes, new DecompressionStream('gzip'))
  } catch (error) {
    throw corrupt(`it is not valid gzip (${(error as Error).message})`)
  }
}

async function pipe(bytes: Uint8Array, transform: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(transform as unknown as TransformStream<Uint8Array, Uint8Array>)
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

/**
 * Lower-case hex SHA-256 (Web Crypto, in browsers, workers and Node).
 *
 * @example
 * await sha256Hex(new TextEncoder().encode('abc')) // 'ba7816bf…'
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource))
  let hex = ''
  for (const b of digest) hex += b.toString(16).padStart(2, '0')
  return hex
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to
}

function corrupt(why: string): WinnowError {
  return new WinnowError('SNAPSHOT_INVALID', `a snapshot shard is damaged: ${why}. Rebuild the snapshot, or check that the server sends the files unchanged`, { reason: 'corrupt' })
}
