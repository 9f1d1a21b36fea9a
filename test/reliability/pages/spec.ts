/**
 * Fuzz inputs as plain JSON ("specs"), turned into real values only when a call is made. A spec
 * can be printed, stored with a failure and replayed, and a huge text costs a few bytes until it
 * is used. Plain JSON arrays are arrays; every other object is tagged with `$`.
 */

/** A value to build: JSON scalars and arrays as they are, tagged objects for everything else. */
export type Spec =
  | null
  | boolean
  | number
  | string
  | Spec[]
  | { $: 'obj'; e: [string, Spec][] }
  | { $: 'num'; v: 'NaN' | 'Infinity' | '-Infinity' | '-0' | '1e39' | '1e-50' }
  | { $: 'undef' | 'fn' | 'sym' | 'date' | 'bigint' | 'map' | 'regexp' | 'error' | 'proxy' | 'revoked' | 'signal' | 'aborted' }
  /** An AbortSignal that aborts `ms` after it is made (0: on the next task), while the call runs. */
  | { $: 'abortSoon'; ms: number }
  | { $: 'typed'; kind: 'f32' | 'f64' | 'i8' | 'u8'; v: Spec[] }
  | { $: 'sparse'; n: number; at: number; v: Spec }
  /** A text: the parts joined, with the document's unique search token between spaces after `head`. */
  | { $: 'text'; head: string; tail: string; token: boolean }
  /** A text of exactly `length` characters (or the target collection's limit plus `delta`). */
  | { $: 'huge'; length: number | null; delta: number; unit: string; token: boolean }
  /** A string `unit` repeated `n` times (long ids, long queries). */
  | { $: 'repeat'; unit: string; n: number }

/** Signals built from `abortSoon` specs: a call given one may end in ABORTED whatever else it would do. */
export const abortsSoon = new WeakSet<AbortSignal>()

/** What building a value needs: the unique token of a document, the target collection's text limit. */
export interface BuildContext {
  token(): string
  limit: number
}

/**
 * Builds the value a spec describes.
 *
 * @example
 * build({ $: 'obj', e: [['id', 'a'], ['text', { $: 'text', head: 'x', tail: '', token: false }]] }, ctx)
 * // { id: 'a', text: 'x  ' }
 */
export function build(spec: Spec, ctx: BuildContext): unknown {
  if (spec === null || typeof spec !== 'object') return spec
  if (Array.isArray(spec)) return spec.map((s) => build(s, ctx))
  switch (spec.$) {
    case 'obj': {
      const out: Record<string, unknown> = {}
      // defineProperty: a key such as '__proto__' must become an own property, as JSON.parse makes it.
      for (const [k, v] of spec.e) Object.defineProperty(out, k, { value: build(v, ctx), enumerable: true, writable: true, configurable: true })
      return out
    }
    case 'num':
      return { NaN, Infinity, '-Infinity': -Infinity, '-0': -0, '1e39': 1e39, '1e-50': 1e-50 }[spec.v]
    case 'undef':
      return undefined
    case 'fn':
      return () => 'a function'
    case 'sym':
      return Symbol('fuzz')
    case 'date':
      return new Date(0)
    case 'bigint':
      return 12n
    case 'map':
      return new Map([['a', 1]])
    case 'regexp':
      return /x/g
    case 'error':
      return new Error('an Error object')
    case 'proxy':
      return new Proxy({ id: 'p', text: 'proxied' }, {})
    case 'revoked': {
      const { proxy, revoke } = Proxy.revocable({}, {})
      revoke()
      return proxy
    }
    case 'signal':
      return new AbortController().signal
    case 'aborted':
      return AbortSignal.abort()
    case 'abortSoon': {
      const controller = new AbortController()
      setTimeout(() => controller.abort(), spec.ms)
      abortsSoon.add(controller.signal)
      return controller.signal
    }
    case 'typed': {
      const values = spec.v.map((s) => build(s, ctx)) as number[]
      if (spec.kind === 'f32') return Float32Array.from(values)
      if (spec.kind === 'f64') return Float64Array.from(values)
      if (spec.kind === 'i8') return Int8Array.from(values)
      return Uint8Array.from(values)
    }
    case 'sparse': {
      const out: unknown[] = new Array(spec.n)
      if (spec.at < spec.n) out[spec.at] = build(spec.v, ctx)
      return out
    }
    case 'text':
      return spec.token ? `${spec.head} ${ctx.token()} ${spec.tail}` : `${spec.head}${spec.tail}`
    case 'huge': {
      const length = Math.max(0, (spec.length ?? ctx.limit) + spec.delta)
      const core = spec.token ? ` ${ctx.token()} ` : ''
      const unit = spec.unit || 'x'
      const fill = unit.repeat(Math.ceil(Math.max(0, length - core.length) / unit.length) + 1)
      return (core + fill).slice(0, length)
    }
    case 'repeat':
      return spec.unit.repeat(spec.n)
  }
}

/** A short, printable form of a spec for failure reports (huge parts summarised). */
export function describeSpec(spec: Spec): string {
  const json = JSON.stringify(spec)
  return json.length > 600 ? `${json.slice(0, 600)}… (${json.length} chars)` : json
}

/** A tagged plain object. */
export function obj(entries: [string, Spec][]): Spec {
  return { $: 'obj', e: entries }
}
