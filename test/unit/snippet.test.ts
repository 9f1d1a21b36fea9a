import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createAnalyzer } from '../../src/text/analyzer.js'
import { makeSnippet, resolveSnippetOptions } from '../../src/text/snippet.js'
import type { Snippet } from '../../src/types.js'
import { codeOf, seeded } from './helpers.js'

const analyzer = createAnalyzer()
const marked = (s: Snippet) => s.highlights.map(([start, end]) => s.text.slice(start, end))
/** `count` filler sentences that share no term with the queries below. */
const filler = (count: number, word = 'lorem') =>
  Array.from({ length: count }, (_, i) => `${word}${i % 5} ipsum dolor sit amet.`).join(' ')
/** The snippet's windows, without the ellipses around and between them. */
const windowsOf = (s: Snippet) => s.text.replace(/^…/, '').replace(/…$/, '').split(' … ')

describe('makeSnippet: choosing the window', () => {
  const middle = `${filler(15)} Old pipes are leaking under the sink. ${filler(15, 'foo')}`

  it('finds query terms in the middle of a long passage, with … on both sides and exact highlights', () => {
    const snippet = makeSnippet(middle, 'leaking pipes', analyzer, { length: 80 })
    expect(snippet.text.startsWith('…')).toBe(true)
    expect(snippet.text.endsWith('…')).toBe(true)
    expect(marked(snippet)).toEqual(['pipes', 'leaking'])
    expect(snippet.text.length).toBeLessThanOrEqual(80 + 2 + 16) // the window, its ellipses, one snap
    expect(snippet.text.length).toBeGreaterThan(40)
  })

  it('starts at the sentence that holds the match when it opens shortly before', () => {
    const snippet = makeSnippet(middle, 'leaking', analyzer, { length: 80 })
    expect(snippet.text.startsWith('…Old pipes are leaking')).toBe(true)
  })

  it('otherwise keeps some context before the first match', () => {
    const run = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ')
    const text = `${run} target ${run}`
    const snippet = makeSnippet(text, 'target', analyzer, { length: 60 })
    const [start] = snippet.highlights[0]!
    expect(start).toBeGreaterThan(10)
    expect(snippet.text.slice(0, start)).toMatch(/^…w\d+ w\d+ /)
  })

  it('matches through the stemmer: "leaking" finds leaks and leaked', () => {
    const snippet = makeSnippet('The roof leaks. It leaked last year too.', 'leaking', analyzer, { length: 1000 })
    expect(marked(snippet)).toEqual(['leaks', 'leaked'])
  })

  it('gives two distant clusters of different terms two windows, in text order, joined by " … "', () => {
    const text = `${filler(10)} Pumps fail when seals dry out. ${filler(20, 'mid')} Valves stick after storage. ${filler(10, 'end')}`
    const snippet = makeSnippet(text, 'valves pumps', analyzer, { length: 60 })
    const parts = windowsOf(snippet)
    expect(parts).toHaveLength(2)
    expect(parts[0]).toContain('Pumps')
    expect(parts[1]).toContain('Valves')
    expect(marked(snippet)).toEqual(['Pumps', 'Valves'])
    expect(makeSnippet(text, 'valves pumps', analyzer, { length: 60, windows: 1 }).text).not.toContain(' … ')
  })

  it('prefers the window with more distinct terms, even when it comes later in the text', () => {
    const text = `${filler(5)} A pump here. ${filler(20, 'mid')} A pump and a valve there. ${filler(5, 'end')}`
    const snippet = makeSnippet(text, 'pump valve', analyzer, { length: 40, windows: 1 })
    expect(marked(snippet)).toEqual(['pump', 'valve'])
  })

  it('adds no second window for a term the first already shows', () => {
    const text = `${filler(5)} Pumps fail. ${filler(20, 'mid')} Pumps again. ${filler(5, 'end')}`
    const snippet = makeSnippet(text, 'pumps', analyzer, { length: 60, windows: 3 })
    expect(windowsOf(snippet)).toHaveLength(1)
    expect(marked(snippet)).toEqual(['Pumps'])
  })

  it('without a match (or a query), shows the passage beginning without highlights', () => {
    const text = `${filler(20)} ${filler(5, 'tail')}`
    for (const query of ['vector only hit', '', 'the of']) {
      const snippet = makeSnippet(text, query, analyzer, { length: 50 })
      expect(snippet.highlights).toEqual([])
      expect(snippet.text.startsWith('lorem0 ipsum')).toBe(true)
      expect(snippet.text.endsWith('…')).toBe(true)
      expect(snippet.text.length).toBeGreaterThan(50 - 16) // about the length: the end snaps to the nearest space
      expect(snippet.text.length).toBeLessThanOrEqual(50 + 16)
    }
  })

  it('returns the whole passage, every match highlighted, when length covers it', () => {
    const text = 'Leaks here, leaks there. Leaking everywhere.'
    const snippet = makeSnippet(text, 'leak', analyzer, { length: text.length })
    expect(snippet.text).toBe(text)
    expect(marked(snippet)).toEqual(['Leaks', 'leaks', 'Leaking'])
  })
})

