/**
 * winnow and its three demos under a strict Content-Security-Policy and Trusted Types (issue #22):
 * the built app (dist-app, or $WINNOW_TEST_DIST) served by test/browser/csp-server.ts with COOP,
 * COEP and
 *   default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self';
 *   style-src 'self'; require-trusted-types-for 'script'; trusted-types winnow-rerank [winnow-demo]
 * on every response (page, scripts, workers, onnxruntime's files, the service worker) — no blob:,
 * no data:, no 'unsafe-eval', no 'unsafe-inline'. Every test asserts that no violation happened
 * anywhere: the page's securitypolicyviolation events, and the reports of every context (winnow's
 * worker, onnxruntime's thread workers, the service worker) through report-uri. The last tests
 * break the policy on purpose: they show the reports do arrive, and what winnow says then.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test, type BrowserContext, type Page } from '@playwright/test'
import { collectErrors, DEMOS, demoModels, probeUrls, unexpectedErrors, waitLoaded, waitOfflineReady } from './demo-helpers.js'
import { startCspServer, STRICT_CSP, type CspReport, type CspServer } from './csp-server.js'
import { crossEncoderReference, maxAbsDiff, TINY } from './helpers.js'

const DIST = process.env.WINNOW_TEST_DIST ?? 'dist-app'
/** The library alone: winnow's policy is the only one the page needs. */
const LIB_CSP = `${STRICT_CSP}; require-trusted-types-for 'script'; trusted-types winnow-rerank`
/** The demos: winnow's policy, and theirs (demo/trustedTypes.ts: pdf.js's worker, DOMParser, the service worker). */
const DEMO_CSP = `${STRICT_CSP}; require-trusted-types-for 'script'; trusted-types winnow-rerank winnow-demo`

let server: CspServer

test.beforeAll(async () => {
  server = await startCspServer({ root: DIST, csp: DEMO_CSP })
})
test.afterAll(async () => {
  await server?.close()
})

