/**
 * Inverted lists in the origin private file system (OPFS), read through read-only synchronous
 * access handles in the worker. A search reads the ~14 lists it probes (~3 MB at 1M × 384): from
 * IndexedDB that took 15–18 ms in Chromium here (each list a value of its own, which Chromium keeps
 * in a blob file past 64 KiB; as inline parts it took 25–29 ms), from OPFS 2.7–4.1 ms. Rows stay in
 * IndexedDB; only the lists move, and only where the worker has `createSyncAccessHandle` (Chromium,
 * Firefox, Safari workers): elsewhere (Node, a page's main thread) the store keeps them in its
 * `listRecords` store (`lists` before schema 7), and segments written there are read from there.
 *
 * Layout, per collection database and incarnation (`winnow-lists/<db>/i<incarnation>/`): a
 * partitioned segment's lists are appended to `s<segment>`, each as a 16-byte header (magic,
 * list, rows, dims; little-endian u32), its codes (padded to 4 bytes), then its scales; `s<segment>.idx`
 * gets a 16-byte entry per list (list, byte offset, rows, dims), read whole when a reader first
 * needs the segment. A merge stages its lists in steps (`collection/compaction.ts`): each step's
 * bytes are flushed before the step's IndexedDB transaction, so a committed segment's files are
 * complete; the first write of a segment in this store starts its files empty (a staged id is
 * never reused once its merge is abandoned, but a file another tab could not delete may remain).
 *
 * Files of segments that are gone are removed after the commit that deletes them; one another
 * tab still reads (its handle open) is removed by a later sweep, which runs when a store first
 * connects: it removes files of segments below `nextSegment` that are neither stored nor staging.
 */
import { WinnowError } from '../errors.js'
import { storageError } from './idbOpen.js'
import type { ListRecord, Manifest, WriteBatch } from './types.js'

const ROOT = 'winnow-lists'
const MAGIC = 0x314c4e57 // 'WNL1'
const HEADER = 16

interface SyncHandle {
  read(buffer: ArrayBufferView, options?: { at?: number }): number
  write(buffer: ArrayBufferView, options?: { at?: number }): number
  getSize(): number
  truncate(size: number): void
  flush(): void
  close(): void
  readonly mode?: string
}
interface FileHandle {
  createSyncAccessHandle(options?: { mode?: string }): Promise<SyncHandle>
  getFile(): Promise<Blob>
}
interface DirHandle {
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<DirHandle>
  getFileHandle(name: string, options?: { create?: boolean }): Promise<FileHandle>
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>
  keys(): AsyncIterable<string>
}

/** Whether this context can keep lists in OPFS: a worker with synchronous access handles. */
export function listFilesAvailable(): boolean {
  const g = globalThis as unknown as { FileSystemFileHandle?: { prototype: object }; navigator?: { storage?: { getDirectory?: unknown } } }
  const handle = g.FileSystemFileHandle
  return handle !== undefined && 'createSyncAccessHandle' in handle.prototype && typeof g.navigator?.storage?.getDirectory === 'function'
}

const pad4 = (n: number) => (n + 3) & ~3

/** Removes the entries of `dir` that `which` picks (folders with what they hold); one still open elsewhere stays. */
async function removeWhere(dir: DirHandle, which: (name: string) => boolean): Promise<void> {
  const names: string[] = []
  for await (const name of dir.keys()) if (which(name)) names.push(name)
  for (const name of names) await dir.removeEntry(name, { recursive: true }).catch(() => {})
}

/** Where each list of one segment file is, and how its bytes are read. */
interface SegmentFile {
  lists: Map<number, { at: number; rows: number; dims: number }>
  /** Reads `into`'s arrays, in order, from `at` on: all at once (a close cannot come between). */
  read(at: number, into: readonly Uint8Array[]): Promise<void>
  close(): void
}

