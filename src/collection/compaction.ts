import type { ChunkView } from './ports.js'
import { quantize } from '../core/quantize.js'
import { mergedRows } from './mergeRows.js'
import { DEFAULT_INDEX_MIN_ROWS, listRecords, partitionRows, permuted, permuteRows, type IndexProgress } from './ivfBuild.js'
import {
  VECTOR_BLOCK_ROWS,
  type CollectionStore,
  type IvfLayout,
  type ListRecord,
  type Manifest,
  type PostingRecord,
  type QuantizedBlockRecord,
  type SegmentDoc,
  type SegmentRecord,
  type StagedRecords,
  type WriteBatch,
} from '../store/types.js'

/** Above this many segments, the smallest are merged (each query reads one record per segment per term). */
export const MAX_SEGMENTS = 10
/**
 * A merge takes the smallest segments while the next is at most this many times the rows taken so
 * far: segments of like size merge, and a big segment is not rewritten to absorb a few small ones.
 */
const MERGE_RATIO = 2

/** Segments to merge and why, or null when the layout is fine. */
/**
 * What {@link planMerge} needs to know of each segment in a view: rows, live rows, vectors.
 *
 * @example
 * const plan = planMerge(segmentStats(table))
 */
export function segmentStats(table: ChunkView): { id: number; size: number; live: number; vectors: boolean }[] {
  const stats = new Map<number, { id: number; size: number; live: number; vectors: boolean }>()
  for (const id of table.segments) stats.set(id, { id, size: 0, live: 0, vectors: false })
  for (let slot = 0; slot < table.size; slot++) {
    const s = stats.get(table.segment(slot))!
    s.size++
    s.live += table.isLive(slot) ? 1 : 0
    if (table.vectorRow(slot) >= 0) s.vectors = true
  }
  return [...stats.values()]
}

export interface MergePlan {
  segments: number[]
}

/**
 * The plan of an optimize (a snapshot build, see `CollectionEngine.optimize`): the smallest
 * segments of a kind (with or without vectors) merged while they fit `maxRows`, two at least; else a
 * segment of at least `minRows` rows with vectors not yet partitioned, rewritten alone (which
 * partitions it). Null when neither is left: each plan leaves fewer segments or one more
 * partitioned, so optimizing ends.
 *
 * @example
 * planOptimize(segmentStats(table), maxMergeRows(384), 50_000, new Set(table.partitioned.map((p) => p.segment)))
 */
export function planOptimize(segments: readonly { id: number; live: number; vectors: boolean }[], maxRows: number, minRows: number, partitioned: ReadonlySet<number>): MergePlan | null {
  for (const vectors of [true, false]) {
    const group = segments.filter((s) => s.vectors === vectors).sort((a, b) => a.live - b.live || a.id - b.id)
    const take: number[] = []
    let rows = 0
    for (const s of group) {
      if (rows + s.live > maxRows) break
      take.push(s.id)
      rows += s.live
    }
    if (take.length >= 2) return { segments: take.sort((a, b) => a - b) }
  }
  const alone = segments.find((s) => s.vectors && s.live >= minRows && !partitioned.has(s.id))
  return alone ? { segments: [alone.id] } : null
}

/**
 * Most fp32 bytes a merged segment's rows may take (384 MiB: 262,144 rows at 384 dims). A merge
 * holds its rows in memory, rebuilt from int8, to re-block them (and to train the ANN index), so bigger segments are
 * never merged further: a million passages settle as a few segments of this size, each partitioned.
 */
export const MAX_MERGE_BYTES = 384 * 2 ** 20

/** Rows of a merged segment at `dims` dimensions (see {@link MAX_MERGE_BYTES}); keyword-only segments use 384. */
export function maxMergeRows(dims: number | null): number {
  return Math.floor(MAX_MERGE_BYTES / (4 * (dims ?? 384)))
}

