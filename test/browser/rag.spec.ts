/**
 * The private RAG demo (demo/rag/) in Chromium, through its UI: upload the fixture files, ask,
 * reload, forget. No real models here and the hub is off (`?hub=off`), so the page is in test mode:
 * the random-weight fixtures, the keyword (BM25) first stage, and no reordering by the random
 * reranker unless it is switched on. Each question's only non-stop word is found in one file only,
 * so only that file's passages are found, best first. The hub path: demo-models.spec.ts.
 */
import { expect, test, type Page } from '@playwright/test'
import { join } from 'node:path'

const FIXTURES = 'test/fixtures/rag'
const FILES = ['garden.txt', 'sourdough.md', 'lighthouse.html', 'observatory.pdf']
/** The PDF's heliostat sentences are on its page 2 (of 2). */
const ON_PAGE_2 = /^(page 2|pages 1–2), chars \d+–\d+$/

const PAGE = '/demo/rag/?hub=off'

interface Shown {
  file: string
  cite: number
  rankBefore: number
  position: string
  text: string
  marks: string[]
}

declare global {
  interface Window {
    winnowRag: { setGenerator(fn: unknown): void; prompt: string; indexPhases: string[] }
    pwned?: number
  }
}

async function waitReady(page: Page): Promise<void> {
  await expect(page.locator('#model-status')).toContainText('Ready: tiny-random-embedder (q8) + tiny-random-cross-encoder (q8) on wasm')
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
}

/** Asks through the form and returns the passages shown once the reranked answer is in. */
async function ask(page: Page, question: string, options: { k: number; candidates: number; budget?: number }): Promise<Shown[]> {
  const before = Number((await page.locator('#passages').getAttribute('data-answered')) ?? 0)
  await page.fill('#question', question)
  await page.fill('#k', String(options.k))
  await page.fill('#candidates', String(options.candidates))
  await page.fill('#budget', String(options.budget ?? 1536))
  await page.click('#ask')
  await expect(page.locator('#passages')).toHaveAttribute('data-answered', String(before + 1))
  return page.$$eval('#passages li', (items) =>
    items.map((li) => ({
      file: (li as HTMLElement).dataset.file!,
      cite: Number((li as HTMLElement).dataset.cite),
      rankBefore: Number((li as HTMLElement).dataset.rankBefore),
      position: li.querySelector('.position')!.textContent!,
      text: li.querySelector('.text')!.textContent!,
      marks: [...li.querySelectorAll('.snippet mark')].map((m) => m.textContent!.toLowerCase()),
    })),
  )
}

/** The passages holding `word`: there must be one, and all must come from `file`. */
function expectWordOnlyFrom(shown: Shown[], word: RegExp, file: string): Shown[] {
  const holding = shown.filter((s) => word.test(s.text))
  expect(holding.length).toBeGreaterThan(0)
  expect(holding.map((s) => s.file)).toEqual(holding.map(() => file))
  return holding
}

