/**
 * Offline docs search: the project's docs, indexed at build time into a snapshot
 * (winnow-index/manifest.json + shards), imported into IndexedDB on the first visit and searched
 * in winnow's worker as you type: the first stage (keyword, or hybrid when the snapshot carries the
 * real embedder's vectors and the page has that embedder), shown at once, then the cross-encoder's
 * order. Models come from demo/models.ts's order; with random test weights the first-stage order
 * stays unless the random reranker is switched on. Hits are grouped by page and link to their
 * section's anchor. A service worker (sw.js, served as /docs-search-sw.js) keeps the page and the
 * visited docs pages offline.
 *
 * Document text (titles, headings, snippets, urls) is hostile input: it only ever reaches the DOM
 * as text nodes and checked same-origin links, never as HTML.
 */
import { createWinnow, WinnowError, type Collection, type SearchHit, type SearchRoute, type SnapshotProgress, type Winnow } from '../../src/index.ts'
import { chooseSource, deviceFromSearch, hubFromSearch, REAL_MODELS, vectorFloorFromSearch, winnowOptions, type ModelSource, type RealDtype, type Role } from '../models.ts'
import { ModelPanel } from '../panel.ts'
import { flatten, groupByPage, snippetParts, type PageGroup, type ResultItem } from './group.ts'
import { isAbortError, latestWins } from './latest.ts'
import { ORT_GLUE_URLS, registerOfflineWorker } from './offline.ts'
import { activeKey, EMPTY_SELECTION, reduceSelection, type SelectionAction, type SelectionState } from './selection.ts'
import { describeDevice, describeModelProgress, describeSnapshot, describeTimings } from './status.ts'

/** Which list is on screen: the first stage's, or the final (reranked) one. */
export type Stage = 'first' | 'reranked'

/** `window.docsSearch`: a small hook for tests and curious readers. */
export interface DocsSearchApi {
  /** Resolves when the index is searchable; rejects with the load error (then `data-state` is `'error'`). */
  ready: Promise<void>
  /**
   * The list on screen: which stage, for which query, and its sections best first (a section hit
   * in several passages is listed once, as on screen: `hits.length` is the count of `[data-result]`).
   */
  lastResults(): { stage: Stage; query: string; hits: { url: string; anchor: string; title: string }[]; route: SearchRoute['path'] | null }
  /** Every snapshot progress event so far, in order. */
  snapshotEvents: SnapshotProgress[]
}

declare global {
  interface Window {
    docsSearch: DocsSearchApi
  }
}

const DEBOUNCE_MS = 120
/** Snippets shown per section when several of its passages were hit. */
const MAX_SNIPPETS = 2
const SNAPSHOT_URL = new URL('winnow-index/manifest.json', location.href).href
/** The vector floor with the real embedder (demo/models.ts says why 0.3; `?minVectorScore=` tunes it). */
const MIN_VECTOR_SCORE = vectorFloorFromSearch(location.search)

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const ui = {
  form: $<HTMLFormElement>('search-form'),
  q: $<HTMLInputElement>('q'),
  modelLoad: $<HTMLDivElement>('model-load'),
  modelProgress: $<HTMLProgressElement>('model-progress'),
  modelText: $<HTMLSpanElement>('model-text'),
  snapshotLoad: $<HTMLDivElement>('snapshot-load'),
  snapshotProgress: $<HTMLProgressElement>('snapshot-progress'),
  snapshotText: $<HTMLSpanElement>('snapshot-text'),
  error: $<HTMLDivElement>('error'),
  errorText: $<HTMLParagraphElement>('error-text'),
  retry: $<HTMLButtonElement>('retry'),
  warning: $<HTMLParagraphElement>('warning'),
  device: $<HTMLSpanElement>('device'),
  timings: $<HTMLSpanElement>('timings'),
  snapshot: $<HTMLSpanElement>('snapshot'),
  stage: $<HTMLParagraphElement>('stage'),
  results: $<HTMLDivElement>('results'),
}

