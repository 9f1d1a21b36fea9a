import { createWinnow, WinnowError, type Winnow } from '../src/index.ts'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const status = $<HTMLOutputElement>('status')
const progress = $<HTMLProgressElement>('progress')
const loadButton = $<HTMLButtonElement>('load')
const rerankButton = $<HTMLButtonElement>('rerank')
let winnow: Winnow | null = null
let running: AbortController | null = null

function describe(error: unknown): string {
  return error instanceof WinnowError ? `${error.code}: ${error.message}` : String(error)
}

async function load(): Promise<void> {
  loadButton.disabled = true
  rerankButton.disabled = true
  await winnow?.dispose()
  winnow = null
  progress.value = 0
  status.textContent = 'Loading…'
  const dtype = $<HTMLSelectElement>('dtype').value
  const started = performance.now()
  try {
    winnow = await createWinnow({
      reranker: { model: $<HTMLSelectElement>('model').value, ...(dtype ? { dtype: dtype as 'q8' } : {}) },
      device: $<HTMLSelectElement>('device').value as 'auto',
      allowRemoteModels: $<HTMLInputElement>('remote').checked,
      onProgress: (e) => {
        progress.value = e.overall
        if (e.status === 'progress') status.textContent = `Loading ${e.file}: ${(e.loaded / 1e6).toFixed(1)} / ${(e.total / 1e6).toFixed(1)} MB`
      },
    })
    const d = winnow.device
    status.textContent =
      `${winnow.reranker.model} (${winnow.reranker.dtype}) on ${d.kind}` +
      `${d.kind === 'wasm' ? `, ${d.threads} thread${d.threads > 1 ? 's' : ''}` : ''} — ${d.reason}` +
      ` — loaded in ${Math.round(performance.now() - started)} ms`
    rerankButton.disabled = false
    await rerank()
  } catch (error) {
    status.textContent = `Load failed: ${describe(error)}`
  } finally {
    loadButton.disabled = false
  }
}

async function rerank(): Promise<void> {
  if (!winnow) return
  running?.abort() // a newer request replaces an older one
  const controller = new AbortController()
  running = controller
  const passages = $<HTMLTextAreaElement>('passages').value.split('\n').map((s) => s.trim()).filter(Boolean)
  const topK = Math.max(1, Number($<HTMLInputElement>('topk').value) || 5)
  const started = performance.now()
  try {
    const ranked = await winnow.rerank($<HTMLInputElement>('query').value, passages, { topK, signal: controller.signal })
    const ms = performance.now() - started
    $('timing').textContent = `${passages.length} passages reranked in ${ms.toFixed(0)} ms (${((passages.length / ms) * 1000).toFixed(0)} pairs/s)`
    const list = $<HTMLOListElement>('results')
    list.replaceChildren(
      ...ranked.map((r) => {
        const li = document.createElement('li')
        const bar = document.createElement('span')
        bar.className = 'bar'
        bar.style.width = `${Math.max(2, r.score * 120)}px`
        const score = document.createElement('span')
        score.className = 'score'
        score.textContent = r.score.toFixed(3)
        li.append(bar, score, document.createTextNode(passages[r.index]!)) // text, never HTML
        li.dataset.index = String(r.index)
        return li
      }),
    )
  } catch (error) {
    if (!(error instanceof WinnowError && error.code === 'ABORTED')) $('timing').textContent = `Rerank failed: ${describe(error)}`
  }
}

loadButton.addEventListener('click', () => void load())
rerankButton.addEventListener('click', () => void rerank())
void load()
