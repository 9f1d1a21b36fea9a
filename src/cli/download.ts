/**
 * One file from a hub to disk, resumably: bytes go to `<file>.part`, an interrupted transfer
 * continues with a `Range` request (in this run, up to `retries` times, or in the next run), the
 * finished file is checked (size; SHA-256 for LFS files) and renamed into place in one step, so
 * `<file>` is either absent or complete and verified.
 */

import { createHash } from 'node:crypto'
import { closeSync, createReadStream, existsSync, openSync, statSync, writeSync } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { WinnowError } from '../errors.js'
import { httpError, type HubContext } from './hubClient.js'

const RETRY_PAUSE_MS = 200

/** What the downloaded bytes must match. */
export interface ExpectedFile {
  size?: number
  sha256?: string
}

/** What {@link downloadFile} needs. */
export interface DownloadOptions {
  url: string
  /** Final path; the transfer writes `<dest>.part`. */
  dest: string
  expected: ExpectedFile
  fetch: typeof fetch
  context: HubContext
  /** Extra attempts after an interrupted transfer (default 3). */
  retries?: number
  /** Bytes of this file on disk so far (called as they arrive, and once with the resume offset). */
  onBytes?: (loaded: number) => void
  /** An attempt failed and another follows. */
  onRetry?: (attempt: number, reason: string) => void
}

/** How a download ended. */
export interface DownloadResult {
  bytes: number
  sha256: string
  /** Bytes found in `.part` and not downloaded again. */
  resumedFrom: number
}

/**
 * Downloads `url` to `dest` (see the module comment). Rejects with MODEL_LOAD_FAILED: on a hash
 * or size mismatch (the bad file is deleted), on an HTTP error, or after `retries` interruptions
 * (the `.part` file stays for the next run).
 *
 * @example
 * await downloadFile({ url, dest: 'public/models/x/onnx/model_quantized.onnx', expected: { size, sha256 }, fetch, context })
 */
export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  const { url, dest, expected } = options
  const part = `${dest}.part`
  const retries = options.retries ?? 3
  await mkdir(dirname(dest), { recursive: true })
  let resumedFrom = -1
  let lastReason = ''
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) {
      options.onRetry?.(attempt, lastReason)
      // A short pause lets a dropped connection or a busy server recover.
      await new Promise((done) => setTimeout(done, RETRY_PAUSE_MS * attempt))
    }
    let offset = existsSync(part) ? statSync(part).size : 0
    if (expected.size !== undefined && offset > expected.size) {
      await rm(part, { force: true })
      offset = 0
    }
    if (resumedFrom < 0) resumedFrom = offset
    if (expected.size === undefined || offset < expected.size) {
      const outcome = await transfer(options, part, offset)
      if (outcome !== 'done') {
        lastReason = outcome
        continue
      }
    }
    const bytes = (await stat(part)).size
    if (expected.size !== undefined && bytes < expected.size) {
      lastReason = `got ${bytes} of ${expected.size} bytes`
      continue
    }
    const sha256 = await hashFile(part)
    if (expected.size !== undefined && bytes !== expected.size) {
      await rm(part, { force: true })
      throw new WinnowError('MODEL_LOAD_FAILED', `${url} sent ${bytes} bytes where the hub announced ${expected.size}; the partial file was deleted: run the same command again`, {
        reason: 'size-mismatch',
        url,
        expected: expected.size,
        actual: bytes,
      })
    }
    if (expected.sha256 !== undefined && sha256 !== expected.sha256) {
      await rm(part, { force: true })
      throw new WinnowError(
        'MODEL_LOAD_FAILED',
        `${dest} failed its SHA-256 check (expected ${expected.sha256}, got ${sha256}); the bad download was deleted. Run the same command again; if it fails again, the hub or a proxy is serving damaged bytes`,
        { reason: 'hash-mismatch', url, file: dest, expected: expected.sha256, actual: sha256 },
      )
    }
    await rename(part, dest)
    return { bytes, sha256, resumedFrom: Math.max(0, resumedFrom) }
  }
  throw new WinnowError(
    'MODEL_LOAD_FAILED',
    `the download of ${url} was interrupted ${retries + 1} times (${lastReason}); what arrived is kept in ${part}: run the same command again to resume`,
    { reason: 'interrupted', url, part },
  )
}

/**
 * Whether `path` already holds the expected file: same size and, for LFS files, same SHA-256;
 * for other files, the same git blob sha1 as the hub's ETag. Without either hash, false (small
 * files are cheaper to fetch again than to trust).
 *
 * @example
 * await isUpToDate('public/models/x/config.json', { size: 612, gitSha1: '…' })
 */
export async function isUpToDate(path: string, expected: ExpectedFile & { gitSha1?: string }): Promise<boolean> {
  let size: number
  try {
    const info = await stat(path)
    if (!info.isFile()) return false
    size = info.size
  } catch {
    return false
  }
  if (expected.size !== undefined && size !== expected.size) return false
  if (expected.sha256) return (await hashFile(path)) === expected.sha256
  if (expected.gitSha1) return (await hashFile(path, `blob ${size}\0`, 'sha1')) === expected.gitSha1
  return false
}

/** One request: appends to `.part` from `offset`. Returns 'done' or why it stopped short. */
async function transfer(options: DownloadOptions, part: string, offset: number): Promise<'done' | string> {
  const headers: Record<string, string> = { 'Accept-Encoding': 'identity' }
  if (offset > 0) headers.Range = `bytes=${offset}-`
  let response: Response
  try {
    response = await options.fetch(options.url, { headers, redirect: 'follow' })
  } catch (error) {
    return `request failed: ${describe(error)}`
  }
  if (response.status === 416) {
    // The server has fewer bytes than .part: an older file; start over.
    await rm(part, { force: true })
    return 'range not satisfiable; starting over'
  }
  let start = 0
  if (response.status === 206) {
    start = Number(/^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1] ?? NaN)
    if (start !== offset) {
      await response.body?.cancel()
      await rm(part, { force: true })
      return `the server resumed at byte ${start}, not ${offset}; starting over`
    }
  } else if (response.status !== 200) {
    await response.body?.cancel()
    if (response.status >= 500 || response.status === 429) return `HTTP ${response.status}`
    throw httpError(options.context, options.url, response.status)
  }
  // 200 to a Range request: the server ignored it and sends the whole file.
  const fd = openSync(part, start === 0 ? 'w' : 'a')
  let loaded = start
  options.onBytes?.(loaded)
  try {
    if (!response.body) return 'empty response'
    // Synchronous writes keep a read pending at all times: when the connection drops, the stream
    // errors and discards chunks still queued, so nothing may sit in its queue.
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      writeSync(fd, chunk)
      loaded += chunk.length
      options.onBytes?.(loaded)
    }
  } catch (error) {
    return `connection lost after ${loaded} bytes: ${describe(error)}`
  } finally {
    closeSync(fd)
  }
  return 'done'
}

async function hashFile(path: string, prefix = '', algorithm: 'sha256' | 'sha1' = 'sha256'): Promise<string> {
  const hash = createHash(algorithm)
  if (prefix) hash.update(prefix)
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

function describe(error: unknown): string {
  const e = error as { message?: string; cause?: { code?: string; message?: string } }
  return [e?.message, e?.cause?.code ?? e?.cause?.message].filter(Boolean).join(': ') || String(error)
}
