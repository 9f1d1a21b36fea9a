import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { openDB } from 'idb'
import { beforeEach, describe, expect, it } from 'vitest'
import { WinnowError } from '../../src/errors.js'
import { DB_PREFIX, IdbBackend } from '../../src/store/idb.js'
import { MIGRATIONS, STORES } from '../../src/store/migrations.js'
import { SCHEMA_VERSION } from '../../src/store/types.js'

beforeEach(() => {
  globalThis.indexedDB = new IDBFactory()
})

describe('schema and migrations', () => {
  it('the schema version is the number of migration steps, and step 0 creates every store', async () => {
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length)
    await new IdbBackend().open('fresh')
    const db = await openDB(`${DB_PREFIX}fresh`)
    expect([...db.objectStoreNames].sort()).toEqual([...STORES].sort())
    expect(db.version).toBe(SCHEMA_VERSION)
    db.close()
  })

  it('opens a database a newer winnow upgraded, as long as its stores are still there', async () => {
    const store = await new IdbBackend().open('newer')
    store.close()
    const newer = await openDB(`${DB_PREFIX}newer`, SCHEMA_VERSION + 3, { upgrade: (db) => void db.createObjectStore('future') })
    newer.close()
    const reopened = await new IdbBackend().open('newer')
    expect(await reopened.readManifest()).toBeNull()
    reopened.close()
  })

  it('refuses a newer database that lacks our stores with STORAGE_UNAVAILABLE', async () => {
    const alien = await openDB(`${DB_PREFIX}alien`, SCHEMA_VERSION + 1, { upgrade: (db) => void db.createObjectStore('something-else') })
    alien.close()
    const error = await new IdbBackend().open('alien').then(
      () => null,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(WinnowError)
    expect((error as WinnowError).code).toBe('STORAGE_UNAVAILABLE')
    expect((error as WinnowError).details.missing).toEqual([...STORES])
  })

  it('closes its connection when another connection asks for a newer version, and reopens on the next call', async () => {
    const store = await new IdbBackend().open('shared')
    await store.commit({
      manifest: { schema: 1, generation: 1, nextSeq: 0, nextSegment: 0, dims: null, vectorSource: 'none', embedder: null, analyzer: {}, chunking: null, docCount: 0, chunkCount: 0, totalLength: 0, updatedAt: 0 },
    })
    const upgraded = await openDB(`${DB_PREFIX}shared`, SCHEMA_VERSION + 1, { upgrade: (db) => void db.createObjectStore('extra') })
    upgraded.close()
    expect((await store.readManifest())?.generation).toBe(1)
  })
})
