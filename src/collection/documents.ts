import type { CollectionStore, DocRecord, DocRef } from '../store/types.js'
import type { StoredDocument } from '../types.js'

/** What {@link readLiveDocument} needs of a collection's view. */
export interface LiveDocumentView {
  /** Brings the view up to the stored generation. */
  refresh(): Promise<void>
  generation(): number
  /** Where the store keeps a live document (undefined when the view has none by that id). */
  refOf(id: string): DocRef | undefined
  store: CollectionStore
}

/**
 * A document as `get()` returns it, or null when no live one has that id. The view says where the
 * store keeps it (passage blocks are found by ref), so it is refreshed first; a document another
 * tab replaced between the refresh and the read is looked up again under the new view.
 *
 * @example
 * await readLiveDocument('intro', { refresh, generation, refOf, store }) // { id: 'intro', text: '…', chunks: 3 }
 */
export async function readLiveDocument(id: string, view: LiveDocumentView): Promise<StoredDocument | null> {
  let doc: DocRecord | undefined
  for (;;) {
    await view.refresh()
    const generation = view.generation()
    const ref = view.refOf(id)
    doc = ref ? (await view.store.readDocs([ref]))[0] : undefined
    if (doc || !ref) break
    await view.refresh()
    if (view.generation() === generation) break
  }
  if (!doc) return null
  const out: StoredDocument = { id: doc.id, text: doc.text, chunks: doc.seqs.length }
  if (doc.title !== undefined) out.title = doc.title
  if (doc.metadata !== undefined) out.metadata = doc.metadata
  return out
}
