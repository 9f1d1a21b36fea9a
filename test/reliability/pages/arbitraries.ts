/**
 * fast-check arbitraries of fuzz commands. They produce {@link Spec}s (JSON), so a command can be
 * printed with a failure and replayed; the generation does not depend on the model, so a seed
 * alone reproduces a run.
 */
import fc from 'fast-check'
import { obj, type Spec } from './spec.ts'

/** The fuzzed collections: keyword-only, a small text limit, caller vectors. */
export const COLLECTIONS = { kw: { maxTextLength: 1_000_000 }, small: { maxTextLength: 2000 }, vec: { maxTextLength: 1_000_000 } } as const
export type CollectionKey = keyof typeof COLLECTIONS
/** Length of the vectors the fuzz means to give the `vec` collection. */
export const DIMS = 8

/** One API call, as data. */
export type Command =
  | { op: 'add'; c: CollectionKey; docs: Spec; options: Spec }
  | { op: 'delete'; c: CollectionKey; ids: Spec }
  | { op: 'get'; c: CollectionKey; id: Spec }
  | { op: 'count' | 'info' | 'clear'; c: CollectionKey }
  | { op: 'search'; c: CollectionKey; query: Spec; options: Spec }
  | { op: 'highlight'; snippet: Spec; options: Spec }
  | { op: 'rerank'; query: Spec; docs: Spec; options: Spec }
  | { op: 'open'; name: Spec; options: Spec }

const UNDEF: Spec = { $: 'undef' }
export const WORDS = ['memory', 'leak', 'leaking', 'search', 'offline', 'index', 'worker', 'vector', 'rerank', 'lighthouse', 'garden', 'the', 'of']

/** Strings that have broken text handling somewhere: control and format characters, markup, scripts. */
const HOSTILE = [
  '\u0000', 'a\u0000b', '\uFFFE', '\uFFFF', '\u0007', '\u001b[31m',
  '\u202E', '\u202D', '\u2066', '\u2069', '\u200F', '\u061C', '\u200B', '\u2028', '\u00AD',
  'مرحبا بالعالم', 'שלום עולם', '\u202Egnp.exe', 'dangerous\u202Etxt.exe',
  '<script>window.__pwned=1</script>', '<img src=x onerror="window.__pwned=1">', '<svg onload=window.__pwned=1>',
  'javascript:window.__pwned=1', '"><iframe src=javascript:window.__pwned=1>', "'; DROP TABLE docs; --", '&amp;&lt;', '</mark><b>',
  'e\u0301', '\u0301\u0301\u0301', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '😀👍🏽', '👨‍👩‍👧', '\uFEFF', '\r\n', '\r', '\t', '# Heading\n', '<h1>Title</h1>', 'Setext\n===\n',
  '${x}', '%s%n', '\\', '__proto__', 'constructor', 'ﬁ', 'İ', 'ß', '\u3000', '中文字符', 'ひらがな', '１２３', '½', '℃', "don't", '3.14',
]
const LONE = ['\uD800', '\uDBFF', '\uDC00', '\uDFFF', 'x\uD83D', '\uDE00x', '\uDFFF\uD800']

const codeUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 24 })
const piece = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...WORDS) },
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 1, arbitrary: fc.constantFrom(...LONE) },
  { weight: 2, arbitrary: codeUnits },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
)
/** Words, markup, control characters, lone surrogates, RTL overrides, joined with spaces or not. */
export const hostileString = fc
  .tuple(fc.array(piece, { maxLength: 10 }), fc.constantFrom(' ', ' ', '', '\n'))
  .map(([parts, sep]) => parts.join(sep))

/** Wrong types for any field. */
const wrongType = fc.constantFrom<Spec>(
  0, 1, -1, 1.5, true, false, null, UNDEF, { $: 'fn' }, { $: 'sym' }, { $: 'date' }, { $: 'bigint' }, { $: 'map' },
  { $: 'regexp' }, { $: 'error' }, { $: 'num', v: 'NaN' }, { $: 'num', v: 'Infinity' }, [], ['a'], obj([]), obj([['text', 'x']]),
)

const poolId = fc.integer({ min: 0, max: 39 }).map((i) => `doc-${i}`)
const strangeId = fc.constantFrom(
  '\u0000', '\uD800', '\uDFFF\uD800', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '<script>window.__pwned=1</script>',
  ' ', '\u202Eevil', 'a#0', 'doc-1#0', '..', '/', 'دليل', '😀', 'e\u0301', '\u00e9',
)
const longId = fc.constantFrom<Spec>({ $: 'repeat', unit: 'i', n: 1000 }, { $: 'repeat', unit: '\uD800', n: 300 }, { $: 'repeat', unit: 'id', n: 50_000 })
/** Mostly a small pool (duplicates across calls), then odd, long, empty and wrongly typed ids. */
export const idSpec: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 24, arbitrary: poolId },
  { weight: 4, arbitrary: strangeId },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: longId },
  { weight: 2, arbitrary: fc.oneof(fc.constant<Spec>(''), wrongType) },
)