/**
 * One collection's list files. `read` and `write` take and give whole lists (`ListRecord`), as the
 * `listRecords` store does.
 *
 * @example
 * const files = new ListFiles('winnow:docs', () => incarnation, 'docs')
 * await files.write(lists)
 * const [list] = await files.read([[3, 7]], (missing) => getByKeys(db, 'listRecords', missing))
 */
export class ListFiles {
  private readonly segments = new Map<number, Promise<SegmentFile | null>>()
  /** Segments this store has written to: their first write started their files empty. */
  private readonly written = new Set<number>()

  constructor(
    private readonly dbName: string,
    private readonly incarnation: () => string,
    private readonly collection: string,
  ) {}

  private async databaseFolder(create: boolean): Promise<DirHandle> {
    const root = (await (navigator.storage as unknown as { getDirectory(): Promise<DirHandle> }).getDirectory()) as DirHandle
    const top = await root.getDirectoryHandle(ROOT, { create })
    return top.getDirectoryHandle(encodeURIComponent(this.dbName), { create })
  }

  private async directory(create: boolean): Promise<DirHandle> {
    return (await this.databaseFolder(create)).getDirectoryHandle(`i${this.incarnation()}`, { create })
  }

  /** Writes a batch's lists to their files (flushed) and returns the rest of it, for IndexedDB. */
  async take<B extends Pick<WriteBatch, 'putLists'>>(batch: B): Promise<B> {
    if (!batch.putLists?.length) return batch
    await this.write(batch.putLists)
    return { ...batch, putLists: undefined }
  }

  /** After a commit: the files of the segments it deleted (or of all, for a clear) are removed. */
  async committed(batch: Pick<WriteBatch, 'deleteSegments' | 'clearAll'>): Promise<void> {
    if (batch.clearAll) await this.removeAll()
    else if (batch.deleteSegments?.length) await this.remove(batch.deleteSegments)
  }

  /** The sweep a store runs when it first connects: `state` reads the manifest and the segment ids. */
  async sweepWith(state: () => Promise<[Manifest | null, number[]]>): Promise<void> {
    const [manifest, ids] = await state()
    if (manifest) await this.sweep(new Set([...ids, ...(manifest.staging ?? [])]), manifest.nextSegment)
  }

  /** Appends lists to their segments' files and flushes them. */
  async write(lists: readonly ListRecord[]): Promise<void> {
    if (lists.length === 0) return
    try {
      const dir = await this.directory(true)
      const bySegment = new Map<number, ListRecord[]>()
      for (const l of lists) {
        const group = bySegment.get(l.segment)
        if (group) group.push(l)
        else bySegment.set(l.segment, [l])
      }
      for (const [segment, records] of bySegment) {
        const fresh = !this.written.has(segment)
        this.written.add(segment)
        const data = await (await dir.getFileHandle(`s${segment}`, { create: true })).createSyncAccessHandle()
        let index: SyncHandle | null = null
        try {
          index = await (await dir.getFileHandle(`s${segment}.idx`, { create: true })).createSyncAccessHandle()
          if (fresh) {
            data.truncate(0)
            index.truncate(0)
          }
          let at = data.getSize()
          const entries = new Uint32Array(records.length * 4)
          records.forEach((l, i) => {
            const rows = l.scales.length
            const codeBytes = rows * l.dims
            const bytes = new Uint8Array(HEADER + pad4(codeBytes) + rows * 4)
            new Uint32Array(bytes.buffer, 0, 4).set([MAGIC, l.list, rows, l.dims])
            bytes.set(new Uint8Array(l.codes.buffer, l.codes.byteOffset, codeBytes), HEADER)
            bytes.set(new Uint8Array(l.scales.buffer, l.scales.byteOffset, rows * 4), HEADER + pad4(codeBytes))
            data.write(bytes, { at })
            entries.set([l.list, at, rows, l.dims], i * 4)
            at += bytes.length
          })
          data.flush()
          index.write(entries, { at: index.getSize() })
          index.flush()
        } finally {
          index?.close()
          data.close()
        }
      }
    } catch (error) {
      throw this.failure(error, 'writing')
    }
  }

