import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { pullProgress } from '../../src/cli/progressBar.js'
import { startStandInHub, type StandInHub } from '../helpers/standInHub.js'

const CE = 'test/fixtures/models/tiny-random-cross-encoder'
const EMB = 'test/fixtures/models/tiny-random-embedder'
const ID = 'Xenova/ms-marco-MiniLM-L-6-v2'
const Q8 = 'onnx/model_quantized.onnx'
const Q8_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', Q8]

let hub: StandInHub
let out: string
let stderr: string[]

/** Output sinks for main(): stderr lines collected, isTTY as given. */
function sinks(tty = false) {
  stderr = []
  return { stderr: { write: (s: string) => stderr.push(s), isTTY: tty }, stdout: { write: (s: string) => stderr.push(s) }, env: {} as Record<string, string | undefined> }
}
const pull = (args: string[], extra: Partial<ReturnType<typeof sinks>> = {}) => main(['models', 'pull', ...args], { ...sinks(), ...extra })
const text = () => stderr.join('')

/** Every file under `dir`, as sorted relative paths. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return []
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort()
}
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')
const modelDir = () => join(out, 'Xenova', 'ms-marco-MiniLM-L-6-v2')

beforeEach(async () => {
  hub = await startStandInHub({ models: { [ID]: CE } })
  out = mkdtempSync(join(tmpdir(), 'winnow-pull-'))
})
afterEach(() => hub.close())

describe('winnow-rerank models pull', () => {
  it('downloads exactly the q8 files into <out>/<model-id>/, byte for byte, with progress lines on a log', async () => {
    expect(await pull([ID, '--dtype', 'q8', '--out', out, '--host', hub.url])).toBe(0)
    expect(tree(modelDir())).toEqual([...Q8_FILES].sort())
    for (const file of Q8_FILES) expect(readFileSync(join(modelDir(), file)).equals(readFileSync(join(CE, file)))).toBe(true)
    // The optional pooling and sentence-transformers configs were asked for (404 here) and nothing else was.
    expect(new Set(hub.requests.map((r) => r.file))).toEqual(new Set([...Q8_FILES, '1_Pooling/config.json', 'config_sentence_transformers.json']))
    expect(text()).toContain(`pulling ${ID} (q8) from ${hub.url}`)
    expect(text()).toMatch(/^4 files to download, 75\.3 KiB$/m)
    expect(text()).toMatch(/onnx\/model_quantized\.onnx {2}67\.8 KiB, sha256 ok/)
    expect(text()).toContain('1_Pooling/config.json  not on the hub (optional, skipped)')
    expect(text()).toMatch(/pulled Xenova\/ms-marco-MiniLM-L-6-v2: 4 downloaded \(\d+\.\d KiB\), 0 already here/)
    expect(text()).not.toContain('\r')
  })

  it('takes several dtypes and a revision; the default is q8,q4 (winnow’s WASM and WebGPU defaults)', async () => {
    expect(await pull([ID, '--dtype', 'q8,fp32', '--revision', 'v2', '--out', out, '--host', hub.url])).toBe(0)
    expect(tree(modelDir())).toEqual([...Q8_FILES, 'onnx/model.onnx'].sort())
    expect(new Set(hub.requests.map((r) => r.revision))).toEqual(new Set(['v2']))
    const other = join(mkdtempSync(join(tmpdir(), 'winnow-app-')), 'public', 'models')
    expect(await pull([ID, '--out', other, '--host', hub.url])).toBe(0)
    expect(tree(join(other, ID))).toEqual([...Q8_FILES, 'onnx/model_q4.onnx'].sort())
    expect(text()).toContain(`pulling ${ID} (q8, q4)`)
    expect(stderr.at(-1)).toBe("serve public/ as the site root and pass createWinnow({ modelBaseUrl: '/models/' })\n")
  })

  it('without --dtype, skips q4 when the hub has none (q8 still required); an explicit q4 fails', async () => {
    hub.faults.status = [{ file: 'onnx/model_q4.onnx', code: 404 }]
    expect(await pull([ID, '--out', out, '--host', hub.url])).toBe(0)
    expect(tree(modelDir())).toEqual([...Q8_FILES].sort())
    expect(text()).toContain('onnx/model_q4.onnx  not on the hub (optional, skipped)')
    const again = join(mkdtempSync(join(tmpdir(), 'winnow-pull-')), 'models')
    expect(await pull([ID, '--dtype', 'q8,q4', '--out', again, '--host', hub.url])).toBe(1)
    expect(text()).toMatch(/UNSUPPORTED_DTYPE: .* has no q4 weights .*it has fp32, q8: pass --dtype fp32,q8/)
    expect(existsSync(join(again, ID, Q8))).toBe(false)
    hub.faults.status = [{ file: 'onnx/model_quantized.onnx', code: 404 }]
    expect(await pull([ID, '--out', join(again, 'x'), '--host', hub.url])).toBe(1)
    expect(text()).toMatch(/has no q8 weights/)
  })

  it('skips intact files on a second run and downloads a damaged one again', async () => {
    expect(await pull([ID, '--dtype', 'q8', '--out', out, '--host', hub.url])).toBe(0)
    hub.requests.length = 0
    expect(await pull([ID, '--dtype', 'q8', '--out', out, '--host', hub.url])).toBe(0)
    expect(hub.requests.filter((r) => r.method === 'GET')).toEqual([])
    expect(text()).toMatch(/0 downloaded \(0 B\), 4 already here/)

    writeFileSync(join(modelDir(), Q8), Buffer.alloc(readFileSync(join(CE, Q8)).length))
    hub.requests.length = 0
    expect(await pull([ID, '--dtype', 'q8', '--out', out, '--host', hub.url])).toBe(0)
    expect(hub.requests.filter((r) => r.method === 'GET').map((r) => r.file)).toEqual([Q8, Q8]) // the redirect, then the bytes
    expect(sha256(join(modelDir(), Q8))).toBe(sha256(join(CE, Q8)))
  })

  it('resumes a transfer cut mid-file with a Range request and still verifies the whole file', async () => {
    hub.faults = { cut: [{ file: Q8, afterBytes: 20_000, times: 1 }] }
    expect(await pull([ID, '--dtype', 'q8', '--out', out, '--host', hub.url])).toBe(0)
    const gets = hub.requests.filter((r) => r.method === 'GET' && r.file === Q8 && r.status !== 302)
    expect(gets.map((r) => [r.status, r.fault])).toEqual([
      [200, 'cut'],
      [206, undefined],
    ])
    // It asks for the rest: from what arrived before the cut (at most the 20,000 bytes sent).
    const from = Number(/^bytes=(\d+)-$/.exec(gets[1]!.range ?? '')?.[1])
    expect(from).toBeGreaterThan(0)
    expect(from).toBeLessThanOrEqual(20_000)
    expect(text()).toContain(`connection lost after ${from} bytes`)
    expect(text()).toContain('resuming (attempt 2)')
    expect(sha256(join(modelDir(), Q8))).toBe(sha256(join(CE, Q8)))
    expect(existsSync(join(modelDir(), `${Q8}.part`))).toBe(false)
  })

  it('resumes from the .part file an earlier run left behind', async () => {
    const bytes = readFileSync(join(CE, Q8))
    mkdirSync(join(modelDir(), 'onnx'), { recursive: true })
    writeFileSync(join(modelDir(), `${Q8}.part`), bytes.subarray(0, 30_000))
    expect(await pull([ID, '--dtype', 'q8', '--out', out, '--host', hub.url])).toBe(0)
    const gets = hub.requests.filter((r) => r.method === 'GET' && r.file === Q8 && r.status !== 302)
    expect(gets.map((r) => [r.status, r.range])).toEqual([[206, 'bytes=30000-']])
    expect(sha256(join(modelDir(), Q8))).toBe(sha256(join(CE, Q8)))
  })

  it('deletes a download that fails its SHA-256 check and exits 1 with one line saying so', async () => {
    hub.faults = { corrupt: [{ file: Q8 }] }
    expect(await pull([ID, '--dtype', 'q8', '--out', out, '--host', hub.url, '--quiet'])).toBe(1)
    expect(existsSync(join(modelDir(), Q8))).toBe(false)
    expect(existsSync(join(modelDir(), `${Q8}.part`))).toBe(false)
    expect(stderr).toHaveLength(1)
    expect(text()).toMatch(/^winnow-rerank models pull: MODEL_LOAD_FAILED: .*onnx\/model_quantized\.onnx failed its SHA-256 check \(expected [0-9a-f]{64}, got [0-9a-f]{64}\); the bad download was deleted/)
  })

  it('names the host and the ways forward when the hub cannot be reached, without a stack trace', async () => {
    const dead = hub.url
    await hub.close()
    expect(await pull([ID, '--dtype', 'q8', '--out', out, '--host', dead])).toBe(1)
    const last = stderr.at(-1)!
    expect(last).toMatch(new RegExp(`^winnow-rerank models pull: MODEL_LOAD_FAILED: cannot reach the model hub at ${dead} \\(ECONNREFUSED\\)`))
    expect(last).toContain('--host or the HF_ENDPOINT environment variable')
    expect(last).toContain(`copy the model's files by hand into ${modelDir()}/ (config.json, tokenizer.json, tokenizer_config.json, onnx/model_quantized.onnx)`)
    expect(text()).not.toMatch(/\n\s+at /)
    expect(tree(out)).toEqual([])

    hub = await startStandInHub({ models: { [ID]: CE }, faults: { refuse: true } })
    expect(await pull([ID, '--out', out, '--host', hub.url])).toBe(1)
    expect(stderr.at(-1)).toContain(`cannot reach the model hub at ${hub.url}`)
  })

  it('uses HF_ENDPOINT as the default host, and --host over it', async () => {
    expect(await pull([ID, '--dtype', 'q8', '--out', out], { env: { HF_ENDPOINT: `${hub.url}/` } })).toBe(0)
    expect(tree(modelDir())).toHaveLength(4)
    const other = mkdtempSync(join(tmpdir(), 'winnow-pull-'))
    expect(await pull([ID, '--dtype', 'q8', '--out', other, '--host', hub.url], { env: { HF_ENDPOINT: 'http://127.0.0.1:9' } })).toBe(0)
    expect(tree(join(other, ID))).toHaveLength(4)
  })

  it('refuses an unknown dtype listing the valid ones, a dtype the model lacks listing those it has, and an unknown model', async () => {
    expect(await pull([ID, '--dtype', 'q8,int3', '--out', out, '--host', hub.url])).toBe(1)
    expect(text()).toContain("INVALID_INPUT: unknown dtype 'int3' in --dtype; valid dtypes: fp32, fp16, q8, q4, q4f16")
    expect(hub.requests).toEqual([])

    expect(await pull([ID, '--dtype', 'q8,fp16', '--out', out, '--host', hub.url])).toBe(1)
    expect(text()).toContain(`UNSUPPORTED_DTYPE: ${ID} has no fp16 weights on ${hub.url} (onnx/model_fp16.onnx: HTTP 404); it has fp32, q8, q4: pass --dtype fp32,q8,q4`)
    expect(hub.requests.filter((r) => r.method === 'GET' && r.file?.endsWith('.onnx'))).toEqual([]) // nothing large fetched first

    expect(await pull(['nobody/nothing', '--out', out, '--host', hub.url])).toBe(1)
    expect(text()).toContain(`MODEL_LOAD_FAILED: ${hub.url} has no model 'nobody/nothing'`)
    expect(await pull(['../../etc', '--out', out, '--host', hub.url])).toBe(1)
    expect(text()).toContain("INVALID_INPUT: '../../etc' is not a hub model id")
  })

  it('fetches the pooling config and the external data files a model has', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'winnow-hubmodel-'))
    cpSync(EMB, folder, { recursive: true })
    const config = JSON.parse(readFileSync(join(EMB, 'config.json'), 'utf8'))
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...config, 'transformers.js_config': { use_external_data_format: { 'model_quantized.onnx': 2 } } }))
    writeFileSync(join(folder, 'onnx/model_quantized.onnx_data'), 'external data, chunk 0')
    mkdirSync(join(folder, '1_Pooling'))
    writeFileSync(join(folder, '1_Pooling/config.json'), JSON.stringify({ word_embedding_dimension: 32, pooling_mode_cls_token: true }))
    await hub.close()
    hub = await startStandInHub({ models: { 'Xenova/all-MiniLM-L6-v2': folder } })

    expect(await pull(['Xenova/all-MiniLM-L6-v2', '--dtype', 'q8', '--out', out, '--host', hub.url])).toBe(1)
    expect(text()).toContain(`${hub.url}/Xenova/all-MiniLM-L6-v2/resolve/main/onnx/model_quantized.onnx_data_1 does not exist (HTTP 404)`)

    writeFileSync(join(folder, 'onnx/model_quantized.onnx_data_1'), 'external data, chunk 1')
    expect(await pull(['Xenova/all-MiniLM-L6-v2', '--dtype', 'q8', '--out', out, '--host', hub.url])).toBe(0)
    expect(tree(join(out, 'Xenova/all-MiniLM-L6-v2'))).toEqual(
      ['1_Pooling/config.json', 'config.json', Q8, `${Q8}_data`, `${Q8}_data_1`, 'tokenizer.json', 'tokenizer_config.json'].sort(),
    )
    // LFS files (the weights and their data) are checked against the hub's sha256.
    expect(text()).toMatch(/onnx\/model_quantized\.onnx_data_1 {2}22 B, sha256 ok/)
  })

  it('works when the hub serves LFS files without a redirect', async () => {
    await hub.close()
    hub = await startStandInHub({ models: { [ID]: CE }, redirectLfs: false })
    expect(await pull([ID, '--dtype', 'q8', '--out', out, '--host', hub.url])).toBe(0)
    expect(sha256(join(modelDir(), Q8))).toBe(sha256(join(CE, Q8)))
  })

  it('refuses a host that answers with a web page instead of model files', async () => {
    const site = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>app</title>'))
    await new Promise<void>((done) => site.listen(0, '127.0.0.1', done))
    const url = `http://127.0.0.1:${(site.address() as AddressInfo).port}`
    try {
      expect(await pull([ID, '--dtype', 'q8', '--out', out, '--host', url])).toBe(1)
      expect(text()).toContain(`config.json is not a model config (not a JSON object: an HTML page); is ${url} a Hugging Face hub? Check --host and HF_ENDPOINT`)
      expect(existsSync(join(modelDir(), 'config.json'))).toBe(false)
    } finally {
      site.close()
    }
  })

  it('refuses a config.json that is JSON but not an object, as MODEL_LOAD_FAILED', async () => {
    const site = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('[1, 2]'))
    await new Promise<void>((done) => site.listen(0, '127.0.0.1', done))
    const url = `http://127.0.0.1:${(site.address() as AddressInfo).port}`
    try {
      expect(await pull([ID, '--dtype', 'q8', '--out', out, '--host', url])).toBe(1)
      expect(text()).toContain(`MODEL_LOAD_FAILED: ${url}/${ID}/resolve/main/config.json is not a model config (not a JSON object); is ${url} a Hugging Face hub? Check --host and HF_ENDPOINT`)
      expect(existsSync(join(modelDir(), 'config.json'))).toBe(false)
    } finally {
      site.close()
    }
  })

  it('names the path when --out is a file', async () => {
    const file = join(out, 'models')
    writeFileSync(file, 'not a folder')
    expect(await pull([ID, '--dtype', 'q8', '--out', file, '--host', hub.url, '--quiet'])).toBe(1)
    expect(stderr).toHaveLength(1)
    expect(text()).toMatch(new RegExp(`^winnow-rerank models pull: cannot mkdir ${file}/Xenova/ms-marco-MiniLM-L-6-v2 \\(ENOTDIR: a part of the path is a file, not a folder\\)\n$`))
  })

  it('prints usage errors (exit 2) for a missing model id and unknown flags, and --help (exit 0)', async () => {
    expect(await pull([])).toBe(2)
    expect(text()).toMatch(/^winnow-rerank models pull: missing the <model-id>/)
    expect(await pull([ID, '--frobnicate'])).toBe(2)
    expect(text()).toContain("Unknown option '--frobnicate'")
    expect(await pull(['--help'])).toBe(0)
    expect(text()).toContain('Usage: winnow-rerank models pull <model-id> [options]')
  })
})

describe('pull progress', () => {
  it('redraws one line on a terminal, with a bar, sizes and percent', async () => {
    expect(await pull([ID, '--dtype', 'q8', '--out', out, '--host', hub.url], { stderr: { write: (s: string) => stderr.push(s), isTTY: true } })).toBe(0)
    const redraws = stderr.filter((s) => s.startsWith('\r') && s.includes('onnx/model_quantized.onnx'))
    expect(redraws.length).toBeGreaterThan(1)
    expect(redraws.at(-1)).toMatch(/^\r\[\d\/\d\] onnx\/model_quantized\.onnx {2}67\.8 KiB, sha256 ok\x1b\[K\n$/)
    expect(redraws.some((s) => /\[#+\.*\] \d+\.\d KiB \/ 67\.8 KiB {2}\d+%/.test(s))).toBe(true)
  })

  it('prints quarter marks for large files in a log, each once', () => {
    const lines: string[] = []
    const report = pullProgress({ write: (s) => lines.push(s), isTTY: false })
    const size = 8 * 1024 * 1024
    report({ type: 'file', file: 'onnx/model.onnx', size, index: 0, count: 1 })
    for (let loaded = 0; loaded <= size; loaded += 256 * 1024) report({ type: 'bytes', file: 'onnx/model.onnx', loaded, size })
    expect(lines).toEqual(['  onnx/model.onnx  25% (2.0 MiB / 8.0 MiB)\n', '  onnx/model.onnx  50% (4.0 MiB / 8.0 MiB)\n', '  onnx/model.onnx  75% (6.0 MiB / 8.0 MiB)\n'])
  })
})
