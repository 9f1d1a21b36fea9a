/**
 * Token-budget batching: group sequences of similar length so that a batch pads little, and cap
 * each batch by its padded token count (rows × longest row) rather than by a fixed row count.
 */

/**
 * Default padded tokens per batch for a device: 1024 on CPUs (WASM, onnxruntime-node), 4096 on
 * WebGPU. On CPUs smaller batches are faster (cache-resident activations, less attention memory);
 * measured with the MiniLM-L6-shaped models on 50 SciFact abstracts (~370 tokens a pair):
 * - cross-encoder q8, Chromium WASM 2 threads: 4.8 s at 512-1024, 5.4 s at 2048, 6.0 s at 4096,
 *   6.5 s at 8192; fp32: 6.9 s at 512, 7.0 s at 1024, 8.4 s at 4096;
 * - cross-encoder q8, onnxruntime-node: 0.94 s at 1024 vs 1.43 s at 4096;
 * - embedder q8, onnxruntime-node, 100 abstracts: 0.97 s at 1024, 1.03 s at 2048, 1.3 s at 4096.
 * A GPU wants wide batches to fill its cores; no GPU was at hand to measure, so WebGPU keeps 4096.
 *
 * @example
 * defaultBatchTokens('wasm')   // 1024
 * defaultBatchTokens('webgpu') // 4096
 */
export function defaultBatchTokens(device: 'webgpu' | 'wasm' | 'cpu'): number {
  return device === 'webgpu' ? 4096 : 1024
}

/** Limits for {@link planBatches}. */
export interface BatchLimits {
  /** Max padded tokens per batch (rows × longest row). A single longer row still gets a batch of its own. */
  maxTokens: number
  /** Max rows per batch. */
  maxRows: number
}

/**
 * Splits sequence indices into batches, longest first, so each batch holds rows of similar length.
 * Every index appears in exactly one batch; within a batch, indices are in descending length order
 * (ties by input order), which makes the plan deterministic.
 *
 * @example
 * planBatches([5, 100, 6, 98], { maxTokens: 200, maxRows: 8 }) // [[1, 3], [2, 0]]
 */
export function planBatches(lengths: readonly number[], limits: BatchLimits): number[][] {
  if (!(limits.maxTokens >= 1) || !(limits.maxRows >= 1)) {
    throw new RangeError('planBatches: maxTokens and maxRows must be at least 1')
  }
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b)
  const batches: number[][] = []
  let current: number[] = []
  let width = 0 // longest row of the current batch = the first one, since rows arrive longest first
  for (const i of order) {
    const len = lengths[i]!
    if (current.length > 0 && ((current.length + 1) * width > limits.maxTokens || current.length >= limits.maxRows)) {
      batches.push(current)
      current = []
    }
    if (current.length === 0) width = len
    current.push(i)
  }
  if (current.length > 0) batches.push(current)
  return batches
}

/**
 * Fraction of padded tokens that are padding under a plan (0 = none wasted).
 *
 * @example
 * paddingWaste([2, 4], [[1, 0]]) // 0.25: 8 slots, 6 real tokens
 */
export function paddingWaste(lengths: readonly number[], batches: readonly (readonly number[])[]): number {
  let slots = 0
  let real = 0
  for (const batch of batches) {
    let width = 0
    for (const i of batch) {
      width = Math.max(width, lengths[i]!)
      real += lengths[i]!
    }
    slots += width * batch.length
  }
  return slots === 0 ? 0 : 1 - real / slots
}
