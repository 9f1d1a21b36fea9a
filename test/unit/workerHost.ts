import { deserializeError } from '../../src/errors.js'
import type { ComposedModels } from '../../src/models/compose.js'
import type { LoadedEmbedder } from '../../src/models/loadEmbedder.js'
import type { AddProgress, CollectionOptions, SnapshotProgress } from '../../src/types.js'
import type { CollectionRef, Envelope, WorkerConfig, WorkerSearchOptions } from '../../src/worker/protocol.js'
import type { RegistryEnvironment } from '../../src/worker/registry.js'
import { WorkerService } from '../../src/worker/service.js'

/** A call's value, or its error rebuilt as the page sees it. */
export async function unwrap<T>(envelope: Promise<Envelope<T>>): Promise<T> {
  const result = await envelope
  if (result.ok) return result.value
  throw deserializeError(result.error)
}

const CONFIG: WorkerConfig = { reranker: null, embedder: null, device: 'wasm', modelBaseUrl: null, wasmBaseUrl: '', allowRemoteModels: false, cache: false }

/** Stand-in models: no reranker, and the given embedder (named `model`) or none; the test frees it, not the worker. */
export function fakeModels(embedder: { loaded: LoadedEmbedder; model: string } | null = null): ComposedModels {
  return {
    reranker: null,
    embedder: embedder ? { ...embedder.loaded, dispose: async () => {} } : null,
    info: {
      device: { kind: 'wasm', reason: 'test', threads: 1 } as ComposedModels['info']['device'],
      reranker: null,
      embedder: embedder ? ({ model: embedder.model } as ComposedModels['info']['embedder']) : null,
    },
    device: 'wasm',
    loadReranker: () => Promise.reject(new Error('no rerankers here')),
    rerankerDtype: () => 'q8',
  }
}

/**
 * One worker (a tab) driven through its RPC surface, {@link WorkerService}, over the given storage
 * and stand-in models; each method unwraps the envelope as the page does.
 */
export function workerHost(storage: Partial<RegistryEnvironment>, models: ComposedModels = fakeModels()) {
  const service = new WorkerService({}, { storage, loadModels: async () => models })
  void service.init(CONFIG)
  return {
    service,
    openForHandle: (name: string, options: CollectionOptions, onProgress?: (p: SnapshotProgress) => void, incarnation?: string) =>
      unwrap(service.openCollection(name, options, onProgress, incarnation)),
    open: async (name: string, options: CollectionOptions, onProgress?: (p: SnapshotProgress) => void, incarnation?: string) =>
      (await unwrap(service.openCollection(name, options, onProgress, incarnation))).info,
    info: (ref: CollectionRef) => unwrap(service.collectionInfo(ref)),
    add: (callId: number, ref: CollectionRef, documents: unknown, onProgress?: (p: AddProgress) => void) => unwrap(service.add(callId, ref, documents, onProgress)),
    remove: (ref: CollectionRef, ids: unknown) => unwrap(service.remove(ref, ids)),
    get: (ref: CollectionRef, id: string) => unwrap(service.get(ref, id)),
    count: (ref: CollectionRef) => unwrap(service.count(ref)),
    clear: (ref: CollectionRef) => unwrap(service.clear(ref)),
    search: (callId: number, ref: CollectionRef, query: string, options: WorkerSearchOptions) => unwrap(service.search(callId, ref, query, options)),
    syncSnapshot: (callId: number, ref: CollectionRef) => unwrap(service.syncSnapshot(callId, ref)),
    destroy: (name: string) => unwrap(service.deleteCollection(name)),
    list: () => unwrap(service.listCollections()),
    cancel: (callId: number) => service.cancel(callId),
    /** The worker is gone (its collections closed synchronously, as dispose does first). */
    closeAll: () => void service.dispose(),
  }
}

export type WorkerHost = ReturnType<typeof workerHost>
