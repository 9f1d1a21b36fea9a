import { describeValue, invalidInput, WinnowError } from '../errors.js'
import type { Manifest } from '../store/types.js'
import type { Passage } from '../types.js'
import type { Analyzer } from '../text/analyzer.js'
import { chunkText, wholePassage, type ResolvedChunking, type TokenCounter } from '../text/chunking.js'

/** Longest document text accepted by default (characters). Longer texts are refused, not cut. */
export const DEFAULT_MAX_TEXT_LENGTH = 1_000_000

/** A document as given to `add()`, after validation. */
export interface CheckedDocument {
  id: string
  text: string
  title?: string
  metadata?: Record<string, unknown>
  vector?: Float32Array
}

/** One passage ready to write: its place in the document, analyzed terms and the text to embed. */
/** A passage prepared for a segment: its analyzed terms and what BM25 and the embedder read. */
export interface PreparedChunk extends Passage {
  terms: string[]
  /** Title and section context plus the passage: what BM25 and the embedder read. */
  contextText: string
}

export interface PreparedDocument extends CheckedDocument {
  chunks: PreparedChunk[]
}

/**
 * Caller vectors without an embedder: all documents of a collection have one, or none do.
 *
 * @throws WinnowError `INVALID_INPUT` naming what to do instead.
 * @example
 * checkVectorRules('handbook', manifest, 3, 3) // every document of the call has a vector: fine
 */
export function checkVectorRules(name: string, manifest: Manifest, withVector: number, total: number): void {
  const hasChunks = manifest.chunkCount > 0
  if (withVector > 0 && withVector < total) {
    throw new WinnowError('INVALID_INPUT', 'some documents have a vector and some do not; without an embedder every document needs one, or none')
  }
  if (hasChunks && manifest.vectorSource !== 'none' && withVector === 0) {
    throw new WinnowError('INVALID_INPUT', `collection '${name}' stores vectors: give every document a vector, or create winnow with the embedder ${manifest.embedder ?? ''}`.trim())
  }
  if (hasChunks && manifest.vectorSource === 'none' && withVector > 0) {
    throw new WinnowError('INVALID_INPUT', `collection '${name}' was built without vectors; deleteCollection and add every document with a vector`)
  }
}

/**
 * Validates `add()` input. Everything wrong is INVALID_INPUT (or DIMENSION_MISMATCH for a vector
 * of the wrong length) naming the document, and nothing is written.
 *
 * @example
 * checkDocuments([{ id: 'a', text: 'hello' }], { maxTextLength: 1e6, dims: null }) // → [{ id: 'a', text: 'hello' }]
 */
export function checkDocuments(input: unknown, limits: { maxTextLength: number; dims: number | null }): CheckedDocument[] {
  if (!Array.isArray(input)) throw invalidInput(`documents must be an array of { id, text, title?, metadata?, vector? }, got ${describeValue(input)}`)
  const seen = new Set<string>()
  let dims = limits.dims
  return input.map((doc: unknown, i): CheckedDocument => {
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw invalidInput(`documents[${i}] must be an object, got ${describeValue(doc)}`)
    const d = doc as Record<string, unknown>
    if (typeof d.id !== 'string' || d.id.length === 0) throw invalidInput(`documents[${i}].id must be a non-empty string, got ${describeValue(d.id)}`, { index: i })
    const id = d.id
    if (seen.has(id)) throw invalidInput(`documents[${i}].id '${id}' appears more than once in this call`, { index: i, id })
    seen.add(id)
    if (typeof d.text !== 'string') throw invalidInput(`documents[${i}].text must be a string, got ${describeValue(d.text)}`, { index: i, id })
    if (d.text.trim().length === 0) throw invalidInput(`documents[${i}].text is empty`, { index: i, id })
    if (d.text.length > limits.maxTextLength) {
      throw invalidInput(
        `documents[${i}].text has ${d.text.length} characters, over the limit of ${limits.maxTextLength}; split the document or raise the collection's maxTextLength`,
        { index: i, id, length: d.text.length, limit: limits.maxTextLength },
      )
    }
    const checked: CheckedDocument = { id, text: d.text }
    if (d.title !== undefined) {
      if (typeof d.title !== 'string') throw invalidInput(`documents[${i}].title must be a string, got ${describeValue(d.title)}`, { index: i, id })
      checked.title = d.title
    }
    if (d.metadata !== undefined) checked.metadata = checkMetadata(d.metadata, i, id)
    if (d.vector !== undefined) {
      const v = d.vector
      const isArray = Array.isArray(v) || v instanceof Float32Array || v instanceof Float64Array
      if (!isArray) throw invalidInput(`documents[${i}].vector must be a Float32Array or an array of numbers`, { index: i, id })
      const vector = toFloat32(v as ArrayLike<number>, `documents[${i}].vector`, { index: i, id })
      // One pass: the sum of squares is finite exactly when every value is (a float32 squared
      // cannot overflow a double).
      let norm = 0
      for (let k = 0; k < vector.length; k++) norm += vector[k]! * vector[k]!
      if (vector.length === 0 || !Number.isFinite(norm)) throw invalidInput(`documents[${i}].vector must be non-empty and finite`, { index: i, id })
      if (dims === null) dims = vector.length
      if (vector.length !== dims) {
        throw new WinnowError(
          'DIMENSION_MISMATCH',
          `documents[${i}].vector has ${vector.length} dimensions; this collection's vectors have ${dims}`,
          { index: i, id, expected: dims, actual: vector.length },
        )
      }
      if (norm === 0) throw invalidInput(`documents[${i}].vector is all zeros`, { index: i, id })
      norm = Math.sqrt(norm)
      for (let k = 0; k < vector.length; k++) vector[k]! /= norm
      checked.vector = vector
    }
    return checked
  })
}

