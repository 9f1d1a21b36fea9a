/// <reference types="node" />
/**
 * `winnow-rerank index <dir> --out <dir>`: builds a search snapshot of a docs site (markdown sources
 * or built HTML) for `winnow.collection(name, { snapshot })`. Keyword-only without `--embedder`,
 * and then it never loads transformers.js.
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { WinnowError } from '../errors.js'
import { decodeRecords, gunzip } from '../snapshot/codec.js'
import type { ShardEntry } from '../snapshot/format.js'
import { checkIndex, shardRef } from '../snapshot/lazyStore.js'
import { DTYPE_FILES } from '../models/dtype.js'
import type { DocumentInput, Dtype } from '../types.js'
import { isJsonl, readJsonl } from './jsonl.js'
import { buildSnapshot, type BuildSnapshotOptions } from './buildSnapshot.js'
import { fileRuns } from './fileRuns.js'
import { fail, type CliContext } from './cliContext.js'
import { loadNodeEmbedder } from './nodeEmbedder.js'
import { DEFAULT_HOST } from './hubClient.js'
import { readSiteDocuments } from './sources.js'
import { INDEX_USAGE, packageVersion } from './usage.js'

/**
 * Runs `index` with the arguments after the command name; resolves with the exit code.
 *
 * @example
 * process.exitCode = await runIndex(['site', '--out', 'site/winnow-index'], defaultContext())
 */