// ---- state --------------------------------------------------------------------------------------

const snapshotEvents: SnapshotProgress[] = []
/** Whether a version served when the latest snapshot event came (a first import vs. an update). */
let servingAtLastEvent = false
let shown: { stage: Stage; query: string; items: ResultItem[]; route: SearchRoute['path'] | null } = { stage: 'reranked', query: '', items: [], route: null }
let selection: SelectionState = EMPTY_SELECTION
/** Set once the collection is searchable: later snapshot events are background updates. */
let serving = false
/** The snapshot version that serves searches, once known. */
let servingVersion: string | null = null

const offline = registerOfflineWorker({ enabled: import.meta.env.PROD, extraUrls: () => [SNAPSHOT_URL, ...ORT_GLUE_URLS] })
/** The models this page loads: the reranker, and the embedder when the snapshot's vectors are the real one's. */
let roles: Role[] = ['reranker']
const panel = new ModelPanel({
  roles: ['reranker'],
  onUseHub: (dtype: RealDtype) => {
    const offer = panel.source?.kind === 'test' ? panel.source.offer : null
    if (offer) switchTo({ kind: 'hub', hub: offer, dtype, cached: false })
  },
  onRandomRerank: () => {
    if (ui.q.value.trim() !== '') searchNow(ui.q.value.trim())
  },
})
let instance: Winnow | null = null
/** The collection searches use: the latest load's. */
let loading: Promise<Collection> = start()
const ready = loading.then(() => undefined)
ready.catch(() => {}) // the failure is shown on the page; `ready` still rejects for whoever awaits it

window.docsSearch = {
  ready,
  lastResults: () => ({
    stage: shown.stage,
    query: shown.query,
    route: shown.route,
    // Best first (the order search() returned), not the grouped display order.
    hits: [...shown.items].sort((a, b) => a.rank - b.rank).map(({ url, anchor, title }) => ({ url, anchor, title })),
  }),
  snapshotEvents,
}

// ---- loading ------------------------------------------------------------------------------------

function describe(error: unknown): string {
  return error instanceof WinnowError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error)
}

/** The embedder whose vectors the snapshot carries (null: keyword only, or unreadable). */
async function snapshotEmbedder(): Promise<string | null> {
  try {
    const manifest = (await (await fetch(SNAPSHOT_URL)).json()) as { collection?: { embedder?: { model?: unknown } | null } }
    const model = manifest.collection?.embedder?.model
    return typeof model === 'string' ? model : null
  } catch {
    return null // winnow reads it again and says what is wrong
  }
}

async function start(): Promise<Collection> {
  // The real embedder only pays off when the snapshot holds its vectors; else keyword + reranker.
  if ((await snapshotEmbedder()) === REAL_MODELS.embedder) roles = ['reranker', 'embedder']
  panel.setRoles(roles)
  const hub = hubFromSearch(location.search, location.href)
  const base = new URL('/models/', location.href).href
  return load(await chooseSource({ roles, base, hub }, { fetch: (...args) => fetch(...args), caches: globalThis.caches }))
}

/** Loads the hub's models in place of the test ones; searches wait for it, then use them. */
function switchTo(source: ModelSource): void {
  const previous = loading
  const next = previous.catch(() => null).then(() => load(source))
  loading = next
  next.catch(() => {}) // shown on the page
}

