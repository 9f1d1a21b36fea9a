/**
 * The reranking playground: a query and passages, ordered by the cross-encoder in winnow's worker.
 * Models come from demo/models.ts's order (self-hosted, the hub, else random test weights); in test
 * mode the passages stay in the order given unless the random reranker is switched on.
 */
import { createWinnow, WinnowError, type Dtype, type Winnow } from '../src/index.ts'
import { chooseSource, deviceFromSearch, hubFromSearch, winnowOptions, type ModelSource, type RealDtype } from './models.ts'
import { ModelPanel } from './panel.ts'

const ROLES = ['reranker'] as const

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const status = $<HTMLOutputElement>('model-status')
const progress = $<HTMLProgressElement>('model-progress')
const loadButton = $<HTMLButtonElement>('load')
const rerankButton = $<HTMLButtonElement>('rerank')
const results = $<HTMLOListElement>('results')
const timing = $<HTMLParagraphElement>('timing')
const hub = hubFromSearch(location.search, location.href)
$<HTMLSelectElement>('device').value = deviceFromSearch(location.search)
const base = new URL('/models/', location.href).href
let winnow: Winnow | null = null
let running: AbortController | null = null
/** Each load gets a number: a slower, older load never overwrites a newer one. */
let loads = 0

const panel = new ModelPanel({
  roles: ROLES,
  onUseHub: (dtype: RealDtype) => {
    const offer = panel.source?.kind === 'test' ? panel.source.offer : null
    if (offer) void load({ kind: 'hub', hub: offer, dtype, cached: false })
  },
  onRandomRerank: () => void rerank(),
})

function describe(error: unknown): string {
  return error instanceof WinnowError ? `${error.code}: ${error.message}` : String(error)
}

function clearResults(): void {
  running?.abort()
  results.replaceChildren()
  results.dataset.order = 'none'
  timing.textContent = ''
}

async function load(source: ModelSource): Promise<void> {
  const mine = ++loads
  panel.show(source)
  panel.busy(true)
  loadButton.disabled = true
  rerankButton.disabled = true
  running?.abort()
  await winnow?.dispose()
  winnow = null
  progress.value = 0
  status.textContent = 'Loading…'
  const dtype = $<HTMLSelectElement>('dtype').value as Dtype | ''
  const started = performance.now()
  try {
    const loaded = await createWinnow({
      ...winnowOptions(source, ROLES, dtype || undefined),
      device: $<HTMLSelectElement>('device').value as 'auto',
      onProgress: (e) => {
        panel.record(e)
        if (mine !== loads) return
        progress.value = e.overall
        if (e.status === 'progress') status.textContent = `Downloading ${e.model}: ${e.file}, ${(e.loaded / 1e6).toFixed(1)} of ${(e.total / 1e6).toFixed(1)} MB`
      },
    })
    if (mine !== loads) {
      await loaded.dispose()
      return
    }
    winnow = loaded
    const d = loaded.device
    progress.value = 1
    status.textContent =
      `${loaded.reranker!.model} (${loaded.reranker!.dtype}) on ${d.kind}` +
      `${d.kind === 'wasm' ? `, ${d.threads} thread${d.threads > 1 ? 's' : ''}` : ''} — ${d.reason}` +
      ` — loaded in ${Math.round(performance.now() - started)} ms`
    rerankButton.disabled = false
    await rerank()
  } catch (error) {
    if (mine !== loads) return
    // Results on screen came from the models that are gone: never leave them as if current.
    clearResults()
    status.textContent = `Load failed: ${describe(error)}`
  } finally {
    if (mine === loads) {
      loadButton.disabled = false
      panel.busy(false)
    }
  }
}

function passagesOf(): string[] {
  return $<HTMLTextAreaElement>('passages').value.split('\n').map((s) => s.trim()).filter(Boolean)
}

function listItem(text: string, index: number, score: number | null): HTMLLIElement {
  const li = document.createElement('li')
  if (score !== null) {
    const bar = document.createElement('span')
    bar.className = 'bar'
    bar.style.width = `${Math.max(2, score * 120)}px`
    const value = document.createElement('span')
    value.className = 'score'
    value.textContent = score.toFixed(3)
    li.append(bar, value)
  }
  li.append(document.createTextNode(text)) // text, never HTML
  li.dataset.index = String(index)
  return li
}

async function rerank(): Promise<void> {
  if (!winnow) return
  running?.abort() // a newer request replaces an older one
  const controller = new AbortController()
  running = controller
  const passages = passagesOf()
  const topK = Math.max(1, Number($<HTMLInputElement>('topk').value) || 5)
  if (!panel.reranking) {
    // Test mode: random scores would only shuffle the list, so it stays as given.
    results.replaceChildren(...passages.slice(0, topK).map((text, i) => listItem(text, i, null)))
    results.dataset.order = 'input'
    timing.textContent = `${Math.min(topK, passages.length)} of ${passages.length} passages in the order given: the random test reranker is off.`
    return
  }
  const started = performance.now()
  try {
    const ranked = await winnow.rerank($<HTMLInputElement>('query').value, passages, { topK, signal: controller.signal })
    const ms = performance.now() - started
    timing.textContent = `${passages.length} passages reranked in ${ms.toFixed(0)} ms (${((passages.length / ms) * 1000).toFixed(0)} pairs/s)`
    results.replaceChildren(...ranked.map((r) => listItem(passages[r.index]!, r.index, r.score)))
    results.dataset.order = 'reranked'
  } catch (error) {
    if (!(error instanceof WinnowError && error.code === 'ABORTED')) {
      results.replaceChildren()
      results.dataset.order = 'none'
      timing.textContent = `Rerank failed: ${describe(error)}`
    }
  }
}

async function start(): Promise<void> {
  const source = await chooseSource({ roles: ROLES, base, hub }, { fetch: (...args) => fetch(...args), caches: globalThis.caches })
  await load(source)
}

loadButton.addEventListener('click', () => {
  if (panel.source) void load(panel.source)
})
// Enter in the query (or the button) reranks: the inputs are a form.
$<HTMLFormElement>('rerank-form').addEventListener('submit', (event) => {
  event.preventDefault()
  void rerank()
})
void start()