/** Records the page's securitypolicyviolation events (before any script of the page runs). */
async function watchPage(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const seen: string[] = []
    ;(window as unknown as { cspViolations: string[] }).cspViolations = seen
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`))
  })
}

function pageViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)
}

/** The reports since `from`, shortly: each context POSTs its own, in a task of its own. */
async function reportsSince(from: number): Promise<CspReport[]> {
  // report-uri reports are sent as they happen; a short settle lets a late one land (not a timing assertion:
  // a report that arrives later still fails the next test's check).
  await new Promise((resolve) => setTimeout(resolve, 300))
  return server.reports.slice(from)
}

const describe = (reports: CspReport[]) => reports.map((r) => `${r['effective-directive']} ${r['blocked-uri']} in ${r['document-uri']} (${r['source-file']})`)

test.describe('under the strict policy', () => {
  let mark = 0
  test.beforeEach(async ({ context }) => {
    server.setCsp(DEMO_CSP)
    mark = server.reports.length
    await watchPage(context)
  })
  test.afterEach(async ({ page }) => {
    expect(describe(await reportsSince(mark)), 'CSP violation reports').toEqual([])
    if (page.url().startsWith(server.url)) expect(await pageViolations(page), 'securitypolicyviolation events on the page').toEqual([])
  })

  test('the library: WASM with threads and WebGPU rerank as the PyTorch reference; a collection is searched; highlightNodes renders the snippet', async ({ page }) => {
    server.setCsp(LIB_CSP)
    const collected = collectErrors(page)
    await page.goto(`${server.url}/test/browser/pages/harness.html`)
    await page.waitForFunction(() => (window as unknown as { harnessReady?: boolean }).harnessReady === true)
    const run = await page.evaluate(
      async ({ pairs, model }) => {
        const api = (window as any).winnowApi
        const out: Record<string, unknown> = { isolated: crossOriginIsolated }
        for (const device of ['wasm', 'webgpu']) {
          const winnow = await api.createWinnow({ reranker: { model, dtype: 'fp32' }, embedder: { model: 'tiny-random-embedder', dtype: 'fp32' }, device })
          const logits: number[] = []
          for (const p of pairs) logits.push((await winnow.rerank(p.query, [p.document]))[0].logit)
          const docs = await winnow.collection(`csp-${device}`)
          await docs.clear()
          await docs.add([
            { id: 'lens', text: 'The Fresnel lens of the lighthouse throws its beam across the bay.' },
            { id: 'bread', text: 'Feed the levain twice a day before baking sourdough bread.' },
            { id: 'garden', text: 'Vermicompost feeds the tomatoes in the garden beds.' },
          ])
          // The keyword side finds one document, the reranker scores it; the hybrid search embeds the query too.
          const hits = await docs.search('levain', { k: 2, mode: 'keyword', rerank: true })
          const hybrid = await docs.search('levain', { k: 3, mode: 'hybrid', rerank: true })
          out[device] = { device: winnow.device, logits, hits: hits.map((h: any) => h.id), hybrid: hybrid.map((h: any) => h.id).sort(), snippet: hits[0]?.snippet }
          await winnow.dispose()
        }
        // Under Trusted Types, highlightNodes() renders the snippet without an HTML string.
        const target = document.createElement('p')
        document.body.append(target)
        target.replaceChildren(api.highlightNodes((out.wasm as { snippet: unknown }).snippet))
        out.rendered = { text: target.textContent, marks: [...target.querySelectorAll('mark')].map((m) => m.textContent) }
        return out
      },
      { pairs: crossEncoderReference(), model: TINY },
    )
    const reference = crossEncoderReference().map((p) => p.logit)
    const wasm = run.wasm as { device: { kind: string; threads: number }; logits: number[]; hits: string[]; snippet: { text: string } }
    const webgpu = run.webgpu as typeof wasm & { device: { adapter?: { isFallbackAdapter: boolean } } }
    expect(run.isolated).toBe(true)
    expect(wasm.device.kind).toBe('wasm')
    expect(wasm.device.threads).toBeGreaterThan(1) // onnxruntime's thread workers started from /ort/, not blob:
    expect(maxAbsDiff(wasm.logits, reference)).toBeLessThan(1e-4)
    expect(webgpu.device.kind).toBe('webgpu')
    expect(maxAbsDiff(webgpu.logits, reference)).toBeLessThan(1e-3)
    for (const r of [wasm, webgpu]) {
      expect(r.hits).toEqual(['bread'])
      expect((r as unknown as { hybrid: string[] }).hybrid).toEqual(['bread', 'garden', 'lens'])
    }
    expect(run.rendered).toEqual({ text: wasm.snippet.text, marks: ['levain'] })
    // The harness page names no icon, so the browser asks for /favicon.ico, which this server lacks.
    expect(unexpectedErrors(collected, server.url).filter((e) => !e.includes('/favicon.ico'))).toEqual([])
    // No blob: anywhere: onnxruntime's glue and its thread workers came from /ort/.
    expect(server.requests.filter((u) => u.startsWith('/ort/'))).toEqual(expect.arrayContaining(['/ort/ort-wasm-simd-threaded.mjs', '/ort/ort-wasm-simd-threaded.asyncify.mjs']))
  })

  for (const device of ['wasm', 'webgpu'] as const) {
    test(`reranking playground on ${device}: loads the model and reranks`, async ({ page }) => {
      const collected = collectErrors(page)
      await page.goto(`${server.url}${DEMOS.main}?hub=off&device=${device}`)
      await waitLoaded(page, 'main')
      await expect(page.locator('#model-status')).toContainText(new RegExp(`tiny-random-cross-encoder \\(q\\d\\) on ${device}`))
      await page.check('#random-rerank')
      await expect(page.locator('#results')).toHaveAttribute('data-order', 'reranked')
      await expect(page.locator('#results li .score')).toHaveCount(5)
      await page.fill('#passages', '<img src=x onerror="window.injected=1">\nplain passage')
      await page.locator('#query').press('Enter')
      await expect(page.locator('#results li')).toHaveCount(2)
      await expect(page.locator('#results')).toContainText('<img src=x')
      expect(unexpectedErrors(collected, server.url)).toEqual([])
    })

    test(`private RAG on ${device}: indexes HTML, PDF, markdown and text, answers with highlighted passages`, async ({ page }) => {
      test.setTimeout(240_000)
      const collected = collectErrors(page)
      await page.goto(`${server.url}${DEMOS.rag}?hub=off&device=${device}`)
      await waitLoaded(page, 'rag')
      await expect(page.locator('#model-status')).toContainText(`on ${device}`)
      await page.setInputFiles('#file-input', ['garden.txt', 'sourdough.md', 'lighthouse.html', 'observatory.pdf'].map((f) => join('test/fixtures/rag', f)))
      await expect(page.locator('#index-status')).toContainText(/^Indexed 4 files into \d+ passages\.$/)
      await expect(page.locator('#file-list li[data-file="observatory.pdf"]')).toContainText('2 pages') // pdf.js ran, in its worker
      for (const [question, word, file] of [
        ['Is there a heliostat?', 'heliostat', 'observatory.pdf'],
        ['Where is the Fresnel lens?', 'fresnel', 'lighthouse.html'],
      ] as const) {
        const before = Number((await page.locator('#passages').getAttribute('data-answered')) ?? 0)
        await page.fill('#question', question)
        await page.click('#ask')
        await expect(page.locator('#passages')).toHaveAttribute('data-answered', String(before + 1))
        const marks = await page.locator(`#passages li[data-file="${file}"] .snippet mark`).allTextContents()
        expect(marks.map((m) => m.toLowerCase())).toContain(word)
      }
      expect(await page.locator('#passages img').count()).toBe(0)
      expect(unexpectedErrors(collected, server.url)).toEqual([])
    })
  }

  test('docs search: its service worker registers under the policy, searches, and searches again offline', async ({ page, context }) => {
    test.setTimeout(240_000)
    const collected = collectErrors(page)
    await page.goto(`${server.url}${DEMOS['docs-search']}?hub=off`)
    await waitLoaded(page, 'docs-search')
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 })
    const search = async (query: string) => {
      await page.locator('#q').fill(query)
      await page.waitForFunction((q) => {
        const r = (window as any).docsSearch.lastResults()
        return r.query === q && r.stage === 'reranked'
      }, query)
      return page.evaluate(() => (window as any).docsSearch.lastResults().hits.map((h: { url: string; anchor: string }) => `${h.url}#${h.anchor}`) as string[])
    }
    const online = await search('cross-origin isolated')
    expect(online.length).toBeGreaterThan(0)
    await waitOfflineReady(page)
    // The page posted onnxruntime's glue URLs to the service worker too (winnow's worker fetched them, not the page).
    await page.waitForFunction(async () => {
      for (const key of (await caches.keys()).filter((k) => k.startsWith('docs-search-'))) {
        if (await (await caches.open(key)).match(new URL('/ort/ort-wasm-simd-threaded.mjs', location.href).href)) return true
      }
      return false
    })
    // Offline, the page, winnow's worker and onnxruntime's glue come from the service worker: no blob: needed.
    await context.setOffline(true)
    await page.reload()
    await waitLoaded(page, 'docs-search')
    expect((await demoModels(page)).source).toMatchObject({ kind: 'test' })
    expect(await search('cross-origin isolated')).toEqual(online)
    await context.setOffline(false)
    // Offline, the page's probe for self-hosted real models fails as a network error instead of a 404.
    const probes = probeUrls(server.url)
    const offlineProbes = { ...collected, errors: collected.errors.filter((m) => !(probes.includes(m.location().url) && /ERR_INTERNET_DISCONNECTED/.test(m.text()))) }
    expect(unexpectedErrors(offlineProbes, server.url, 2)).toEqual([])
  })
})

