import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { codeOf } from '../helpers/errors.js'
import {
  ANALYZER_VERSION,
  ENGLISH_STOP_WORDS,
  createAnalyzer,
  resolveAnalyzerConfig,
  sameAnalyzer,
  type AnalyzerOptions,
} from '../../src/text/analyzer.js'
import { scanTokens, tokensByPattern } from '../../src/text/tokens.js'

const terms = (text: string, options?: AnalyzerOptions | false) => createAnalyzer(options).terms(text)

describe('createAnalyzer: defaults (Lucene English)', () => {
  it('lowercases, folds accents, drops stop words and stems, keeping text order and repeats', () => {
    expect(terms("The user's Café runs 2.5 km, and the café RUNS")).toEqual(['user', 'cafe', 'run', '2.5', 'km', 'cafe', 'run'])
  })

  it('matches composed and decomposed accents, and compatibility forms', () => {
    const composed = 'caf\u00e9'
    const decomposed = 'cafe\u0301'
    expect(terms(composed)).toEqual(['cafe'])
    expect(terms(decomposed)).toEqual(['cafe'])
    expect(terms('\ufb01le \uff21\uff42\uff43')).toEqual(['file', 'abc']) // "ﬁle" ligature, full-width "Ａｂｃ"
  })

  it('folds letters whose accent is part of the base character', () => {
    expect(terms('Ærø Łódź', { stemmer: false })).toEqual(['aero', 'lodz'])
    expect(terms('straße', { stemmer: false })).toEqual(['strasse'])
  })

  it('stems running, runs and run to one term, and only lowercase a-z words', () => {
    expect(terms('running runs run')).toEqual(['run', 'run', 'run'])
    expect(terms('connection connected connecting')).toEqual(['connect', 'connect', 'connect'])
    // Mixed letters and digits are not English words: left alone.
    expect(terms('h1n1s covid19')).toEqual(['h1n1s', 'covid19'])
  })

  it('strips the possessive before stemming, for straight and curly apostrophes', () => {
    expect(terms("user's user\u2019s users")).toEqual(['user', 'user', 'user'])
    expect(terms("don't")).toEqual(["don't"])
  })

  it('splits on hyphens and punctuation but keeps decimals and thousands whole', () => {
    expect(terms('COVID-19 IL-6')).toEqual(['covid', '19', 'il', '6'])
    expect(terms('2.5 mg, 1,000 cells; p<0.05')).toEqual(['2.5', 'mg', '1,000', 'cell', 'p', '0.05'])
    // A period between words splits them, even without the space after it.
    expect(terms('end.Start cells.The')).toEqual(['end', 'start', 'cell'])
  })

  it('keeps Greek, Cyrillic, Devanagari and Hangul words whole', () => {
    expect(terms('Η ΟΔΟΣ οδός')).toEqual(['η', 'οδοσ', 'οδοσ']) // accents folded, final sigma unified
    expect(terms('Привет, мир!')).toEqual(['привет', 'мир'])
    // Combining vowel signs are part of the word; folding touches only U+0300–U+036F.
    expect(terms('नमस्ते दुनिया')).toEqual(['नमस्ते', 'दुनिया'])
    // NFKD splits Hangul syllables into jamo; the analyzer recomposes them.
    expect(terms('한국어 텍스트')).toEqual(['한국어', '텍스트'])
  })

  it('cuts Han and Hiragana into one term per character and keeps Katakana runs', () => {
    expect(terms('日本語のテキスト')).toEqual(['日', '本', '語', 'の', 'テキスト'])
    expect(terms('abc漢字')).toEqual(['abc', '漢', '字'])
  })

  it('drops only the 33 Lucene English stop words', () => {
    expect(ENGLISH_STOP_WORDS).toHaveLength(33)
    expect(terms('the cause of it is not few', { stemmer: false })).toEqual(['cause', 'few'])
  })

  it('is repeatable and does not leak state between calls or analyzers', () => {
    const english = createAnalyzer()
    const neutral = createAnalyzer(false)
    const text = 'Running tests in Zürich'
    const first = english.terms(text)
    expect(neutral.terms(text)).toEqual(['running', 'tests', 'in', 'zürich'])
    expect(english.terms(text)).toEqual(first)
    expect(first).toEqual(['run', 'test', 'zurich'])
    expect(english.terms('')).toEqual([])
    expect(english.terms(' -- !! ')).toEqual([])
  })
})