/**
 * Cuts documents into chunks and analyzes them. A document with a caller vector stays one chunk:
 * the vector describes the whole text.
 *
 * @example
 * prepareDocuments(checked, { chunking, analyzer, countTokens })
 */
export function prepareDocuments(
  docs: readonly CheckedDocument[],
  options: { chunking: ResolvedChunking | null; analyzer: Analyzer; countTokens?: TokenCounter },
): PreparedDocument[] {
  return docs.map((doc) => {
    const chunking = doc.vector ? null : options.chunking
    const whole = chunking === null ? wholePassage(doc.text) : null
    const pieces = chunking === null ? (whole ? [whole] : []) : chunkText(doc.text, chunking, options.countTokens)
    let previousSection: string | null = null
    const chunks = pieces.map((piece): PreparedChunk => {
      // A window that continues a section lost its heading line; give it back as context.
      const continues = piece.index > 0 && piece.section !== null && piece.section === previousSection
      previousSection = piece.section
      const context = [doc.title, continues ? piece.path.join(' › ') : ''].filter((s) => s && s.trim()).join('\n')
      const contextText = context ? `${context}\n${piece.text}` : piece.text
      return {
        index: piece.index,
        start: piece.start,
        end: piece.end,
        text: piece.text,
        section: piece.section,
        path: piece.path,
        terms: options.analyzer.terms(contextText),
        contextText,
      }
    })
    return { ...doc, chunks }
  })
}

function checkMetadata(value: unknown, i: number, id: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) {
    throw invalidInput(`documents[${i}].metadata must be a plain object, got ${describeValue(value)}`, { index: i, id })
  }
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    // Array.from: a hole is undefined and refused (every() alone would skip it).
    const ok = isScalar(v) || (Array.isArray(v) && Array.from(v).every(isScalar))
    if (!ok) {
      throw invalidInput(
        `documents[${i}].metadata.${key} must be a string, finite number, boolean, null or an array of those (dates: ISO strings or epoch numbers)`,
        { index: i, id, field: key },
      )
    }
    // defineProperty: a key named '__proto__' is data like any other, not the prototype setter.
    Object.defineProperty(out, key, { value: Array.isArray(v) ? [...v] : v, enumerable: true, writable: true, configurable: true })
  }
  return out
}

/**
 * A vector as a Float32Array; values that cannot be numbers at all (a BigInt, a Symbol) are
 * INVALID_INPUT rather than the TypeError Float32Array.from throws.
 *
 * @example
 * toFloat32([1, 2], 'vector') // Float32Array [1, 2]
 */
export function toFloat32(values: ArrayLike<number>, what: string, details: Record<string, unknown> = {}): Float32Array {
  try {
    // The constructor copies a typed array in one go; `from` walks its iterator value by value.
    return new Float32Array(values)
  } catch {
    throw invalidInput(`${what} must hold numbers`, details)
  }
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
}
