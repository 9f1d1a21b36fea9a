import { WinnowError } from '../errors.js'

/**
 * Why a collection a handle opened no longer exists: `'deleted'` (deleteCollection in this tab or
 * another, or the browser clearing the site's storage — evicting it under storage pressure, or the
 * user clearing site data: browsers announce that to open databases exactly like a deletion), or
 * `'replaced'` (deleted while this worker did not watch, and another collection of the same name
 * created since).
 */
export type DeletedReason = 'deleted' | 'replaced'

const WHY: Record<DeletedReason, string> = {
  deleted: "was deleted (deleteCollection in this tab or another, or the browser clearing the site's storage)",
  replaced: 'was deleted, and another collection of the same name was created since',
}

/**
 * The COLLECTION_DELETED error of a handle whose collection is gone.
 *
 * @example
 * throw collectionDeletedError('handbook', 'deleted') // details: { collection: 'handbook', reason: 'deleted' }
 */
export function collectionDeletedError(name: string, reason: DeletedReason): WinnowError {
  return new WinnowError(
    'COLLECTION_DELETED',
    `collection '${name}' ${WHY[reason]}; this handle no longer reads or writes anything. Open it again with winnow.collection('${name}') for a new, empty collection`,
    { collection: name, reason },
  )
}

/**
 * Whether an error says a collection is gone.
 *
 * @example
 * isCollectionDeleted(collectionDeletedError('x', 'deleted')) // true
 */
export function isCollectionDeleted(error: unknown): error is WinnowError {
  return error instanceof WinnowError && error.code === 'COLLECTION_DELETED'
}
