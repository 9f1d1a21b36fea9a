/**
 * The models panel the three demos share: where the models come from (in plain words), the
 * test-mode banner with its "apply the random reranker anyway" switch, and the hub download offer
 * with its size per dtype. The page's markup holds the elements (ids below); this fills them in.
 * `window.demoModels` lets tests (and the curious) read the source and the download progress.
 */
import type { LoadProgress } from '../src/index.ts'
import { describeSource, describeTestReason, downloadSize, hubName, REAL_DTYPES, REAL_MODELS, type ModelSource, type RealDtype, type Role } from './models.ts'

/** `window.demoModels`. */
export interface DemoModelsApi {
  /** Where the models come from; null while the page is still finding out. */
  readonly source: ModelSource | null
  /** Every load progress event of this page, in order. */
  readonly progress: readonly LoadProgress[]
  /** Whether the reranker reorders results: always in real modes, in test mode only when switched on. */
  readonly reranking: boolean
}

declare global {
  interface Window {
    demoModels: DemoModelsApi
  }
}

/** What the panel tells its page. */
export interface PanelOptions {
  roles: readonly Role[]
  /** The person accepted the hub's download at `dtype`. */
  onUseHub(dtype: RealDtype): void
  /** The test-mode switch changed. */
  onRandomRerank?(on: boolean): void
}

const $ = <T extends HTMLElement>(id: string) => {
  const el = document.getElementById(id)
  if (!el) throw new Error(`the page lacks #${id}, which the models panel fills in`)
  return el as T
}

/**
 * @example
 * const panel = new ModelPanel({ roles: ['reranker'], onUseHub: (dtype) => load(hubSource(dtype)) })
 * panel.show(await chooseSource(...))
 */
export class ModelPanel {
  private readonly root = $<HTMLElement>('models')
  private readonly banner = $<HTMLDivElement>('test-banner')
  private readonly why = $<HTMLSpanElement>('test-why')
  private readonly randomRerank = $<HTMLInputElement>('random-rerank')
  private readonly sourceText = $<HTMLParagraphElement>('model-source')
  private readonly offer = $<HTMLDivElement>('hub-offer')
  private readonly offerText = $<HTMLParagraphElement>('offer-text')
  private readonly offerDtype = $<HTMLSelectElement>('offer-dtype')
  private readonly useHub = $<HTMLButtonElement>('use-hub')
  private current: ModelSource | null = null
  private readonly events: LoadProgress[] = []
  private roles: readonly Role[]

  constructor(private readonly options: PanelOptions) {
    this.roles = options.roles
    this.setRoles(options.roles)
    this.useHub.addEventListener('click', () => options.onUseHub(this.offerDtype.value as RealDtype))
    this.randomRerank.addEventListener('change', () => {
      this.root.dataset.reranking = String(this.reranking)
      options.onRandomRerank?.(this.randomRerank.checked)
    })
    const panel = this
    window.demoModels = {
      get source() {
        return panel.current
      },
      get progress() {
        return panel.events
      },
      get reranking() {
        return panel.reranking
      },
    }
  }

  /** The models the page loads (the offer's sizes add theirs up). */
  setRoles(roles: readonly Role[]): void {
    this.roles = roles
    const chosen = this.offerDtype.value
    this.offerDtype.replaceChildren(
      ...REAL_DTYPES.map((dtype) =>
        Object.assign(document.createElement('option'), { value: dtype, textContent: `${dtype} · ${downloadSize(roles, dtype)}` }),
      ),
    )
    if (chosen) this.offerDtype.value = chosen
  }

  /** The source in use. */
  get source(): ModelSource | null {
    return this.current
  }

  /** Whether results are reranked: real models always; random ones only when asked for. */
  get reranking(): boolean {
    return this.current !== null && (this.current.kind !== 'test' || this.randomRerank.checked)
  }

  /** Shows where the models come from. */
  show(source: ModelSource): void {
    this.current = source
    const standIn = (source.kind === 'hub' && source.hub.standIn) || (source.kind === 'self-hosted' && source.standIn)
    this.root.dataset.source = source.kind
    this.root.dataset.standIn = String(standIn)
    this.root.dataset.reranking = String(this.reranking)
    this.sourceText.textContent = describeSource(source, this.roles)
    this.banner.hidden = source.kind !== 'test'
    this.banner.dataset.kind = standIn ? 'stand-in' : 'test'
    if (source.kind === 'test') this.why.textContent = describeTestReason(source.why)
    const offer = source.kind === 'test' ? source.offer : null
    this.offer.hidden = offer === null
    if (offer) {
      const names = this.roles.map((role) => REAL_MODELS[role]).join(' and ')
      this.offerText.textContent =
        `${names} ${this.roles.length > 1 ? 'are' : 'is'} available from ${hubName(offer)}. ` +
        'Pick the weights and download them once; this browser keeps them (Cache API), so later visits work offline.' +
        (offer.standIn ? ' This stand-in hub serves random test weights under the real names.' : '')
    }
  }

  /** Disables the offer while a load runs. */
  busy(loading: boolean): void {
    this.useHub.disabled = loading
  }

  /** Records a load progress event (the page shows it its own way). */
  record(event: LoadProgress): void {
    this.events.push(event)
  }
}