const huge = fc
  .record({
    length: fc.constantFrom<number | null>(null, null, null, 150_000),
    delta: fc.constantFrom(0, 1, -1, 2),
    unit: fc.constantFrom('a', 'word ', 'memory leak ', '\uD800', 'é', '😀', '\u0000', ' ', '<b>x</b> '),
  })
  .map(({ length, delta, unit }): Spec => ({ $: 'huge', length, delta, unit, token: true }))

/** A document text: hostile text around the document's unique token; sometimes huge, blank or not a string. */
export const textSpec: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 80, arbitrary: fc.record({ head: hostileString, tail: hostileString }).map(({ head, tail }): Spec => ({ $: 'text', head, tail, token: true })) },
  { weight: 3, arbitrary: huge },
  { weight: 3, arbitrary: fc.constantFrom<Spec>('', '   ', '\n\t\u3000\uFEFF', '\u00a0', '\u2028\u2029') },
  { weight: 3, arbitrary: wrongType },
)

const scalar = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
)
const badMetaValue = fc.constantFrom<Spec>(
  { $: 'num', v: 'NaN' }, { $: 'num', v: 'Infinity' }, { $: 'date' }, { $: 'fn' }, { $: 'bigint' }, UNDEF, { $: 'map' },
  obj([['nested', 1]]), [[1]], [obj([])], { $: 'sparse', n: 3, at: 1, v: 'x' }, [1, { $: 'num', v: 'NaN' }],
)
const metaKey = fc.oneof(fc.constantFrom('lang', 'year', 'tags', 'n', '__proto__', 'constructor', 'toString', '', 'a.b', '\u0000', '\uD800', '<b>'), hostileString)
const metaValue: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 10, arbitrary: scalar },
  { weight: 3, arbitrary: fc.array(scalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: badMetaValue },
)
/** Flat metadata with odd keys, sometimes a Date, a function, a nested object or not an object. */
export const metadataSpec: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 12, arbitrary: fc.array(fc.tuple(metaKey, metaValue), { maxLength: 5 }).map((e) => obj(e)) },
  { weight: 1, arbitrary: fc.constantFrom<Spec>(null, 'lang=en', [], { $: 'date' }, { $: 'map' }, 1, { $: 'fn' }) },
)

const unit = fc.double({ min: -1, max: 1, noNaN: true })
/** Vectors: mostly DIMS numbers; wrong lengths, NaN, Infinity, float32 overflow, zeros, BigInts, wrong types. */
export const vectorSpec: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 12, arbitrary: fc.array(unit, { minLength: DIMS, maxLength: DIMS }) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom<'f32' | 'f64'>('f32', 'f64'), fc.array(unit, { minLength: DIMS, maxLength: DIMS })).map(([kind, v]): Spec => ({ $: 'typed', kind, v })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 12 }).chain((n) => fc.array(unit, { minLength: n, maxLength: n })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.array(unit, { minLength: DIMS, maxLength: DIMS }), fc.integer({ min: 0, max: DIMS - 1 }), fc.constantFrom<Spec>(
        { $: 'num', v: 'NaN' }, { $: 'num', v: 'Infinity' }, { $: 'num', v: '-Infinity' }, { $: 'num', v: '1e39' }, { $: 'bigint' }, '0.5', 'x', null, UNDEF, true,
      ))
      .map(([v, at, bad]): Spec => v.map((x, i) => (i === at ? bad : x))),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Spec>(
      new Array(DIMS).fill(0), new Array(DIMS).fill({ $: 'num', v: '1e-50' }), { $: 'typed', kind: 'i8', v: new Array(DIMS).fill(1) },
      null, 'vector', obj([['length', DIMS]]), { $: 'sparse', n: DIMS, at: 0, v: 1 }, { $: 'num', v: '-0' },
    ),
  },
)

/** `arbitrary` with probability `p`, else undefined (the field is left out). */
function maybe<T>(arbitrary: fc.Arbitrary<T>, p: number): fc.Arbitrary<T | undefined> {
  const percent = Math.round(p * 100)
  return fc.oneof({ weight: percent, arbitrary }, { weight: 100 - percent, arbitrary: fc.constant(undefined) })
}