test('private RAG: files are indexed on the page, answer questions with cited passages, persist, and are forgotten', async ({ page, context }) => {
  test.setTimeout(300_000)
  const requests: string[] = []
  context.on('request', (r) => requests.push(r.url()))
  page.on('dialog', (dialog) => void dialog.accept()) // "Forget everything" asks first
  await context.grantPermissions(['clipboard-read', 'clipboard-write'])

  await page.goto(PAGE)
  const origin = new URL(page.url()).origin
  await waitReady(page)
  await expect(page.locator('#test-banner')).toBeVisible()
  await expect(page.locator('#model-source')).toHaveText('Test models tiny-random-cross-encoder and tiny-random-embedder: random weights, results are meaningless.')
  await expect(page.locator('#collection-count')).toContainText('0 documents · 0 passages in “rag:tiny-random-embedder”')

  // Upload: parsed on the page, chunked and embedded in the worker, written to IndexedDB.
  await page.setInputFiles('#file-input', FILES.map((f) => join(FIXTURES, f)))
  await expect(page.locator('#index-status')).toContainText(/^Indexed 4 files into \d+ passages\.$/)
  expect(await page.evaluate(() => window.winnowRag.indexPhases)).toEqual(['parsing', 'chunking', 'embedding', 'writing', 'done'])
  expect(await page.locator('#index-progress').evaluate((p: HTMLProgressElement) => p.value)).toBe(1)
  await expect(page.locator('#file-list li')).toHaveCount(4)
  expect(await page.$$eval('#file-list li', (lis) => lis.map((li) => (li as HTMLElement).dataset.file))).toEqual([...FILES].sort())
  await expect(page.locator('#file-list li[data-file="observatory.pdf"]')).toContainText('PDF, 1.59 KiB, 2 pages')
  const countText = (await page.locator('#collection-count').textContent())!
  const passages = Number(/^4 documents · (\d+) passages/.exec(countText)?.[1])
  expect(passages).toBeGreaterThanOrEqual(4)
  await expect(page.locator('#storage')).toContainText(/Storage used by this origin: [\d.]+ (B|KiB|MiB|GiB) of [\d.]+ (KiB|MiB|GiB|TiB)/)

  // A word only the PDF's second page has.
  const pdf = await ask(page, 'Is there a heliostat?', { k: 3, candidates: 3 })
  await expect(page.locator('#route')).toContainText('keyword retrieval:')
  await expect(page.locator('#route')).not.toContainText('reranked by')
  await expect(page.locator('#route')).toContainText('Test mode: the random reranker is off, this is the keyword (BM25) order.')
  const [heliostat] = expectWordOnlyFrom(pdf, /heliostat/i, 'observatory.pdf')
  // The keyword order, unshuffled: ranks 1, 2, … and the first is the PDF's.
  expect(pdf.map((s) => s.rankBefore)).toEqual(pdf.map((_, i) => i + 1))
  expect(pdf[0]!.file).toBe('observatory.pdf')
  expect(heliostat!.position).toMatch(ON_PAGE_2) // a passage may run on from page 1
  expect(heliostat!.marks).toContain('heliostat')
  const prompt = await page.locator('#prompt').inputValue()
  expect(prompt).toContain(`[${heliostat!.cite}] observatory.pdf, `)
  expect(prompt).toContain(heliostat!.text.trim())
  expect(prompt.endsWith('Question: Is there a heliostat?\nAnswer:')).toBe(true)
  expect(prompt).toBe(await page.evaluate(() => window.winnowRag.prompt))
  await expect(page.locator('#prompt-info')).toContainText(new RegExp(`^\\d of \\d sources \\(${pdf.length} of ${pdf.length} passages; overlapping passages of a file joined\\), about \\d+ of 1536 tokens`))

  // Markdown: the heading path is the position.
  const md = await ask(page, 'Is there a levain?', { k: 2, candidates: 2 })
  const [levain] = expectWordOnlyFrom(md, /levain/i, 'sourdough.md')
  expect(md[0]!.file).toBe('sourdough.md')
  expect(md.some((s) => s.file === 'sourdough.md' && s.position.startsWith('§ Sourdough notes › Feeding the levain, chars '))).toBe(true)
  expect(levain!.marks).toContain('levain')

  // HTML gave its main content only, the text file its markup as text.
  const both = await ask(page, 'Fresnel lens vermicompost forum', { k: passages, candidates: passages })
  expectWordOnlyFrom(both, /fresnel/i, 'lighthouse.html')
  expectWordOnlyFrom(both, /vermicompost/i, 'garden.txt')
  expect(both.some((s) => s.file === 'lighthouse.html' && s.position.startsWith('§ The lighthouse at Gull Point › The lens'))).toBe(true)
  expect(both.some((s) => s.text.includes('<img src=x onerror="window.pwned=1">'))).toBe(true)
  expect(await page.locator('#passages img').count()).toBe(0)
  expect(await page.evaluate(() => window.pwned)).toBeUndefined()
  // The page's head, nav, header, footer and scripts were never indexed: their words find nothing.
  expect(await ask(page, 'quasarflux harbourmaster mauve heritage', { k: passages, candidates: passages })).toEqual([])
  await expect(page.locator('#route')).toHaveText('No results for “quasarflux harbourmaster mauve heritage”: no passage matches it.')

  // The budget: best sources first, the prompt never over it.
  await ask(page, 'Fresnel vermicompost levain heliostat', { k: 4, candidates: 4, budget: 160 })
  const info = (await page.locator('#prompt-info').textContent())!
  const [, included, offered, tokens] = /^(\d) of (\d) sources \(\d of \d passages; overlapping passages of a file joined\), about (\d+) of 160 tokens/.exec(info) ?? []
  expect(Number(offered)).toBeGreaterThan(1)
  expect(Number(included)).toBeLessThan(Number(offered))
  expect(Number(tokens)).toBeLessThanOrEqual(160)
  const tight = await page.locator('#prompt').inputValue()
  expect(Number(tokens)).toBe(Math.ceil(tight.length / 4))

  // Copy to the clipboard.
  await page.click('#copy')
  await expect(page.locator('#copy-status')).toHaveText('Copied.')
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(tight)

  // A host page's generator gets the prompt and its streamed answer is shown.
  await expect(page.locator('#answer-note')).toBeVisible()
  await page.evaluate(() =>
    window.winnowRag.setGenerator(async function* (prompt: string) {
      yield 'Sources given: '
      yield String(prompt.match(/^\[\d+\] /gm)?.length ?? 0)
    }),
  )
  await expect(page.locator('#answer')).toHaveText(`Sources given: ${included}`)
  await expect(page.locator('#answer-note')).toBeHidden()
  await ask(page, 'Who kept the lighthouse?', { k: 2, candidates: 2 })
  await expect(page.locator('#answer')).toHaveText(/^Sources given: [12]$/)
  await page.evaluate(() => window.winnowRag.setGenerator(null))

  await ask(page, 'Is there a heliostat?', { k: 3, candidates: 3 })
  await page.screenshot({ path: 'test-results/artifacts/rag.png', fullPage: true })

  // Reload: the collection is still there, and still answers.
  await page.reload()
  await waitReady(page)
  await expect(page.locator('#collection-count')).toHaveText(countText)
  await expect(page.locator('#file-list li')).toHaveCount(4)
  const again = await ask(page, 'Is there a heliostat?', { k: 3, candidates: 3 })
  expect(again.find((s) => s.rankBefore === 1)?.file).toBe('observatory.pdf')
  expect(expectWordOnlyFrom(again, /heliostat/i, 'observatory.pdf')[0]!.position).toMatch(ON_PAGE_2)

  // A file dropped on the zone is indexed too, and "remove" takes it out again.
  await page.evaluate(() => {
    const transfer = new DataTransfer()
    transfer.items.add(new File(['Zymurgy is the study of fermentation in brewing.'], 'dropped.txt', { type: 'text/plain' }))
    document.getElementById('dropzone')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }))
  })
  await expect(page.locator('#index-status')).toHaveText('Indexed 1 file into 1 passage.')
  await expect(page.locator('#collection-count')).toContainText(`5 documents · ${passages + 1} passages`)
  const dropped = await ask(page, 'zymurgy', { k: 1, candidates: 1 })
  expect(dropped.map((s) => s.file)).toEqual(['dropped.txt'])
  await page.click('#file-list li[data-file="dropped.txt"] button')
  await expect(page.locator('#collection-count')).toHaveText(countText)
  await expect(page.locator('#file-list li')).toHaveCount(4)

  // Forget everything: the collection, the cached model files, the demo's settings.
  const cachesBefore = await page.evaluate(() => caches.keys())
  expect(cachesBefore).toContain('transformers-cache')
  await page.click('#forget')
  await expect(page.locator('#forget-status')).toContainText('Forgot 1 collection,')
  await expect(page.locator('#collection-count')).toContainText('0 documents · 0 passages')
  await expect(page.locator('#file-list li')).toHaveCount(0)
  await expect(page.locator('#passages li')).toHaveCount(0)
  expect(await page.locator('#prompt').inputValue()).toBe('')
  expect((await page.evaluate(() => caches.keys())).filter((k) => /transformers|winnow/.test(k))).toEqual([])
  expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('winnow-rag:')))).toEqual([])

  await page.reload()
  await waitReady(page)
  await expect(page.locator('#collection-count')).toContainText('0 documents · 0 passages')
  await expect(page.locator('#file-list li')).toHaveCount(0)
  expect(await ask(page, 'Is there a heliostat?', { k: 3, candidates: 3 })).toEqual([])
  await expect(page.locator('#route')).toHaveText('Nothing indexed yet: drop some files first.')

  // Nothing went anywhere but this origin: models, WASM, pdf.js and its worker included.
  expect(requests.some((u) => /pdf\.worker.*\.m?js$/.test(u))).toBe(true)
  expect(requests.some((u) => u.includes('/models/tiny-random-embedder/'))).toBe(true)
  expect(requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([])
})