/**
 * Picks segments to merge: once there are more than {@link MAX_SEGMENTS}, the smallest ones (by
 * chunks, tombstoned included) — at least two, then more while the next is at most
 * {@link MERGE_RATIO} times the rows taken so far, all within `maxRows` live rows; a segment that
 * is mostly tombstones is merged too, to reclaim its space. Segments of like size merge, so a
 * passage is rewritten about once per doubling of its segment (tiered, as in Lucene; ingesting a
 * million passages in adds of 5,000 rewrites each ~2 times, partitions each ~1.8 times, against
 * 3.7 and 3.6 when each round merged all but the four largest). Segments with vectors and without
 * are never merged together.
 *
 * @example
 * planMerge(segments, live) // { segments: [4, 7, 9, 11, 12, 13] } or null
 */
export function planMerge(segments: readonly { id: number; size: number; live: number; vectors: boolean }[], maxRows = Infinity): MergePlan | null {
  const groups = [segments.filter((s) => s.vectors), segments.filter((s) => !s.vectors)]
  for (const group of groups) {
    const bySize = [...group].sort((a, b) => a.size - b.size || a.id - b.id)
    const merge = new Set<number>()
    if (segments.length > MAX_SEGMENTS) {
      let rows = 0
      for (const s of bySize) {
        if (rows + s.live > maxRows || (merge.size >= 2 && s.size > MERGE_RATIO * rows)) break
        merge.add(s.id)
        rows += s.live
      }
    }
    for (const s of group) if (s.size >= 64 && s.live < s.size / 2) merge.add(s.id)
    // One segment alone is rewritten only to drop its tombstones.
    const alone = merge.size === 1 ? group.find((s) => merge.has(s.id))! : null
    if (merge.size >= 2 || (alone && alone.live < alone.size)) return { segments: [...merge].sort((a, b) => a - b) }
  }
  return null
}

/**
 * A merge built while adds went on, made ready to commit on the collection as it is now: the merged
 * segment takes the current `nextSegment` (an add may have used the one the build saw) and the
 * manifest is the current one, moved on by one generation. Chunks deleted since the build stay in
 * the merged segment under their tombstones (only the tombstones of chunks the merge dropped go).
 *
 * @example
 * await store.commit(finishMerge(built, currentManifest))
 */
export function finishMerge(built: WriteBatch, manifest: Manifest): WriteBatch {
  const id = manifest.nextSegment
  const at = <T extends { segment: number }>(records: T[] | undefined) => records?.map((r) => ({ ...r, segment: id }))
  return {
    ...built,
    manifest: { ...manifest, nextSegment: id + 1, generation: manifest.generation + 1, updatedAt: Date.now() },
    putSegments: built.putSegments?.map((s) => ({ ...s, id })),
    putPostings: at(built.putPostings),
    putQuantized: at(built.putQuantized),
    putLists: at(built.putLists),
  }
}

/**
 * Reads the planned segments and writes them back as one, without their tombstoned chunks: the
 * postings of each term concatenated (seqs stay ascending: later segments hold later seqs), the
 * int8 codes re-blocked or partitioned (`mergeRows.ts`). Seqs do not change, so passage blocks and
 * fp32 rows, stored by seq, stay where they are.
 *
 * @example
 * const batch = await buildMerge(store, plan, manifest, (seq) => table.isLive(seq))
 */
