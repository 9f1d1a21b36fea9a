import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { assembleContext, CHARS_PER_TOKEN, DEFAULT_INSTRUCTIONS, estimateTokens, mergeOverlapping, type ContextPassage, type OffsetPassage } from '../../demo/rag/context.ts'

const passage = (n: number, words = 20): ContextPassage => ({
  text: Array.from({ length: words }, (_, i) => `word${n}x${i}`).join(' '),
  file: `file${n}.md`,
  position: `§ Part ${n}, chars 0–${words * 8}`,
})

describe('estimateTokens', () => {
  it('is characters / 4, rounded up', () => {
    expect(CHARS_PER_TOKEN).toBe(4)
    expect(estimateTokens('')).toBe(0)
    expect(estimateTokens('abcd')).toBe(1)
    expect(estimateTokens('abcde')).toBe(2)
    expect(estimateTokens('x'.repeat(4000))).toBe(1000)
  })
})

describe('assembleContext', () => {
  it('cites each passage as [n] with its file and position, between the instructions and the question', () => {
    const out = assembleContext(' What is a heliostat? ', [
      { text: ' A heliostat follows the sun. ', file: 'observatory.pdf', position: 'page 2, chars 40–70' },
      { text: 'Levain is a starter.', file: 'sourdough.md', position: '§ Feeding the levain, chars 0–20' },
    ], { budgetTokens: 10_000 })
    expect(out.prompt).toBe(
      `${DEFAULT_INSTRUCTIONS}\n\nSources:\n\n` +
        '[1] observatory.pdf, page 2, chars 40–70\nA heliostat follows the sun.\n\n' +
        '[2] sourdough.md, § Feeding the levain, chars 0–20\nLevain is a starter.\n\n' +
        'Question: What is a heliostat?\nAnswer:',
    )
    expect(out.context).toBe('[1] observatory.pdf, page 2, chars 40–70\nA heliostat follows the sun.\n\n[2] sourdough.md, § Feeding the levain, chars 0–20\nLevain is a starter.')
    expect(out).toMatchObject({ included: 2, omitted: 0, cut: false, overBudget: false, budgetTokens: 10_000 })
    expect(out.tokens).toBe(estimateTokens(out.prompt))
  })

  it('takes passages best first and stops at the first that does not fit, so [n] matches the rank', () => {
    const passages = [passage(1), passage(2, 200), passage(3, 5)]
    const two = assembleContext('q', passages.slice(0, 1), { budgetTokens: 100_000 }).tokens
    // Room for the first passage and the small third, but not the long second: the third is not taken either.
    const out = assembleContext('q', passages, { budgetTokens: two + 60 })
    expect(out.included).toBe(1)
    expect(out.omitted).toBe(2)
    expect(out.prompt).toContain('[1] file1.md')
    expect(out.prompt).not.toContain('file3.md')
    expect(out.tokens).toBeLessThanOrEqual(two + 60)
  })

  it('stays within the budget for any passages and budget (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ text: fc.string({ maxLength: 400 }), file: fc.string({ maxLength: 20 }), position: fc.string({ maxLength: 30 }) }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 2000 }),
        (passages, budgetTokens) => {
          const out = assembleContext('what is it?', passages, { budgetTokens })
          expect(out.included + out.omitted).toBe(passages.length)
          if (!out.overBudget) expect(out.tokens).toBeLessThanOrEqual(budgetTokens)
          for (let i = 0; i < out.included; i++) expect(out.context).toContain(`[${i + 1}] `)
          expect(out.context).not.toContain(`[${out.included + 1}] `)
        },
      ),
    )
  })

  it('cuts the best passage at a word boundary when not even it fits, and marks it', () => {
    const best = passage(1, 400)
    const bare = assembleContext('q', [], { budgetTokens: 10_000 }).tokens
    const out = assembleContext('q', [best, passage(2)], { budgetTokens: bare + 100 })
    expect(out).toMatchObject({ included: 1, omitted: 1, cut: true })
    expect(out.tokens).toBeLessThanOrEqual(bare + 100)
    expect(out.context.startsWith('[1] file1.md, § Part 1, chars 0–3200 (excerpt)\nword1x0 word1x1')).toBe(true)
    expect(out.context.endsWith('…')).toBe(true)
    const body = out.context.split('\n')[1]!.slice(0, -1)
    expect(best.text.startsWith(body + ' ')).toBe(true) // whole words only
    expect(body.length).toBeGreaterThan(200)
  })

  it('includes nothing when less than minPartialTokens would be left, and flags an over-budget question', () => {
    const bare = assembleContext('q', [], { budgetTokens: 10_000 }).tokens
    const tight = assembleContext('q', [passage(1, 400)], { budgetTokens: bare + 20 })
    expect(tight).toMatchObject({ included: 0, omitted: 1, cut: false, overBudget: false })
    expect(tight.prompt).toContain('Sources:\n\n(none)\n\nQuestion: q')
    const over = assembleContext('q'.repeat(1000), [passage(1)], { budgetTokens: 50 })
    expect(over).toMatchObject({ included: 0, omitted: 1, overBudget: true })
  })

  it('uses the token counter it is given, and custom instructions', () => {
    const words = (text: string) => text.split(/\s+/).filter(Boolean).length
    const passages = [passage(1, 10), passage(2, 10), passage(3, 10)]
    // 7 words around the sources ("Use the sources." "Sources:" "Question: why?" "Answer:"), 17 per source (7 in its heading).
    const fits = (budgetTokens: number) => assembleContext('why?', passages, { budgetTokens, countTokens: words, instructions: 'Use the sources.' })
    const out = fits(41)
    expect(out.prompt.startsWith('Use the sources.\n\nSources:')).toBe(true)
    expect(out.tokens).toBe(41)
    expect(out.tokens).toBe(words(out.prompt))
    expect(out.included).toBe(2)
    expect(fits(40).included).toBe(1)
    expect(fits(58).included).toBe(3)
  })
})