describe('createAnalyzer: options', () => {
  it('stop words: off keeps them, a custom list is normalized like text and replaces the English one', () => {
    expect(terms('the cat', { stopWords: false, stemmer: false })).toEqual(['the', 'cat'])
    expect(terms('the Über cat', { stopWords: ['UBER', 'Cat'], stemmer: false })).toEqual(['the'])
  })

  it('stemmer: false keeps inflections', () => {
    expect(terms('running runs', { stemmer: false })).toEqual(['running', 'runs'])
  })

  it('lowercase: false keeps case; capitalized words are then not stemmed or stopped', () => {
    expect(terms('The Running DNA running the', { lowercase: false })).toEqual(['The', 'Running', 'DNA', 'run'])
  })

  it('foldAccents: false keeps accents (and the words they tell apart)', () => {
    expect(terms('año ano', { foldAccents: false })).toEqual(['año', 'ano'])
    expect(terms('йод', { foldAccents: false })).toEqual(['йод'])
    expect(terms('йод')).toEqual(['иод']) // folding is script-blind: breve is a diacritic
  })

  it('minTokenLength counts code points, not UTF-16 units', () => {
    expect(terms('x 5 ab', { minTokenLength: 2 })).toEqual(['ab'])
    // Gothic letters are astral: two code points take four UTF-16 units.
    expect(terms('\u{10330}\u{10331} \u{10330}\u{10331}\u{10332}', { minTokenLength: 3 })).toEqual(['\u{10330}\u{10331}\u{10332}'])
  })

  it('false is language-neutral: lowercase and normalize only', () => {
    expect(terms('Über die Brücke; the running l\u2019homme', false)).toEqual(['über', 'die', 'brücke', 'the', 'running', "l'homme"])
    expect(resolveAnalyzerConfig(false)).toEqual({
      version: ANALYZER_VERSION,
      lowercase: true,
      foldAccents: false,
      stopWords: false,
      stemmer: false,
      minTokenLength: 1,
    })
  })

  it('rejects bad options with INVALID_INPUT', () => {
    const bad: unknown[] = [
      true,
      null,
      [],
      'english',
      { stemer: 'english' },
      { lowercase: 'yes' },
      { foldAccents: 1 },
      { stemmer: 'french' },
      { stopWords: 'german' },
      { stopWords: ['ok', ''] },
      { stopWords: ['ok', 3] },
      { minTokenLength: 0 },
      { minTokenLength: 1.5 },
      { minTokenLength: '2' },
    ]
    for (const options of bad) {
      expect(codeOf(() => createAnalyzer(options as AnalyzerOptions)), JSON.stringify(options)).toBe('INVALID_INPUT')
    }
    expect(codeOf(() => createAnalyzer().terms(42 as unknown as string))).toBe('INVALID_INPUT')
  })
})

describe('resolveAnalyzerConfig and sameAnalyzer', () => {
  it('fills every default and survives JSON', () => {
    const config = resolveAnalyzerConfig()
    expect(config).toEqual({
      version: ANALYZER_VERSION,
      lowercase: true,
      foldAccents: true,
      stopWords: 'english',
      stemmer: 'english',
      minTokenLength: 1,
    })
    expect(sameAnalyzer(JSON.parse(JSON.stringify(config)), config)).toBe(true)
    expect(createAnalyzer({ stemmer: false }).config.stemmer).toBe(false)
  })

  it('copies a custom stop list, so later changes to the caller’s array do not leak in', () => {
    const list = ['foo']
    const config = resolveAnalyzerConfig({ stopWords: list })
    list.push('bar')
    expect(config.stopWords).toEqual(['foo'])
  })

  it('compares every field; custom stop lists as sets', () => {
    const base = resolveAnalyzerConfig()
    expect(sameAnalyzer(base, resolveAnalyzerConfig({ lowercase: true, stemmer: 'english' }))).toBe(true)
    expect(sameAnalyzer(base, resolveAnalyzerConfig(false))).toBe(false)
    expect(sameAnalyzer(base, resolveAnalyzerConfig({ foldAccents: false }))).toBe(false)
    expect(sameAnalyzer(base, resolveAnalyzerConfig({ minTokenLength: 2 }))).toBe(false)
    expect(sameAnalyzer(base, { ...base, version: ANALYZER_VERSION + 1 })).toBe(false)
    expect(sameAnalyzer(base, resolveAnalyzerConfig({ stopWords: false }))).toBe(false)
    // The English list spelled out is not the name 'english': the name can change with the version.
    expect(sameAnalyzer(base, resolveAnalyzerConfig({ stopWords: ENGLISH_STOP_WORDS }))).toBe(false)
    const ab = resolveAnalyzerConfig({ stopWords: ['a', 'b'] })
    expect(sameAnalyzer(ab, resolveAnalyzerConfig({ stopWords: ['b', 'a', 'b'] }))).toBe(true)
    expect(sameAnalyzer(ab, resolveAnalyzerConfig({ stopWords: ['a', 'c'] }))).toBe(false)
    expect(sameAnalyzer(ab, resolveAnalyzerConfig({ stopWords: ['a'] }))).toBe(false)
  })
})

