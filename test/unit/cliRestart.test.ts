/**
 * `winnow-rerank index` is restartable: SIGKILLed at any moment of a build (reading, indexing,
 * writing shards, before or after the manifest's rename), its output folder still holds a whole
 * snapshot — the previous one or the new one — every shard it names present with its hash; a rerun
 * finishes the new one. Runs the built CLI (`bin/winnow-rerank.mjs`, as `npm test` builds first).
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { decodeRecords, gunzip } from '../../src/snapshot/codec.js'
import { checkIndex, shardRef } from '../../src/snapshot/lazyStore.js'
import type { ShardEntry } from '../../src/snapshot/format.js'
import { seeded } from './helpers.js'

const BIN = 'bin/winnow-rerank.mjs'

function corpus(tag: string, n: number): string {
  const rand = seeded(tag.length * 7919)
  const words = ['shard', 'cache', 'offline', 'vector', 'index', 'query', 'token', 'manifest', 'worker', 'rerank']
  return Array.from({ length: n }, (_, i) => JSON.stringify({ id: `d${i}`, title: `${tag} ${i}`, text: Array.from({ length: 60 }, () => words[Math.floor(rand() * words.length)]).join(' ') + ` ${tag}${i}` })).join('\n')
}

/** Runs the CLI; with `killAfter` (ms) SIGKILLs it then. Resolves with its exit code or signal and duration. */
function run(args: string[], killAfter?: number): Promise<{ code: number | null; signal: string | null; ms: number }> {
  const started = performance.now()
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore' })
  const timer = killAfter === undefined ? null : setTimeout(() => child.kill('SIGKILL'), killAfter)
  return new Promise((resolve) => child.on('exit', (code, signal) => {
    if (timer) clearTimeout(timer)
    resolve({ code, signal, ms: performance.now() - started })
  }))
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** The snapshot in `out`: its hash, after checking that every shard it names is there, whole. */
async function whole(out: string): Promise<string> {
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { hash: string; shards: ShardEntry[] }
  for (const entry of manifest.shards) {
    const bytes = readFileSync(join(out, entry.file))
    expect(sha(bytes), entry.file).toBe(entry.sha256)
    if (entry.kind !== 'index') continue
    const index = checkIndex(decodeRecords(await gunzip(new Uint8Array(bytes))), entry.of!, entry.records)
    for (let i = 0; i < index.bytes.length; i++) {
      const ref = shardRef(index, i)
      const file = join(out, ref.file)
      expect(existsSync(file), ref.file).toBe(true)
      expect(sha(readFileSync(file)).startsWith(ref.sha256), ref.file).toBe(true)
    }
  }
  return manifest.hash
}

it.each([
  ['in one part', []],
  // Three parts of 1,000 passages: shards are written part by part, long before the manifest.
  ['in parts (--part-passages)', ['--part-passages', '1000']],
])('a build %s SIGKILLed at any moment leaves the previous snapshot or the new one whole; a rerun finishes the new one', async (_, extra: string[]) => {
  const dir = mkdtempSync(join(tmpdir(), 'winnow-restart-'))
  const out = join(dir, 'out')
  writeFileSync(join(dir, 'a.jsonl'), corpus('alpha', 3000))
  writeFileSync(join(dir, 'b.jsonl'), corpus('beta', 3200))
  const args = (file: string, to = out) => ['index', join(dir, file), '--out', to, '--format', '2', '--quiet', ...extra]

  const first = await run(args('a.jsonl'))
  expect(first.code).toBe(0)
  const a = await whole(out)
  // The hash of the new build, made apart (builds are deterministic).
  const apart = join(dir, 'apart')
  expect((await run(args('b.jsonl', apart))).code).toBe(0)
  const b = await whole(apart)
  expect(b).not.toBe(a)

  const seen: string[] = []
  for (const fraction of [0.1, 0.35, 0.6, 0.8, 0.9, 0.97, 1.05]) {
    const killed = await run(args('b.jsonl'), Math.round(first.ms * fraction))
    const found = await whole(out)
    expect([a, b]).toContain(found)
    seen.push(`${fraction}: ${killed.signal ?? `exit ${killed.code}`} → ${found === a ? 'previous' : 'new'}`)
    // Back to the previous snapshot for the next kill, when this one let the new one through.
    if (found === b) expect((await run(args('a.jsonl'))).code).toBe(0)
  }
  console.log(`[cli-restart] ${extra.join(' ') || 'one part'}: ${seen.join('; ')}`)
  expect(seen.some((s) => s.includes('SIGKILL'))).toBe(true)
  expect((await run(args('b.jsonl'))).code).toBe(0)
  expect(await whole(out)).toBe(b)
  // The postings runs a killed build in parts left behind are gone after a build that finished.
  expect(existsSync(join(out, '.winnow-build'))).toBe(false)
}, 120_000)
