/**
 * Offline docs search: the project's docs, indexed at build time into a snapshot
 * (winnow-index/manifest.json + shards), imported into IndexedDB on the first visit and searched
 * in winnow's worker as you type: hybrid first stage, shown at once, then the cross-encoder's
 * order. Hits are grouped by page and link to their section's anchor. A service worker
 * (sw.js, served as /docs-search-sw.js) keeps the page and the visited docs pages offline.
 *
 * Document text (titles, headings, snippets, urls) is hostile input: it only ever reaches the DOM
 * as text nodes and checked same-origin links, never as HTML.
 */
import { createWinnow, WinnowError, type Collection, type SearchHit, type SearchRoute, type SnapshotProgress } from '../../src/index.ts'
import { flatten, groupByPage, snippetParts, type PageGroup, type ResultItem } from './group.ts'
import { isAbortError, latestWins } from './latest.ts'
import { registerOfflineWorker } from './offline.ts'
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
const MODELS = { reranker: 'tiny-random-cross-encoder', embedder: 'tiny-random-embedder' }
const SNAPSHOT_URL = new URL('winnow-index/manifest.json', location.href).href

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

const offline = registerOfflineWorker({ enabled: import.meta.env.PROD, extraUrls: () => [SNAPSHOT_URL] })
const loading = load()
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

async function load(): Promise<Collection> {
  try {
    const winnow = await createWinnow({
      reranker: { model: MODELS.reranker },
      embedder: { model: MODELS.embedder },
      modelBaseUrl: '/models/',
      onProgress: (e) => {
        ui.modelProgress.value = e.overall
        ui.modelText.textContent = describeModelProgress(e)
      },
    })
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
    // Typed before the index was ready: search now.
    if (ui.q.value.trim() !== '') searchNow(ui.q.value.trim())
    return docs
  } catch (error) {
    showLoadError(error)
    throw error
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
      const results = await docs.search(query, {
        k: 10,
        // No mode: hybrid when the snapshot has vectors (and this page their embedder), else keyword.
        candidates: 50,
        rerank: true,
        maxPerDocument: 3,
        snippet: { length: 160, windows: 2 },
        signal,
        onFirstStage: (hits) => {
          if (isLatest()) render(query, hits, 'first', null)
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
  if (results === 0) return stage === 'first' ? 'Searching…' : `Nothing found for “${query}”.`
  const count = `${results} section${results === 1 ? '' : 's'} on ${pages} page${pages === 1 ? '' : 's'}`
  if (stage === 'first') return `${count} — first-stage results, reranking…`
  if (route?.path === 'reranked' || route?.path === 'budget') return `${count} — reranked by the cross-encoder`
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
  // An <a role="option">: a real link for the mouse and for "open in new tab", an option for the listbox.
  const option = document.createElement('a')
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
  if (item.href !== null) option.href = item.href
  else option.setAttribute('aria-disabled', 'true')
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

function optionOf(key: string | null): HTMLAnchorElement | null {
  if (key === null) return null
  for (const el of ui.results.querySelectorAll<HTMLAnchorElement>('[data-result]')) if (el.dataset.key === key) return el
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
        if (option.href) option.click()
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
