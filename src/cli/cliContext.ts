/// <reference types="node" />
/**
 * What a CLI run reads and writes besides its arguments, so tests can pass their own: the output
 * streams, the environment, fetch, and the loader of the transformers.js runtime (the one module
 * tree that needs the optional @huggingface/transformers).
 */

import { WinnowError } from '../errors.js'
import type { ProgressStream } from './progressBar.js'

/** The loaded embedder runtime module (see ./embedderRuntime.ts). */
export type EmbedderRuntime = typeof import('./embedderRuntime.js')

/** A CLI run's surroundings. */
export interface CliContext {
  stdout: ProgressStream
  stderr: ProgressStream
  env: Record<string, string | undefined>
  fetch: typeof fetch
  /** Imports ./embedderRuntime.js; fails with ERR_MODULE_NOT_FOUND when transformers.js is not installed. */
  importEmbedderRuntime: () => Promise<EmbedderRuntime>
}

/**
 * The real surroundings: process streams and environment, global fetch, a dynamic import.
 *
 * @example
 * const context = { ...defaultContext(), stderr: myStream }
 */
export function defaultContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    fetch: globalThis.fetch,
    importEmbedderRuntime: () => import('./embedderRuntime.js'),
  }
}

/**
 * Prints why a command failed as one line on stderr (no stack trace unless WINNOW_DEBUG is set)
 * and returns the exit code 1. WinnowErrors print as `CODE: message`; file system errors name the
 * operation and the path.
 *
 * @example
 * return fail(context, 'index', error) // "winnow-rerank index: INVALID_INPUT: ..."
 */
export function fail(context: CliContext, command: string, error: unknown): number {
  context.stderr.write(`winnow-rerank ${command}: ${describeFailure(error)}\n`)
  if (context.env.WINNOW_DEBUG && error instanceof Error && error.stack) context.stderr.write(`${error.stack}\n`)
  return 1
}

/**
 * One line for anything thrown.
 *
 * @example
 * describeFailure(new WinnowError('INVALID_INPUT', 'bad')) // 'INVALID_INPUT: bad'
 * describeFailure(Object.assign(new Error('x'), { code: 'EACCES', syscall: 'open', path: 'out/m.json' })) // 'cannot open out/m.json (EACCES)'
 */
export function describeFailure(error: unknown): string {
  if (error instanceof WinnowError) return `${error.code}: ${error.message}`
  const e = error as { code?: unknown; syscall?: unknown; path?: unknown; message?: unknown }
  if (typeof e?.code === 'string' && typeof e.path === 'string') {
    return `cannot ${typeof e.syscall === 'string' ? e.syscall : 'use'} ${e.path} (${e.code}${REASONS[e.code] ? `: ${REASONS[e.code]}` : ''})`
  }
  const message = typeof e?.message === 'string' ? e.message : String(error)
  return message.split('\n')[0]!
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the disk',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'it already exists',
  ENOENT: 'no such file or folder',
  EROFS: 'read-only file system',
}

/**
 * Whether an import failed because a package is not installed, looking through `cause`s.
 *
 * @example
 * isMissingPackage(error, ['@huggingface/transformers', 'onnxruntime-node'])
 */
export function isMissingPackage(error: unknown, packages: readonly string[]): boolean {
  let current = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined
  for (let depth = 0; current && depth < 5; depth++) {
    if (current.code === 'ERR_MODULE_NOT_FOUND' && packages.some((p) => String(current!.message).includes(p))) return true
    current = current.cause as typeof current
  }
  return false
}
