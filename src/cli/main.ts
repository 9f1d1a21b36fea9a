/// <reference types="node" />
/**
 * `winnow-rerank index <dir> --out <dir>`: builds a search snapshot of a docs site (markdown sources or
 * built HTML) for `winnow.collection(name, { snapshot })`. Node only.
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { WinnowError } from '../errors.js'
import type { Dtype } from '../types.js'
import { buildSnapshot, type BuildSnapshotOptions } from './buildSnapshot.js'
import { readSite, toDocuments } from './sources.js'

const USAGE = `Usage: winnow-rerank index <dir> --out <dir> [options]

Reads the markdown (.md) and HTML (.html) pages under <dir>, one document per heading section,
and writes a snapshot (manifest.json + shards/) for winnow.collection(name, { snapshot }).

Options:
  --out <dir>           where to write the snapshot (required)
  --base-url <prefix>   prepended to page URLs in results, e.g. /docs/ (default: none)
  --embedder <model>    bi-encoder for vector/hybrid search (default: none, keyword only)
  --models <dir>        folder of local models (<dir>/<model>/config.json, onnx/...) (default: ./models)
  --allow-remote        fetch hub ids from the Hugging Face hub when not in --models
  --dtype <dtype>       q8 (default), fp32 or q4
  --chunk-tokens <n>    passage size in model tokens (default 256)
  --shard-size <bytes>  target shard size before compression (default 524288)
  --quiet               print only errors
`

/**
 * Runs the CLI; resolves with the exit code.
 *
 * @example
 * process.exitCode = await main(['index', 'site', '--out', 'site/winnow-index'])
 */
export async function main(argv: readonly string[]): Promise<number> {
  let args
  try {
    args = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        'base-url': { type: 'string', default: '' },
        embedder: { type: 'string' },
        models: { type: 'string', default: 'models' },
        'allow-remote': { type: 'boolean', default: false },
        dtype: { type: 'string', default: 'q8' },
        'chunk-tokens': { type: 'string', default: '256' },
        'shard-size': { type: 'string', default: String(512 * 1024) },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    })
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  const { values, positionals } = args
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  if (positionals[0] !== 'index' || positionals.length !== 2 || !values.out) {
    process.stderr.write(USAGE)
    return 2
  }
  const log = (line: string) => void (values.quiet || process.stderr.write(line))
  const chunkTokens = Number(values['chunk-tokens'])
  const shardBytes = Number(values['shard-size'])
  const dtype = values.dtype as Dtype
  if (!Number.isInteger(chunkTokens) || chunkTokens < 16) return fail('--chunk-tokens must be an integer of at least 16')
  if (!Number.isInteger(shardBytes) || shardBytes < 4096) return fail('--shard-size must be an integer of at least 4096')
  if (!['q8', 'fp32', 'q4', 'fp16', 'q4f16'].includes(dtype)) return fail(`--dtype must be one of q8, fp32, q4, fp16, q4f16`)

  const started = performance.now()
  let embedder: BuildSnapshotOptions['embedder'] = null
  let dispose = async () => {}
  try {
    const pages = await readSite(resolve(positionals[1]!), { baseUrl: values['base-url'] })
    const documents = toDocuments(pages)
    if (documents.length === 0) return fail(`no markdown or HTML sections with text under ${positionals[1]}`)
    log(`read ${pages.length} pages, ${documents.length} sections\n`)
    if (values.embedder) {
      const loaded = await loadNodeEmbedder(values.embedder, dtype, resolve(values.models), values['allow-remote'])
      embedder = loaded.embedder
      dispose = loaded.dispose
      log(`embedder ${values.embedder} (${dtype}, ${embedder.info.dims} dims, ${embedder.info.pooling} pooling)\n`)
    }
    const { manifest, files } = await buildSnapshot(documents, {
      embedder,
      chunking: { maxTokens: chunkTokens },
      shardBytes,
      generator: `winnow ${packageVersion()}`,
      onProgress: (p) => {
        // A terminal gets a live counter; a log file gets one line.
        if (p.phase === 'embedding' && process.stderr.isTTY) log(`\rembedding ${p.done} / ${p.total} passages`)
        if (p.phase === 'writing' && embedder) log(`${process.stderr.isTTY ? '\n' : ''}embedded ${p.total} passages\n`)
      },
    })
    const out = resolve(values.out)
    writeSnapshotFiles(out, manifest, files)
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    log(
      `wrote ${join(values.out, 'manifest.json')}: ${manifest.collection.documents} documents, ${manifest.collection.chunks} passages, ` +
        `${files.length} shards, ${(manifest.bytes / 1024).toFixed(1)} KiB (version ${manifest.hash.slice(0, 12)}) in ${seconds} s\n`,
    )
    return 0
  } catch (error) {
    return fail(error instanceof WinnowError ? `${error.code}: ${error.message}` : String((error as Error)?.stack ?? error))
  } finally {
    await dispose()
  }
}

/** Writes shards first and the manifest last (a reader never sees a manifest naming missing shards), then removes shards no manifest names. */
function writeSnapshotFiles(out: string, manifest: { shards: { file: string }[] }, files: { path: string; bytes: Uint8Array }[]): void {
  for (const file of files) {
    const path = join(out, file.path)
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, file.bytes)
  }
  const tmp = join(out, 'manifest.json.tmp')
  writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n')
  // rename is atomic on one file system: a server never serves half a manifest.
  renameSync(tmp, join(out, 'manifest.json'))
  const keep = new Set(manifest.shards.map((s) => s.file))
  const shardDir = join(out, 'shards')
  if (existsSync(shardDir)) for (const name of readdirSync(shardDir)) if (!keep.has(`shards/${name}`)) rmSync(join(shardDir, name))
}

async function loadNodeEmbedder(model: string, dtype: Dtype, modelsDir: string, allowRemote: boolean): Promise<{ embedder: NonNullable<BuildSnapshotOptions['embedder']>; dispose: () => Promise<void> }> {
  const { env } = await import('@huggingface/transformers')
  env.localModelPath = modelsDir + '/'
  env.allowLocalModels = true
  env.allowRemoteModels = allowRemote
  const { loadEmbedder } = await import('../models/loadEmbedder.js')
  const { embedderPort } = await import('../worker/embedderPort.js')
  const { SerialQueue } = await import('../worker/queue.js')
  const loaded = await loadEmbedder({
    model,
    dtype,
    device: 'cpu',
    readModelJson: async (m, path) => {
      const file = join(modelsDir, m, path)
      return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined
    },
  })
  const s = loaded.embedder.settings
  return {
    embedder: { port: embedderPort(loaded, model, new SerialQueue()), info: { model, dtype, dims: s.dims, pooling: s.pooling } },
    dispose: () => loaded.dispose(),
  }
}

function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version
  } catch {
    return 'unknown'
  }
}

function fail(message: string): number {
  process.stderr.write(`winnow-rerank index: ${message}\n`)
  return 1
}
