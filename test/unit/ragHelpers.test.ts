import { describe, expect, it } from 'vitest'
import { describePosition, formatBytes, indexProgress, type IndexPhase } from '../../demo/rag/format.ts'
import { runGenerator } from '../../demo/rag/generator.ts'
import { readManifest, saveManifest, upsertManifest, type KeyValueStore, type ManifestEntry } from '../../demo/rag/manifest.ts'

describe('describePosition', () => {
  it('names the PDF page (or pages) a passage sits on, then its characters', () => {
    const pages = [0, 412, 900]
    expect(describePosition({ start: 420, end: 700, section: null, path: [] }, pages)).toBe('page 2, chars 420–700')
    expect(describePosition({ start: 0, end: 412, section: null, path: [] }, pages)).toBe('page 1, chars 0–412') // end is exclusive
    expect(describePosition({ start: 300, end: 950, section: null, path: [] }, pages)).toBe('pages 1–3, chars 300–950')
  })

  it('names the heading path otherwise, or the section, or only the characters', () => {
    expect(describePosition({ start: 5, end: 90, section: 'Levain', path: ['Sourdough', 'Levain'] })).toBe('§ Sourdough › Levain, chars 5–90')
    expect(describePosition({ start: 5, end: 90, section: 'Levain', path: [] })).toBe('§ Levain, chars 5–90')
    expect(describePosition({ start: 0, end: 9, section: null, path: [] }, [])).toBe('chars 0–9')
  })
})

describe('formatBytes', () => {
  it('uses binary units with three significant digits', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1023)).toBe('1023 B')
    expect(formatBytes(1536)).toBe('1.50 KiB')
    expect(formatBytes(5 * 2 ** 20)).toBe('5.00 MiB')
    expect(formatBytes(300 * 2 ** 30)).toBe('300 GiB')
    expect(formatBytes(Number.NaN)).toBe('0 B')
  })
})

describe('indexProgress', () => {
  it('rises through the phases and never goes back', () => {
    const steps: [IndexPhase, number, number][] = [
      ['parsing', 0, 4], ['parsing', 4, 4], ['chunking', 0, 4], ['chunking', 4, 4],
      ['embedding', 0, 10], ['embedding', 5, 10], ['embedding', 10, 10], ['writing', 0, 10], ['done', 10, 10],
    ]
    const values = steps.map(([phase, done, total]) => indexProgress(phase, done, total))
    expect(values[0]).toBe(0)
    expect(values.at(-1)).toBe(1)
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]!)
    expect(indexProgress('embedding', 5, 10)).toBeCloseTo(0.55)
    expect(indexProgress('embedding', 0, 0)).toBeCloseTo(0.9) // nothing to embed: the phase is complete
  })
})

describe('runGenerator', () => {
  const signal = () => new AbortController().signal

  it('takes a string, a promise of one, or streamed pieces', async () => {
    const seen: string[] = []
    expect(await runGenerator(() => 'whole', 'p', { signal: signal(), onText: (t) => seen.push(t) })).toBe('whole')
    expect(await runGenerator(async (prompt) => `got ${prompt.length}`, 'four', { signal: signal() })).toBe('got 4')
    const streamed: string[] = []
    const answer = await runGenerator(
      async function* (prompt) {
        yield 'He'
        yield 'llo '
        yield prompt
      },
      'you',
      { signal: signal(), onText: (t) => streamed.push(t) },
    )
    expect(answer).toBe('Hello you')
    expect(streamed).toEqual(['He', 'Hello ', 'Hello you'])
    expect(seen).toEqual(['whole'])
  })

  it('passes the signal, stops the stream on abort and reports nothing after it', async () => {
    const controller = new AbortController()
    const streamed: string[] = []
    let finished = false
    let received: AbortSignal | null = null
    const run = runGenerator(
      async function* (_prompt, { signal }) {
        received = signal
        try {
          yield 'one'
          controller.abort()
          yield 'two'
          yield 'three'
        } finally {
          finished = true
        }
      },
      'p',
      { signal: controller.signal, onText: (t) => streamed.push(t) },
    )
    await expect(run).rejects.toMatchObject({ name: 'AbortError' })
    expect(received).toBe(controller.signal)
    expect(streamed).toEqual(['one'])
    expect(finished).toBe(true) // the generator was closed, not left hanging
  })

  it('rejects with the generator’s own error, and on a wrong return type', async () => {
    await expect(runGenerator(async () => Promise.reject(new Error('model not loaded')), 'p', { signal: signal() })).rejects.toThrow('model not loaded')
    await expect(runGenerator((() => 42) as never, 'p', { signal: signal() })).rejects.toThrow(TypeError)
    const aborted = new AbortController()
    aborted.abort()
    let called = false
    await expect(runGenerator(() => ((called = true), 'x'), 'p', { signal: aborted.signal })).rejects.toMatchObject({ name: 'AbortError' })
    expect(called).toBe(false)
  })
})

describe('manifest', () => {
  const memory = (): KeyValueStore & { data: Map<string, string> } => {
    const data = new Map<string, string>()
    return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) }
  }
  const entry = (id: string, size = 1): ManifestEntry => ({ id, kind: 'txt', size, chars: size, addedAt: 1 })

  it('upserts by id, keeps entries sorted, and removes the key when empty', () => {
    const store = memory()
    expect(readManifest(store, 'k')).toEqual([])
    upsertManifest(store, 'k', [entry('b.txt'), entry('a.txt')])
    const after = upsertManifest(store, 'k', [entry('b.txt', 7), { ...entry('c.pdf'), kind: 'pdf', pageStarts: [0, 40] }])
    expect(after.map((e) => [e.id, e.size])).toEqual([['a.txt', 1], ['b.txt', 7], ['c.pdf', 1]])
    expect(readManifest(store, 'k')).toEqual(after)
    expect(readManifest(store, 'other')).toEqual([])
    saveManifest(store, 'k', [])
    expect(store.data.has('k')).toBe(false)
  })

  it('reads a corrupt value as empty instead of throwing', () => {
    const store = memory()
    store.setItem('k', '{not json')
    expect(readManifest(store, 'k')).toEqual([])
    store.setItem('k', JSON.stringify([{ id: 1 }, entry('ok.txt'), null]))
    expect(readManifest(store, 'k').map((e) => e.id)).toEqual(['ok.txt'])
  })
})
