/**
 * The private RAG demo (demo/rag/) in Chromium, through its UI: upload the fixture files, ask,
 * reload, forget. The models are the tiny random-weight fixtures, so vectors and rerank scores mean
 * nothing. Each question's only non-stop word is found in one file only, so only that file's
 * passages are on the keyword list, and in the hybrid (RRF, k = 60) fusion they come first whatever
 * the vectors say: 1/(60 + r) + 1/(60 + v) with r ≤ 2 beats any vector-only 1/(60 + v) ≤ 1/61.
 * With `candidates` equal to the passages shown, reranking only reorders that first-stage top, so
 * the right file must be among the shown passages, and first in the first stage.
 */
import { expect, test, type Page } from '@playwright/test'
import { join } from 'node:path'

const FIXTURES = 'test/fixtures/rag'
const FILES = ['garden.txt', 'sourdough.md', 'lighthouse.html', 'observatory.pdf']
/** The PDF's heliostat sentences are on its page 2 (of 2). */
const ON_PAGE_2 = /^(page 2|pages 1–2), chars \d+–\d+$/

interface Shown {
  file: string
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

  await page.goto('/demo/rag/')
  const origin = new URL(page.url()).origin
  await waitReady(page)
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
  expect(pdf).toHaveLength(3)
  await expect(page.locator('#route')).toContainText('hybrid retrieval: 3 candidates')
  await expect(page.locator('#route')).toContainText('3 reranked by tiny-random-cross-encoder (q8)')
  const [heliostat] = expectWordOnlyFrom(pdf, /heliostat/i, 'observatory.pdf')
  expect(pdf.find((s) => s.rankBefore === 1)?.file).toBe('observatory.pdf')
  expect(heliostat!.position).toMatch(ON_PAGE_2) // a passage may run on from page 1
  expect(heliostat!.marks).toContain('heliostat')
  const prompt = await page.locator('#prompt').inputValue()
  const cite = pdf.indexOf(heliostat!) + 1
  expect(prompt).toContain(`[${cite}] observatory.pdf, ${heliostat!.position}\n`)
  expect(prompt.endsWith('Question: Is there a heliostat?\nAnswer:')).toBe(true)
  expect(prompt).toBe(await page.evaluate(() => window.winnowRag.prompt))
  await expect(page.locator('#prompt-info')).toContainText(/^3 of 3 passages, about \d+ of 1536 tokens/)

  // Markdown: the heading path is the position.
  const md = await ask(page, 'Is there a levain?', { k: 2, candidates: 2 })
  const [levain] = expectWordOnlyFrom(md, /levain/i, 'sourdough.md')
  expect(md.find((s) => s.rankBefore === 1)?.file).toBe('sourdough.md')
  expect(md.some((s) => s.file === 'sourdough.md' && s.position.startsWith('§ Sourdough notes › Feeding the levain, chars '))).toBe(true)
  expect(levain!.marks).toContain('levain')

  // Every passage at once: HTML gave its main content only, the text file its markup as text.
  const all = await ask(page, 'Fresnel lens vermicompost quasarflux harbourmaster', { k: passages, candidates: passages })
  expect(all).toHaveLength(passages)
  expect(new Set(all.map((s) => s.file))).toEqual(new Set(FILES))
  expectWordOnlyFrom(all, /fresnel/i, 'lighthouse.html')
  expectWordOnlyFrom(all, /vermicompost/i, 'garden.txt')
  expect(all.some((s) => s.file === 'lighthouse.html' && s.position.startsWith('§ The lighthouse at Gull Point › The lens'))).toBe(true)
  for (const absent of [/quasarflux/i, /harbourmaster/i, /heritage society/i, /mauve/i]) expect(all.filter((s) => absent.test(s.text))).toEqual([])
  expect(all.some((s) => s.text.includes('<img src=x onerror="window.pwned=1">'))).toBe(true)
  expect(await page.locator('#passages img').count()).toBe(0)
  expect(await page.evaluate(() => window.pwned)).toBeUndefined()

  // The budget: best passages first, the prompt never over it.
  await ask(page, 'Is there a heliostat?', { k: 3, candidates: 3, budget: 160 })
  const info = (await page.locator('#prompt-info').textContent())!
  const [, included, tokens] = /^(\d) of 3 passages, about (\d+) of 160 tokens/.exec(info) ?? []
  expect(Number(included)).toBeLessThan(3)
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
