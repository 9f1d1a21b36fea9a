import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startStandInHub, type StandInHub } from '../helpers/standInHub.js'

const CE = 'test/fixtures/models/tiny-random-cross-encoder'
const ID = 'Xenova/ms-marco-MiniLM-L-6-v2'
let hub: StandInHub

beforeEach(async () => {
  hub = await startStandInHub({ models: { [ID]: CE } })
})
afterEach(() => hub.close())

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const resolveUrl = (file: string, rev = 'main') => `${hub.url}/${ID}/resolve/${rev}/${file}`

describe('the stand-in hub', () => {
  it('answers a regular file with 200, its git blob sha1 as ETag and its length', async () => {
    const bytes = readFileSync(`${CE}/config.json`)
    const res = await fetch(resolveUrl('config.json'))
    expect(res.status).toBe(200)
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true)
    const gitSha1 = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex')
    expect(res.headers.get('etag')).toBe(`"${gitSha1}"`)
    expect(res.headers.get('content-length')).toBe(String(bytes.length))
    expect(res.headers.get('accept-ranges')).toBe('bytes')
    expect(res.headers.get('x-linked-etag')).toBeNull()
  })

  it('redirects an LFS file like the hub, with X-Linked-Etag (sha256) and X-Linked-Size on the redirect', async () => {
    const bytes = readFileSync(`${CE}/onnx/model_quantized.onnx`)
    const head = await fetch(resolveUrl('onnx/model_quantized.onnx'), { method: 'HEAD', redirect: 'manual' })
    expect(head.status).toBe(302)
    expect(head.headers.get('x-linked-etag')).toBe(`"${sha256(bytes)}"`)
    expect(head.headers.get('x-linked-size')).toBe(String(bytes.length))
    const body = await fetch(resolveUrl('onnx/model_quantized.onnx'))
    expect(body.status).toBe(200)
    expect(sha256(new Uint8Array(await body.arrayBuffer()))).toBe(sha256(bytes))
    expect(hub.fileInfo(ID, 'onnx/model_quantized.onnx')).toMatchObject({ sha256: sha256(bytes), size: bytes.length })
  })

  it('serves ranges (206, Content-Range; 416 past the end) and records each request with its revision', async () => {
    const bytes = readFileSync(`${CE}/onnx/model_quantized.onnx`)
    const part = await fetch(resolveUrl('onnx/model_quantized.onnx', 'v1.0'), { headers: { Range: 'bytes=100-' } })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 100-${bytes.length - 1}/${bytes.length}`)
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100))).toBe(true)
    const past = await fetch(resolveUrl('config.json'), { headers: { Range: 'bytes=999999-' } })
    expect(past.status).toBe(416)
    expect(hub.requests.filter((r) => r.file === 'onnx/model_quantized.onnx').map((r) => [r.status, r.revision, r.range])).toEqual([
      [302, 'v1.0', 'bytes=100-'],
      [206, 'v1.0', 'bytes=100-'],
    ])
  })

  it('says 404 with the hub error codes for a missing file and an unknown model', async () => {
    const file = await fetch(resolveUrl('onnx/model_fp16.onnx'), { method: 'HEAD' })
    expect([file.status, file.headers.get('x-error-code')]).toEqual([404, 'EntryNotFound'])
    const repo = await fetch(`${hub.url}/nobody/nothing/resolve/main/config.json`, { method: 'HEAD' })
    expect([repo.status, repo.headers.get('x-error-code')]).toEqual([404, 'RepoNotFound'])
  })

  it('cuts, corrupts, fails and refuses on demand, each fault as many times as asked', async () => {
    const bytes = readFileSync(`${CE}/tokenizer.json`)
    hub.faults = { cut: [{ file: 'tokenizer.json', afterBytes: 50, times: 1 }], corrupt: [{ file: 'config.json', times: 1 }], status: [{ file: 'vocab.txt', code: 503 }] }
    const cut = await fetch(resolveUrl('tokenizer.json'))
    await expect(cut.arrayBuffer()).rejects.toThrow()
    const whole = await fetch(resolveUrl('tokenizer.json'))
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true)
    const config = readFileSync(`${CE}/config.json`)
    const bad = Buffer.from(await (await fetch(resolveUrl('config.json'))).arrayBuffer())
    expect(bad.length).toBe(config.length)
    expect(bad.equals(config)).toBe(false)
    expect((await fetch(resolveUrl('vocab.txt'))).status).toBe(503)
    hub.faults = { refuse: true }
    await expect(fetch(resolveUrl('config.json'))).rejects.toThrow()
  })
})