  /**
   * The lists of `keys`, aligned with them: from a segment's files when it has them, else through
   * `fallback` (the `listRecords` store). Undefined where neither has the list (its segment is gone).
   */
  async read(keys: readonly (readonly [number, number])[], fallback: (keys: readonly (readonly [number, number])[]) => Promise<(ListRecord | undefined)[]>): Promise<(ListRecord | undefined)[]> {
    const out: (ListRecord | undefined)[] = new Array(keys.length)
    const elsewhere: number[] = []
    const files = await Promise.all(keys.map(([segment]) => this.segmentFile(segment)))
    const reads: Promise<void>[] = []
    keys.forEach(([, list], i) => {
      const file = files[i]
      if (!file) return void elsewhere.push(i)
      const where = file.lists.get(list)
      if (!where) return
      const { at, rows, dims } = where
      const codes = new Int8Array(rows * dims)
      const scales = new Float32Array(rows)
      reads.push(
        file.read(at + HEADER, [new Uint8Array(codes.buffer), new Uint8Array(scales.buffer)]).then(
          () => void (out[i] = { segment: keys[i]![0], list, dims, codes, scales }),
          (error) => {
            // Removed since the view was taken (merged away here or in another tab, its reader
            // closed): as if not stored.
            const name = (error as { name?: string }).name
            if (name !== 'NotFoundError' && name !== 'InvalidStateError') throw this.failure(error, 'reading')
            void this.forget(keys[i]![0])
          },
        ),
      )
    })
    await Promise.all(reads)
    if (elsewhere.length > 0) {
      const found = await fallback(elsewhere.map((i) => keys[i]!))
      elsewhere.forEach((i, j) => (out[i] = found[j]))
    }
    return out
  }

  private segmentFile(segment: number): Promise<SegmentFile | null> {
    let file = this.segments.get(segment)
    if (!file) {
      file = this.openSegment(segment)
      this.segments.set(segment, file)
      file.catch(() => this.segments.delete(segment))
    }
    return file
  }

  private async openSegment(segment: number): Promise<SegmentFile | null> {
    let dir: DirHandle
    let data: FileHandle
    let index: FileHandle
    try {
      dir = await this.directory(false)
      ;[data, index] = await Promise.all([dir.getFileHandle(`s${segment}`), dir.getFileHandle(`s${segment}.idx`)])
    } catch (error) {
      if ((error as { name?: string }).name === 'NotFoundError' || (error as { name?: string }).name === 'TypeMismatchError') return null
      throw this.failure(error, 'opening')
    }
    const entries = new Uint32Array(await (await index.getFile()).arrayBuffer())
    const lists = new Map<number, { at: number; rows: number; dims: number }>()
    for (let i = 0; i + 4 <= entries.length; i += 4) lists.set(entries[i]!, { at: entries[i + 1]!, rows: entries[i + 2]!, dims: entries[i + 3]! })
    // Read-only handles let every tab read at once; where the mode is not known (the handle would
    // lock the file), the file's bytes are read asynchronously instead.
    let handle: SyncHandle | null = null
    try {
      handle = await data.createSyncAccessHandle({ mode: 'read-only' })
      if (handle.mode !== 'read-only') {
        handle.close()
        handle = null
      }
    } catch {
      handle = null
    }
    const short = () => new WinnowError('STORAGE_UNAVAILABLE', `list file of segment ${segment} is shorter than its index`)
    if (handle) {
      const h = handle
      return {
        lists,
        read: async (at, into) => {
          for (const part of into) {
            if (h.read(part, { at }) !== part.length) throw short()
            at += pad4(part.length)
          }
        },
        close: () => h.close(),
      }
    }
    const blob = await data.getFile()
    return {
      lists,
      read: async (at, into) => {
        const size = into.reduce((n, part) => n + pad4(part.length), 0)
        const bytes = new Uint8Array(await blob.slice(at, at + size).arrayBuffer())
        let offset = 0
        for (const part of into) {
          if (offset + part.length > bytes.length) throw short()
          part.set(bytes.subarray(offset, offset + part.length))
          offset += pad4(part.length)
        }
      },
      close: () => {},
    }
  }

