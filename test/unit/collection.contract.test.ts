import { IDBFactory } from 'fake-indexeddb'
import 'fake-indexeddb/auto'
import { describe, it } from 'vitest'
import { IdbBackend } from '../../src/store/idb.js'
import { MemoryBackend } from '../../src/store/memory.js'
import { collectionContract, createCoordination } from '../contract/collectionContract.js'

const backends = {
  memory: () => new MemoryBackend(),
  'IndexedDB (fake-indexeddb)': () => {
    // A fresh, empty IndexedDB per case (idb opens through the global).
    globalThis.indexedDB = new IDBFactory()
    return new IdbBackend()
  },
}

for (const [name, make] of Object.entries(backends)) {
  describe(`collection contract over ${name}`, () => {
    for (const [title, run] of Object.entries(collectionContract)) {
      it(title, async () => {
        const coordination = createCoordination({})
        try {
          await run({ backend: make(), coordination })
        } finally {
          coordination.close()
        }
      })
    }
  })
}
