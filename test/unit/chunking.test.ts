import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { codeOf } from '../helpers/errors.js'
import {
  approximateTokens,
  chunkText, wholePassage,
  resolveChunking,
  type Chunk,
  type ResolvedChunking,
  type TokenCounter,
} from '../../src/text/chunking.js'
import { findHeadings, splitSections } from '../../src/text/headings.js'
import { seeded } from './helpers.js'

const one: TokenCounter = () => 1
const byLength: TokenCounter = (w) => w.length

function opts(maxTokens: number, overlapTokens: number, headings = true): ResolvedChunking {
  return { maxTokens, overlapTokens, headings }
}

/** Sections as [section, path, text] triples: the shape most heading tests assert. */
function outline(chunks: Chunk[]): [string | null, string[], string][] {
  return chunks.map((c) => [c.section, c.path, c.text])
}

const words = (n: number, prefix = 'w'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/


function tokensOf(text: string, count: TokenCounter): number {
  let sum = 0
  for (const w of text.split(/\s+/)) if (w !== '') sum += count(w)
  return sum
}

/** Every invariant the chunker promises, for any text and options; throws on the first broken one. */
function checkInvariants(text: string, chunking: ResolvedChunking | null, chunks: Chunk[], count: TokenCounter): void {
  let covered = 0 // every non-whitespace character before this offset lies in some chunk
  chunks.forEach((c, i) => {
    expect(c.index).toBe(i)
    expect(c.text).not.toBe('')
    expect(text.slice(c.start, c.end)).toBe(c.text)
    expect(c.text.trim()).toBe(c.text)
    expect(c.section).toBe(c.path.length > 0 ? c.path[c.path.length - 1] : null)
    const previous = chunks[i - 1]
    if (previous !== undefined) {
      expect(c.start).toBeGreaterThanOrEqual(previous.start)
      expect(c.end).toBeGreaterThan(previous.end) // every window brings something new
    }
    if (c.start > covered) expect(text.slice(covered, c.start).trim()).toBe('')
    covered = Math.max(covered, c.end)
    // The reported count is exact for the chunk's own words: no two pieces of a cut word share a chunk.
    expect(c.tokens).toBe(tokensOf(c.text, count))
    if (chunking !== null && c.tokens > chunking.maxTokens) expect([...c.text]).toHaveLength(1)
  })
  expect(text.slice(covered).trim()).toBe('')
}

describe('resolveChunking', () => {
  it('fills in the documented defaults and gives null for false', () => {
    expect(resolveChunking(undefined)).toEqual({ maxTokens: 256, overlapTokens: 32, headings: true })
    expect(resolveChunking(true)).toEqual({ maxTokens: 256, overlapTokens: 32, headings: true })
    expect(resolveChunking({ headings: false })).toEqual({ maxTokens: 256, overlapTokens: 32, headings: false })
    expect(resolveChunking(false)).toBeNull()
  })

  it('shrinks the default overlap for small windows instead of rejecting them', () => {
    expect(resolveChunking({ maxTokens: 16 })).toEqual({ maxTokens: 16, overlapTokens: 4, headings: true })
    expect(resolveChunking({ maxTokens: 1 })).toEqual({ maxTokens: 1, overlapTokens: 0, headings: true })
  })

  it('caps maxTokens by the models’ limit, keeping an explicit overlap where it still fits', () => {
    expect(resolveChunking({ maxTokens: 512, overlapTokens: 40 }, { maxTokens: 128 })).toEqual({ maxTokens: 128, overlapTokens: 40, headings: true })
    expect(resolveChunking({ maxTokens: 100 }, { maxTokens: 500 })).toEqual({ maxTokens: 100, overlapTokens: 25, headings: true })
    expect(resolveChunking(undefined, { maxTokens: 64 })).toEqual({ maxTokens: 64, overlapTokens: 16, headings: true })
  })

  it('scales an explicit overlap that the cap would swallow, keeping its share of the window', () => {
    expect(resolveChunking({ maxTokens: 256, overlapTokens: 128 }, { maxTokens: 64 })).toEqual({ maxTokens: 64, overlapTokens: 32, headings: true })
  })

  it('gives plain data that survives JSON', () => {
    const resolved = resolveChunking({ maxTokens: 200, overlapTokens: 10, headings: false })
    expect(JSON.parse(JSON.stringify(resolved))).toEqual(resolved)
  })

  it.each([
    ['maxTokens 0', { maxTokens: 0 }],
    ['fractional maxTokens', { maxTokens: 12.5 }],
    ['string maxTokens', { maxTokens: '256' }],
    ['NaN maxTokens', { maxTokens: Number.NaN }],
    ['overlap equal to maxTokens', { maxTokens: 64, overlapTokens: 64 }],
    ['negative overlap', { overlapTokens: -1 }],
    ['fractional overlap', { overlapTokens: 2.5 }],
    ['non-boolean headings', { headings: 'yes' }],
    ['misspelt key', { overlap: 8 }],
    ['null', null],
    ['an array', []],
    ['a number', 256],
  ])('rejects %s with INVALID_INPUT', (_, options) => {
    expect(codeOf(() => resolveChunking(options as never))).toBe('INVALID_INPUT')
  })

  it('rejects a malformed models’ limit', () => {
    expect(codeOf(() => resolveChunking({}, { maxTokens: 0 }))).toBe('INVALID_INPUT')
    expect(codeOf(() => resolveChunking({}, { maxTokens: Number.POSITIVE_INFINITY }))).toBe('INVALID_INPUT')
  })
})

describe('chunkText argument checks', () => {
  it('rejects non-string text, unresolved options and a broken token counter', () => {
    expect(codeOf(() => chunkText(42 as never, resolveChunking(undefined)))).toBe('INVALID_INPUT')
    expect(codeOf(() => chunkText('a b', { maxTokens: 8 } as never))).toBe('INVALID_INPUT')
    expect(codeOf(() => chunkText('a b', opts(8, 8)))).toBe('INVALID_INPUT')
    expect(codeOf(() => chunkText('a b', opts(8, 2), () => Number.NaN))).toBe('INVALID_INPUT')
    expect(codeOf(() => chunkText('a b', opts(8, 2), () => -1))).toBe('INVALID_INPUT')
  })
})

describe('approximateTokens', () => {
  it('counts letter runs by four, punctuation one each, CJK one per character', () => {
    expect(approximateTokens('a')).toBe(1)
    expect(approximateTokens('the')).toBe(1)
    expect(approximateTokens('hello')).toBe(2)
    expect(approximateTokens('tokenization')).toBe(3)
    expect(approximateTokens('(e.g.)')).toBe(6)
    expect(approximateTokens('don’t')).toBe(3) // don ’ t
    expect(approximateTokens('東京タワー')).toBe(5)
    expect(approximateTokens('😀')).toBe(1)
    expect(approximateTokens('café')).toBe(1)
    expect(approximateTokens('привет')).toBe(3) // non-Latin scripts: one per two characters
  })
})

describe('whole documents', () => {
  it('gives one chunk equal to the trimmed text when it has no headings and fits', () => {
    const text = '  \n Hello world. A short note.\n\n'
    const chunks = chunkText(text, resolveChunking(undefined))
    expect(chunks).toEqual([{ index: 0, start: 4, end: 30, text: 'Hello world. A short note.', section: null, path: [], tokens: 10 }])
  })

  it('with chunking null, gives the whole trimmed text as one chunk, headings and all', () => {
    const text = '\n# A\n\nalpha\n\n# B\n\nbeta\n'
    expect(outline(chunkText(text, null))).toEqual([[null, [], '# A\n\nalpha\n\n# B\n\nbeta']])
  })

  it('gives no chunks for whitespace-only text', () => {
    expect(chunkText(' \n\t\u00a0 ', resolveChunking(undefined))).toEqual([])
    expect(chunkText('', null)).toEqual([])
  })
})

describe('sections from markdown headings', () => {
  it('titles each chunk with its innermost heading and the path of headings above it', () => {
    const text = [
      'Intro paragraph.',
      '',
      '# Guide',
      '',
      'Guide text.',
      '',
      '## Install',
      '',
      'Install text.',
      '',
      '### From source',
      '',
      'Source text.',
      '',
      '## Usage',
      '',
      'Usage text.',
    ].join('\n')
    expect(outline(chunkText(text, resolveChunking(undefined)))).toEqual([
      [null, [], 'Intro paragraph.'],
      ['Guide', ['Guide'], '# Guide\n\nGuide text.'],
      ['Install', ['Guide', 'Install'], '## Install\n\nInstall text.'],
      ['From source', ['Guide', 'Install', 'From source'], '### From source\n\nSource text.'],
      ['Usage', ['Guide', 'Usage'], '## Usage\n\nUsage text.'],
    ])
  })

  it('puts the heading in its section’s first window only, and never overlaps across sections', () => {
    const text = `# One\n\n${words(40, 'a').join(' ')}\n\n# Two\n\n${words(40, 'b').join(' ')}`
    const chunks = chunkText(text, opts(16, 4), one)
    const first = chunks.filter((c) => c.section === 'One')
    const two = chunks.filter((c) => c.section === 'Two')
    expect(first.length).toBeGreaterThan(2)
    expect(first.map((c) => c.text.startsWith('# One'))).toEqual(first.map((_, i) => i === 0))
    expect(two[0]!.text.startsWith('# Two')).toBe(true)
    expect(two[0]!.start).toBe(text.indexOf('# Two'))
    expect(first[first.length - 1]!.text.endsWith('a39')).toBe(true)
    for (const c of chunks) expect(c.tokens).toBeLessThanOrEqual(16)
  })

  it('folds a heading with no text of its own into its first subsection, but not into a sibling', () => {
    expect(outline(chunkText('# Guide\n\n## Install\n\nSteps.', resolveChunking(undefined)))).toEqual([
      ['Install', ['Guide', 'Install'], '# Guide\n\n## Install\n\nSteps.'],
    ])
    expect(outline(chunkText('## A\n\n## B\n\ntext', resolveChunking(undefined)))).toEqual([
      ['A', ['A'], '## A'],
      ['B', ['B'], '## B\n\ntext'],
    ])
  })

  it('strips inline markup from heading text and drops closing hashes', () => {
    const text = '## **Bold** and `snake_case *x*` [a link](http://x.y) ![alt](i.png) &amp; more ##\nbody'
    expect(chunkText(text, resolveChunking(undefined))[0]!.section).toBe('Bold and snake_case *x* a link alt & more')
  })

  it('needs a space after the hashes and at most three spaces of indent', () => {
    const text = '#hashtag\n\n    # indented code\n\n####### seven\n\nbody'
    expect(findHeadings(text)).toEqual([])
  })

  it('reads setext underlines, including a multi-line paragraph, but not a rule after a blank line', () => {
    const text = 'Title\n=====\n\nbody one.\n\nSub\npart\n---\n\nbody two.\n\n---\n\nafter rule.'
    expect(outline(chunkText(text, resolveChunking(undefined)))).toEqual([
      ['Title', ['Title'], 'Title\n=====\n\nbody one.'],
      ['Sub part', ['Title', 'Sub part'], 'Sub\npart\n---\n\nbody two.\n\n---\n\nafter rule.'],
    ])
  })

  it('does not take a list item above --- as a setext heading', () => {
    expect(findHeadings('- item\n---\n\n> quote\n---\ntext')).toEqual([])
  })

  it('ignores headings inside fenced code, closed or not', () => {
    const text = '# Real\n\n```md\n# Not a heading\nSetext?\n---\n<h2>nope</h2>\n```\n\n~~~~\n## still code\n~~~\n## code too\n~~~~\n\n## After\n\n````\n# unclosed'
    expect(findHeadings(text).map((h) => h.text)).toEqual(['Real', 'After'])
    const chunks = chunkText(text, resolveChunking(undefined))
    expect(chunks.map((c) => c.section)).toEqual(['Real', 'After'])
    expect(chunks[0]!.text).toContain('# Not a heading')
  })

  it('skips YAML front matter, whose closing --- is not a setext underline', () => {
    const text = '---\ntitle: Doc\nauthor: me\n---\n# Body\n\ntext'
    expect(findHeadings(text).map((h) => h.text)).toEqual(['Body'])
    expect(outline(chunkText(text, resolveChunking(undefined)))).toEqual([
      [null, [], '---\ntitle: Doc\nauthor: me\n---'],
      ['Body', ['Body'], '# Body\n\ntext'],
    ])
  })

  it('reads CRLF text, keeping \\r out of titles and chunk edges', () => {
    const text = 'Title\r\n=====\r\n\r\nbody line one.\r\n# Next #\r\nmore\r\n'
    expect(outline(chunkText(text, resolveChunking(undefined)))).toEqual([
      ['Title', ['Title'], 'Title\r\n=====\r\n\r\nbody line one.'],
      ['Next', ['Next'], '# Next #\r\nmore'],
    ])
  })

  it('splits nothing with headings: false', () => {
    const chunks = chunkText('# A\n\nalpha\n\n# B\n\nbeta', opts(256, 32, false))
    expect(outline(chunks)).toEqual([[null, [], '# A\n\nalpha\n\n# B\n\nbeta']])
  })
})

describe('sections from HTML headings', () => {
  it('strips inner tags and attributes from the title', () => {
    const text = '<p>intro</p>\n<h2 id="x">Install <code>npm</code></h2>\n<p>Run it.</p>'
    expect(outline(chunkText(text, resolveChunking(undefined)))).toEqual([
      [null, [], '<p>intro</p>'],
      ['Install npm', ['Install npm'], '<h2 id="x">Install <code>npm</code></h2>\n<p>Run it.</p>'],
    ])
  })

  it('nests HTML headings by level, any case, across lines, decoding entities', () => {
    const text = '<H1>Top</H1>\n<p>a</p>\n<h3 class="c">\n  Deep &amp; <em>dark</em><br>side\n</h3>\n<p>b</p>\n<h2>Mid</h2><p>c</p>'
    expect(outline(chunkText(text, resolveChunking(undefined))).map(([s, p]) => [s, p])).toEqual([
      ['Top', ['Top']],
      ['Deep & dark side', ['Top', 'Deep & dark side']],
      ['Mid', ['Top', 'Mid']],
    ])
  })

  it('mixes with markdown headings on one scale of levels', () => {
    const text = '# Book\n\nx\n\n<h2>Chapter</h2>\n\ny\n\n### Part\n\nz'
    expect(chunkText(text, resolveChunking(undefined)).map((c) => c.path)).toEqual([['Book'], ['Book', 'Chapter'], ['Book', 'Chapter', 'Part']])
  })

  it('ignores a tag quoted in inline code and an unclosed opening tag', () => {
    expect(findHeadings('Use `<h1>Title</h1>` for the title.\n\nAn <h2> left open.\n\nEnd.')).toEqual([])
  })
})

describe('splitSections', () => {
  it('starts the first section at 0 and each later one at its heading', () => {
    const text = 'intro\n# A\n## B\nbody'
    expect(splitSections(text, findHeadings(text))).toEqual([
      { start: 0, end: 6, title: null, path: [] },
      { start: 6, end: 19, title: 'B', path: ['A', 'B'] },
    ])
  })
})

describe('token windows', () => {
  it('repeats exactly overlapTokens words when every word is one token', () => {
    const text = words(100).join(' ')
    const chunks = chunkText(text, opts(10, 3), one)
    expect(chunks[0]!.text).toBe(words(10).join(' '))
    expect(chunks[1]!.text).toBe(words(17).slice(7).join(' '))
    for (const [i, c] of chunks.entries()) {
      const first = Number(c.text.split(' ')[0]!.slice(1))
      expect(first).toBe(i * 7)
    }
    expect(chunks[chunks.length - 1]!.text.endsWith('w99')).toBe(true)
    expect(chunks.length).toBe(14) // windows start at 0, 7, ..., 91
  })

  it('keeps overlap within a word of overlapTokens on ordinary text', () => {
    const random = seeded(7)
    const text = Array.from({ length: 3000 }, () => 'abcdefghijkl'.slice(0, 1 + Math.floor(random() * 12))).join(' ')
    const chunks = chunkText(text, opts(64, 16))
    expect(chunks.length).toBeGreaterThan(20)
    for (let i = 1; i < chunks.length; i++) {
      const prev = chunks[i - 1]!
      const next = chunks[i]!
      expect(next.start).toBeLessThan(prev.end)
      const shared = tokensOf(text.slice(next.start, prev.end), approximateTokens)
      expect(shared).toBeLessThanOrEqual(16)
      expect(shared).toBeGreaterThanOrEqual(14) // a word here is at most 3 tokens
    }
  })

  it('makes windows that do not overlap with overlapTokens 0', () => {
    const chunks = chunkText(words(30).join(' '), opts(10, 0), one)
    expect(chunks.map((c) => c.text.split(' ').length)).toEqual([10, 10, 10])
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.start).toBeGreaterThan(chunks[i - 1]!.end)
  })

  it('ends a window at a sentence end in its last quarter', () => {
    const sentence = `${words(16, 's').join(' ')}.`
    const text = `${sentence} ${words(20, 't').join(' ')}`
    const chunks = chunkText(text, opts(20, 0), one)
    expect(chunks[0]!.text).toBe(sentence)
    expect(chunks[1]!.text.startsWith('t0')).toBe(true)
  })

  it('ignores a sentence end before the last quarter', () => {
    const text = `${words(5, 's').join(' ')}. ${words(30, 't').join(' ')}`
    const chunks = chunkText(text, opts(20, 0), one)
    expect(chunks[0]!.text.split(' ')).toHaveLength(20)
  })

  it('prefers a paragraph break to a later sentence end, and a sentence end to a later line break', () => {
    const a = chunkText(`${words(16, 'p').join(' ')}\n\n${words(2, 'q').join(' ')}. r0\nr1 ${words(20, 'z').join(' ')}`, opts(20, 0), one)
    expect(a[0]!.text).toBe(words(16, 'p').join(' '))
    const b = chunkText(`${words(16, 'p').join(' ')}. q0 q1\nr0 ${words(20, 'z').join(' ')}`, opts(20, 0), one)
    expect(b[0]!.text).toBe(`${words(16, 'p').join(' ')}.`)
  })

  it('never ends a window at a boundary inside the overlap it repeated', () => {
    // Found by the property test: the line break after "word" lies in the next window's overlap,
    // and ending there would emit a chunk contained in the previous one.
    const chunks = chunkText('## word\r\nword\tword', opts(2, 1, false), one)
    expect(chunks.map((c) => c.text)).toEqual(['## word', 'word\r\nword', 'word\tword'])
  })

  it('counts a sentence end inside closing quotes or brackets', () => {
    const text = `${words(16, 's').join(' ')} (done.)" ${words(20, 't').join(' ')}`
    expect(chunkText(text, opts(20, 0), one)[0]!.text.endsWith('(done.)"')).toBe(true)
  })
})

