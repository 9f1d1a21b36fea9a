/**
 * Postings runs (`snapshot/postingRuns.ts`) kept in files of a temporary folder while a large
 * snapshot is built a part at a time: each chunk is written with its length before it, and read
 * back one at a time.
 */
import { appendFile, mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RunStore } from '../snapshot/postingRuns.js'

/**
 * A folder of runs; `dispose` removes it (and every run in it).
 *
 * @example
 * const runs = await fileRuns()
 * try { await buildSnapshot(docs, { postingRuns: runs.create, … }) } finally { await runs.dispose() }
 */
export async function fileRuns(parent = tmpdir()): Promise<{ dir: string; create: () => RunStore; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(join(parent, 'winnow-runs-'))
  let n = 0
  return {
    dir,
    create: () => fileRun(join(dir, `run-${n++}.bin`)),
    dispose: () => rm(dir, { recursive: true, force: true }),
  }
}

function fileRun(path: string): RunStore {
  return {
    async append(chunk) {
      const head = new Uint8Array(4)
      new DataView(head.buffer).setUint32(0, chunk.length, true)
      await appendFile(path, head)
      await appendFile(path, chunk)
    },
    async *read() {
      const file = await open(path, 'r').catch(() => null)
      if (!file) return
      try {
        const head = new Uint8Array(4)
        for (let at = 0; ; ) {
          const { bytesRead } = await file.read(head, 0, 4, at)
          if (bytesRead === 0) return
          const length = new DataView(head.buffer).getUint32(0, true)
          const chunk = new Uint8Array(length)
          if ((await file.read(chunk, 0, length, at + 4)).bytesRead !== length) throw new Error(`postings run ${path} is cut short`)
          yield chunk
          at += 4 + length
        }
      } finally {
        await file.close()
      }
    },
    drop: () => rm(path, { force: true }),
  }
}