describe('mergeOverlapping', () => {
  const doc = 'Alpha beta gamma. Delta epsilon zeta. Eta theta iota. Kappa lambda mu.'
  const slice = (file: string, start: number, end: number, text = doc): OffsetPassage => ({ file, start, end, text: text.slice(start, end) })

  it('joins overlapping and touching passages of one file into the text between their outermost offsets', () => {
    const merged = mergeOverlapping([slice('a.md', 18, 52), slice('b.md', 0, 5), slice('a.md', 0, 37), slice('a.md', 52, 70)])
    expect(merged).toEqual([
      { file: 'a.md', start: 0, end: 70, text: doc, members: [0, 2, 3] },
      { file: 'b.md', start: 0, end: 5, text: doc.slice(0, 5), members: [1] },
    ])
  })

  it('keeps passages apart when a gap separates them, and other files apart always', () => {
    const merged = mergeOverlapping([slice('a.md', 38, 53), slice('a.md', 0, 17), slice('b.md', 10, 30), slice('b.md', 30, 40)])
    expect(merged.map((m) => [m.file, m.start, m.end, m.members])).toEqual([
      ['a.md', 38, 53, [0]],
      ['a.md', 0, 17, [1]],
      ['b.md', 10, 40, [2, 3]],
    ])
  })

  it('orders sources by their best passage and absorbs a passage inside another', () => {
    const merged = mergeOverlapping([slice('a.md', 40, 60), slice('b.md', 0, 10), slice('a.md', 0, 70), slice('a.md', 5, 20)])
    expect(merged.map((m) => [m.file, m.start, m.end, m.members])).toEqual([
      ['a.md', 0, 70, [0, 2, 3]],
      ['b.md', 0, 10, [1]],
    ])
    expect(merged[0]!.text).toBe(doc.slice(0, 70))
  })

  it('never splices a passage whose text disagrees with its offsets', () => {
    const odd: OffsetPassage = { file: 'a.md', start: 10, end: 30, text: 'not twenty characters long at all' }
    const merged = mergeOverlapping([slice('a.md', 0, 20), odd])
    expect(merged).toEqual([
      { ...slice('a.md', 0, 20), members: [0] },
      { ...odd, members: [1] },
    ])
  })

  it('rebuilds exactly the covered text, each character once, for any overlapping windows (property)', () => {
    const text = Array.from({ length: 300 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('')
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 299 }), fc.integer({ min: 1, max: 60 })), { minLength: 1, maxLength: 12 }), (windows) => {
        const passages = windows.map(([start, length]) => slice('t.txt', start, Math.min(300, start + length), text))
        const merged = mergeOverlapping(passages)
        // Every source is the document's own slice, sources do not overlap or touch, and every passage is in one.
        for (const m of merged) expect(m.text).toBe(text.slice(m.start, m.end))
        const sorted = [...merged].sort((a, b) => a.start - b.start)
        for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.start).toBeGreaterThan(sorted[i - 1]!.end)
        expect(merged.flatMap((m) => m.members).sort((a, b) => a - b)).toEqual(passages.map((_, i) => i))
        for (const m of merged) for (const i of m.members) expect(passages[i]!.start >= m.start && passages[i]!.end <= m.end).toBe(true)
        // Best first: the sources' first members ascend.
        expect(merged.map((m) => m.members[0])).toEqual([...merged.map((m) => m.members[0])].sort((a, b) => a! - b!))
      }),
    )
  })

  it('feeds assembleContext a prompt with no repeated text', () => {
    const sources = mergeOverlapping([slice('a.md', 0, 37), slice('a.md', 18, 70)])
    const { prompt, included } = assembleContext('greek letters?', sources.map((m) => ({ text: m.text, file: m.file, position: `chars ${m.start}–${m.end}` })), { budgetTokens: 1000 })
    expect(included).toBe(1)
    expect(prompt.split('Delta epsilon zeta.').length - 1).toBe(1)
    expect(prompt).toContain(`[1] a.md, chars 0–70\n${doc}\n`)
  })
})
