/**
 * The default worker. The `new Worker(new URL(..., import.meta.url))` shape is what bundlers (Vite,
 * webpack 5, Rollup plugins) recognise to bundle the worker with its dependencies; keep it literal.
 * (The build rewrites the `.ts` below to `.js` in dist/.)
 *
 * @example
 * const worker = spawnDefaultWorker('winnow-worker-1')
 */
export function spawnDefaultWorker(name: string): Worker {
  return new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name })
}
