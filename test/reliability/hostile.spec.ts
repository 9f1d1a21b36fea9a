/**
 * Hostile documents: texts, titles, metadata and file names carrying script and event-handler
 * payloads go through winnow and are shown the way the README says (`highlight()` into
 * innerHTML) and the way the RAG demo shows them. Nothing may run: no `window.__pwned`, no
 * dialog, no request for the payloads' `src=x`, no element with an event-handler attribute. A
 * control proves the page would notice: the same payload put into innerHTML unescaped does run.
 */
import { expect, test, type Page } from '@playwright/test'
import { writeFigures } from './figures.js'
import { PAYLOADS } from './payloads.js'
import { RELIABILITY_PAGE } from './scale.js'


interface Watch {
  dialogs: string[]
  requests: string[]
}

/** Records dialogs (dismissed) and every request of the page and its workers. */
function watch(page: Page): Watch {
  const w: Watch = { dialogs: [], requests: [] }
  page.on('dialog', (dialog) => {
    w.dialogs.push(dialog.message())
    void dialog.dismiss()
  })
  page.context().on('request', (request) => w.requests.push(request.url()))
  return w
}

/** Requests a payload would make: `src=x`, `href=x`, `@import "x"`. */
const payloadRequests = (w: Watch) => w.requests.filter((url) => /\/x$/.test(new URL(url).pathname))

/** Lets late events (image errors, focus, toggles, refreshes) happen. */
async function settleEvents(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 1000))))
}

/** Elements with an inline event handler anywhere in the document. */
const handlerElements = (page: Page) =>
  page.evaluate(() => [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).map((el) => el.outerHTML.slice(0, 80)))

/** The page would notice a payload that ran: unescaped, the same kind of payload does run. */
async function controlRuns(page: Page): Promise<boolean> {
  await page.evaluate(() => {
    const div = document.createElement('div')
    div.innerHTML = '<img src=control-x onerror="window.__control=1">'
    document.body.append(div)
  })
  await page.waitForFunction(() => (window as unknown as { __control?: number }).__control === 1, null, { timeout: 10_000 }).catch(() => {})
  return page.evaluate(() => (window as unknown as { __control?: number }).__control === 1)
}

test('hostile documents shown through highlight() run nothing', async ({ page }) => {
  const w = watch(page)
  await page.goto(RELIABILITY_PAGE)
  await page.waitForFunction(() => (window as unknown as { reliabilityReady?: boolean }).reliabilityReady === true)
  const shown = await page.evaluate(async (payloads) => {
    const { createWinnow, highlight } = (window as any).winnowApi
    const winnow = await createWinnow({ reranker: false })
    await winnow.deleteCollection('hostile')
    const docs = await winnow.collection('hostile')
    await docs.add(
      payloads.map((p: string, i: number) => ({
        id: `p${i}-${p}`,
        title: p,
        text: `hostile zebra payload ${i}: ${p} window pwned onerror onload script`,
        metadata: { html: p, [p]: p },
      })),
    )
    const list = document.getElementById('results')!
    let hits = 0
    // As the README shows it: highlight()'s HTML into innerHTML (also with a hostile class name).
    for (const query of ['zebra', 'img onerror', 'script pwned', 'svg onload', 'javascript window', 'iframe srcdoc', 'mark']) {
      const results = await docs.search(query, { k: 100, snippet: { length: 1000 } })
      hits += results.length
      list.insertAdjacentHTML('beforeend', results.map((h: any) => `<li>${highlight(h.snippet)}</li>`).join(''))
      list.insertAdjacentHTML('beforeend', results.map((h: any) => `<li>${highlight(h.snippet, { className: '"><img src=x onerror=window.__pwned=1>' })}</li>`).join(''))
    }
    await winnow.dispose()
    const tags = [...new Set([...list.querySelectorAll('*')].map((el) => el.tagName.toLowerCase()))]
    return { hits, tags, text: list.textContent ?? '', marks: list.querySelectorAll('mark').length }
  }, PAYLOADS)
  await settleEvents(page)
  const pwned = await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)
  const handlers = await handlerElements(page)
  const requests = payloadRequests(w)
  const visible = PAYLOADS.filter((p) => shown.text.includes(p.replace(/\s+/g, ' ')))
  const control = await controlRuns(page)
  const failures = (pwned === undefined ? 0 : 1) + w.dialogs.length + requests.length + handlers.length + (PAYLOADS.length - visible.length)
  writeFigures('hostile-highlight', {
    summary: { payloads: PAYLOADS.length, 'hits rendered': shown.hits * 2, 'payloads shown as text': visible.length, 'payloads that ran': pwned === undefined ? 0 : 1, failures },
    failures,
    tags: shown.tags,
    marks: shown.marks,
    dialogs: w.dialogs,
    requests,
    handlers,
    controlRan: control,
  })
  expect(control, 'the control payload (unescaped) must run, or this test could not see one that did').toBe(true)
  expect(pwned).toBeUndefined()
  expect(w.dialogs).toEqual([])
  expect(requests).toEqual([])
  expect(handlers).toEqual([])
  expect(shown.tags.sort()).toEqual(['li', 'mark'])
  expect(shown.marks).toBeGreaterThan(0)
  // Every payload is on screen, as text.
  expect(visible).toEqual(PAYLOADS)
})