describe('analyzer properties', () => {
  it('terms are non-empty, hold no whitespace or hyphen, and re-analyze to themselves (language-neutral)', () => {
    const neutral = createAnalyzer(false)
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        const out = neutral.terms(text)
        for (const term of out) {
          expect(term.length).toBeGreaterThan(0)
          expect(term).not.toMatch(/[\s-]/u)
        }
        expect(neutral.terms(out.join(' '))).toEqual(out)
      }),
      { numRuns: 500 },
    )
  })

  it('the English analyzer finds a document’s own terms in a query made of its words', () => {
    const english = createAnalyzer()
    const word = fc.constantFrom('Running', 'runs', 'the', 'Café', 'COVID-19', "user's", '2.5', 'Ωμέγα', '日本', 'connected')
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), (words) => {
        const doc = english.terms(words.join(' '))
        const query = words.flatMap((w) => english.terms(w))
        expect(query).toEqual(doc)
      }),
    )
  })
})

describe('createAnalyzer: spans', () => {
  const analyzer = createAnalyzer()
  const sliced = (text: string) => analyzer.spans(text).map((s) => [text.slice(s.start, s.end), s.terms])

  it('gives each token of the original text with its offsets and terms (stop words yield none)', () => {
    expect(analyzer.spans("The user's café")).toEqual([
      { start: 0, end: 3, terms: [] },
      { start: 4, end: 10, terms: ['user'] },
      { start: 11, end: 15, terms: ['cafe'] },
    ])
  })

  it('keeps offsets into the original string for decomposed accents, curly apostrophes and compatibility forms', () => {
    const text = 'Cafe\u0301 user\u2019s \ufb01le \uff21\uff42\uff43 Caf\u00e9'
    expect(sliced(text)).toEqual([
      ['Cafe\u0301', ['cafe']],
      ['user\u2019s', ['user']],
      ['\ufb01le', ['file']],
      ['\uff21\uff42\uff43', ['abc']],
      ['Caf\u00e9', ['cafe']],
    ])
  })

  it('cuts Han one character per span, keeps numbers whole and splits on hyphens', () => {
    expect(sliced('中文 2.5 mg, 1,000 COVID-19 leaks')).toEqual([
      ['中', ['中']],
      ['文', ['文']],
      ['2.5', ['2.5']],
      ['mg', ['mg']],
      ['1,000', ['1,000']],
      ['COVID', ['covid']],
      ['19', ['19']],
      ['leaks', ['leak']],
    ])
  })

  it('follows the analyzer options (minTokenLength, no stemming, custom stop words)', () => {
    const custom = createAnalyzer({ minTokenLength: 3, stemmer: false, stopWords: ['über'] })
    expect(custom.spans('Über an running').map((s) => s.terms)).toEqual([[], [], ['running']])
  })

  it('a compatibility token that normalizes into two keeps one span with both terms', () => {
    const text = 'x 3\u00bd y'
    expect(analyzer.spans(text).flatMap((s) => s.terms)).toEqual(analyzer.terms(text))
    expect(sliced(text)[1]).toEqual(['3\u00bd', ['31', '2']])
  })

  it('property: for ASCII and NFC text the span terms are terms(text), and every span slices to a token', () => {
    const words = ['The', "user's", 'Café', 'naïve', 'ŒUVRE', '中文', 'leaks', 'running', '2.5', '1,000', 'COVID-19', 'don’t', 'Straße', 'ελληνικά', '😀', 'e.g.']
    const gaps = [' ', ', ', '. ', '\n', '-', '—', '(', ') ', '  ']
    const text = fc.array(fc.tuple(fc.constantFrom(...words), fc.constantFrom(...gaps)), { maxLength: 30 })
      .map((parts) => parts.map(([w, g]) => w + g).join(''))
    fc.assert(
      fc.property(text, fc.constantFrom<AnalyzerOptions | false>({}, false, { stemmer: false, foldAccents: false }, { minTokenLength: 3 }), (t, options) => {
        const a = createAnalyzer(options)
        const spans = a.spans(t)
        expect(spans.flatMap((s) => s.terms)).toEqual(a.terms(t))
        let previous = 0
        for (const s of spans) {
          expect(s.start).toBeGreaterThanOrEqual(previous)
          expect(s.end).toBeGreaterThan(s.start)
          expect(/\s/.test(t.slice(s.start, s.end))).toBe(false)
          previous = s.end
        }
      }),
      { numRuns: 300 },
    )
  })

  it('rejects a non-string with INVALID_INPUT, like terms()', () => {
    expect(codeOf(() => analyzer.spans(42 as unknown as string))).toBe('INVALID_INPUT')
  })
})

