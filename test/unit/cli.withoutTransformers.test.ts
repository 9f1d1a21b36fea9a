/**
 * @huggingface/transformers is an optional peer dependency: `--help`, `--version`, `models pull`
 * and a keyword-only `index` must run without it, and `index --embedder` must say how to install
 * it. Here every import of it fails as it does when it is not installed (ERR_MODULE_NOT_FOUND), so
 * any static import on those paths would fail this whole file.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { main } from '../../src/cli/main.js'
import { MISSING_TRANSFORMERS } from '../../src/cli/nodeEmbedder.js'
import { startStandInHub, type StandInHub } from '../helpers/standInHub.js'

vi.mock('@huggingface/transformers', () => {
  throw Object.assign(new Error("Cannot find package '@huggingface/transformers' imported from src/cli/embedderRuntime.ts"), { code: 'ERR_MODULE_NOT_FOUND' })
})

const SITE = 'test/fixtures/site/markdown'
let hub: StandInHub
let err: string[]
const run = (argv: string[], env: Record<string, string> = {}) => {
  err = []
  const sink = { write: (s: string) => err.push(s), isTTY: false }
  return main(argv, { stderr: sink, stdout: sink, env })
}

beforeAll(async () => {
  hub = await startStandInHub({ models: { 'Xenova/ms-marco-MiniLM-L-6-v2': 'test/fixtures/models/tiny-random-cross-encoder' } })
})
afterAll(() => hub.close())

describe('the CLI without @huggingface/transformers', () => {
  it('cannot import it here (the premise of this file)', async () => {
    await expect(import('@huggingface/transformers')).rejects.toThrow()
  })

  it('prints help and version', async () => {
    expect(await run(['--help'])).toBe(0)
    expect(await run(['--version'])).toBe(0)
    expect(await run(['index', '--help'])).toBe(0)
    expect(await run(['models', 'pull', '--help'])).toBe(0)
  })

  it('pulls a model', async () => {
    const out = mkdtempSync(join(tmpdir(), 'winnow-notjs-'))
    expect(await run(['models', 'pull', 'Xenova/ms-marco-MiniLM-L-6-v2', '--dtype', 'q8', '--out', out], { HF_ENDPOINT: hub.url })).toBe(0)
    expect(readdirSync(join(out, 'Xenova/ms-marco-MiniLM-L-6-v2', 'onnx'))).toEqual(['model_quantized.onnx'])
  })

  it('builds a keyword-only snapshot', async () => {
    const out = mkdtempSync(join(tmpdir(), 'winnow-notjs-'))
    expect(await run(['index', SITE, '--out', out, '--quiet'])).toBe(0)
    expect(readdirSync(out)).toContain('manifest.json')
  })

  it('says how to install it when --embedder needs it, in one line without a stack', async () => {
    const out = mkdtempSync(join(tmpdir(), 'winnow-notjs-'))
    expect(await run(['index', SITE, '--out', out, '--embedder', 'tiny-random-embedder', '--models', 'test/fixtures/models', '--quiet'])).toBe(1)
    expect(err).toEqual([`winnow-rerank index: MODEL_LOAD_FAILED: ${MISSING_TRANSFORMERS}\n`])
    expect(MISSING_TRANSFORMERS).toContain('npm install --save-dev @huggingface/transformers')
    expect(readdirSync(out)).toEqual([])
  })

  it('passes other import failures through unchanged', async () => {
    const out = mkdtempSync(join(tmpdir(), 'winnow-notjs-'))
    const broken = () => Promise.reject(Object.assign(new Error("Cannot find module './embedderRuntime.js'"), { code: 'ERR_MODULE_NOT_FOUND' }))
    const sink = { write: (s: string) => err.push(s), isTTY: false }
    err = []
    expect(await main(['index', SITE, '--out', out, '--embedder', 'tiny-random-embedder', '--models', 'test/fixtures/models', '--quiet'], { stderr: sink, stdout: sink, env: {}, importEmbedderRuntime: broken })).toBe(1)
    expect(err).toEqual(["winnow-rerank index: Cannot find module './embedderRuntime.js'\n"])
  })
})

/** Modules reachable from `entry` through static imports (type-only imports are erased, so they do not count). */
function staticImports(entry: string): { files: string[]; bare: Map<string, string> } {
  const files: string[] = []
  const bare = new Map<string, string>()
  const todo = [entry]
  while (todo.length) {
    const file = todo.pop()!
    if (files.includes(file)) continue
    files.push(file)
    const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
    for (const m of code.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!
      if (spec.startsWith('.')) todo.push(join(dirname(file), spec.replace(/\.js$/, '.ts')))
      else bare.set(spec, file)
    }
  }
  return { files, bare }
}

describe('the static import graph of the CLI', () => {
  it('reaches neither transformers.js nor onnxruntime, nor any module that imports them', () => {
    const { files, bare } = staticImports('src/cli/main.ts')
    expect(files).toContain('src/cli/pullModel.ts') // the walk follows the commands
    expect(files).toContain('src/cli/buildSnapshot.ts')
    expect(files).not.toContain('src/cli/embedderRuntime.ts')
    expect([...bare.keys()].filter((spec) => /transformers|onnxruntime/.test(spec))).toEqual([])
    // The one way in is the dynamic import of the embedder runtime.
    expect(staticImports('src/cli/embedderRuntime.ts').bare.has('@huggingface/transformers')).toBe(true)
  })
})
