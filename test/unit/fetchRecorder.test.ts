import { describe, expect, it, vi } from 'vitest'
import { FetchRecorder } from '../../src/models/fetchRecorder.js'

function fakeFetch(make: (url: string) => Response | Promise<Response>) {
  return vi.fn(async (input: RequestInfo | URL) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    return make(url)
  }) as unknown as typeof fetch & ReturnType<typeof vi.fn>
}

const html = () => new Response('<!doctype html><title>app</title>', { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' } })

describe('FetchRecorder', () => {
  it('records a 404 and returns the response as is', async () => {
    const original = new Response('nope', { status: 404 })
    const rec = new FetchRecorder(fakeFetch(() => original))
    const res = await rec.fetch('https://app.test/models/m/onnx/model.onnx')
    expect(res).toBe(original)
    expect(rec.failures).toEqual([{ url: 'https://app.test/models/m/onnx/model.onnx', status: 404, html: false }])
  })

  it('records a network error with status 0 and rethrows it', async () => {
    const error = new TypeError('Failed to fetch')
    const rec = new FetchRecorder(
      fakeFetch(() => {
        throw error
      }),
    )
    await expect(rec.fetch('https://app.test/models/m/config.json')).rejects.toBe(error)
    expect(rec.failures).toEqual([{ url: 'https://app.test/models/m/config.json', status: 0, html: false, message: 'Failed to fetch' }])
  })

  it.each(['https://app.test/models/m/onnx/model_q4.onnx', '/models/m/tokenizer.json', '/models/m/config.json?download=1'])(
    'turns an HTML page for model file %s into a recorded 404',
    async (url) => {
      const rec = new FetchRecorder(fakeFetch(html))
      const res = await rec.fetch(url)
      expect(res.status).toBe(404)
      expect(res.ok).toBe(false)
      expect(rec.failures).toEqual([{ url, status: 200, html: true }])
    },
  )

  it('passes HTML through for a URL that is not a model file', async () => {
    const rec = new FetchRecorder(fakeFetch(html))
    const res = await rec.fetch('https://app.test/page')
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('<title>app</title>')
    expect(rec.failures).toEqual([])
  })

  it('passes a normal binary response through and records nothing', async () => {
    const body = new Uint8Array([1, 2, 3])
    const original = new Response(body, { status: 200, headers: { 'content-type': 'application/octet-stream' } })
    const inner = fakeFetch(() => original)
    const rec = new FetchRecorder(inner)
    const init = { headers: { Range: 'bytes=0-0' } }
    const res = await rec.fetch(new URL('https://app.test/models/m/onnx/model.onnx'), init)
    expect(res).toBe(original)
    expect(rec.failures).toEqual([])
    expect(inner).toHaveBeenCalledWith(new URL('https://app.test/models/m/onnx/model.onnx'), init)
  })

  it('reads the URL of a Request object', async () => {
    const rec = new FetchRecorder(fakeFetch(() => new Response(null, { status: 500 })))
    await rec.fetch(new Request('https://app.test/models/m/onnx/model.onnx'))
    expect(rec.failures).toEqual([{ url: 'https://app.test/models/m/onnx/model.onnx', status: 500, html: false }])
  })

  it('finds failures and clear() empties them', async () => {
    const rec = new FetchRecorder(fakeFetch((url) => new Response(null, { status: url.endsWith('.onnx') ? 404 : 403 })))
    await rec.fetch('/m/config.json')
    await rec.fetch('/m/onnx/model.onnx')
    expect(rec.failures).toHaveLength(2)
    expect(rec.find((f) => f.url.endsWith('.onnx'))?.status).toBe(404)
    expect(rec.find((f) => f.status === 403)?.url).toBe('/m/config.json')
    const kept = rec.failures
    rec.clear()
    expect(rec.failures).toEqual([])
    expect(rec.failures).toBe(kept) // same array, emptied
    expect(rec.find(() => true)).toBeUndefined()
  })

  describe('a body cut short', () => {
    const URL_ = 'https://app.test/models/m/onnx/model.onnx'
    /** A body that gives `bytes`, then (optionally) fails like a connection closed early. */
    const stream = (bytes: number, fail?: Error) => {
      let pulls = 0
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (pulls++ === 0) controller.enqueue(new Uint8Array(bytes).fill(7))
          else if (fail) controller.error(fail)
          else controller.close()
        },
      })
    }
    const read = (res: Response) => res.arrayBuffer().then((b) => b.byteLength, (e: unknown) => `rejected: ${e instanceof Error ? e.message : String(e)}`)

    it('passes a whole body through, byte for byte, and records nothing', async () => {
      const rec = new FetchRecorder(fakeFetch(() => new Response(stream(40), { headers: { 'content-length': '40' } })))
      const res = await rec.fetch(URL_)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-length')).toBe('40')
      expect(await read(res)).toBe(40)
      expect(rec.failures).toEqual([])
    })

    it('a body that breaks off (the connection closed) is recorded as cut, with the bytes that came, and the read fails', async () => {
      const rec = new FetchRecorder(fakeFetch(() => new Response(stream(25, new TypeError('network error')), { headers: { 'content-length': '100' } })))
      const res = await rec.fetch(URL_)
      expect(await read(res)).toMatch(/^rejected: .*cut short after 25 of 100 bytes \(network error\)/)
      expect(rec.failures).toEqual([{ url: URL_, status: 200, html: false, cut: true, received: 25, expected: 100, message: 'network error' }])
    })

    it('a body that ends quietly before its Content-Length is cut too (never handed on short, to be zero-padded and cached)', async () => {
      const rec = new FetchRecorder(fakeFetch(() => new Response(stream(60), { headers: { 'content-length': '100' } })))
      expect(await read(await rec.fetch('/models/m/tokenizer.json'))).toMatch(/^rejected: .*cut short after 60 of 100 bytes/)
      expect(rec.failures).toMatchObject([{ url: '/models/m/tokenizer.json', cut: true, received: 60, expected: 100 }])
    })

    it('does not measure what it cannot: a compressed body, a range request, a WASM file; a cancelled body is no cut', async () => {
      const encoded = new FetchRecorder(fakeFetch(() => new Response(stream(60), { headers: { 'content-length': '100', 'content-encoding': 'br' } })))
      expect(await read(await encoded.fetch(URL_))).toBe(60)
      const ranged = new FetchRecorder(fakeFetch(() => new Response(stream(1, new TypeError('network error')), { headers: { 'content-length': '1' } })))
      const part = await ranged.fetch(URL_, { headers: { Range: 'bytes=0-0' } })
      expect(await read(part)).toMatch(/^rejected: network error/) // passed through as the network gave it
      const wasm = new FetchRecorder(fakeFetch(() => new Response(stream(60), { headers: { 'content-length': '100' } })))
      expect(await read(await wasm.fetch('/ort/ort-wasm-simd-threaded.wasm'))).toBe(60)
      const cancelled = new FetchRecorder(fakeFetch(() => new Response(stream(60), { headers: { 'content-length': '100' } })))
      await (await cancelled.fetch(URL_)).body!.cancel()
      expect([...encoded.failures, ...ranged.failures, ...wasm.failures, ...cancelled.failures]).toEqual([])
    })
  })
})