  /** Closes the reader of `segment`, if open (resolved once closed: a file open here cannot be removed). */
  private async forget(segment: number): Promise<void> {
    const file = this.segments.get(segment)
    this.segments.delete(segment)
    try {
      ;(await file)?.close()
    } catch {
      // it never opened, or is closed already
    }
  }

  /** Closes the readers of segments not in `live` (merged away), so their files can be removed. */
  keepOnly(live: ReadonlySet<number>): void {
    for (const segment of [...this.segments.keys()]) if (!live.has(segment)) void this.forget(segment)
  }

  /** Removes the files of `segments` (after the commit that deleted them); one still open elsewhere stays for a sweep. */
  async remove(segments: readonly number[]): Promise<void> {
    if (segments.length === 0) return
    let dir: DirHandle
    try {
      dir = await this.directory(false)
    } catch {
      return // no list files at all
    }
    for (const segment of segments) {
      await this.forget(segment)
      this.written.delete(segment)
      for (const name of [`s${segment}`, `s${segment}.idx`]) await dir.removeEntry(name).catch(() => {})
    }
  }

  /** Removes every list file of this incarnation (a clear), as far as no other tab holds one open. */
  async removeAll(): Promise<void> {
    await Promise.all([...this.segments.keys()].map((segment) => this.forget(segment)))
    this.written.clear()
    await this.directory(false).then((dir) => removeWhere(dir, () => true), () => {})
  }

  /**
   * Removes the files of segments below `below` that are not in `live` (stored or staging), and the
   * folders of earlier incarnations (the database was deleted and created again while a tab still
   * held one of their files, or its IndexedDB alone was cleared).
   */
  async sweep(live: ReadonlySet<number>, below: number): Promise<void> {
    let db: DirHandle
    try {
      db = await this.databaseFolder(false)
    } catch {
      return
    }
    const current = `i${this.incarnation()}`
    await removeWhere(db, (name) => name !== current)
    await db.getDirectoryHandle(current).then(
      (dir) =>
        removeWhere(dir, (name) => {
          const id = Number(/^s(\d+)(\.idx)?$/.exec(name)?.[1] ?? NaN)
          return Number.isInteger(id) && id < below && !live.has(id)
        }),
      () => {},
    )
  }

  /** Closes every reader. */
  close(): void {
    for (const segment of [...this.segments.keys()]) void this.forget(segment)
  }

  private failure(error: unknown, doing: string): WinnowError {
    if (error instanceof WinnowError) return error
    const name = (error as { name?: string } | null)?.name
    if (name === 'QuotaExceededError') return storageError(error, this.collection)
    const message = (error as { message?: string } | null)?.message ?? String(error)
    return new WinnowError('STORAGE_UNAVAILABLE', `the origin private file system failed ${doing} the vector index lists of collection '${this.collection}': ${name ?? ''} ${message}`.trim(), { collection: this.collection, name }, { cause: error })
  }

  /**
   * Removes every list file of a collection database, all incarnations (its deletion).
   *
   * @example
   * await ListFiles.destroy('winnow:docs')
   */
  static async destroy(dbName: string): Promise<void> {
    if (!listFilesAvailable()) return
    try {
      const root = (await (navigator.storage as unknown as { getDirectory(): Promise<DirHandle> }).getDirectory()) as DirHandle
      const top = await root.getDirectoryHandle(ROOT)
      await top.removeEntry(encodeURIComponent(dbName), { recursive: true })
    } catch {
      // none, or held open by another tab: the next sweep of a new incarnation leaves it alone
    }
  }
}