test.describe('when a policy blocks winnow', () => {
  test.beforeEach(async ({ context }) => {
    await watchPage(context)
  })

  /** createWinnow's rejection, as data. */
  async function createFails(page: Page, options: Record<string, unknown>): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
    return page.evaluate(async (options) => {
      const api = (window as any).winnowApi
      try {
        const winnow = await api.createWinnow({ reranker: { model: 'tiny-random-cross-encoder' }, ...options })
        await winnow.dispose()
        return { code: 'resolved', message: '', details: {} }
      } catch (e: any) {
        return { code: e instanceof api.WinnowError ? e.code : `not a WinnowError: ${e}`, message: String(e.message), details: e.details ?? {} }
      }
    }, options)
  }

  async function openHarness(page: Page): Promise<void> {
    await page.goto(`${server.url}/test/browser/pages/harness.html`)
    await page.waitForFunction(() => (window as unknown as { harnessReady?: boolean }).harnessReady === true)
  }

  test("without 'wasm-unsafe-eval': CSP_BLOCKED names WebAssembly, script-src and the worker whose policy refused it", async ({ page }) => {
    const mark = server.reports.length
    server.setCsp("default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self'; style-src 'self'")
    await openHarness(page)
    const error = await createFails(page, { device: 'wasm' })
    expect(error.code).toBe('CSP_BLOCKED')
    expect(error.details).toMatchObject({ blockedUri: 'wasm-eval', directive: 'script-src' })
    expect(String(error.details.policyOf)).toMatch(/\/assets\/worker-[\w-]+\.js$/) // the worker's own policy
    expect(error.message).toContain("add 'wasm-unsafe-eval' to script-src")
    // The same violation reached report-uri from the worker: what the strict tests see is real.
    expect((await reportsSince(mark)).some((r) => r['blocked-uri'] === 'wasm-eval' && /\/assets\/worker-/.test(r['document-uri'] ?? ''))).toBe(true)
  })

  test("worker-src 'none': CSP_BLOCKED names winnow's worker script and worker-src, not a bare WORKER_CRASHED", async ({ page }) => {
    server.setCsp("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'none'; connect-src 'self'; style-src 'self'")
    await openHarness(page)
    const error = await createFails(page, { device: 'wasm' })
    expect(error.code).toBe('CSP_BLOCKED')
    expect(error.details.directive).toBe('worker-src')
    expect(String(error.details.blockedUri)).toMatch(/\/assets\/worker-[\w-]+\.js$/)
    expect(error.message).toContain("add 'self' to worker-src")
  })

  test("Trusted Types without winnow's policy name: CSP_BLOCKED at once, naming trusted-types and winnow-rerank", async ({ page }) => {
    server.setCsp(`${STRICT_CSP}; require-trusted-types-for 'script'; trusted-types some-other-policy`)
    await openHarness(page)
    const error = await createFails(page, { device: 'wasm' })
    expect(error.code).toBe('CSP_BLOCKED')
    expect(error.details).toMatchObject({ directive: 'trusted-types', blockedUri: 'trusted-types-policy' })
    expect(error.message).toContain('add winnow-rerank to the trusted-types directive')
  })

  test('a page that requires Trusted Types refuses highlight() for innerHTML, and takes highlightNodes()', async ({ page }) => {
    server.setCsp(LIB_CSP)
    await openHarness(page)
    const result = await page.evaluate(() => {
      const api = (window as any).winnowApi
      const snippet = { text: 'Pipes <leak>', highlights: [[7, 11]] }
      const target = document.createElement('p')
      let refused = ''
      try {
        target.innerHTML = api.highlight(snippet)
      } catch (e) {
        refused = (e as Error).name
      }
      target.replaceChildren(api.highlightNodes(snippet, { className: 'hit' }))
      return { refused, html: target.innerHTML }
    })
    expect(result).toEqual({ refused: 'TypeError', html: 'Pipes &lt;<mark class="hit">leak</mark>&gt;' })
  })

  test("the app's own TrustedScriptURL as workerUrl starts the worker without winnow's policy, with one thread (onnxruntime's thread workers would need it in the worker), and nothing is reported", async ({ page }) => {
    const mark = server.reports.length
    server.setCsp(`${STRICT_CSP}; require-trusted-types-for 'script'; trusted-types app`)
    await openHarness(page)
    const worker = readdirSync(join(DIST, 'assets')).find((f) => /^worker-[\w-]+\.js$/.test(f))!
    const result = await page.evaluate(async (worker) => {
      const api = (window as any).winnowApi
      const policy = (window as any).trustedTypes.createPolicy('app', { createScriptURL: (s: string) => s })
      const winnow = await api.createWinnow({ reranker: { model: 'tiny-random-cross-encoder' }, device: 'wasm', threads: 1, workerUrl: policy.createScriptURL(`/assets/${worker}`) })
      const ranked = await winnow.rerank('q', ['a', 'b'])
      await winnow.dispose()
      return ranked.length
    }, worker)
    expect(result).toBe(2)
    expect(describe(await reportsSince(mark))).toEqual([])
    expect(await pageViolations(page)).toEqual([])
  })

  test('offline without a service worker: the cached glue from a blob: URL, which a policy without blob: refuses, and CSP_BLOCKED says how to fix it', async ({ page, context }) => {
    server.setCsp(LIB_CSP)
    await openHarness(page)
    // A first visit online caches onnxruntime's files.
    expect((await createFails(page, { device: 'wasm' })).code).toBe('resolved')
    // The glue's own URL unreachable, as offline without a service worker.
    await context.route('**/ort/*.mjs', (route) => route.abort('internetdisconnected'))
    const error = await createFails(page, { device: 'wasm' })
    expect(error.code).toBe('CSP_BLOCKED')
    expect(String(error.details.blockedUri)).toMatch(/^blob/)
    expect(error.message).toContain("serve wasmBaseUrl from a service worker's cache, or add blob: to")
  })
})