function docSpec(c: CollectionKey): fc.Arbitrary<Spec> {
  const vectorFreq = c === 'vec' ? 0.92 : 0.03
  return fc
    .record({
      id: maybe(idSpec, 0.97),
      text: maybe(textSpec, 0.97),
      title: maybe(fc.oneof({ weight: 6, arbitrary: hostileString }, { weight: 1, arbitrary: wrongType }), 0.3),
      metadata: maybe(metadataSpec, 0.4),
      vector: maybe(vectorSpec, vectorFreq),
      extra: maybe(fc.tuple(fc.constantFrom('extra', 'chunks', 'seqs', 'score'), hostileString), 0.05),
    })
    .map((r) => {
      const e: [string, Spec][] = []
      if (r.id !== undefined) e.push(['id', r.id])
      if (r.text !== undefined) e.push(['text', r.text])
      if (r.title !== undefined) e.push(['title', r.title])
      if (r.metadata !== undefined) e.push(['metadata', r.metadata])
      if (r.vector !== undefined) e.push(['vector', r.vector])
      if (r.extra !== undefined) e.push(r.extra)
      return obj(e)
    })
}

/** A batch: 0–5 documents, sometimes with an id twice; sometimes not an array at all. */
function docsSpec(c: CollectionKey): fc.Arbitrary<Spec> {
  const batch = fc.tuple(fc.array(docSpec(c), { maxLength: 5 }), fc.integer({ min: 0, max: 9 })).map(([docs, dup]): Spec => {
    if (dup !== 0 || docs.length < 2) return docs
    const first = docs[0] as { $: 'obj'; e: [string, Spec][] }
    const id = first.e.find(([k]) => k === 'id')
    if (!id) return docs
    const second = docs[1] as { $: 'obj'; e: [string, Spec][] }
    return [first, obj([...second.e.filter(([k]) => k !== 'id'), id]), ...docs.slice(2)]
  })
  return fc.oneof({ weight: 14, arbitrary: batch }, { weight: 1, arbitrary: fc.oneof(wrongType, fc.constantFrom<Spec>({ $: 'revoked' }, { $: 'proxy' }, 'text')) })
}

/** Options of add(): mostly none; sometimes a progress callback, a signal, or nonsense. */
const addOptions = fc.oneof(
  { weight: 20, arbitrary: fc.constant(UNDEF) },
  { weight: 3, arbitrary: fc.constantFrom<Spec>(obj([]), obj([['onProgress', { $: 'fn' }]]), obj([['signal', { $: 'signal' }]])) },
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 2, 5).map((ms) => obj([['signal', { $: 'abortSoon', ms }], ['onProgress', { $: 'fn' }]])) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Spec>(
      null, 'x', 5, { $: 'fn' }, { $: 'revoked' }, obj([['signal', 'x']]), obj([['signal', { $: 'aborted' }]]), obj([['signal', obj([['aborted', false]])]]),
      obj([['onProgress', 5]]), obj([['onProgress', null]]), obj([['onProgress', 'log']]),
    ),
  },
)