describe('makeSnippet: text and offsets', () => {
  it('collapses whitespace runs (newlines, tabs) and keeps highlight offsets exact', () => {
    const text = '  First\n\n  line\t\tabout   leaks.\r\nSecond   line.  '
    const whole = makeSnippet(text, 'leak line', analyzer, { length: 100 })
    expect(whole.text).toBe('First line about leaks. Second line.')
    expect(whole.highlights).toEqual([[6, 10], [17, 22], [31, 35]])

    const long = `${'Intro\n\n'.repeat(30)}The   pipe\n\n\tleaks   again.${'\n  outro'.repeat(30)}`
    const windowed = makeSnippet(long, 'leaks', analyzer, { length: 40 })
    expect(windowed.text).not.toMatch(/\s\s|[\n\t]/)
    expect(marked(windowed)).toEqual(['leaks'])
  })

  it('writes NUL as U+FFFD (which HTML can render) at the same offset; CR goes with the whitespace', () => {
    const text = 'pipes\u0000leak\r\rand a\u0000b\r\nleaks'
    const snippet = makeSnippet(text, 'leak', analyzer, { length: 100 })
    expect(snippet.text).toBe('pipes\uFFFDleak and a\uFFFDb leaks')
    expect(snippet.text).not.toMatch(/[\0\r]/)
    expect(marked(snippet)).toEqual(['leak', 'leaks'])
    const windowed = makeSnippet(`${filler(20)} \u0000leak\u0000 ${filler(20)}`, 'leak', analyzer, { length: 40 })
    expect(windowed.text).toContain('\uFFFDleak\uFFFD')
    expect(marked(windowed)).toEqual(['leak'])
  })

  it('never cuts a word: each word of the snippet is a word of the passage', () => {
    const random = seeded(7)
    const vocabulary = ['pipe', 'leak', 'valve', 'a', 'extraordinarily', 'x', 'pressure-test', 'O’Brien', '2.5', 'über', '(note)']
    for (let run = 0; run < 200; run++) {
      const words = Array.from({ length: 20 + Math.floor(random() * 200) }, () => vocabulary[Math.floor(random() * vocabulary.length)]!)
      const text = words.join(random() < 0.5 ? ' ' : '\n ')
      const query = `${vocabulary[Math.floor(random() * 3)]} ${vocabulary[Math.floor(random() * vocabulary.length)]}`
      const snippet = makeSnippet(text, query, analyzer, { length: 20 + Math.floor(random() * 100), windows: 1 + Math.floor(random() * 3) })
      const known = new Set(words)
      for (const part of windowsOf(snippet)) {
        for (const word of part.split(' ')) expect(known.has(word), `"${word}" in ${JSON.stringify(snippet.text)}`).toBe(true)
      }
    }
  })

  it('keeps surrogate pairs and emoji sequences whole, also in text without spaces', () => {
    const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
    const emoji = ['😀', '👩‍💻', '👍🏽', '𝒳', '🇫🇷']
    const random = seeded(3)
    for (let run = 0; run < 100; run++) {
      const parts = Array.from({ length: 150 }, () => (random() < 0.5 ? emoji[Math.floor(random() * emoji.length)]! : random() < 0.5 ? '水' : '管'))
      const text = parts.join(random() < 0.5 ? '' : ' ')
      const snippet = makeSnippet(text, random() < 0.5 ? '水' : 'none', analyzer, { length: 20 + Math.floor(random() * 40) })
      expect(snippet.text).not.toMatch(loneSurrogate)
      expect(snippet.text).not.toMatch(/^…?\u200d|\u200d…?$|^…?\ud83c[\udffb-\udfff]/) // no ZWJ or skin tone cut off
      for (const part of windowsOf(snippet)) expect(text.replace(/\s+/g, ' ')).toContain(part)
    }
  })

  it('property: highlights lie in the text, ascend, do not overlap, and each holds a query term', () => {
    const vocabulary = ['pump', 'pumps', 'pumping', 'valve', 'the', 'seal', 'Seals', 'dry', 'out', 'leak', 'leaked', '2.5', 'café', 'cafe\u0301']
    const text = fc.array(fc.tuple(fc.constantFrom(...vocabulary), fc.constantFrom(' ', '. ', ', ', '\n\n', '-')), { maxLength: 120 })
      .map((parts) => parts.map(([word, gap]) => word + gap).join(''))
    const query = fc.array(fc.constantFrom(...vocabulary), { maxLength: 4 }).map((words) => words.join(' '))
    const options = fc.record({ length: fc.integer({ min: 20, max: 400 }), windows: fc.integer({ min: 1, max: 4 }) })
    fc.assert(
      fc.property(text, query, options, (t, q, o) => {
        const snippet = makeSnippet(t, q, analyzer, o)
        const wanted = new Set(analyzer.terms(q))
        let previous = 0
        for (const [start, end] of snippet.highlights) {
          expect(Number.isInteger(start) && Number.isInteger(end)).toBe(true)
          expect(start).toBeGreaterThanOrEqual(previous)
          expect(end).toBeGreaterThan(start)
          expect(end).toBeLessThanOrEqual(snippet.text.length)
          expect(analyzer.terms(snippet.text.slice(start, end)).some((term) => wanted.has(term))).toBe(true)
          previous = end
        }
        if (wanted.size === 0) expect(snippet.highlights).toEqual([])
        const windowCount = windowsOf(snippet).length
        expect(windowCount).toBeLessThanOrEqual(o.windows)
      }),
      { numRuns: 500 },
    )
  })
})

