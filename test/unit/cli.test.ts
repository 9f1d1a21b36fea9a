import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { main } from '../../src/cli/main.js'
import { readSite, toDocuments } from '../../src/cli/sources.js'
import { parseManifest } from '../../src/snapshot/format.js'
import { RECORD_LAYOUT } from '../../src/store/types.js'
import { ANALYZER_VERSION } from '../../src/text/analyzer.js'

const SITE = 'test/fixtures/site/markdown'
const MODELS = 'test/fixtures/models'
let stderr: string[]

beforeEach(() => {
  stderr = []
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true))
})
afterEach(() => vi.restoreAllMocks())

const manifestIn = (dir: string) => parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')), { schema: RECORD_LAYOUT, analyzerVersion: ANALYZER_VERSION })

describe('winnow index', () => {
  it('writes a keyword-only snapshot of every section, deterministically, and removes shards of earlier builds', async () => {
    const out = mkdtempSync(join(tmpdir(), 'winnow-cli-'))
    expect(await main(['index', SITE, '--out', out, '--base-url', '/docs/'])).toBe(0)
    const manifest = manifestIn(out)
    const sections = toDocuments(await readSite(SITE, { baseUrl: '/docs/' }))
    expect(manifest.collection).toMatchObject({ documents: sections.length, vectorSource: 'none', embedder: null, dims: null })
    expect(readdirSync(join(out, 'shards')).sort()).toEqual(manifest.shards.map((s) => s.file.replace('shards/', '')).sort())
    expect(stderr.join('')).toMatch(new RegExp(`wrote .*manifest.json: ${sections.length} documents`))

    writeFileSync(join(out, 'shards', 'documents-0000-stale00000000.bin'), 'old')
    expect(await main(['index', SITE, '--out', out, '--base-url', '/docs/'])).toBe(0)
    expect(manifestIn(out).hash).toBe(manifest.hash)
    expect(readdirSync(join(out, 'shards'))).not.toContain('documents-0000-stale00000000.bin')
  })

  it('embeds with a local model on onnxruntime-node and names it in the manifest', async () => {
    const out = mkdtempSync(join(tmpdir(), 'winnow-cli-'))
    expect(await main(['index', SITE, '--out', out, '--embedder', 'tiny-random-embedder', '--models', MODELS, '--chunk-tokens', '32'])).toBe(0)
    const { collection, shards } = manifestIn(out)
    expect(collection).toMatchObject({ vectorSource: 'embedder', embedder: { model: 'tiny-random-embedder', dtype: 'q8', dims: 32 }, dims: 32 })
    expect(collection.chunking).toMatchObject({ maxTokens: 32 })
    expect(shards.some((s) => s.kind === 'vectors')).toBe(true)
  })

  it('--format 2 writes the lazily fetched format (tables and indexes in the manifest, every shard on disk); auto keeps a small site on format 1', async () => {
    const out = mkdtempSync(join(tmpdir(), 'winnow-cli-'))
    expect(await main(['index', SITE, '--out', out, '--embedder', 'tiny-random-embedder', '--models', MODELS, '--chunk-tokens', '32', '--format', '2'])).toBe(0)
    const manifest = manifestIn(out)
    expect(manifest.version).toBe(2)
    expect(manifest.shards.filter((s) => s.kind === 'index').map((s) => s.of).sort()).toEqual(['documents', 'postings', 'rows', 'vectors'])
    expect(readdirSync(join(out, 'shards')).length).toBeGreaterThan(manifest.shards.length)
    expect(stderr.join('')).toMatch(/format 2 \(fetched as queries need it\)/)
    // A rebuild keeps the previous build's shards (visitors on it fetch them lazily), not older ones.
    const firstBuild = readdirSync(join(out, 'shards'))
    expect(await main(['index', SITE, '--out', out, '--format', '2', '--chunk-tokens', '40'])).toBe(0)
    const secondBuild = readdirSync(join(out, 'shards'))
    expect(secondBuild).toEqual(expect.arrayContaining(firstBuild))
    expect(await main(['index', SITE, '--out', out, '--format', '2', '--chunk-tokens', '64'])).toBe(0)
    const third = readdirSync(join(out, 'shards'))
    expect(third.filter((f) => firstBuild.includes(f) && !secondBuild.includes(f))).toEqual([])
    expect(third.some((f) => secondBuild.includes(f) && !firstBuild.includes(f))).toBe(true)
    expect(firstBuild.some((f) => !third.includes(f))).toBe(true)
    const small = mkdtempSync(join(tmpdir(), 'winnow-cli-'))
    expect(await main(['index', SITE, '--out', small])).toBe(0)
    expect(manifestIn(small).version).toBe(1)
    expect(await main(['index', SITE, '--out', small, '--format', '3'])).toBe(1)
  })

  it('reads a JSONL corpus as a stream (id or _id, text, title, metadata; blank lines skipped); a bad line stops it with its number, writing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'winnow-jsonl-'))
    const lines = [
      JSON.stringify({ id: 'a', text: 'Alpha passage about caching shards.', title: 'Alpha', metadata: { topic: 'cache' } }),
      '',
      JSON.stringify({ _id: 'b', title: 'Beta', text: 'Beta passage about offline search.' }),
      JSON.stringify({ id: 'c', text: 'Gamma passage about vectors.' }),
    ]
    writeFileSync(join(dir, 'corpus.jsonl'), lines.join('\n') + '\n')
    const out = join(dir, 'out')
    expect(await main(['index', join(dir, 'corpus.jsonl'), '--out', out, '--format', '1'])).toBe(0)
    const manifest = manifestIn(out)
    expect(manifest.collection.documents).toBe(3)
    const { buildSnapshot } = await import('../../src/cli/buildSnapshot.js')
    const { readJsonl } = await import('../../src/cli/jsonl.js')
    const streamed = await buildSnapshot(readJsonl(join(dir, 'corpus.jsonl')), { embedder: null, format: 1, batchDocuments: 2, createdAt: 'x' } as never)
    expect(streamed.manifest.collection).toMatchObject({ documents: 3, chunks: manifest.collection.chunks })

    writeFileSync(join(dir, 'bad.jsonl'), lines[0] + '\n{"id": "x", "text": \n')
    const bad = join(dir, 'bad-out')
    expect(await main(['index', join(dir, 'bad.jsonl'), '--out', bad])).toBe(1)
    expect(stderr.join('')).toMatch(/bad\.jsonl:2 is not JSON/)
    writeFileSync(join(dir, 'notext.jsonl'), JSON.stringify({ id: 'x', body: 'no text' }) + '\n')
    expect(await main(['index', join(dir, 'notext.jsonl'), '--out', bad])).toBe(1)
    expect(stderr.join('')).toMatch(/notext\.jsonl:1 needs "id"/)
    writeFileSync(join(dir, 'empty.jsonl'), '\n\n')
    expect(await main(['index', join(dir, 'empty.jsonl'), '--out', bad])).toBe(1)
    expect(stderr.join('')).toMatch(/no documents to build a snapshot of/)
    expect(existsSync(join(bad, 'manifest.json'))).toBe(false)
  })

  it('fails with a usage message (2) or a reason (1), writing nothing', async () => {
    const out = mkdtempSync(join(tmpdir(), 'winnow-cli-'))
    expect(await main(['index', SITE])).toBe(2)
    expect(await main(['index', SITE, '--out', out, '--dtype', 'int3'])).toBe(1)
    expect(await main(['index', 'no/such/dir', '--out', out])).toBe(1)
    expect(stderr.join('')).toMatch(/INVALID_INPUT/)
    expect(await main(['index', SITE, '--out', out, '--embedder', 'no-such-model', '--models', MODELS])).toBe(1)
    expect(stderr.join('')).toMatch(/MODEL_LOAD_FAILED/)
    expect(readdirSync(out)).toEqual([])
  })
})
