/**
 * Waits between units of work and throws `ABORTED` once the call was cancelled: every long
 * operation (an add, a search, a snapshot import) takes one and awaits it between steps.
 *
 * @example
 * const checkpoint: Checkpoint = async () => { if (signal.aborted) throw new WinnowError('ABORTED', 'aborted') }
 */
export type Checkpoint = () => Promise<void>