async function load(source: ModelSource): Promise<Collection> {
  panel.show(source)
  panel.busy(true)
  ui.modelLoad.hidden = false
  ui.modelProgress.value = 0
  ui.modelText.textContent = 'Starting…'
  document.body.dataset.state = 'loading'
  ui.error.hidden = true
  ui.q.disabled = false
  try {
    await instance?.dispose()
    instance = null
    const winnow = await createWinnow({
      ...winnowOptions(source, roles),
      device: deviceFromSearch(location.search),
      onProgress: (e) => {
        panel.record(e)
        ui.modelProgress.value = e.overall
        ui.modelText.textContent = describeModelProgress(e)
      },
    })
    instance = winnow
    ui.modelLoad.hidden = true
    const device = describeDevice(winnow.device)
    ui.device.textContent = device.text
    ui.device.title = device.title
    ui.device.dataset.kind = winnow.device.kind
    const docs = await winnow.collection('docs', { snapshot: SNAPSHOT_URL, onSnapshotProgress })
    serving = true
    renderSnapshot()
    void docs.info().then(
      (info) => {
        // An import that finished meanwhile already said which version serves.
        if (info.snapshot && !snapshotEvents.some((e) => e.phase === 'done' && (e.outcome === 'imported' || e.outcome === 'unchanged'))) servingVersion = info.snapshot.version
        renderSnapshot()
      },
      () => {},
    )
    document.body.dataset.state = 'ready'
    offline.postLoaded()
    // Typed before the index (or these models) were ready: search now.
    if (ui.q.value.trim() !== '') searchNow(ui.q.value.trim())
    return docs
  } catch (error) {
    showLoadError(error)
    throw error
  } finally {
    panel.busy(false)
  }
}

function onSnapshotProgress(event: SnapshotProgress): void {
  snapshotEvents.push(event)
  servingAtLastEvent = serving
  if (event.phase === 'done' && (event.outcome === 'imported' || event.outcome === 'unchanged') && event.version) servingVersion = event.version
  renderSnapshot()
  // A background update took over: the list on screen came from the old version.
  if (serving && event.phase === 'done' && event.outcome === 'imported' && ui.q.value.trim() !== '') searchNow(ui.q.value.trim())
}

function renderSnapshot(): void {
  const event = snapshotEvents[snapshotEvents.length - 1] ?? null
  const view = describeSnapshot(event, { serving: event ? servingAtLastEvent : serving, version: servingVersion })
  ui.snapshot.textContent = view.text
  if (event) ui.snapshot.dataset.phase = event.phase
  if (event?.outcome) ui.snapshot.dataset.outcome = event.outcome
  if (servingVersion) ui.snapshot.dataset.version = servingVersion
  ui.snapshotText.textContent = view.text
  ui.snapshotLoad.hidden = view.progress === undefined
  if (view.progress === null) ui.snapshotProgress.removeAttribute('value') // indeterminate
  else if (view.progress !== undefined) ui.snapshotProgress.value = view.progress
  ui.warning.hidden = view.warning === null
  ui.warning.textContent = view.warning ?? ''
}

function showLoadError(error: unknown): void {
  document.body.dataset.state = 'error'
  ui.modelLoad.hidden = true
  ui.snapshotLoad.hidden = true
  const code = error instanceof WinnowError ? error.code : 'UNKNOWN'
  ui.error.dataset.code = code
  const advice =
    code === 'SNAPSHOT_INVALID'
      ? 'The search index of this site could not be imported: it is damaged, unreachable, or built for another version of winnow. Reload later; if it keeps failing, the site needs rebuilding.'
      : code === 'MODEL_LOAD_FAILED'
        ? 'The search models could not be loaded. Check the connection (the first visit downloads them), then reload.'
        : code === 'STORAGE_UNAVAILABLE' || code === 'STORAGE_FULL'
          ? 'This browser would not store the search index (private mode, or no space left). Free some space or leave private mode, then reload.'
          : 'Search could not start. Reload to try again.'
  ui.errorText.textContent = `${advice} (${describe(error)})`
  ui.error.hidden = false
  ui.warning.hidden = true
  ui.stage.textContent = ''
  ui.q.disabled = true // nothing to search: the way on is the reload button
  ui.q.setAttribute('aria-expanded', 'false')
}

// ---- searching ----------------------------------------------------------------------------------

