/**
 * Hostile documents through the docs-search demo: a snapshot whose section texts, headings, page
 * titles, URLs and anchors carry script and event-handler payloads is served in place of the
 * demo's own, searched, and shown. Nothing may run, no link may leave the origin or use a
 * `javascript:` URL, and no request may go to the payloads' `src=x`.
 */
import { expect, test } from '@playwright/test'
import { buildSnapshot } from '../../dist/cli/buildSnapshot.js'
import { writeFigures } from './figures.js'
import { PAYLOADS } from './payloads.js'

// page.route does not see requests a service worker answers: keep the demo's out of this test.
test.use({ serviceWorkers: 'block' })

test('hostile sections shown by the docs-search demo run nothing and link nowhere else', async ({ page, context }) => {
  const documents = PAYLOADS.map((payload, i) => ({
    id: `docs/p${i}.html#a${i}`,
    title: `${payload} heading ${i}`,
    text: `zebra marker ${i} ${payload} more text about zebra ${payload}`,
    metadata: { url: i % 3 === 0 ? payload : `docs/p${i}.html`, anchor: i % 2 === 0 ? payload : `a${i}`, page: `${payload} page ${i}`, path: [payload] },
  }))
  // Keyword-only: the demo's embedder differs, and a snapshot with another model's vectors is refused.
  const { manifest, files } = await buildSnapshot(documents, { embedder: null })
  const served = new Map(files.map((f: { path: string; bytes: Uint8Array }) => [f.path, f.bytes]))
  served.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)))
  await context.route('**/demo/docs-search/winnow-index/**', (route) => {
    const path = new URL(route.request().url()).pathname.split('/winnow-index/')[1]!
    const body = served.get(path)
    return body ? route.fulfill({ status: 200, body: Buffer.from(body) }) : route.fulfill({ status: 404, body: '' })
  })
  const dialogs: string[] = []
  const requests: string[] = []
  page.on('dialog', (d) => {
    dialogs.push(d.message())
    void d.dismiss()
  })
  context.on('request', (r) => requests.push(r.url()))

  await page.goto('/demo/docs-search/')
  await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error', null, { timeout: 90_000 })
  expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready')
  await page.locator('#q').fill('zebra')
  await page.waitForFunction(() => (window as any).docsSearch.lastResults().query === 'zebra' && (window as any).docsSearch.lastResults().stage === 'reranked')
  const shown = await page.locator('[data-result]').count()
  expect(shown).toBeGreaterThan(5)
  await page.evaluate(() => new Promise((r) => setTimeout(r, 1000)))

  const origin = new URL(page.url()).origin
  const report = await page.evaluate((origin) => {
    const root = document.getElementById('results')!
    const elements = [...root.querySelectorAll('*')]
    return {
      pwned: (window as any).__pwned ?? null,
      tags: [...new Set(elements.map((e) => e.tagName))].sort(),
      handlers: elements.filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).length,
      badLinks: [...root.querySelectorAll('a')].map((a) => a.href).filter((href) => !href.startsWith(origin + '/')),
      payloadText: root.textContent!.includes('<img src=x onerror='),
    }
  }, origin)
  writeFigures('hostile-docs', { summary: { 'hostile sections': documents.length, 'results shown': shown, 'scripts run': report.pwned === null ? 0 : 1 }, failures: report.pwned === null && report.handlers === 0 && report.badLinks.length === 0 ? 0 : 1 })
  expect(report.pwned).toBeNull()
  expect(report.handlers).toBe(0)
  expect(report.badLinks).toEqual([])
  expect(report.tags.every((t) => ['A', 'DIV', 'SPAN', 'MARK', 'P', 'H2', 'H3', 'SMALL', 'STRONG'].includes(t)), report.tags.join()).toBe(true)
  // The payloads are shown as text, which is the point.
  expect(report.payloadText).toBe(true)
  expect(dialogs).toEqual([])
  expect(requests.filter((u) => /\/x$/.test(new URL(u).pathname))).toEqual([])
})