describe('scanTokens: the ASCII scan finds exactly the pattern matches', () => {
  // Every character class the pattern treats differently, ASCII and not: joiners (' . ,), the
  // underscore, a hyphen, letters and digits of other scripts, a combining mark, Han, an emoji.
  const ALPHABET = ["a", "Z", "q", "0", "7", "'", ".", ",", "_", "-", " ", "\n", "é", "β", "٣", "\u0301", "中", "ぁ", "😀", "’", "²"]
  const scan = (text: string) => {
    const out: string[] = []
    scanTokens(text, (t) => out.push(t))
    return out
  }

  it('on random strings of those characters (fast-check, 5,000 runs)', () => {
    const text = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 40 }).map((chars) => chars.join(''))
    const ascii = fc.array(fc.constantFrom(...ALPHABET.slice(0, 12)), { maxLength: 40 }).map((chars) => chars.join(''))
    fc.assert(fc.property(fc.oneof(ascii, text), (t) => {
      expect(scan(t)).toEqual(tokensByPattern(t))
    }), { numRuns: 5000 })
  })

  it('joins at the edges exactly as the pattern does', () => {
    for (const text of ["it's", "it'", "'s", "1.5", "1.", ".5", "1.a", "a.1", "1,000,0", "1,,0", "a'b'c", "x_1", "_x", "9'é", "9.٣", "ab'é", "2.β", "3.5é", "a", "é", ""]) {
      expect(scan(text), text).toEqual(tokensByPattern(text))
    }
  })
})

describe('spans: ASCII text takes one scan, with the spans of the general path', () => {
  // The general path (a non-ASCII character anywhere) analyzes each token on its own; a trailing
  // " é" sends an ASCII text down it and adds one span at the end.
  const ascii = fc.array(fc.constantFrom('a', 'B', 's', 'z', '0', '7', "'", '.', ',', '_', '-', ' ', ' ', '\n', 'the', 'Runs', "user's", 'AND'), { maxLength: 30 }).map((parts) => parts.join(''))
  for (const [label, options] of [
    ['default', undefined],
    ['case kept, no stemmer, minTokenLength 3, custom stop words', { lowercase: false, stemmer: false, minTokenLength: 3, stopWords: ['and', 'Runs'] }],
    ['analyzer off', false],
  ] as [string, AnalyzerOptions | false | undefined][]) {
    it(`${label}: fast-check, 3,000 runs`, () => {
      const analyzer = createAnalyzer(options)
      fc.assert(
        fc.property(ascii, (text) => {
          const general = analyzer.spans(`${text} \u00e9`)
          expect(general.at(-1)).toMatchObject({ start: text.length + 1, end: text.length + 2 })
          expect(analyzer.spans(text)).toEqual(general.slice(0, -1))
        }),
        { numRuns: 3000 },
      )
    })
  }
})
