/**
 * Documents from a JSONL file (one JSON object per line: `id` — or BEIR's `_id` — and `text`, with
 * optional `title`, `metadata` and `vector`, an array of numbers), read as a stream: a corpus is never held in memory as text.
 * Blank lines are skipped; a bad line stops the build with its line number.
 *
 * @example
 * for await (const doc of readJsonl('corpus.jsonl')) console.log(doc.id)
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { WinnowError } from '../errors.js'
import type { DocumentInput } from '../types.js'

/** Whether a path names a JSONL file (by its extension). */
export function isJsonl(path: string): boolean {
  return /\.(jsonl|ndjson)$/i.test(path)
}

export async function* readJsonl(path: string, onRead?: (documents: number) => void): AsyncGenerator<DocumentInput> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })
  let line = 0
  let read = 0
  for await (const text of lines) {
    line++
    if (text.trim() === '') continue
    let value: Record<string, unknown>
    try {
      value = JSON.parse(text) as Record<string, unknown>
    } catch (error) {
      throw new WinnowError('INVALID_INPUT', `${path}:${line} is not JSON: ${(error as Error).message}`, { line })
    }
    const id = value?.id ?? value?._id
    if (value === null || typeof value !== 'object' || typeof id !== 'string' || id === '' || typeof value.text !== 'string') {
      throw new WinnowError('INVALID_INPUT', `${path}:${line} needs "id" (or "_id"), a non-empty string, and "text", a string`, { line })
    }
    const doc: DocumentInput = { id, text: value.text }
    if (typeof value.title === 'string' && value.title !== '') doc.title = value.title
    if (value.metadata !== undefined) doc.metadata = value.metadata as DocumentInput['metadata']
    if (value.vector !== undefined) {
      if (!Array.isArray(value.vector) || value.vector.length === 0 || !value.vector.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new WinnowError('INVALID_INPUT', `${path}:${line} has a "vector" that is not a non-empty array of finite numbers`, { line })
      }
      doc.vector = Float32Array.from(value.vector as number[])
    }
    read++
    if (read % 10_000 === 0) onRead?.(read)
    yield doc
  }
}
