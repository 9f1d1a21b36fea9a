import type { IDBPDatabase, IDBPTransaction } from 'idb'
import { packPostings } from './postingCodec.js'
import { blockOf, docSeq, toStored, type PassageBlock } from './passageBlocks.js'
import { fromStoredSegment, toStoredSegment, type StoredSegment } from './segmentColumns.js'
import { applyRowChanges, type RowChanges } from './rowBlocks.js'
import { rowBlockRows, VECTOR_BLOCK_ROWS, type ListRecord, type ChunkRecord, type DocRecord, type Manifest, type PostingRecord, type RowBlockRecord, type SegmentRecord } from './types.js'

/** Object store names of the current schema. */
export const STORES = ['meta', 'passages', 'segmentColumns', 'postingBuckets', 'quantized', 'rows', 'listRecords', 'tombstones'] as const
export type StoreName = (typeof STORES)[number]

/**
 * One schema step: brings a database from version `i` to `i + 1` (index `i` in {@link MIGRATIONS}).
 * A step may await IndexedDB requests of the upgrade transaction (and nothing else); if it rejects,
 * the upgrade is aborted and the database stays at the version it had.
 */
export type Migration = (db: IDBPDatabase<unknown>, tx: IDBPTransaction<unknown, StoreName[], 'versionchange'>) => void | Promise<void>

/** Lists step 6 copies at a time (~8 MB at 1M × 384). */
export const MIGRATION_LISTS = 32

/**
 * Ordered schema steps. Never edit a shipped step: append one. See docs/storage-format.md.
 *
 * Step 0 creates schema 1:
 * - `meta`: the manifest under the key `'manifest'`
 * - `docs` (id), `chunks` (seq): texts, read only for results
 * - `segments` (id): what a reopen reads, small
 * - `postings` ([term, segment], index `segment`): one record per term per segment
 * - `quantized` / `vectors` ([segment, block]): int8 blocks read at open, fp32 blocks on demand
 * - `tombstones` (seq): deleted chunks not yet compacted away
 *
 * Step 1 makes schema 2 (format v2), in the upgrade transaction, so a crash leaves schema 1 intact
 * or schema 2 complete:
 * - `postingBuckets` ([bucket, segment], index `segment`) replaces `postings`: each segment's
 *   postings packed into at most 256 records (store/postingCodec.ts)
 * - `chunks` lose their `text`: a passage's text is its document's text from `start` to `end`,
 *   stored once (a chunk whose text is not that slice keeps it)
 *
 * Step 2 makes schema 3, also in the upgrade transaction:
 * - `passages` (block number) replaces `docs` and `chunks`: each document, with its chunks'
 *   positions, in the block of its smallest chunk seq (store/passageBlocks.ts)
 *
 * Step 3 makes schema 4: `lists` ([segment, list]) holds the int8 inverted lists of partitioned
 * segments (the ANN index). Nothing is rewritten: no segment was partitioned before it.
 *
 * Step 4 makes schema 5, in the upgrade transaction: `segmentColumns` (id) replaces `segments`,
 * each record's documents stored as columns (store/segmentColumns.ts). The store is renamed so
 * that older code, which needs `segments`, refuses the database instead of misreading it.
 *
 * Step 5 makes schema 6, in the upgrade transaction: `rows` (block number) replaces `vectors`, each
 * live chunk's fp32 row in the block of its seq (store/rowBlocks.ts), so merges no longer rewrite
 * them. One segment at a time (its rows read, then written into their blocks, a block another
 * segment's rows share read back first), so the step holds one segment's rows, not the collection's.
 *
 * Step 6 makes schema 7, in the upgrade transaction: `listRecords` ([segment, list]) replaces
 * `lists`, records unchanged, {@link MIGRATION_LISTS} at a time. From schema 7 a partitioned
 * segment's lists may be in OPFS instead (store/listFiles.ts), which older code cannot read: the
 * store is renamed so that it refuses the database instead of finding no lists.
 *
 * @example
 * for (const step of MIGRATIONS.slice(oldVersion)) await step(db, tx)
 */