describe('over-long words', () => {
  it('cuts a 10k-character blob into pieces that fit and cover it exactly once', () => {
    const random = seeded(42)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
    const blob = Array.from({ length: 10_000 }, () => alphabet[Math.floor(random() * 64)]).join('')
    const text = `before ${blob} after`
    const chunks = chunkText(text, resolveChunking(undefined))
    checkInvariants(text, resolveChunking(undefined), chunks, approximateTokens)
    const pieces = chunks.filter((c) => c.start >= 7 && c.end <= 7 + blob.length)
    expect(pieces.length).toBeGreaterThan(5)
    expect(pieces.map((c) => c.text).join('')).toBe(blob.slice(pieces[0]!.start - 7, pieces[pieces.length - 1]!.end - 7))
    for (const c of chunks) expect(c.tokens).toBeLessThanOrEqual(256)
  })

  it('cuts to exactly maxTokens characters under a one-token-per-character counter', () => {
    const chunks = chunkText('x'.repeat(1000), opts(100, 10), byLength)
    expect(chunks.map((c) => c.text.length)).toEqual(Array(10).fill(100))
    expect(chunks.map((c) => c.start)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900])
  })

  it('never joins two pieces of a cut word in one chunk, so a real tokenizer’s count stays exact', () => {
    // Like WordPiece, this counter is not additive: a word costs one more token than its parts'
    // letters, so two pieces read as one word would count differently from their sum.
    const uneven: TokenCounter = (w) => 1 + w.replace(/X/g, '').length + 10 * (w.length - w.replace(/X/g, '').length)
    const word = 'a'.repeat(90) + 'X'.repeat(20)
    const chunks = chunkText(word, opts(100, 10), uneven)
    expect(chunks.map((c) => c.text).join('')).toBe(word)
    for (const c of chunks) {
      expect(c.tokens).toBe(uneven(c.text))
      expect(c.tokens).toBeLessThanOrEqual(100)
    }
    expect(chunks[0]!.tokens).toBeLessThan(60) // the first guess is short: a lone piece, not a joined run
  })

  it('never cuts inside a surrogate pair', () => {
    const text = '😀'.repeat(300) // 600 UTF-16 code units, one word
    const chunks = chunkText(text, opts(5, 1), byLength) // 5 units would split a pair
    for (const c of chunks) {
      expect(LONE_SURROGATE.test(c.text)).toBe(false)
      expect(c.text.length).toBe(4)
    }
    expect(chunks.map((c) => c.text).join('')).toBe(text)
  })

  it('gives a code point over the budget a chunk of its own rather than looping', () => {
    const chunks = chunkText('abc def', opts(2, 0), (w) => 3 * w.length)
    expect(chunks.map((c) => c.text)).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
  })
})