export async function buildMerge(
  store: CollectionStore,
  plan: MergePlan,
  manifest: Manifest,
  isLive: (seq: number) => boolean,
  pause: () => Promise<void> = async () => {},
  index: MergeIndexOptions = {},
): Promise<WriteBatch> {
  const ids = plan.segments
  const segments = (await store.readSegments(ids)).sort((a, b) => a.id - b.id)
  const id = manifest.nextSegment
  // Columns of the live rows, typed: a merge of 262,144 rows made an object per row and the
  // worker's collector spent a tenth of a 1M ingest on such garbage.
  const capacity = segments.reduce((n, s) => n + s.seqs.length, 0)
  const liveSeqs = new Uint32Array(capacity)
  const liveLengths = new Uint32Array(capacity)
  const liveDocOf = new Uint32Array(capacity)
  /** Where each live row comes from: its segment's place in `segments`, and its row there. */
  const fromSegment = new Uint32Array(capacity)
  const fromRow = new Uint32Array(capacity)
  let live = 0
  const docs: SegmentDoc[] = []
  const docIndex = new Map<string, number>()
  const dead: number[] = []
  segments.forEach((segment, s) => {
    for (let i = 0; i < segment.seqs.length; i++) {
      const seq = segment.seqs[i]!
      if (!isLive(seq)) {
        dead.push(seq)
        continue
      }
      const doc = segment.docs.at(segment.docOf[i]!)!
      let at = docIndex.get(doc.id)
      if (at === undefined) {
        at = docs.length
        docIndex.set(doc.id, at)
        docs.push(doc)
      }
      liveSeqs[live] = seq
      liveLengths[live] = segment.lengths[i]!
      liveDocOf[live] = at
      fromSegment[live] = s
      fromRow[live] = i
      live++
    }
  })
  const seqs = liveSeqs.subarray(0, live)
  const lengths = liveLengths.subarray(0, live)
  const docOf = liveDocOf.subarray(0, live)
  const hasVectors = segments.every((s) => s.vectorBlocks > 0) && segments.length > 0
  const putQuantized: QuantizedBlockRecord[] = []
  let vectorBlocks = 0
  let ivf: IvfLayout | undefined
  const putLists: ListRecord[] = []
  let order: Uint32Array | null = null
  if (hasVectors && seqs.length > 0) {
    const dims = manifest.dims!
    const all = await mergedRows(store, segments, fromSegment, fromRow, live, dims, pause)
    if (seqs.length >= (index.minRows ?? DEFAULT_INDEX_MIN_ROWS)) {
      // Partitioned: rows in list order, int8 codes per list (collection/ivfBuild.ts).
      const built = await partitionRows(all, seqs.length, dims, { seed: index.seed ?? seqs.length, lists: index.lists, pause, onProgress: index.onProgress })
      ivf = built.layout
      order = built.order
      permuteRows(all, dims, order)
      putLists.push(...listRecords(id, all, ivf, dims))
    }
    for (let b = 0; !ivf && b * VECTOR_BLOCK_ROWS < seqs.length; b++) {
      if (b > 0 && (b * VECTOR_BLOCK_ROWS) % PAUSE_ROWS === 0) await pause()
      const from = b * VECTOR_BLOCK_ROWS
      const to = Math.min(seqs.length, from + VECTOR_BLOCK_ROWS)
      const { codes, scales } = quantize(all.subarray(from * dims, to * dims), dims)
      putQuantized.push({ segment: id, block: b, dims, seqs: seqs.slice(from, to), codes, scales })
    }
    vectorBlocks = Math.ceil(seqs.length / VECTOR_BLOCK_ROWS)
  }
  // Postings: term by term over the merged segments, dead seqs dropped.
  const merged = new Map<string, { seqs: number[]; tfs: number[] }>()
  let postingsRead = 0
  for (const segment of segments) {
    await pause()
    for (const p of await store.readSegmentPostings(segment.id)) {
      if (++postingsRead % PAUSE_ROWS === 0) await pause()
      let list = merged.get(p.term)
      for (let i = 0; i < p.seqs.length; i++) {
        if (!isLive(p.seqs[i]!)) continue
        if (!list) merged.set(p.term, (list = { seqs: [], tfs: [] }))
        list.seqs.push(p.seqs[i]!)
        list.tfs.push(p.tfs[i]!)
      }
    }
  }
  const putPostings: PostingRecord[] = [...merged].map(([term, l]) => ({ term, segment: id, seqs: Uint32Array.from(l.seqs), tfs: Uint16Array.from(l.tfs) }))
  const putSegments: SegmentRecord[] =
    seqs.length > 0
      ? [
          {
            id,
            seqs: order ? permuted(seqs, order) : seqs.slice(),
            lengths: order ? permuted(lengths, order) : lengths.slice(),
            docOf: order ? permuted(docOf, order) : docOf.slice(),
            docs,
            vectorBlocks,
            ...(ivf ? { ivf } : {}),
          },
        ]
      : []
  return {
    manifest: { ...manifest, nextSegment: id + 1, generation: manifest.generation + 1, updatedAt: Date.now() },
    deleteSegments: ids,
    putSegments,
    putPostings,
    putQuantized,
    ...(putLists.length > 0 ? { putLists } : {}),
    removeTombstones: dead,
  }
}

