/**
 * The private RAG demo: files → text (on the page; PDFs in pdf.js's worker) → chunked and embedded
 * in winnow's worker → a persistent collection. A question → hybrid retrieval → rerank → passages
 * and the prompt a local LLM would get. A host page may plug an LLM in through
 * `window.winnowRag.setGenerator(fn)` (README.md next to this file).
 */
import { createWinnow, highlightNodes, WinnowError, type Collection, type SearchHit, type SearchOptions, type SearchRoute, type Winnow } from '../../src/index.ts'
import { chooseSource, deviceFromSearch, hubFromSearch, vectorFloorFromSearch, winnowOptions, type ModelSource, type RealDtype } from '../models.ts'
import { ModelPanel } from '../panel.ts'
import { parseInertHtml, sameOriginScriptUrl } from '../trustedTypes.ts'
import { assembleContext, mergeOverlapping } from './context.ts'
import { describePosition, formatBytes, indexProgress, type IndexPhase } from './format.ts'
import { runGenerator, type Generator } from './generator.ts'
import { readManifest, saveManifest, upsertManifest, type ManifestEntry } from './manifest.ts'
import { EXTENSIONS, parseFile, type HtmlNode, type ParsedFile, type PdfLib } from './parse.ts'

/** Every localStorage key of the demo starts with this ("Forget everything" removes them). */
const STORAGE_PREFIX = 'winnow-rag:'
const ROLES = ['reranker', 'embedder'] as const
/** The vector floor with the real embedder (demo/models.ts says why 0.3; `?minVectorScore=` tunes it). */
const MIN_VECTOR_SCORE = vectorFloorFromSearch(location.search)
/** One collection per embedder: vectors of one model mean nothing to another. */
const COLLECTION_PREFIX = 'rag:'
/** Cache API caches filled on this page: transformers.js's model files and winnow's model JSON. */
const DEMO_CACHES = [/^transformers-cache$/, /^experimental_transformers-hash-cache$/, /^winnow-/]

/** What `window.winnowRag` offers a host page. */
export interface WinnowRagApi {
  /** Plugs in a local LLM (or `null` to unplug): it gets each assembled prompt, and its answer is shown. */
  setGenerator(generate: Generator | null): void
  /** The prompt assembled for the last question ('' before any). */
  readonly prompt: string
  /** The phases the last indexing went through, in order (for tests and curious hosts). */
  readonly indexPhases: readonly IndexPhase[]
}