describe('Unicode', () => {
  it('uses JS string offsets and titles non-Latin headings', () => {
    const text = '前書き 😀\n\n# 日本語の見出し 🎌\n\n本文です。 テキスト 😀 end.'
    const chunks = chunkText(text, resolveChunking(undefined))
    expect(outline(chunks)).toEqual([
      [null, [], '前書き 😀'],
      ['日本語の見出し 🎌', ['日本語の見出し 🎌'], '# 日本語の見出し 🎌\n\n本文です。 テキスト 😀 end.'],
    ])
    expect(chunks[1]!.start).toBe(text.indexOf('#'))
    expect(chunks[0]!.end).toBe(6) // '前書き ' is 4 units, the emoji 2
  })

  it('treats no-break and ideographic spaces as whitespace, like String#trim', () => {
    const text = '\u3000alpha\u00a0beta\u2003gamma\ufeff'
    const chunks = chunkText(text, opts(2, 0), one)
    expect(chunks.map((c) => c.text)).toEqual(['alpha\u00a0beta', 'gamma'])
  })
})

describe('invariants', () => {
  const fragments = [
    'word', 'Hello', 'a', 'longerword', '.', '!', '?', ',', ' ', ' ', ' ', '\n', '\n', '\r\n', '\n\n', '\t', '\u00a0',
    '# ', '## ', '###### ', '===', '---', '```', '~~~', '<h2>', '</h2>', '<h1 class="a">', '</h1>', '`', '- ', '> ',
    '😀', '東京', 'é', 'x'.repeat(60), 'abc.def', '&amp;', '*em*',
  ]
  const textArb = fc.oneof(
    fc.array(fc.constantFrom(...fragments), { maxLength: 120 }).map((parts) => parts.join('')),
    fc.string({ unit: 'grapheme', maxLength: 200 }),
  )
  const chunkingArb = fc
    .integer({ min: 1, max: 40 })
    .chain((max) => fc.record({ maxTokens: fc.constant(max), overlapTokens: fc.integer({ min: 0, max: max - 1 }), headings: fc.boolean() }))
  const counterArb = fc.constantFrom<[string, TokenCounter]>(['approximate', approximateTokens], ['one', one], ['length', byLength])

  it('hold for any text, options and counter', () => {
    fc.assert(
      fc.property(textArb, chunkingArb, counterArb, (text, chunking, [, count]) => {
        checkInvariants(text, chunking, chunkText(text, chunking, count), count)
      }),
      { numRuns: 500 },
    )
  })

  it('hold without chunking: at most one chunk, the trimmed text', () => {
    fc.assert(
      fc.property(textArb, (text) => {
        const chunks = chunkText(text, null)
        checkInvariants(text, null, chunks, approximateTokens)
        expect(chunks.map((c) => c.text)).toEqual(text.trim() === '' ? [] : [text.trim()])
      }),
    )
  })

  it('wholePassage is chunkText without chunking, less the token count', () => {
    fc.assert(
      fc.property(textArb, (text) => {
        const chunks = chunkText(text, null)
        const whole = wholePassage(text)
        expect(whole).toEqual(chunks.length === 0 ? null : (({ tokens: _tokens, ...passage }) => passage)(chunks[0]!))
      }),
    )
    expect(wholePassage(' \u00a0\u2003one passage\n\t')).toEqual({ index: 0, start: 3, end: 14, text: 'one passage', section: null, path: [] })
  })

  it('give one chunk for heading-free text that fits', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('alpha', 'beta.', 'gamma!', 'δ', ' ', '\n', '\n\n'), { maxLength: 60 }), (parts) => {
        const text = parts.join('')
        const chunks = chunkText(text, opts(60, 10), one)
        expect(chunks.map((c) => c.text)).toEqual(text.trim() === '' ? [] : [text.trim()])
      }),
    )
  })

  it('hold on a 10 MB document with headings, code and a blob', () => {
    const random = seeded(1)
    const vocabulary = ['the', 'index', 'stores', 'vectors', 'tokenization', 'of', 'passages', 'rerank', 'memory', 'leaks.', 'why?', '東京', '😀', '(see', 'below)']
    const parts: string[] = []
    let length = 0
    let section = 0
    while (length < 10 * 1024 * 1024) {
      let part: string
      const roll = random()
      if (roll < 0.02) part = `\n\n${'#'.repeat(1 + Math.floor(random() * 3))} Section ${section++}\n\n`
      else if (roll < 0.025) part = '\n\n```\n# not a heading\n```\n\n'
      else if (roll < 0.026) part = ` ${'Q'.repeat(3000)} `
      else if (roll < 0.1) part = '\n\n'
      else part = `${vocabulary[Math.floor(random() * vocabulary.length)]} `
      parts.push(part)
      length += part.length
    }
    const text = parts.join('')
    const chunking = resolveChunking(undefined)!
    const chunks = chunkText(text, chunking)
    expect(chunks.length).toBeGreaterThan(10_000)
    // The full recount is quadratic-free but slow-ish; check the cheap invariants everywhere ...
    let covered = 0
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!
      if (c.index !== i || c.tokens > chunking.maxTokens || c.end <= (chunks[i - 1]?.end ?? -1)) {
        throw new Error(`chunk ${i} breaks an invariant: ${JSON.stringify({ ...c, text: c.text.slice(0, 40) })}`)
      }
      if (text.slice(c.start, c.end) !== c.text || c.text.trim() !== c.text) throw new Error(`chunk ${i} is not a trimmed slice`)
      if (c.start > covered && text.slice(covered, c.start).trim() !== '') throw new Error(`text before chunk ${i} is not covered`)
      covered = Math.max(covered, c.end)
    }
    expect(text.slice(covered).trim()).toBe('')
    // ... and the exact ones on a sample.
    for (let i = 0; i < chunks.length; i += 997) expect(chunks[i]!.tokens).toBe(tokensOf(chunks[i]!.text, approximateTokens))
    const titled = chunks.filter((c) => c.section !== null)
    expect(titled.length).toBeGreaterThan(chunks.length / 2)
    expect(chunks.some((c) => c.section === 'not a heading')).toBe(false)
  })
})