/** A merge's build pauses for writes in flight (see `WritesFirst`) after this many rows or posting lists… */
const PAUSE_ROWS = 4096

/** Rows of the merged segment each staging step writes (int8 ~1.5 MiB at 384 dims): an add waits for one. */
export const STAGE_ROWS = 4096

/** How a merge partitions the segment it writes (see `collection/ivfBuild.ts`). */
export interface MergeIndexOptions {
  /** Rows from which the merged segment is partitioned; default {@link DEFAULT_INDEX_MIN_ROWS}. */
  minRows?: number
  /** Lists; default {@link listCount} of the rows. */
  lists?: number
  /** k-means seed; default the row count. */
  seed?: number
  onProgress?: (progress: IndexProgress) => void
}

/** A built merge's records relabelled to the segment id reserved for them. */
export interface StagedMerge {
  id: number
  segment: SegmentRecord
  postings: PostingRecord[]
  quantized: QuantizedBlockRecord[]
  lists: ListRecord[]
}

/**
 * The records of a built merge under the id reserved for it (`manifest.staging`), or null when the
 * merge writes no segment (every chunk of it was deleted: nothing to stage).
 *
 * @example
 * const staged = stagedMerge(built, reservedId)
 */
export function stagedMerge(built: WriteBatch, id: number): StagedMerge | null {
  const segment = built.putSegments?.[0]
  if (!segment) return null
  const at = <T extends { segment: number }>(records: T[] | undefined) => (records ?? []).map((r) => ({ ...r, segment: id }))
  return { id, segment: { ...segment, id }, postings: at(built.putPostings), quantized: at(built.putQuantized), lists: at(built.putLists) }
}

/**
 * The staging steps of a merge, in order: the postings with the first rows, then {@link STAGE_ROWS}
 * rows of int8 blocks or lists a step (a step ends on a 64-row boundary, so int8 runs stay whole).
 *
 * @example
 * for (const step of stagingSteps(staged)) await store.stage(step)
 */
export function stagingSteps(staged: StagedMerge): StagedRecords[] {
  const n = staged.segment.seqs.length
  const steps: StagedRecords[] = []
  for (let from = 0; from === 0 || from < n; from += STAGE_ROWS) {
    const inStep = (row: number) => row >= from && row < from + STAGE_ROWS
    steps.push({
      putPostings: from === 0 ? staged.postings : [],
      putQuantized: staged.quantized.filter((q) => inStep(q.block * VECTOR_BLOCK_ROWS)),
      putLists: staged.lists.filter((l) => inStep(staged.segment.ivf!.starts[l.list]!)),
    })
  }
  return steps
}

/**
 * The commit that makes a staged merge visible: its segment record in, the merged segments out,
 * the tombstones of chunks it dropped gone, its id no longer staging. Chunks deleted since the
 * build stay in the merged segment under their tombstones, as with {@link finishMerge}.
 *
 * @example
 * await store.commit(finishStaged(built, staged, currentManifest))
 */
export function finishStaged(built: WriteBatch, staged: StagedMerge, manifest: Manifest): WriteBatch {
  return {
    manifest: withoutStaging({ ...manifest, generation: manifest.generation + 1, updatedAt: Date.now() }, staged.id),
    deleteSegments: built.deleteSegments,
    putSegments: [staged.segment],
    removeTombstones: built.removeTombstones,
  }
}

/** The manifest without `id` among its staging segments. */
export function withoutStaging(manifest: Manifest, id: number): Manifest {
  const staging = (manifest.staging ?? []).filter((s) => s !== id)
  const { staging: _old, ...rest } = manifest
  return staging.length > 0 ? { ...rest, staging } : rest
}
