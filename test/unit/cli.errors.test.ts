/**
 * The CLI's failures: each is one line on stderr naming the flag or path, with what to do, a
 * non-zero exit code and no stack trace; and the top-level help, version and command errors.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'

const SITE = 'test/fixtures/site/markdown'
const MODELS = 'test/fixtures/models'
const VERSION = JSON.parse(readFileSync('package.json', 'utf8')).version as string
let err: string[]
let out: string[]

beforeEach(() => {
  err = []
  out = []
})
const run = (...argv: string[]) => main(argv, { stderr: { write: (s: string) => err.push(s), isTTY: false }, stdout: { write: (s: string) => out.push(s) }, env: {} })
const stderr = () => err.join('')
const stdout = () => out.join('')
/** The failure is one line, naming the command, without a stack trace. */
function expectOneLine(prefix: string): void {
  expect(err).toHaveLength(1)
  expect(err[0]).toMatch(new RegExp(`^${prefix}[^\\n]+\\n$`))
  expect(stderr()).not.toMatch(/\n\s+at |Error:/)
}
const tmp = () => mkdtempSync(join(tmpdir(), 'winnow-cli-errors-'))

describe('winnow-rerank (top level)', () => {
  it('prints the version for --version, -v and version', async () => {
    for (const flag of ['--version', '-v', 'version']) {
      out = []
      expect(await run(flag)).toBe(0)
      expect(stdout()).toBe(`${VERSION}\n`)
    }
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('prints the usage listing the commands for --help (exit 0) and without arguments (exit 2)', async () => {
    expect(await run('--help')).toBe(0)
    expect(stdout()).toMatch(/^Usage: winnow-rerank <command>/)
    expect(stdout()).toMatch(/^ {2}index <dir> --out <dir>/m)
    expect(stdout()).toMatch(/^ {2}models pull <model-id>/m)
    expect(await run()).toBe(2)
    expect(stderr()).toMatch(/^Usage: winnow-rerank <command>/)
  })

  it("says unknown command 'X' and prints the usage (exit 2)", async () => {
    expect(await run('serve', 'site')).toBe(2)
    expect(stderr()).toMatch(/^winnow-rerank: unknown command 'serve'\n\nUsage: winnow-rerank <command>[\s\S]*models pull <model-id>/)
    err = []
    expect(await run('models', 'push', 'x')).toBe(2)
    expect(stderr()).toMatch(/^winnow-rerank models: unknown command 'models push'\n\nUsage: winnow-rerank models <command>/)
    err = []
    expect(await run('--frobnicate')).toBe(2)
    expect(stderr()).toMatch(/^winnow-rerank: unknown option '--frobnicate'/)
  })

  it('prints each command’s own help for <command> --help, -h and help <command>', async () => {
    expect(await run('index', '--help')).toBe(0)
    expect(stdout()).toMatch(/^Usage: winnow-rerank index <dir \| file\.jsonl> --out <dir>/)
    out = []
    expect(await run('index', '-h')).toBe(0)
    expect(stdout()).toMatch(/^Usage: winnow-rerank index/)
    out = []
    expect(await run('models', '--help')).toBe(0)
    expect(stdout()).toMatch(/^Usage: winnow-rerank models <command>/)
    out = []
    expect(await run('models', 'pull', '--help')).toBe(0)
    expect(stdout()).toMatch(/^Usage: winnow-rerank models pull <model-id>/)
    out = []
    expect(await run('help', 'models', 'pull')).toBe(0)
    expect(stdout()).toMatch(/^Usage: winnow-rerank models pull/)
    expect(await run('help', 'nothing')).toBe(2)
  })
})

describe('winnow-rerank index failures', () => {
  it('names a missing --models folder, default or given, and says how to get the model', async () => {
    const cwd = process.cwd()
    const empty = tmp()
    const site = join(cwd, SITE)
    process.chdir(empty) // the default ./models does not exist here
    try {
      expect(await run('index', site, '--out', join(empty, 'out'), '--embedder', 'Xenova/all-MiniLM-L6-v2', '--quiet')).toBe(1)
    } finally {
      process.chdir(cwd)
    }
    expectOneLine('winnow-rerank index: MODEL_LOAD_FAILED: ')
    expect(stderr()).toContain('the --models folder ./models does not exist, so --embedder Xenova/all-MiniLM-L6-v2 cannot load; download the model with: winnow-rerank models pull Xenova/all-MiniLM-L6-v2 --dtype q8 --out models')
    expect(stderr()).not.toContain('tokenizer_class')
    expect(existsSync(join(empty, 'out'))).toBe(false)

    err = []
    const given = join(empty, 'no-such-folder')
    expect(await run('index', SITE, '--out', join(empty, 'out'), '--embedder', 'tiny-random-embedder', '--models', given, '--quiet')).toBe(1)
    expectOneLine('winnow-rerank index: MODEL_LOAD_FAILED: ')
    expect(stderr()).toContain(`the --models folder ${given} does not exist`)
  })

  it('names the files a model folder lacks for the dtype', async () => {
    const models = tmp()
    cpSync(join(MODELS, 'tiny-random-embedder'), join(models, 'org/emb'), { recursive: true })
    expect(await run('index', SITE, '--out', join(models, 'out'), '--embedder', 'org/emb', '--models', models, '--dtype', 'fp16', '--quiet')).toBe(1)
    expectOneLine('winnow-rerank index: MODEL_LOAD_FAILED: ')
    expect(stderr()).toContain(`${join(models, 'org/emb')} lacks onnx/model_fp16.onnx (needed for --dtype fp16); download them with: winnow-rerank models pull org/emb --dtype fp16 --out ${models}`)

    err = []
    expect(await run('index', SITE, '--out', join(models, 'out'), '--embedder', 'org/other', '--models', models, '--quiet')).toBe(1)
    expectOneLine('winnow-rerank index: MODEL_LOAD_FAILED: ')
    expect(stderr()).toContain(`no model org/other in ${models}`)
    expect(existsSync(join(models, 'out'))).toBe(false)
  })

  it('refuses an --out that is a file, or lies below one, before doing any work', async () => {
    const dir = tmp()
    const file = join(dir, 'snapshot')
    writeFileSync(file, 'not a folder')
    expect(await run('index', SITE, '--out', file)).toBe(1)
    expectOneLine('winnow-rerank index: INVALID_INPUT: ')
    expect(stderr()).toContain(`--out ${file} is a file, not a folder: pass a folder for the snapshot`)
    err = []
    expect(await run('index', SITE, '--out', join(file, 'inner'))).toBe(1)
    expectOneLine('winnow-rerank index: INVALID_INPUT: ')
    expect(stderr()).toContain(`--out ${join(file, 'inner')} cannot be created: ${file} is a file, not a folder`)
    expect(readFileSync(file, 'utf8')).toBe('not a folder')
  })

  it('refuses a --part-passages that is not a whole number of at least 1000, and parts with vectors too small to partition, writing nothing', async () => {
    const dir = tmp()
    for (const value of ['abc', '999', '2.5']) {
      err = []
      expect(await run('index', SITE, '--out', join(dir, 'out'), '--part-passages', value)).toBe(1)
      expectOneLine('winnow-rerank index: INVALID_INPUT: ')
      expect(stderr()).toContain(`--part-passages must be an integer of at least 1000, got '${value}'`)
    }
    expect(existsSync(join(dir, 'out'))).toBe(false)
    // With vectors, parts must reach the ANN index's minRows (50,000): the build stops after its first add.
    const lines = Array.from({ length: 1200 }, (_, i) => JSON.stringify({ id: `d${i}`, text: `passage ${i}`, vector: [1, (i % 7) / 7, 0.5, -0.25] }))
    writeFileSync(join(dir, 'v.jsonl'), lines.join('\n'))
    err = []
    expect(await run('index', join(dir, 'v.jsonl'), '--out', join(dir, 'out'), '--vectors-model', 'org/vectors', '--part-passages', '1000', '--quiet')).toBe(1)
    expectOneLine('winnow-rerank index: INVALID_INPUT: ')
    expect(stderr()).toContain('fewer than vectorIndex.minRows (50000)')
    expect(existsSync(join(dir, 'out', 'manifest.json'))).toBe(false)
    expect(existsSync(join(dir, 'out', '.winnow-build'))).toBe(false)
  })

  it('refuses a cross-encoder as --embedder, by its config, and suggests it as the reranker', async () => {
    const dir = tmp()
    expect(await run('index', SITE, '--out', dir, '--embedder', 'tiny-random-cross-encoder', '--models', MODELS, '--quiet')).toBe(1)
    expectOneLine('winnow-rerank index: INVALID_INPUT: ')
    expect(stderr()).toContain('--embedder tiny-random-cross-encoder is a cross-encoder (config.json: BertForSequenceClassification)')
    expect(stderr()).toContain("createWinnow({ reranker: { model: 'tiny-random-cross-encoder' } })")
    expect(readdirSync(dir)).toEqual([])
  })

  it('refuses a cross-encoder whose config does not say so, by its 1-wide output', async () => {
    const models = tmp()
    const folder = join(models, 'anon/scorer')
    cpSync(join(MODELS, 'tiny-random-cross-encoder'), folder, { recursive: true })
    const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'))
    delete config.architectures
    writeFileSync(join(folder, 'config.json'), JSON.stringify(config))
    const dir = join(models, 'out')
    mkdirSync(dir)
    expect(await run('index', SITE, '--out', dir, '--embedder', 'anon/scorer', '--models', models, '--quiet')).toBe(1)
    expectOneLine('winnow-rerank index: INVALID_INPUT: ')
    expect(stderr()).toContain('--embedder anon/scorer is a cross-encoder (its output has 1 value per text, not an embedding)')
    expect(readdirSync(dir)).toEqual([])
  })

  it('reports a file that cannot be written as one line naming the path', async () => {
    const dir = tmp()
    const out = join(dir, 'out')
    mkdirSync(join(out, 'shards'), { recursive: true })
    // A folder where the manifest's temporary file goes: the write fails with EISDIR.
    mkdirSync(join(out, 'manifest.json.tmp'))
    expect(await run('index', SITE, '--out', out, '--quiet')).toBe(1)
    expectOneLine('winnow-rerank index: ')
    expect(stderr()).toContain(`cannot open ${join(out, 'manifest.json.tmp')} (EISDIR: it is a folder)`)
  })
})