/** One option's values: those the contract accepts and those it refuses (the oracle decides which is which). */
const OPTION_VALUES: Record<string, Spec[]> = {
  k: [1, 5, 10, 100, 10_000, 0, -1, 1.5, { $: 'num', v: 'NaN' }, { $: 'num', v: 'Infinity' }, 1e9, '5', null, true, 10_001],
  candidates: [50, 100, 10_000, 0, -1, 'x', { $: 'num', v: 'NaN' }, 10_001, null],
  mode: ['keyword', 'keyword', 'vector', 'hybrid', 'semantic', '', 5, null, 'KEYWORD'],
  filter: [
    obj([['lang', 'en']]), obj([['year', obj([['gte', 2000]])]]), obj([['tags', obj([['in', ['a', 'b', null]]])]]), obj([['n', obj([['exists', true]])]]),
    obj([['lang', obj([['ne', null]])]]), obj([['__proto__', 'x']]), obj([]), null, obj([['lang', { $: 'num', v: 'Infinity' }]]),
    obj([['lang', UNDEF]]), obj([['lang', ['en']]]), obj([['lang', obj([])]]), obj([['lang', obj([['foo', 1]])]]), obj([['year', obj([['gt', 1], ['lt', 'z']])]]),
    obj([['x', { $: 'num', v: 'NaN' }]]), obj([['x', obj([['eq', { $: 'date' }]])]]), obj([['x', obj([['in', 'a']])]]), obj([['x', obj([['exists', 'yes']])]]),
    'lang', [], { $: 'date' }, obj([['x', obj([['gt', null]])]]), obj([['x', { $: 'fn' }]]),
  ],
  fusion: [
    obj([['method', 'rrf']]), obj([['method', 'rrf'], ['k', 1]]), obj([['method', 'weighted'], ['alpha', 0]]), obj([['method', 'weighted']]), null,
    obj([['method', 'x']]), obj([['method', 'rrf'], ['alpha', 0.5]]), obj([['method', 'rrf'], ['k', 0]]), obj([['method', 'weighted'], ['alpha', 2]]), 'rrf', [], obj([]),
  ],
  rerank: [false, false, true, 'yes', 0, null, [], obj([]), [obj([])], obj([['keep', 1]]), obj([['model', '']]), obj([['model', 5]])],
  mmr: [true, obj([['lambda', 0.5]]), obj([['lambda', 0]]), obj([['lambda', null]]), false, obj([['lambda', 2]]), obj([['lambda', { $: 'num', v: 'NaN' }]]), obj([['lambda', 'x']]), obj([['foo', 1]]), 'x', [], null],
  maxPerDocument: [1, 2, null, 0, -1, 1.5, 'x'],
  minScore: [0, 0.5, 1, null, -0.1, 1.1, { $: 'num', v: 'NaN' }, 'x'],
  skipRerankAbove: [0, 0.9, null, 2, 'x'],
  rerankBudgetMs: [100, null, 0, -1, { $: 'num', v: 'Infinity' }, { $: 'num', v: 'NaN' }],
  probes: [1, 2, 64, 100_000, null, 0, -1, 1.5, '4', { $: 'num', v: 'NaN' }, { $: 'num', v: 'Infinity' }],
  snippet: [false, obj([['length', 50]]), obj([['windows', 3]]), obj([['length', 20], ['windows', 10]]), obj([]), obj([['length', 19]]), obj([['length', 100_001]]), obj([['windows', 0]]), obj([['foo', 1]]), 'x', null, [], obj([['length', 1.5]])],
  signal: [{ $: 'signal' }, { $: 'aborted' }, 'x', 5, null, { $: 'abortSoon', ms: 0 }, { $: 'abortSoon', ms: 1 }, { $: 'abortSoon', ms: 3 }],
  onFirstStage: [{ $: 'fn' }, { $: 'fn' }, 'x', null],
  foo: [1],
}

const searchOptions: fc.Arbitrary<Spec> = fc.oneof(
  {
    weight: 14,
    arbitrary: fc
      .tuple(
        fc.subarray(Object.keys(OPTION_VALUES).concat(['vector']), { maxLength: 4 }),
        fc.array(fc.nat(), { minLength: 16, maxLength: 16 }),
        vectorSpec,
      )
      .map(([keys, picks, vector]) => obj(keys.map((key, i): [string, Spec] => [key, key === 'vector' ? vector : OPTION_VALUES[key]![picks[i]! % OPTION_VALUES[key]!.length]!]))),
  },
  { weight: 4, arbitrary: fc.constant(UNDEF) },
  { weight: 1, arbitrary: fc.constantFrom<Spec>(null, 'x', 5, { $: 'fn' }, [], { $: 'date' }, { $: 'revoked' }) },
)

const query = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 4 }).map((w) => w.join(' ')) },
  { weight: 4, arbitrary: hostileString },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Spec>(
      '', { $: 'repeat', unit: 'memory leak ', n: 20_000 }, { $: 'huge', length: 1_000_001, delta: 0, unit: 'a', token: false }, { $: 'repeat', unit: '\uD800', n: 10_000 },
      { $: 'repeat', unit: 'zq1d0x ', n: 1000 },
    ),
  },
  { weight: 1, arbitrary: fc.oneof(wrongType, fc.constant<Spec>({ $: 'revoked' })) },
)

const highlightSnippet: fc.Arbitrary<Spec> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        hostileString,
        fc.oneof(
          fc.array(fc.tuple(fc.oneof(fc.integer({ min: -5, max: 60 }), fc.double(), fc.constantFrom<Spec>('3', null, { $: 'num', v: 'NaN' }, { $: 'num', v: 'Infinity' })), fc.oneof(fc.integer({ min: -5, max: 60 }), fc.double())), { maxLength: 6 }),
          wrongType,
        ),
      )
      .map(([text, highlights]) => obj([['text', text], ['highlights', highlights as Spec]])),
  },
  { weight: 1, arbitrary: fc.oneof(wrongType, fc.constantFrom<Spec>(obj([['text', 5]]), obj([['highlights', [[0, 1]]]]))) },
)

const rerankDocs: fc.Arbitrary<Spec> = fc.oneof(
  fc.array(fc.oneof(hostileString, fc.tuple(idSpec, hostileString).map(([id, text]) => obj([['id', id], ['text', text]])), wrongType), { maxLength: 3 }),
  wrongType,
)