export async function runIndex(argv: readonly string[], context: CliContext): Promise<number> {
  let args
  try {
    args = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        'base-url': { type: 'string', default: '' },
        embedder: { type: 'string' },
        'query-prefix': { type: 'string' },
        'document-prefix': { type: 'string' },
        models: { type: 'string', default: 'models' },
        'allow-remote': { type: 'boolean', default: false },
        dtype: { type: 'string', default: 'q8' },
        'chunk-tokens': { type: 'string', default: '256' },
        'shard-size': { type: 'string', default: String(512 * 1024) },
        format: { type: 'string', default: 'auto' },
        'part-passages': { type: 'string' },
        'vectors-model': { type: 'string' },
        'vectors-pooling': { type: 'string', default: 'mean' },
        'vectors-dtype': { type: 'string', default: 'q8' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (error) {
    return usageError(context, (error as Error).message)
  }
  const { values, positionals } = args
  if (values.help) {
    context.stdout.write(INDEX_USAGE)
    return 0
  }
  if (positionals.length !== 1) return usageError(context, positionals.length === 0 ? 'missing the <dir> to index' : `expected one <dir>, got ${positionals.length}: ${positionals.join(' ')}`)
  if (!values.out) return usageError(context, '--out <dir> is required')
  const log = (line: string) => void (values.quiet || context.stderr.write(line))
  const chunkTokens = Number(values['chunk-tokens'])
  const shardBytes = Number(values['shard-size'])
  const dtype = values.dtype as Dtype
  const invalid = (message: string) => fail(context, 'index', new WinnowError('INVALID_INPUT', message))
  if (!Number.isInteger(chunkTokens) || chunkTokens < 16) return invalid('--chunk-tokens must be an integer of at least 16')
  if (!Number.isInteger(shardBytes) || shardBytes < 4096) return invalid('--shard-size must be an integer of at least 4096')
  if (!['auto', '1', '2'].includes(values.format!)) return invalid(`--format must be auto, 1 or 2, got '${values.format}'`)
  const format = values.format === 'auto' ? 'auto' : (Number(values.format) as 1 | 2)
  const partPassages = values['part-passages'] === undefined ? undefined : Number(values['part-passages'])
  if (partPassages !== undefined && (!Number.isInteger(partPassages) || partPassages < 1000)) return invalid(`--part-passages must be an integer of at least 1000, got '${values['part-passages']}'`)
  if (!Object.prototype.hasOwnProperty.call(DTYPE_FILES, dtype)) return invalid(`--dtype '${values.dtype}' is not a dtype; use one of ${Object.keys(DTYPE_FILES).join(', ')}`)

  const vectorsModel = values['vectors-model']
  if ((values['query-prefix'] !== undefined || values['document-prefix'] !== undefined) && !values.embedder && !vectorsModel) return invalid('--query-prefix and --document-prefix need --embedder or --vectors-model')
  if (vectorsModel && values.embedder) return invalid('--vectors-model names the model that made the vectors in the JSONL file; it cannot go with --embedder')
  if (vectorsModel && !isJsonl(positionals[0]!)) return invalid('--vectors-model needs a JSONL file whose lines carry "vector"')
  if (!['mean', 'cls'].includes(values['vectors-pooling']!)) return invalid(`--vectors-pooling must be mean or cls, got '${values['vectors-pooling']}'`)
  const started = performance.now()
  let embedder: BuildSnapshotOptions['embedder'] = null
  let dispose = async () => {}
  try {
    const out = resolve(values.out)
    checkOutFolder(values.out, out)
    const input = positionals[0]!
    let documents: DocumentInput[] | AsyncIterable<DocumentInput>
    if (isJsonl(input)) {
      // Streamed: read a batch at a time while the build goes on.
      documents = readJsonl(resolve(input), (n) => log(`read ${n} documents from ${input}\n`))
    } else {
      // Read a page at a time (ids first, then the texts as the build takes them).
      const site = await readSiteDocuments(resolve(input), { baseUrl: values['base-url'] })
      if (site.sections === 0) return invalid(`no markdown or HTML sections with text under ${input}`)
      documents = site.documents()
      log(`read ${site.pages} pages, ${site.sections} sections\n`)
    }
    if (values.embedder) {
      const loaded = await loadNodeEmbedder(
        {
          model: values.embedder,
          dtype,
          modelsFlag: values.models,
          modelsDir: resolve(values.models),
          allowRemote: values['allow-remote'],
          remoteHost: context.env.HF_ENDPOINT || DEFAULT_HOST,
          queryPrefix: values['query-prefix'],
          documentPrefix: values['document-prefix'],
        },
        context,
      )
      embedder = loaded.embedder
      dispose = loaded.dispose
      const prefixes = [embedder.info.queryPrefix && `query prefix ${JSON.stringify(embedder.info.queryPrefix)}`, embedder.info.documentPrefix && `document prefix ${JSON.stringify(embedder.info.documentPrefix)}`].filter(Boolean)
      log(`embedder ${values.embedder} (${dtype}, ${embedder.info.dims} dims, ${embedder.info.pooling} pooling${prefixes.map((p) => `, ${p}`).join('')})\n`)
    }
    // Shards go to `out` as they are made (a build in parts writes most of them before it ends;
    // content-hashed names leave the snapshot being served untouched), the manifest last.
    const previous = await shardsOfBuild(out)
    const written: string[] = []
    let bytes = 0
    // A build in parts keeps its postings runs here until the end; a killed build's are removed by the next.
    const runDir = join(out, '.winnow-build')
    rmSync(runDir, { recursive: true, force: true })
    mkdirSync(runDir, { recursive: true })
    const runs = await fileRuns(runDir)
    const built = buildSnapshot(documents, {
      onFile: async (file) => {
        const path = join(out, file.path)
        mkdirSync(dirname(path), { recursive: true })
        writeFileSync(path, file.bytes)
        written.push(file.path)
        bytes += file.bytes.length
      },
      postingRuns: runs.create,
      embedder,
      // Each document is already one heading section, its text plain (code blocks without their
      // fences): a '# comment' line in it is not a heading.
      chunking: { maxTokens: chunkTokens, headings: false },
      shardBytes,
      format,
      partPassages,
      ...(vectorsModel ? { vectorsFrom: { model: vectorsModel, dtype: values['vectors-dtype']!, pooling: values['vectors-pooling']!, queryPrefix: values['query-prefix'] ?? '', documentPrefix: values['document-prefix'] ?? '' } } : {}),
      generator: `winnow ${packageVersion()}`,
      onProgress: (p) => {
        // A terminal gets a live counter; a log file gets one line.
        if (p.phase === 'embedding' && context.stderr.isTTY) log(`\rembedding ${p.done} / ${p.total} passages`)
        if (p.phase === 'writing' && embedder) log(`${context.stderr.isTTY ? '\n' : ''}embedded ${p.total} passages\n`)
      },
    })
    const { manifest } = await built.finally(() => rmSync(runDir, { recursive: true, force: true }))
    writeManifest(out, manifest, new Set([...written, ...previous]))
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    log(
      `wrote ${join(values.out, 'manifest.json')}: ${manifest.collection.documents} documents, ${manifest.collection.chunks} passages, ` +
        `${written.length} shards, ${(bytes / 1024).toFixed(1)} KiB, format ${manifest.version}${manifest.version === 2 ? ' (fetched as queries need it)' : ''} (version ${manifest.hash.slice(0, 12)}) in ${seconds} s\n`,
    )
    return 0
  } catch (error) {
    return fail(context, 'index', error)
  } finally {
    await dispose()
  }
}

function usageError(context: CliContext, message: string): number {
  context.stderr.write(`winnow-rerank index: ${message}\n\n${INDEX_USAGE}`)
  return 2
}

/**
 * `--out` must be a folder or creatable as one: refuses an existing file, or a path below a file,
 * before any work is done.
 */
function checkOutFolder(flag: string, out: string): void {
  let existing = out
  while (!existsSync(existing)) {
    const parent = dirname(existing)
    if (parent === existing) return
    existing = parent
  }
  if (statSync(existing).isDirectory()) return
  throw new WinnowError(
    'INVALID_INPUT',
    existing === out
      ? `--out ${flag} is a file, not a folder: pass a folder for the snapshot (it is created when missing)`
      : `--out ${flag} cannot be created: ${existing} is a file, not a folder`,
    { out },
  )
}

/**
 * Writes the manifest once its shards are written (a reader never sees a manifest naming missing
 * shards), then removes the shards that are not in `keep`: this build's and the previous one's.
 * The previous build's shards stay one more build: a visitor still on it (format 2 fetches shards
 * as queries need them) keeps working until its next manifest check. Older ones go.
 */
function writeManifest(out: string, manifest: { shards: { file: string }[] }, keep: Set<string>): void {
  const tmp = join(out, 'manifest.json.tmp')
  writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n')
  // rename is atomic on one file system: a server never serves half a manifest.
  renameSync(tmp, join(out, 'manifest.json'))
  const shardDir = join(out, 'shards')
  if (existsSync(shardDir)) for (const name of readdirSync(shardDir)) if (!keep.has(`shards/${name}`)) rmSync(join(shardDir, name))
}

/** Every shard the snapshot in `out` names (format 2: those its indexes list too); none if unreadable. */
async function shardsOfBuild(out: string): Promise<string[]> {
  try {
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { shards: { file: string; kind: string }[] }
    const files = manifest.shards.map((s) => s.file)
    for (const s of manifest.shards.filter((s) => s.kind === 'index') as ShardEntry[]) {
      const index = checkIndex(decodeRecords(await gunzip(readFileSync(join(out, s.file)))), s.of!, s.records)
      for (let i = 0; i < index.bytes.length; i++) files.push(shardRef(index, i).file)
    }
    return files
  } catch {
    return []
  }
}