const searches = latestWins<string>({
  delayMs: DEBOUNCE_MS,
  isAbort: (error) => (error instanceof WinnowError ? error.code === 'ABORTED' : isAbortError(error)),
  run: async (query, { signal, isLatest }) => {
    const docs = await loading.catch(() => null)
    if (!docs || !isLatest()) return // a load failure is on the page already
    ui.results.setAttribute('aria-busy', 'true')
    try {
      // No mode: hybrid when the snapshot has vectors (and this page their embedder), else keyword
      // (which ignores the vector floor).
      const reranking = panel.reranking
      const results = await docs.search(query, {
        k: 10,
        candidates: 50,
        minVectorScore: MIN_VECTOR_SCORE,
        rerank: reranking,
        maxPerDocument: 3,
        snippet: { length: 160, windows: 2 },
        signal,
        onFirstStage: (hits) => {
          if (isLatest() && reranking) render(query, hits, 'first', null)
        },
      })
      if (!isLatest()) return
      render(query, results, 'reranked', results.route)
      ui.timings.textContent = describeTimings(results.route.timings, results.route.path)
      ui.timings.title = results.route.reason
    } finally {
      if (isLatest()) ui.results.removeAttribute('aria-busy')
    }
  },
  onError: (error) => {
    ui.results.removeAttribute('aria-busy')
    ui.stage.dataset.stage = 'error'
    ui.stage.textContent = `Search failed: ${describe(error)}`
  },
})

function clearResults(): void {
  searches.cancel()
  ui.results.removeAttribute('aria-busy')
  render('', [], 'reranked', null)
  ui.stage.textContent = ''
}

/** The query last handed to `searches` ('' after clearing): a trailing space is not a new search. */
let lastQuery = ''

function onInput(): void {
  const query = ui.q.value.trim()
  if (query === lastQuery) return
  lastQuery = query
  if (query === '') clearResults()
  else searches.schedule(query)
}

/** Searches `query` now, skipping the debounce (Enter, the index ready or updated). */
function searchNow(query: string): void {
  lastQuery = query
  void searches.runNow(query)
}

// ---- rendering ----------------------------------------------------------------------------------

function render(query: string, hits: readonly SearchHit[], stage: Stage, route: SearchRoute | null): void {
  const groups = groupByPage(hits, location.href)
  const items = flatten(groups)
  shown = { stage, query, items, route: route?.path ?? null }
  ui.results.dataset.stage = query === '' ? 'none' : stage
  ui.results.dataset.query = query
  ui.results.replaceChildren(...groups.map(renderGroup))
  ui.stage.dataset.stage = stage
  ui.stage.textContent = describeStage(query, items.length, groups.length, stage, route)
  ui.q.setAttribute('aria-expanded', String(items.length > 0))
  select({ type: 'replace', keys: items.map((item) => item.key) })
}

function describeStage(query: string, results: number, pages: number, stage: Stage, route: SearchRoute | null): string {
  if (query === '') return ''
  if (results === 0) return stage === 'first' ? 'Searching…' : `No results for “${query}”.`
  const count = `${results} section${results === 1 ? '' : 's'} on ${pages} page${pages === 1 ? '' : 's'}`
  if (stage === 'first') return `${count} — first-stage results, reranking…`
  const random = panel.source?.kind === 'test'
  if (route?.path === 'reranked' || route?.path === 'budget') return `${count} — reranked by the ${random ? 'random test reranker (meaningless order)' : 'cross-encoder'}`
  if (random) return `${count} — keyword (BM25) order: the random test reranker is off`
  return `${count} — first-stage order (${route?.reason ?? 'not reranked'})`
}

let groupCounter = 0

function renderGroup(group: PageGroup): HTMLElement {
  const section = document.createElement('div')
  section.className = 'page'
  section.setAttribute('role', 'group')
  section.dataset.page = group.url
  const title = document.createElement('div')
  title.className = 'page-title'
  title.id = `page-${groupCounter++}`
  title.textContent = group.page
  section.setAttribute('aria-labelledby', title.id)
  section.append(title, ...group.items.map((item) => renderItem(item)))
  return section
}