/** A beekeeping note whose one passage answers the varroa question, among files that mention bees. */
const BEES = [
  { name: 'varroa.md', text: '# Hive health\n\nBeekeepers treat varroa mites with oxalic acid in winter, when the colony has no brood, and count the mites that drop onto a sticky board to judge when to treat again.' },
  { name: 'honey.txt', text: 'Honey bees make honey from nectar. Beekeepers harvest frames in late summer and leave enough stores for the bees to overwinter.' },
  { name: 'garden-bees.txt', text: 'Bees visit the lavender and the borage all summer; a shallow dish of water with pebbles helps them drink.' },
]

/** Sentences numbered 0..n-1: long enough for several overlapping chunks, each sentence findable once. */
function longNote(sentences: number): string {
  return Array.from({ length: sentences }, (_, i) => `Quokka note ${String(i).padStart(3, '0')} records where the colony rested that day.`).join(' ')
}

test('test mode keeps the keyword order, finds nothing for nonsense, and the prompt never repeats overlapping text', async ({ page }) => {
  test.setTimeout(300_000)
  await page.goto(PAGE)
  await waitReady(page)
  const note = longNote(40)
  await page.setInputFiles('#file-input', [
    ...BEES.map((f) => ({ name: f.name, mimeType: f.name.endsWith('.md') ? 'text/markdown' : 'text/plain', buffer: Buffer.from(f.text) })),
    { name: 'quokka.txt', mimeType: 'text/plain', buffer: Buffer.from(note) },
  ])
  await expect(page.locator('#index-status')).toContainText(/^Indexed 4 files into \d+ passages\.$/)

  // The passage that answers is first, as BM25 ranked it: nothing random reorders it.
  const bees = await ask(page, 'How do beekeepers treat varroa mites?', { k: 3, candidates: 10 })
  expect(bees[0]!.file).toBe('varroa.md')
  expect(bees[0]!.rankBefore).toBe(1)
  expect(bees.map((s) => s.rankBefore)).toEqual(bees.map((_, i) => i + 1))
  await expect(page.locator('#passages')).toHaveAttribute('data-stage', 'final')
  await expect(page.locator('#route')).toContainText('keyword retrieval')

  // Nonsense: no passage shares a word with it, so nothing is shown and no prompt is built.
  expect(await ask(page, 'zzqxv flibbertigibbet', { k: 10, candidates: 30 })).toEqual([])
  await expect(page.locator('#route')).toHaveText('No results for “zzqxv flibbertigibbet”: no passage matches it.')
  expect(await page.locator('#prompt').inputValue()).toBe('')
  await expect(page.locator('#copy')).toBeDisabled()

  // Every passage of the long note (chunks of one section overlap by design) → one source, with
  // each sentence exactly once, and every passage cited as that source.
  const quokka = await ask(page, 'quokka', { k: 50, candidates: 50, budget: 100_000 })
  expect(quokka.length).toBeGreaterThan(2)
  expect(new Set(quokka.map((s) => s.file))).toEqual(new Set(['quokka.txt']))
  const texts = quokka.map((s) => s.text)
  expect(texts.some((t, i) => texts.some((u, j) => i !== j && t.split(/(?<=\.) /).some((sentence) => u.includes(sentence))))).toBe(true) // they do overlap
  expect(quokka.map((s) => s.cite)).toEqual(quokka.map(() => 1))
  const prompt = await page.locator('#prompt').inputValue()
  for (let i = 0; i < 40; i++) {
    const sentence = `Quokka note ${String(i).padStart(3, '0')} records`
    expect(prompt.split(sentence).length - 1, sentence).toBe(1)
  }
  expect(prompt).toContain(`[1] quokka.txt, chars 0–${note.length}\n${note}\n`)
  await expect(page.locator('#prompt-info')).toContainText(`1 of 1 sources (${quokka.length} of ${quokka.length} passages; overlapping passages of a file joined)`)

  // The plumbing check: the random reranker does run when asked.
  await page.check('#random-rerank')
  await ask(page, 'How do beekeepers treat varroa mites?', { k: 3, candidates: 10 })
  await expect(page.locator('#route')).toContainText('reranked by tiny-random-cross-encoder (q8)')
})