export const MIGRATIONS: readonly Migration[] = [
  (db) => {
    db.createObjectStore('meta')
    db.createObjectStore('docs', { keyPath: 'id' })
    db.createObjectStore('chunks', { keyPath: 'seq' })
    db.createObjectStore('segments', { keyPath: 'id' })
    db.createObjectStore('postings', { keyPath: ['term', 'segment'] }).createIndex('segment', 'segment')
    db.createObjectStore('quantized', { keyPath: ['segment', 'block'] })
    db.createObjectStore('vectors', { keyPath: ['segment', 'block'] })
    db.createObjectStore('tombstones')
  },
  async (db, tx) => {
    db.createObjectStore('postingBuckets', { keyPath: ['bucket', 'segment'] }).createIndex('segment', 'segment')
    const v1 = tx as unknown as IDBPTransaction<unknown, string[], 'versionchange'>
    // A request still pending when another fails rejects with the abort: the step reports it once.
    const writes: Promise<unknown>[] = []
    const request = <T>(pending: Promise<T>): Promise<T> => {
      pending.catch(() => {})
      return pending
    }
    const write = (pending: Promise<unknown>) => void writes.push(request(pending))

    const postings = (await request(v1.objectStore('postings').getAll())) as PostingRecord[]
    const bySegment = new Map<number, PostingRecord[]>()
    for (const p of postings) {
      const list = bySegment.get(p.segment)
      if (list) list.push(p)
      else bySegment.set(p.segment, [p])
    }
    for (const [segment, list] of bySegment) for (const packed of packPostings(segment, list)) write(v1.objectStore('postingBuckets').put(packed))
    db.deleteObjectStore('postings')

    const chunks = (await request(v1.objectStore('chunks').getAll())) as ChunkRecord[]
    const docIds = [...new Set(chunks.map((c) => c.docId))]
    const docs = await Promise.all(docIds.map((id) => request(v1.objectStore('docs').get(id) as Promise<DocRecord | undefined>)))
    const textOf = new Map(docIds.map((id, i) => [id, docs[i]?.text]))
    for (const chunk of chunks) {
      if (textOf.get(chunk.docId)?.slice(chunk.start, chunk.end) !== chunk.text) continue
      const { text: _text, ...rest } = chunk
      write(v1.objectStore('chunks').put(rest))
    }
    const manifest = (await request(v1.objectStore('meta').get('manifest'))) as Manifest | undefined
    if (manifest) write(v1.objectStore('meta').put({ ...manifest, schema: 2 }, 'manifest'))
    await Promise.all(writes)
  },
  async (db, tx) => {
    db.createObjectStore('passages', { keyPath: 'block' })
    const v2 = tx as unknown as IDBPTransaction<unknown, string[], 'versionchange'>
    const request = <T>(pending: Promise<T>): Promise<T> => {
      pending.catch(() => {})
      return pending
    }
    const [docs, chunks, manifest] = (await Promise.all([
      request(v2.objectStore('docs').getAll()),
      request(v2.objectStore('chunks').getAll()),
      request(v2.objectStore('meta').get('manifest')),
    ])) as [DocRecord[], (Omit<ChunkRecord, 'text'> & { text?: string })[], Manifest | undefined]
    const chunksOf = new Map<string, ChunkRecord[]>()
    for (const c of chunks) {
      const list = chunksOf.get(c.docId)
      // A chunk stored without text is its document's slice: toStored keeps it without.
      const chunk = { ...c, text: c.text } as ChunkRecord
      if (list) list.push(chunk)
      else chunksOf.set(c.docId, [chunk])
    }
    const blocks = new Map<number, PassageBlock>()
    for (const doc of docs) {
      const seq = docSeq(doc)
      // A document with no chunk seq cannot be named by any view: schema 2 never wrote one.
      if (!Number.isFinite(seq)) continue
      const b = blockOf({ id: doc.id, seq })
      const block = blocks.get(b) ?? blocks.set(b, { block: b, docs: [] }).get(b)!
      block.docs.push(toStored(doc, (chunksOf.get(doc.id) ?? []).filter((c) => doc.seqs.includes(c.seq))))
    }
    const writes = [...blocks.values()].map((block) => request(v2.objectStore('passages').put(block)))
    db.deleteObjectStore('docs')
    db.deleteObjectStore('chunks')
    if (manifest) writes.push(request(v2.objectStore('meta').put({ ...manifest, schema: 3 }, 'manifest')))
    await Promise.all(writes)
  },
  async (db, tx) => {
    db.createObjectStore('lists', { keyPath: ['segment', 'list'] })
    const v3 = tx as unknown as IDBPTransaction<unknown, string[], 'versionchange'>
    const manifest = (await v3.objectStore('meta').get('manifest')) as Manifest | undefined
    if (manifest) await v3.objectStore('meta').put({ ...manifest, schema: 4 }, 'manifest')
  },
  async (db, tx) => {
    const v4 = tx as unknown as IDBPTransaction<unknown, string[], 'versionchange'>
    const request = <T>(pending: Promise<T>): Promise<T> => {
      pending.catch(() => {})
      return pending
    }
    const [segments, manifest] = (await Promise.all([request(v4.objectStore('segments').getAll()), request(v4.objectStore('meta').get('manifest'))])) as [
      SegmentRecord[],
      Manifest | undefined,
    ]
    const columns = db.createObjectStore('segmentColumns', { keyPath: 'id' }) as unknown as { put(value: unknown): Promise<unknown> }
    const writes = segments.map((segment) => request(columns.put(toStoredSegment(segment))))
    db.deleteObjectStore('segments')
    if (manifest) writes.push(request(v4.objectStore('meta').put({ ...manifest, schema: 5 }, 'manifest')))
    await Promise.all(writes)
  },
  async (db, tx) => {
    const v5 = tx as unknown as IDBPTransaction<unknown, string[], 'versionchange'>
    const request = <T>(pending: Promise<T>): Promise<T> => {
      pending.catch(() => {})
      return pending
    }
    const rows = db.createObjectStore('rows', { keyPath: 'block' }) as unknown as {
      get(key: number): Promise<unknown>
      put(value: unknown): Promise<unknown>
    }
    const [stored, tombstones, manifest] = (await Promise.all([
      request(v5.objectStore('segmentColumns').getAll()),
      request(v5.objectStore('tombstones').getAllKeys()),
      request(v5.objectStore('meta').get('manifest')),
    ])) as [StoredSegment[], number[], Manifest | undefined]
    const dead = new Set(tombstones)
    const dims = manifest?.dims ?? null
    for (const segment of stored.map(fromStoredSegment)) {
      if (dims === null || segment.vectorBlocks === 0) continue
      const per = (segment as SegmentRecord & { vectorRows?: number }).vectorRows ?? VECTOR_BLOCK_ROWS
      const blocks = (await request(v5.objectStore('vectors').getAll(IDBKeyRange.bound([segment.id, -Infinity], [segment.id, Infinity])))) as { block: number; vectors: Float32Array }[]
      const changes = new Map<number, RowChanges>()
      const target = rowBlockRows(dims)
      for (const { block, vectors } of blocks) {
        for (let r = 0; r * dims < vectors.length; r++) {
          const seq = segment.seqs[block * per + r]
          if (seq === undefined || dead.has(seq)) continue
          const b = Math.floor(seq / target)
          const change = changes.get(b) ?? changes.set(b, { add: new Map(), remove: new Set() }).get(b)!
          change.add.set(seq, vectors.subarray(r * dims, (r + 1) * dims))
        }
      }
      const keys = [...changes.keys()]
      // Segments' seqs interleave once merged: a block may already hold another segment's rows.
      const before = (await Promise.all(keys.map((b) => request(rows.get(b))))) as (RowBlockRecord | undefined)[]
      await Promise.all(keys.map((b, i) => request(rows.put(applyRowChanges(b, before[i], changes.get(b)!, dims)!))))
    }
    const segments = v5.objectStore('segmentColumns')
    const writes = stored
      .filter((s) => 'vectorRows' in s)
      .map((s) => {
        const { vectorRows: _rows, ...rest } = s as StoredSegment & { vectorRows?: number }
        return request(segments.put(rest))
      })
    db.deleteObjectStore('vectors')
    if (manifest) writes.push(request(v5.objectStore('meta').put({ ...manifest, schema: 6 }, 'manifest')))
    await Promise.all(writes)
  },
  async (db, tx) => {
    const v6 = tx as unknown as IDBPTransaction<unknown, string[], 'versionchange'>
    const request = <T>(pending: Promise<T>): Promise<T> => {
      pending.catch(() => {})
      return pending
    }
    const renamed = db.createObjectStore('listRecords', { keyPath: ['segment', 'list'] }) as unknown as { put(value: unknown): Promise<unknown> }
    const lists = v6.objectStore('lists')
    const [keys, manifest] = (await Promise.all([request(lists.getAllKeys()), request(v6.objectStore('meta').get('manifest'))])) as [[number, number][], Manifest | undefined]
    for (let i = 0; i < keys.length; i += MIGRATION_LISTS) {
      const batch = keys.slice(i, i + MIGRATION_LISTS)
      const read = (await request(lists.getAll(IDBKeyRange.bound(batch[0]!, batch[batch.length - 1]!)))) as ListRecord[]
      await Promise.all(read.map((list) => request(renamed.put(list))))
    }
    db.deleteObjectStore('lists')
    if (manifest) await request(v6.objectStore('meta').put({ ...manifest, schema: 7 }, 'manifest'))
  },
]