function renderItem(item: ResultItem): HTMLElement {
  // An <a role="option">: a real link for the mouse and for "open in new tab", an option for the
  // listbox. A section whose URL is not a safe same-origin link is no link at all: a <div>.
  const option = item.href !== null ? Object.assign(document.createElement('a'), { href: item.href }) : document.createElement('div')
  option.className = 'result'
  option.id = `result-${item.rank}`
  option.setAttribute('role', 'option')
  option.setAttribute('aria-selected', 'false')
  option.tabIndex = -1 // the search box keeps focus; arrows move aria-activedescendant
  option.dataset.result = ''
  option.dataset.key = item.key
  option.dataset.url = item.url
  option.dataset.anchor = item.anchor
  option.dataset.rank = String(item.rank + 1)
  if (item.href === null) option.setAttribute('aria-disabled', 'true')
  const heading = document.createElement('span')
  heading.className = 'section-title'
  heading.textContent = item.title
  option.append(heading)
  if (item.breadcrumb.length > 0) {
    const crumbs = document.createElement('span')
    crumbs.className = 'crumbs'
    crumbs.textContent = item.breadcrumb.join(' › ')
    option.append(crumbs)
  }
  for (const source of item.snippets.slice(0, MAX_SNIPPETS)) {
    const snippet = document.createElement('span')
    snippet.className = 'snippet'
    // Text nodes and <mark> elements only: the document's own markup stays text.
    for (const part of snippetParts(source)) {
      if (part.mark) snippet.append(Object.assign(document.createElement('mark'), { textContent: part.text }))
      else snippet.append(document.createTextNode(part.text))
    }
    option.append(snippet)
  }
  return option
}

// ---- keyboard -----------------------------------------------------------------------------------

function optionOf(key: string | null): HTMLElement | null {
  if (key === null) return null
  for (const el of ui.results.querySelectorAll<HTMLElement>('[data-result]')) if (el.dataset.key === key) return el
  return null
}

function select(action: SelectionAction): void {
  const before = optionOf(activeKey(selection))
  selection = reduceSelection(selection, action)
  const after = optionOf(activeKey(selection))
  if (before && before !== after) before.setAttribute('aria-selected', 'false')
  if (after) {
    after.setAttribute('aria-selected', 'true')
    ui.q.setAttribute('aria-activedescendant', after.id)
    if (action.type !== 'replace') after.scrollIntoView({ block: 'nearest' })
  } else {
    ui.q.removeAttribute('aria-activedescendant')
  }
}

function onSearchKey(event: KeyboardEvent): void {
  if (event.isComposing || event.altKey || event.ctrlKey || event.metaKey) return
  switch (event.key) {
    case 'ArrowDown':
      event.preventDefault()
      select({ type: 'next' })
      break
    case 'ArrowUp':
      event.preventDefault()
      select({ type: 'previous' })
      break
    case 'Enter': {
      event.preventDefault()
      const option = optionOf(activeKey(selection))
      if (option) {
        if (option instanceof HTMLAnchorElement) option.click()
      } else if (ui.q.value.trim() !== '') {
        searchNow(ui.q.value.trim()) // no waiting for the debounce
      }
      break
    }
    case 'Escape':
      // First Escape: drop the selection. With none: clear the search (the combobox pattern).
      event.preventDefault()
      if (activeKey(selection) !== null) select({ type: 'clear' })
      else if (ui.q.value !== '') {
        ui.q.value = ''
        onInput()
      }
      break
  }
}

function isEditable(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement)
}

ui.q.addEventListener('input', onInput)
ui.q.addEventListener('keydown', onSearchKey)
ui.form.addEventListener('submit', (event) => event.preventDefault())
document.addEventListener('keydown', (event) => {
  if (event.key !== '/' || event.altKey || event.ctrlKey || event.metaKey || isEditable(event.target)) return
  event.preventDefault()
  ui.q.focus()
  ui.q.select()
})
ui.retry.addEventListener('click', () => location.reload())

// A link to this page with ?q= searches at once (once the index is ready).
const initial = new URLSearchParams(location.search).get('q')
if (initial) {
  ui.q.value = initial
  onInput()
}