declare global {
  interface Window {
    winnowRag: WinnowRagApi
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const ui = {
  modelProgress: $<HTMLProgressElement>('model-progress'),
  modelStatus: $<HTMLOutputElement>('model-status'),
  dropzone: $<HTMLLabelElement>('dropzone'),
  fileInput: $<HTMLInputElement>('file-input'),
  indexProgress: $<HTMLProgressElement>('index-progress'),
  indexStatus: $<HTMLOutputElement>('index-status'),
  skipped: $<HTMLUListElement>('skipped'),
  count: $<HTMLParagraphElement>('collection-count'),
  fileList: $<HTMLUListElement>('file-list'),
  storage: $<HTMLSpanElement>('storage'),
  persist: $<HTMLButtonElement>('persist'),
  forget: $<HTMLButtonElement>('forget'),
  forgetStatus: $<HTMLOutputElement>('forget-status'),
  askForm: $<HTMLFormElement>('ask-form'),
  question: $<HTMLInputElement>('question'),
  k: $<HTMLInputElement>('k'),
  candidates: $<HTMLInputElement>('candidates'),
  budget: $<HTMLInputElement>('budget'),
  ask: $<HTMLButtonElement>('ask'),
  route: $<HTMLParagraphElement>('route'),
  passages: $<HTMLOListElement>('passages'),
  promptInfo: $<HTMLParagraphElement>('prompt-info'),
  prompt: $<HTMLTextAreaElement>('prompt'),
  copy: $<HTMLButtonElement>('copy'),
  copyStatus: $<HTMLOutputElement>('copy-status'),
  answerNote: $<HTMLParagraphElement>('answer-note'),
  answer: $<HTMLOutputElement>('answer'),
}

let winnow: Winnow | null = null
let collection: Collection | null = null
let collectionName = ''
let manifest: ManifestEntry[] = []
let generator: Generator | null = null
let asking: AbortController | null = null
let lastPrompt = ''
let indexPhases: IndexPhase[] = []
/** Questions answered so far on this page load (`data-answered` on the list: tests wait on it). */
let answered = 0
/** Indexing, loading and forgetting take turns: one at a time. */
let exclusive: Promise<unknown> = Promise.resolve()

window.winnowRag = {
  setGenerator(generate) {
    if (generate !== null && typeof generate !== 'function') throw new TypeError('setGenerator takes a function (prompt, { signal }) => answer, or null')
    generator = generate
    renderAnswerNote()
    if (generator && lastPrompt) void answer(lastPrompt)
  },
  get prompt() {
    return lastPrompt
  },
  get indexPhases() {
    return indexPhases
  },
}

function describe(error: unknown): string {
  return error instanceof WinnowError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error)
}

function turn<T>(work: () => Promise<T>): Promise<T> {
  const next = exclusive.then(work, work)
  exclusive = next.catch(() => {})
  return next
}

function manifestKey(): string {
  return `${STORAGE_PREFIX}files:${collectionName}`
}

// ---- models -------------------------------------------------------------------------------------

const panel = new ModelPanel({
  roles: ROLES,
  onUseHub: (dtype: RealDtype) => {
    const offer = panel.source?.kind === 'test' ? panel.source.offer : null
    if (offer) void load({ kind: 'hub', hub: offer, dtype, cached: false })
  },
})

function load(source: ModelSource): Promise<void> {
  return turn(async () => {
    panel.show(source)
    panel.busy(true)
    setReady(false)
    asking?.abort()
    await winnow?.dispose()
    winnow = null
    collection = null
    ui.modelProgress.value = 0
    ui.modelStatus.textContent = 'Loading models…'
    const started = performance.now()
    try {
      winnow = await createWinnow({
        ...winnowOptions(source, ROLES),
        device: deviceFromSearch(location.search),
        onProgress: (e) => {
          panel.record(e)
          ui.modelProgress.value = e.overall
          if (e.status === 'progress') ui.modelStatus.textContent = `Downloading ${e.model}: ${e.file}, ${formatBytes(e.loaded)} of ${formatBytes(e.total)}`
        },
      })
      // One collection per embedder: files indexed with the test models stay with them.
      collectionName = COLLECTION_PREFIX + winnow.embedder!.model
      collection = await winnow.collection(collectionName)
      const d = winnow.device
      ui.modelStatus.textContent =
        `Ready: ${winnow.embedder!.model} (${winnow.embedder!.dtype}) + ${winnow.reranker!.model} (${winnow.reranker!.dtype}) on ${d.kind}` +
        `${d.kind === 'wasm' ? `, ${d.threads} thread${d.threads > 1 ? 's' : ''}` : ''}, in ${Math.round(performance.now() - started)} ms`
      ui.modelProgress.value = 1
      clearAnswer()
      await refreshCollection()
      setReady(true)
    } catch (error) {
      ui.modelStatus.textContent = `Load failed: ${describe(error)}`
      clearAnswer()
    } finally {
      panel.busy(false)
    }
  })
}

/** Empties the passages and the prompt (they belonged to other models, or to nothing). */
function clearAnswer(): void {
  lastPrompt = ''
  ui.passages.replaceChildren()
  ui.route.textContent = ''
  ui.prompt.value = ''
  ui.promptInfo.textContent = 'Ask a question to assemble the prompt.'
  ui.copy.disabled = true
  ui.answer.textContent = ''
}

function setReady(ready: boolean): void {
  ui.ask.disabled = !ready
  ui.fileInput.disabled = !ready
  ui.dropzone.classList.toggle('disabled', !ready)
  document.body.dataset.ready = String(ready)
}

// ---- files --------------------------------------------------------------------------------------

let pdfjsLoading: Promise<PdfLib> | null = null

/** pdf.js, loaded on the first PDF; its worker is a file bundled with this page, never a CDN. */
function loadPdf(): Promise<PdfLib> {
  pdfjsLoading ??= (async () => {
    const [pdfjs, worker] = await Promise.all([import('pdfjs-dist'), import('pdfjs-dist/build/pdf.worker.min.mjs?url')])
    // The demo starts pdf.js's worker itself, so a page that requires Trusted Types gets it from the
    // demo's policy (pdf.js would pass its URL to new Worker() as a plain string).
    pdfjs.GlobalWorkerOptions.workerPort = new Worker(sameOriginScriptUrl(worker.default), { type: 'module' })
    return { getDocument: (source) => pdfjs.getDocument(source) } satisfies PdfLib
  })()
  pdfjsLoading.catch(() => (pdfjsLoading = null)) // a failed load is retried with the next PDF
  return pdfjsLoading
}

const parseEnvironment = {
  // A template's content is inert: its scripts never run, its images and stylesheets never load.
  parseHtml: (source: string) => parseInertHtml(source) as unknown as HtmlNode,
  loadPdf,
}

function setIndexProgress(phase: IndexPhase, done: number, total: number): void {
  if (indexPhases[indexPhases.length - 1] !== phase) indexPhases.push(phase)
  ui.indexProgress.value = indexProgress(phase, done, total)
  const words: Record<IndexPhase, string> = { parsing: 'Reading files', chunking: 'Cutting into passages', embedding: 'Embedding passages', writing: 'Writing to IndexedDB', done: 'Done' }
  ui.indexStatus.textContent = phase === 'done' ? 'Done.' : `${words[phase]}: ${done} / ${total}`
}

function indexFiles(files: readonly File[]): Promise<void> {
  return turn(async () => {
    if (!collection || files.length === 0) return
    indexPhases = []
    ui.skipped.replaceChildren()
    const skipped: string[] = []
    // The last of several files with one name wins, as a re-upload would.
    const parsed = new Map<string, { file: File; parsed: ParsedFile }>()
    for (const [i, file] of files.entries()) {
      setIndexProgress('parsing', i, files.length)
      try {
        parsed.set(file.name, { file, parsed: await parseFile(file, parseEnvironment) })
      } catch (error) {
        skipped.push(describe(error))
      }
    }
    setIndexProgress('parsing', files.length, files.length)
    ui.skipped.replaceChildren(...skipped.map((text) => Object.assign(document.createElement('li'), { textContent: text })))
    if (parsed.size === 0) {
      ui.indexStatus.textContent = 'Nothing to index.'
      return
    }
    try {
      const result = await collection.add(
        [...parsed.values()].map(({ file, parsed: p }) => ({
          id: file.name,
          text: p.text,
          ...(p.title ? { title: p.title } : {}),
          metadata: { file: file.name, type: p.kind },
        })),
        { onProgress: (p) => setIndexProgress(p.phase, p.done, p.total) },
      )
      manifest = upsertManifest(
        localStorage,
        manifestKey(),
        [...parsed.values()].map(({ file, parsed: p }) => ({
          id: file.name,
          kind: p.kind,
          size: file.size,
          chars: p.text.length,
          ...(p.pageStarts ? { pageStarts: p.pageStarts } : {}),
          addedAt: Date.now(),
        })),
      )
      ui.indexStatus.textContent =
        `Indexed ${result.documents} file${result.documents === 1 ? '' : 's'} into ${result.chunks} passage${result.chunks === 1 ? '' : 's'}` +
        (result.replaced ? ` (${result.replaced} replaced an earlier version)` : '') + '.'
    } catch (error) {
      ui.indexStatus.textContent = `Indexing failed: ${describe(error)}`
    }
    await refreshCollection()
  })
}

async function removeFile(id: string): Promise<void> {
  await turn(async () => {
    if (!collection) return
    await collection.delete([id])
    manifest = saveManifest(localStorage, manifestKey(), manifest.filter((e) => e.id !== id))
    await refreshCollection()
  })
}

async function refreshCollection(): Promise<void> {
  if (!collection) return
  const [count, info] = await Promise.all([collection.count(), collection.info()])
  // The collection is the truth: drop listed files it no longer holds (another tab, an eviction).
  const listed = readManifest(localStorage, manifestKey())
  const stored = await Promise.all(listed.map((e) => collection!.get(e.id)))
  const chunksOf = new Map(stored.flatMap((doc) => (doc ? [[doc.id, doc.chunks] as const] : [])))
  manifest = listed.filter((e) => chunksOf.has(e.id))
  if (manifest.length !== listed.length) saveManifest(localStorage, manifestKey(), manifest)
  ui.count.textContent =
    count === 0
      ? `0 documents · 0 passages in “${collectionName}”. Drop files above to start.`
      : `${count} document${count === 1 ? '' : 's'} · ${info.chunks} passage${info.chunks === 1 ? '' : 's'} in “${collectionName}”`
  ui.fileList.replaceChildren(
    ...manifest.map((entry) => {
      const li = document.createElement('li')
      li.dataset.file = entry.id
      const name = Object.assign(document.createElement('span'), { className: 'name', textContent: entry.id })
      const chunks = chunksOf.get(entry.id) ?? 0
      const pages = entry.pageStarts ? `, ${entry.pageStarts.length} page${entry.pageStarts.length === 1 ? '' : 's'}` : ''
      const facts = Object.assign(document.createElement('span'), {
        className: 'muted',
        textContent: ` ${entry.kind.toUpperCase()}, ${formatBytes(entry.size)}${pages}, ${chunks} passage${chunks === 1 ? '' : 's'}`,
      })
      const remove = Object.assign(document.createElement('button'), { type: 'button', className: 'link', textContent: 'remove', title: `Delete ${entry.id} from the collection` })
      remove.addEventListener('click', () => void removeFile(entry.id))
      li.append(name, facts, remove)
      return li
    }),
  )
  await refreshStorage()
}

async function refreshStorage(persist = false): Promise<void> {
  if (!winnow) return
  try {
    const s = await winnow.storage({ persist })
    ui.storage.textContent = `Storage used by this origin: ${formatBytes(s.usage)} of ${formatBytes(s.quota)}, ${s.persisted ? 'kept (persistent)' : 'may be evicted under storage pressure'}`
    ui.persist.hidden = s.persisted
  } catch (error) {
    ui.storage.textContent = `Storage: ${describe(error)}`
  }
}

// ---- forgetting ---------------------------------------------------------------------------------

function forget(): Promise<void> {
  return turn(async () => {
    asking?.abort()
    ui.forget.disabled = true
    ui.forgetStatus.textContent = 'Forgetting…'
    try {
      // Without a loaded instance (a failed load), a model-free one can still delete collections.
      const owner = winnow ?? (await createWinnow({ reranker: false }))
      const names = (await owner.listCollections()).filter((name) => name.startsWith(COLLECTION_PREFIX))
      for (const name of names) await owner.deleteCollection(name)
      let cachesDeleted = 0
      if (typeof caches !== 'undefined') {
        for (const key of await caches.keys()) {
          if (DEMO_CACHES.some((pattern) => pattern.test(key)) && (await caches.delete(key))) cachesDeleted++
        }
      }
      for (const key of Object.keys(localStorage)) if (key.startsWith(STORAGE_PREFIX)) localStorage.removeItem(key)
      if (owner !== winnow) await owner.dispose()
      // The loaded models stay in memory; the collection starts again, empty.
      if (winnow) collection = await winnow.collection(collectionName)
      manifest = []
      clearAnswer()
      ui.indexStatus.textContent = ''
      ui.indexProgress.value = 0
      ui.skipped.replaceChildren()
      ui.forgetStatus.textContent = `Forgot ${names.length} collection${names.length === 1 ? '' : 's'}, ${cachesDeleted} cache${cachesDeleted === 1 ? '' : 's'} of model files and the demo's settings.`
      await refreshCollection()
    } catch (error) {
      ui.forgetStatus.textContent = `Forgetting failed: ${describe(error)}`
    } finally {
      ui.forget.disabled = false
    }
  })
}

// ---- asking -------------------------------------------------------------------------------------

function intFrom(input: HTMLInputElement, min: number, max: number, fallback: number): number {
  const value = Math.round(Number(input.value))
  return Number.isFinite(value) && value >= min ? Math.min(max, value) : fallback
}

function fileOf(hit: SearchHit): string {
  const file = hit.metadata?.file
  return typeof file === 'string' ? file : hit.id
}

function positionOf(hit: SearchHit): string {
  return describePosition(hit, manifest.find((e) => e.id === hit.id)?.pageStarts)
}

/** The passages as the prompt's sources: overlapping passages of one file joined, best first. */
function sourcesOf(hits: readonly SearchHit[]): { sources: ContextSource[]; citeOf: number[] } {
  const merged = mergeOverlapping(hits.map((hit) => ({ text: hit.text, file: fileOf(hit), start: hit.start, end: hit.end })))
  const citeOf: number[] = []
  const sources = merged.map((m, n) => {
    for (const i of m.members) citeOf[i] = n + 1
    // The heading path of the passage that starts first: where the joined text starts.
    const first = m.members.map((i) => hits[i]!).sort((a, b) => a.start - b.start)[0]!
    const position = describePosition({ start: m.start, end: m.end, section: first.section, path: first.path }, manifest.find((e) => e.id === first.id)?.pageStarts)
    return { text: m.text, file: m.file, position, passages: m.members.length }
  })
  return { sources, citeOf }
}

interface ContextSource {
  text: string
  file: string
  position: string
  /** Passages joined into it. */
  passages: number
}

function renderPassages(hits: readonly SearchHit[], stage: 'first-stage' | 'final'): void {
  ui.passages.dataset.stage = stage
  // A passage's [n] is the prompt source it went into: overlapping passages share one.
  const { citeOf } = sourcesOf(hits)
  ui.passages.replaceChildren(
    ...hits.map((hit, i) => {
      const li = document.createElement('li')
      li.dataset.file = fileOf(hit)
      li.dataset.rankBefore = String(hit.rankBefore)
      li.dataset.cite = String(citeOf[i])
      const meta = document.createElement('div')
      meta.className = 'meta'
      meta.append(
        Object.assign(document.createElement('span'), { className: 'cite', textContent: `[${citeOf[i]}]` }),
        Object.assign(document.createElement('span'), { className: 'file', textContent: fileOf(hit) }),
        Object.assign(document.createElement('span'), { className: 'position', textContent: positionOf(hit) }),
      )
      const scores = document.createElement('div')
      scores.className = 'scores'
      const bar = Object.assign(document.createElement('span'), { className: 'bar' })
      bar.style.width = `${Math.max(2, hit.score * 120)}px`
      const parts = [
        hit.rerankScore !== undefined ? 'reranked' : 'first stage',
        `first-stage rank ${hit.rankBefore}`,
        ...(hit.scores.keyword !== undefined ? [`BM25 ${hit.scores.keyword.toFixed(2)}`] : []),
        ...(hit.scores.vector !== undefined ? [`cosine ${hit.scores.vector.toFixed(3)}`] : []),
      ]
      scores.append(
        bar,
        Object.assign(document.createElement('span'), { className: 'score', textContent: hit.score.toFixed(3) }),
        Object.assign(document.createElement('span'), { className: 'muted', textContent: parts.join(' · ') }),
      )
      const snippet = document.createElement('p')
      snippet.className = 'snippet'
      // Text nodes and <mark> elements: the file's own markup never runs, and no HTML string is
      // parsed, which a page that requires Trusted Types would refuse.
      snippet.replaceChildren(highlightNodes(hit.snippet))
      const details = document.createElement('details')
      details.append(
        Object.assign(document.createElement('summary'), { textContent: 'Whole passage' }),
        Object.assign(document.createElement('p'), { className: 'text', textContent: hit.text }),
      )
      li.append(meta, scores, snippet, details)
      return li
    }),
  )
}

function describeRoute(route: SearchRoute, ms: number): string {
  const stages = route.stages.map((s) => `${s.reranked} reranked by ${s.model} (${s.dtype}) in ${Math.round(s.ms)} ms`).join(', then ')
  return `${route.mode} retrieval: ${route.candidates} candidates in ${route.timings.firstStageMs.toFixed(0)} ms` + `${stages ? `; ${stages}` : ''}` + ` — ${route.path}: ${route.reason}. Total ${Math.round(ms)} ms.`
}

async function ask(): Promise<void> {
  if (!collection) return
  const question = ui.question.value.trim()
  if (!question) return
  asking?.abort() // a newer question replaces an older one, generation included
  const controller = new AbortController()
  asking = controller
  const k = intFrom(ui.k, 1, 50, 5)
  const candidates = Math.max(k, intFrom(ui.candidates, 1, 200, 30))
  const budgetTokens = intFrom(ui.budget, 16, 1_000_000, 1536)
  const test = panel.source?.kind === 'test'
  const reranking = panel.reranking
  // Test mode: the keyword first stage (random vectors are noise). Real models: hybrid, with the
  // vector side held to a floor so that nonsense finds nothing.
  const firstStage: Pick<SearchOptions, 'mode' | 'minVectorScore'> = test ? { mode: 'keyword' } : { minVectorScore: MIN_VECTOR_SCORE }
  ui.route.textContent = 'Searching…'
  ui.answer.textContent = ''
  const started = performance.now()
  try {
    const hits = await collection.search(question, {
      k,
      candidates,
      ...firstStage,
      rerank: reranking,
      signal: controller.signal,
      onFirstStage: (first) => {
        if (!reranking) return // the final list is this one
        renderPassages(first, 'first-stage')
        ui.route.textContent = `First stage: ${first.length} passages; reranking…`
      },
    })
    if (controller.signal.aborted) return
    renderPassages(hits, 'final')
    if (hits.length === 0) {
      const empty = (await collection.count()) === 0
      if (controller.signal.aborted) return
      ui.route.textContent = empty ? 'Nothing indexed yet: drop some files first.' : `No results for “${question}”: no passage matches it.`
      ui.route.dataset.empty = empty ? 'collection' : 'no-results'
      lastPrompt = ''
      ui.prompt.value = ''
      ui.copy.disabled = true
      ui.promptInfo.textContent = 'No passages: nothing to put in a prompt.'
      ui.passages.dataset.answered = String(++answered)
      return
    }
    delete ui.route.dataset.empty
    ui.route.textContent = describeRoute(hits.route, performance.now() - started) + (test && !reranking ? ' Test mode: the random reranker is off, this is the keyword (BM25) order.' : '')
    const { sources } = sourcesOf(hits)
    const assembled = assembleContext(question, sources, { budgetTokens })
    const joined = sources.slice(0, assembled.included).reduce((n, s) => n + s.passages, 0)
    lastPrompt = assembled.prompt
    ui.prompt.value = assembled.prompt
    ui.copy.disabled = false
    ui.copyStatus.textContent = ''
    ui.passages.dataset.answered = String(++answered)
    ui.promptInfo.textContent =
      `${assembled.included} of ${sources.length} sources (${joined} of ${hits.length} passages; overlapping passages of a file joined), ` +
      `about ${assembled.tokens} of ${assembled.budgetTokens} tokens (estimated at 4 characters per token)` +
      (assembled.cut ? '; the best source was cut to fit' : '') +
      (assembled.overBudget ? '; the question and instructions alone exceed the budget' : '') +
      '.'
    if (generator) await answer(assembled.prompt, controller)
  } catch (error) {
    if (error instanceof WinnowError && error.code === 'ABORTED') return
    ui.route.textContent = `Search failed: ${describe(error)}`
  }
}

function renderAnswerNote(): void {
  ui.answerNote.hidden = generator !== null
}

async function answer(prompt: string, controller = asking ?? new AbortController()): Promise<void> {
  if (!generator) return
  ui.answer.dataset.state = 'generating'
  ui.answer.textContent = '…'
  try {
    await runGenerator(generator, prompt, { signal: controller.signal, onText: (text) => (ui.answer.textContent = text) })
    ui.answer.dataset.state = 'done'
  } catch (error) {
    if (controller.signal.aborted) return
    ui.answer.dataset.state = 'failed'
    ui.answer.textContent = `The generator failed: ${describe(error)}`
  }
}

async function copyPrompt(): Promise<void> {
  const text = ui.prompt.value
  try {
    await navigator.clipboard.writeText(text)
    ui.copyStatus.textContent = 'Copied.'
  } catch {
    // No clipboard permission (or an insecure context): select the text and try the old command.
    ui.prompt.focus()
    ui.prompt.select()
    const copied = document.execCommand('copy')
    ui.copyStatus.textContent = copied ? 'Copied.' : 'The clipboard is not available here: the prompt is selected, press Ctrl+C.'
  }
}

// ---- wiring -------------------------------------------------------------------------------------

ui.fileInput.accept = Object.values(EXTENSIONS).flat().join(',')
ui.fileInput.addEventListener('change', () => {
  const files = [...(ui.fileInput.files ?? [])]
  ui.fileInput.value = '' // the same file can be picked again
  void indexFiles(files)
})
ui.dropzone.addEventListener('dragover', (event) => {
  event.preventDefault()
  ui.dropzone.classList.add('over')
})
ui.dropzone.addEventListener('dragleave', () => ui.dropzone.classList.remove('over'))
ui.dropzone.addEventListener('drop', (event) => {
  event.preventDefault()
  ui.dropzone.classList.remove('over')
  if (ui.fileInput.disabled) return
  void indexFiles([...(event.dataTransfer?.files ?? [])])
})
// A file dropped beside the zone must not navigate away from the page (and its index).
window.addEventListener('dragover', (event) => event.preventDefault())
window.addEventListener('drop', (event) => event.preventDefault())
ui.askForm.addEventListener('submit', (event) => {
  event.preventDefault()
  void ask()
})
ui.copy.addEventListener('click', () => void copyPrompt())
ui.persist.addEventListener('click', () => void refreshStorage(true))
ui.forget.addEventListener('click', () => {
  if (confirm('Delete every indexed file, the cached model files and this demo’s settings from this browser?')) void forget()
})

async function start(): Promise<void> {
  const hub = hubFromSearch(location.search, location.href)
  const base = new URL('/models/', location.href).href
  await load(await chooseSource({ roles: ROLES, base, hub }, { fetch: (...args) => fetch(...args), caches: globalThis.caches }))
}

renderAnswerNote()
void start()
