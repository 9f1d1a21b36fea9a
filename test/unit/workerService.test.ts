import { afterEach, describe, expect, it } from 'vitest'
import { WinnowError } from '../../src/errors.js'
import { requireShaderF16 } from '../../src/models/compose.js'
import { MemoryBackend } from '../../src/store/memory.js'
import { MemorySnapshotStorage } from '../../src/store/snapshots.js'
import type { RemoteFirstStage } from '../../src/search/types.js'
import type { WorkerSearchOptions } from '../../src/worker/protocol.js'
import { codeOf } from './helpers.js'
import { unwrap, workerHost, type WorkerHost } from './workerHost.js'

const hosts: WorkerHost[] = []
function host(): WorkerHost {
  const h = workerHost({ backend: new MemoryBackend(), snapshots: new MemorySnapshotStorage(), fetch: () => Promise.reject(new Error('offline')) })
  hosts.push(h)
  return h
}

afterEach(() => {
  for (const h of hosts.splice(0)) h.closeAll()
})

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'resolved'
  } catch (e) {
    return e instanceof WinnowError ? `${e.code}: ${e.message}` : `not a WinnowError: ${String(e)}`
  }
}

const docs = [
  { id: 'a', text: 'memory leaks in long running pages' },
  { id: 'b', text: 'garbage collection of detached nodes' },
]

describe('the worker service (the RPC surface over the registry)', () => {
  it('search options that are not an object are INVALID_INPUT before any search runs, for a local or a remote first stage', async () => {
    const h = host()
    await h.add(1, 'docs', docs)
    const remote = { firstStage: 'remote', mode: 'keyword', candidates: [] } as unknown as RemoteFirstStage
    for (const options of [null, 5, 'k=3', true]) {
      const bad = options as unknown as WorkerSearchOptions
      expect(await failure(h.search(2, 'docs', 'memory', bad))).toBe('INVALID_INPUT: search options must be an object')
      expect(await failure(unwrap(h.service.searchRemote(3, 'docs', 'memory', bad, remote)))).toBe('INVALID_INPUT: search options must be an object')
      expect(await failure(unwrap(h.service.searchRemote(4, null, 'memory', bad, remote)))).toBe('INVALID_INPUT: search options must be an object')
    }
    // Left out, they default.
    expect((await h.search(5, 'docs', 'memory', undefined as unknown as WorkerSearchOptions)).hits.map((x) => x.id)).toEqual(['a'])
    expect(await failure(unwrap(h.service.searchRemote(6, null, 'memory', {}, null as unknown as RemoteFirstStage)))).toBe('INVALID_INPUT: the remote first stage must be an object')
  })

  it('a cancelled add stops with ABORTED at its next checkpoint, and the call id is free again after', async () => {
    const h = host()
    const many = Array.from({ length: 400 }, (_, i) => ({ id: `d${i}`, text: `document number ${i} about memory and pages` }))
    const adding = h.add(7, 'docs', many)
    h.cancel(7)
    expect(await codeOf(adding)).toBe('ABORTED')
    expect(await h.count('docs')).toBe(0)
    expect((await h.add(7, 'docs', docs)).documents).toBe(2)
  })

  it('syncSnapshot on a plain collection is INVALID_INPUT; writes reach the engine, reads see them', async () => {
    const h = host()
    const { incarnation } = await h.openForHandle('notes', {})
    const ref = { name: 'notes', incarnation }
    expect(await failure(h.syncSnapshot(1, ref))).toBe("INVALID_INPUT: collection 'notes' is not a snapshot collection; open it with { snapshot: url }")
    await h.add(2, ref, docs)
    expect(await h.get(ref, 'b')).toMatchObject({ id: 'b' })
    expect(await h.remove(ref, ['a'])).toBe(1)
    expect((await h.info(ref)).documents).toBe(1)
    await h.clear(ref)
    expect(await h.count(ref)).toBe(0)
    expect(await h.list()).toEqual(['notes'])
  })
})

describe('requireShaderF16 (the one fp16 check for rerankers, embedders and search stages)', () => {
  it('refuses fp16 dtypes on a WebGPU adapter without shader-f16, naming the role', () => {
    expect(() => requireShaderF16('embedder', 'q4f16', 'webgpu', false)).toThrow(/embedder dtype q4f16 needs the WebGPU feature shader-f16/)
    const error = (() => {
      try {
        requireShaderF16('reranker', 'fp16', 'webgpu', false)
      } catch (e) {
        return e as WinnowError
      }
    })()
    expect(error).toMatchObject({ code: 'UNSUPPORTED_DTYPE', details: { dtype: 'fp16', device: 'webgpu' } })
    expect(error?.message).toMatch(/^reranker dtype fp16/)
  })

  it('passes the dtype through otherwise', () => {
    expect(requireShaderF16('reranker', 'fp16', 'webgpu', true)).toBe('fp16')
    expect(requireShaderF16('embedder', 'q4', 'webgpu', false)).toBe('q4')
    expect(requireShaderF16('reranker', 'fp16', 'wasm', false)).toBe('fp16')
  })
})