const collectionKey = fc.constantFrom<CollectionKey>('kw', 'kw', 'kw', 'small', 'small', 'vec', 'vec', 'vec')

/**
 * One random API call.
 *
 * @example
 * fc.sample(command, { seed: 42, numRuns: 10 })
 */
export const command: fc.Arbitrary<Command> = collectionKey.chain((c) =>
  fc.oneof(
    { weight: 99, arbitrary: fc.record({ docs: docsSpec(c), options: addOptions }).map((r): Command => ({ op: 'add', c, ...r })) },
    {
      weight: 30,
      arbitrary: fc
        .oneof({ weight: 10, arbitrary: fc.array(idSpec, { maxLength: 5 }) }, { weight: 1, arbitrary: fc.oneof(wrongType, fc.constantFrom<Spec>({ $: 'revoked' }, [1], ['a', null])) })
        .map((ids): Command => ({ op: 'delete', c, ids })),
    },
    { weight: 36, arbitrary: fc.oneof(idSpec, fc.constant<Spec>({ $: 'revoked' })).map((id): Command => ({ op: 'get', c, id })) },
    { weight: 12, arbitrary: fc.constant<Command>({ op: 'count', c }) },
    { weight: 9, arbitrary: fc.constant<Command>({ op: 'info', c }) },
    { weight: 1, arbitrary: fc.constant<Command>({ op: 'clear', c }) },
    { weight: 84, arbitrary: fc.record({ query, options: searchOptions }).map((r): Command => ({ op: 'search', c, ...r })) },
    {
      weight: 15,
      arbitrary: fc
        .record({ snippet: highlightSnippet, options: fc.oneof(fc.constant<Spec>(UNDEF), hostileString.map((s) => obj([['className', s]])), fc.constantFrom<Spec>(null, 'x', obj([['className', 5]]))) })
        .map((r): Command => ({ op: 'highlight', ...r })),
    },
    {
      weight: 6,
      arbitrary: fc
        .record({ query: fc.oneof(hostileString, wrongType), docs: rerankDocs, options: fc.constantFrom<Spec>(UNDEF, obj([['topK', 0]]), obj([['topK', -1]]), obj([['topK', 'x']]), null, obj([['signal', { $: 'aborted' }]])) })
        .map((r): Command => ({ op: 'rerank', ...r })),
    },
    {
      weight: 3,
      arbitrary: fc
        .record({
          name: fc.oneof(
            { weight: 4, arbitrary: hostileString.map((s) => `fz-${s}`) },
            { weight: 1, arbitrary: fc.constantFrom<Spec>('', { $: 'repeat', unit: 'n', n: 200 }, { $: 'repeat', unit: 'n', n: 201 }, 'fz-\u0000', 'fz-\uD800', 'fz-/..\\', 'fz-<script>') },
            { weight: 1, arbitrary: wrongType },
          ),
          options: fc.constantFrom<Spec>(
            UNDEF, UNDEF, obj([]), obj([['maxTextLength', 100]]), obj([['maxTextLength', 0]]), obj([['maxTextLength', 1.5]]), obj([['maxTextLength', 'x']]), obj([['maxTextLength', { $: 'bigint' }]]), null, 'x',
            obj([['vectorIndex', obj([['minRows', 64], ['probes', 3], ['cacheBytes', 0]])]]), obj([['vectorIndex', obj([['minRows', { $: 'num', v: 'Infinity' }]])]]), obj([['vectorIndex', obj([])]]),
            obj([['vectorIndex', obj([['minRows', 63]])]]), obj([['vectorIndex', obj([['probes', 0]])]]), obj([['vectorIndex', obj([['cacheBytes', -1]])]]), obj([['vectorIndex', obj([['minRows', null]])]]),
            obj([['vectorIndex', null]]), obj([['vectorIndex', []]]), obj([['vectorIndex', 'x']]), obj([['vectorIndex', obj([['probes', 1.5]])]]),
            obj([['vectorIndex', obj([['targetRecall', 0.5]])]]), obj([['vectorIndex', obj([['targetRecall', 1]])]]), obj([['vectorIndex', obj([['targetRecall', 0]])]]),
            obj([['vectorIndex', obj([['targetRecall', 1.5]])]]), obj([['vectorIndex', obj([['targetRecall', '0.9']])]]), obj([['vectorIndex', obj([['targetRecall', { $: 'num', v: 'NaN' }]])]]),
          ),
        })
        .map((r): Command => ({ op: 'open', ...r })),
    },
  ),
)