test('hostile files in the RAG demo run nothing: contents, markup headings, file names, question', async ({ page }) => {
  test.setTimeout(300_000)
  const w = watch(page)
  await page.goto('/demo/rag/?hub=off') // test mode: no hub probe leaving the origin
  const origin = new URL(page.url()).origin
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 120_000 })
  const files = [
    {
      name: 'hostile.html',
      mimeType: 'text/html',
      text:
        '<html><head><title><script>window.__pwned=1</script>Hostile</title><script>window.__pwned=1</script>' +
        '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned=1"><link rel="stylesheet" href="x"></head>' +
        '<body onload="window.__pwned=1"><main><h1>Zebrafish <img src=x onerror="window.__pwned=1"></h1>' +
        '<p>Zebrafish notes <svg onload="window.__pwned=1"></svg> <a href="javascript:window.__pwned=1">link</a> ' +
        '&lt;img src=x onerror=window.__pwned=1&gt; <iframe srcdoc="&lt;script&gt;parent.__pwned=1&lt;/script&gt;"></iframe></p>' +
        '<h2 onmouseover="window.__pwned=1">Tank</h2><p>More zebrafish <details open ontoggle="window.__pwned=1">x</details></p></main></body></html>',
    },
    {
      name: 'hostile.md',
      mimeType: 'text/markdown',
      text:
        '# Zebrafish <script>window.__pwned=1</script>\n\nZebrafish care: <img src=x onerror="window.__pwned=1"> and ' +
        '[a link](javascript:window.__pwned=1) and ![image](x" onerror="window.__pwned=1).\n\n## <svg onload=window.__pwned=1>\n\nMore zebrafish text.\n',
    },
    { name: 'hostile.txt', mimeType: 'text/plain', text: `Zebrafish plain text with ${PAYLOADS.join(' and ')} inside.` },
    { name: '<img src=x onerror=window.__pwned=1>.txt', mimeType: 'text/plain', text: 'Zebrafish in a file whose name is markup.' },
    { name: 'x"><svg onload=window.__pwned=1>.md', mimeType: 'text/markdown', text: '# Zebrafish\n\nA file name that closes an attribute.' },
  ]
  await page.setInputFiles('#file-input', files.map((f) => ({ name: f.name, mimeType: f.mimeType, buffer: Buffer.from(f.text) })))
  await expect(page.locator('#index-status')).toContainText(/^Indexed 5 files into \d+ passages\.$/, { timeout: 120_000 })
  const passages = Number(/ (\d+) passages/.exec((await page.locator('#index-status').textContent())!)?.[1])

  const ask = async (question: string) => {
    const before = Number((await page.locator('#passages').getAttribute('data-answered')) ?? 0)
    await page.fill('#question', question)
    await page.fill('#k', String(passages))
    await page.fill('#candidates', String(passages))
    await page.click('#ask')
    await expect(page.locator('#passages')).toHaveAttribute('data-answered', String(before + 1), { timeout: 120_000 })
  }
  // Words of every passage (the payloads' passages are short windows), so every passage is shown.
  await ask('zebrafish onerror script svg window pwned')
  await page.evaluate(() => document.querySelectorAll('#passages details').forEach((d) => ((d as HTMLDetailsElement).open = true)))
  const rendered = await page.locator('#passages li').count()
  const passageText = (await page.locator('#passages').textContent()) ?? ''
  const fileNames = await page.$$eval('#file-list li .name', (spans) => spans.map((s) => s.textContent))
  await ask('<img src=x onerror="window.__pwned=1"> zebrafish </textarea><script>window.__pwned=1</script>')
  const prompt = await page.locator('#prompt').inputValue()
  await settleEvents(page)

  const pwned = await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)
  const handlers = await handlerElements(page)
  const requests = payloadRequests(w)
  const elsewhere = w.requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'))
  const active = await page.locator('#passages img, #passages svg, #passages script, #passages iframe, #passages a, #passages object, #file-list img, #file-list svg').count()
  const control = await controlRuns(page)
  const failures = (pwned === undefined ? 0 : 1) + w.dialogs.length + requests.length + handlers.length + elsewhere.length + active
  writeFigures('hostile-rag', {
    summary: { 'hostile files': files.length, 'passages rendered': rendered, 'payloads that ran': pwned === undefined ? 0 : 1, failures },
    failures,
    dialogs: w.dialogs,
    requests,
    elsewhere,
    handlers,
    fileNames,
    controlRan: control,
  })
  expect(control).toBe(true)
  expect(pwned).toBeUndefined()
  expect(w.dialogs).toEqual([])
  expect(requests).toEqual([])
  expect(elsewhere).toEqual([])
  expect(handlers).toEqual([])
  expect(active).toBe(0)
  expect(rendered).toBe(passages)
  // Shown as text: the markup in the files, the file names, the question in the prompt.
  expect(passageText).toContain('<img src=x onerror=')
  expect(fileNames).toEqual(expect.arrayContaining(['<img src=x onerror=window.__pwned=1>.txt', 'x"><svg onload=window.__pwned=1>.md']))
  expect(prompt).toContain('<img src=x onerror="window.__pwned=1"> zebrafish')
})
