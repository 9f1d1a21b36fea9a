import { fileURLToPath } from 'node:url'
import { env } from '@huggingface/transformers'
import { loadCrossEncoder } from '../../src/models/loadCrossEncoder.js'
import type { Dtype } from '../../src/types.js'
import type { ReferencePair } from './helpers.js'

/** Scores each reference pair alone with the same src/ code on onnxruntime-node (the native CPU runtime). */
export async function nodeLogits(pairs: ReferencePair[], dtype: Dtype): Promise<number[]> {
  env.allowRemoteModels = false
  env.allowLocalModels = true
  env.localModelPath = fileURLToPath(new URL('../fixtures/models/', import.meta.url))
  const { encoder, dispose } = await loadCrossEncoder({ model: 'tiny-random-cross-encoder', dtype, device: 'cpu' })
  const logits: number[] = []
  for (const p of pairs) logits.push((await encoder.score(p.query, [p.document])).logits[0]!)
  await dispose()
  return logits
}