describe('snippet options', () => {
  it('fills defaults, passes false through as null, and keeps given values', () => {
    expect(resolveSnippetOptions(undefined)).toEqual({ length: 200, windows: 2 })
    expect(resolveSnippetOptions(false)).toBeNull()
    expect(resolveSnippetOptions({ length: 20, windows: 10 })).toEqual({ length: 20, windows: 10 })
    expect(resolveSnippetOptions({ windows: 1 })).toEqual({ length: 200, windows: 1 })
  })

  it('rejects bad options and inputs with INVALID_INPUT', async () => {
    const bad: unknown[] = [
      null, true, 'long', [], { length: 19 }, { length: 100_001 }, { length: 50.5 }, { length: Number.NaN },
      { length: '200' }, { windows: 0 }, { windows: 11 }, { windows: 1.5 }, { lenght: 100 },
    ]
    for (const options of bad) {
      expect(await codeOf(Promise.resolve().then(() => resolveSnippetOptions(options))), JSON.stringify(options)).toBe('INVALID_INPUT')
      expect(await codeOf(Promise.resolve().then(() => makeSnippet('text', 'q', analyzer, options as never)))).toBe('INVALID_INPUT')
    }
    expect(await codeOf(Promise.resolve().then(() => makeSnippet(42 as never, 'q', analyzer)))).toBe('INVALID_INPUT')
    expect(await codeOf(Promise.resolve().then(() => makeSnippet('text', null as never, analyzer)))).toBe('INVALID_INPUT')
  })
})
