/** What a resolved value must look like, given the model. Each returns null when fine, else why not. */
import type { AcceptedAdd, AcceptedSearch, CollectionModel, ModelDoc } from './oracle.ts'

/** Deep equality for stored values: Object.is on scalars, own enumerable keys on objects. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

/** A stored document as `get()` returned it, against the model's. */
export function checkStored(id: string, got: unknown, want: ModelDoc | null): string | null {
  if (want === null) return got === null ? null : `get('${short(id)}') returned a document; the model has none`
  if (got === null || typeof got !== 'object') return `get('${short(id)}') returned ${got === null ? 'null' : typeof got}; the model has the document`
  const d = got as Record<string, unknown>
  if (d.id !== id) return `get returned id ${short(String(d.id))}`
  if (d.text !== want.text) return `get('${short(id)}').text differs (length ${String(d.text).length} vs ${want.text.length}; first difference at ${firstDifference(String(d.text), want.text)})`
  if (d.title !== want.title) return `get('${short(id)}').title differs: ${JSON.stringify(d.title)} vs ${JSON.stringify(want.title)}`
  if (!deepEqual(d.metadata, want.metadata)) return `get('${short(id)}').metadata differs: ${safeJson(d.metadata)} vs ${safeJson(want.metadata)}`
  if (!(typeof d.chunks === 'number' && d.chunks >= 1)) return `get('${short(id)}').chunks is ${String(d.chunks)}`
  return null
}

/** The result of an accepted add. */
export function checkAddResult(value: unknown, add: AcceptedAdd): string | null {
  const r = value as { documents?: unknown; chunks?: unknown; replaced?: unknown } | null
  if (r === null || typeof r !== 'object') return 'add resolved with a non-object'
  if (r.documents !== add.docs.length) return `add reported ${String(r.documents)} documents, not ${add.docs.length}`
  if (r.replaced !== add.replaced) return `add reported ${String(r.replaced)} replaced, not ${add.replaced}`
  if (!(typeof r.chunks === 'number' && r.chunks >= add.docs.length)) return `add reported ${String(r.chunks)} chunks for ${add.docs.length} documents`
  if (add.withVector > 0 && r.chunks !== add.docs.length) return `documents with a vector are one chunk each: ${String(r.chunks)} chunks for ${add.docs.length}`
  return null
}

/** The hits of an accepted search: each from a document the model has, with its text and metadata. */
export function checkHits(model: CollectionModel, value: unknown, search: AcceptedSearch, highlight: (s: unknown) => string): string | null {
  if (!Array.isArray(value)) return 'search resolved with a non-array'
  const route = (value as unknown as { route?: { mode?: unknown } }).route
  if (!route || typeof route !== 'object') return 'search results have no route'
  if (route.mode !== search.mode) return `route.mode is ${String(route.mode)}, not ${search.mode}`
  if (value.length > search.k) return `${value.length} hits for k = ${search.k}`
  if (search.empty && value.length > 0) return `${value.length} hits in an empty collection`
  for (const hit of value as Record<string, unknown>[]) {
    const doc = model.docs.get(hit.id as string)
    if (!doc) return `a hit for '${short(String(hit.id))}', which the model does not have (deleted or never added)`
    if (typeof hit.start !== 'number' || typeof hit.end !== 'number' || hit.text !== doc.text.slice(hit.start, hit.end)) return `hit '${short(String(hit.id))}': text is not document.text.slice(start, end)`
    if (!(typeof hit.score === 'number' && hit.score >= 0 && hit.score <= 1)) return `hit score ${String(hit.score)} is not in 0..1`
    if (!deepEqual(hit.metadata, doc.metadata)) return `hit '${short(String(hit.id))}': metadata ${safeJson(hit.metadata)} is not the document's ${safeJson(doc.metadata)}`
    if (hit.title !== doc.title) return `hit '${short(String(hit.id))}': title differs`
    const snippet = hit.snippet as { text?: unknown; highlights?: unknown } | undefined
    if (!snippet || typeof snippet.text !== 'string' || !Array.isArray(snippet.highlights)) return 'a hit without a snippet'
    const html = checkHighlight(highlight(snippet), snippet.text)
    if (html) return `highlight(hit.snippet): ${html}`
  }
  return null
}

/**
 * The text `highlight()` promises to render: the snippet's own, except NUL, which no HTML can
 * render, as U+FFFD at the same offset (docs/reference/highlight.md).
 */
export function asRendered(text: string): string {
  return text.replace(/\0/g, '\uFFFD')
}

/**
 * `highlight()`'s HTML, parsed inertly (a template): only `<mark>` elements with at most a class,
 * none empty, and exactly the snippet's text (CR, CR LF, controls and lone surrogates included).
 */
export function checkHighlight(html: unknown, text: string): string | null {
  if (typeof html !== 'string') return `returned ${typeof html}`
  const template = document.createElement('template')
  template.innerHTML = html
  for (const el of template.content.querySelectorAll('*')) {
    if (el.tagName !== 'MARK') return `an element <${el.tagName.toLowerCase()}> in the output`
    for (const attribute of el.attributes) if (attribute.name !== 'class') return `an attribute ${attribute.name} on <mark>`
    if (el.children.length > 0) return 'nested elements'
    if (el.textContent === '') return 'an empty <mark>'
  }
  const shown = template.content.textContent ?? ''
  const want = asRendered(text)
  if (shown !== want) {
    const at = firstDifference(shown, want)
    return `the text shown differs from the snippet's at offset ${at}: ${JSON.stringify(shown.slice(at, at + 4))} shown, ${JSON.stringify(want.slice(at, at + 4))} given`
  }
  return null
}

function firstDifference(a: string, b: string): number {
  let i = 0
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i
}

function short(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…(${s.length})` : s
}

function safeJson(x: unknown): string {
  try {
    const s = JSON.stringify(x)
    return s === undefined ? 'undefined' : s.length > 200 ? `${s.slice(0, 200)}…` : s
  } catch {
    return String(x)
  }
}
