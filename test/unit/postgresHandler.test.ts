/**
 * winnow-rerank/postgres's HTTP handler mounted behind middleware that already read the body (as
 * Express's body parsers do), a body that never arrives, and CORS with `allowOrigin: '*'`. The
 * database is a fake client that records the query text it was asked for, so each test can tell the
 * body was read, not guessed. Every request carries a short timeout: a handler that waits forever
 * fails the test instead of hanging it.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresHandler, type PostgresClient, type PostgresHandler } from '../../src/postgres/index.js'

const asked: unknown[][] = []
const client: PostgresClient = {
  async query(_text, params = []) {
    asked.push(params)
    return { rows: [{ id: 'p1', text: 'Cats chase mice', score: 0.5 }] }
  },
}

type Middleware = (req: IncomingMessage & { body?: unknown }) => Promise<void>

/** Reads the whole stream, as a body parser does. */
function drain(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

const MIDDLEWARE: Record<string, Middleware> = {
  'express.json() (a parsed object)': async (req) => {
    req.body = JSON.parse((await drain(req)).toString('utf8'))
  },
  'express.raw() (a Buffer)': async (req) => {
    req.body = await drain(req)
  },
  'express.text() (a string)': async (req) => {
    req.body = (await drain(req)).toString('utf8')
  },
  'body-parser 1 skipping the request (req.body = {}, stream unread)': async (req) => {
    req.body = {}
  },
}

let server: Server
let url: string
let middleware: Middleware = async () => {}
let handler: PostgresHandler

beforeAll(async () => {
  server = createServer((req, res) => void middleware(req).then(() => handler(req, res)))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
afterAll(() => new Promise<void>((resolve) => {
  server.closeAllConnections()
  server.close(() => resolve())
}))
afterEach(() => {
  asked.length = 0
  middleware = async () => {}
})

function mount(options: Partial<Parameters<typeof createPostgresHandler>[0]> = {}) {
  handler = createPostgresHandler({ client, table: 'passages', onError: () => {}, ...options })
}

const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers }, signal: AbortSignal.timeout(3000) })

describe('a body that middleware already read', () => {
  it.each(Object.keys(MIDDLEWARE))('%s: answered from that body, no wait on the ended stream', async (name) => {
    mount()
    middleware = MIDDLEWARE[name]!
    const res = await post(JSON.stringify({ mode: 'keyword', query: 'cats and mice', k: 3 }))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ candidates: [{ id: 'p1', text: 'Cats chase mice', score: 0.5 }] })
    expect(asked).toHaveLength(1)
    expect(asked[0]).toContain('cats and mice')
  })

  it('a Buffer or string body that is not JSON is 400 invalid_json; one over maxBodyBytes is 413', async () => {
    mount({ maxBodyBytes: 100 })
    for (const name of ['express.raw() (a Buffer)', 'express.text() (a string)']) {
      middleware = MIDDLEWARE[name]!
      const bad = await post('{"query": ')
      expect(bad.status).toBe(400)
      expect(await bad.json()).toEqual({ error: { code: 'invalid_json', message: expect.any(String) } })
      expect((await post(JSON.stringify({ query: 'x'.repeat(200) }))).status).toBe(413)
    }
    expect(asked).toHaveLength(0)
  })

  it('a stream already read with nothing left in req.body is 400 body_unavailable at once', async () => {
    mount()
    middleware = async (req) => {
      await drain(req)
    }
    const started = Date.now()
    const res = await post(JSON.stringify({ query: 'cats' }))
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: { code: 'body_unavailable', message: expect.stringContaining('already read') } })
    expect(Date.now() - started).toBeLessThan(1000)
    expect(asked).toHaveLength(0)
  })
})

describe('a body that does not arrive', () => {
  it('is 408 body_timeout after bodyTimeoutMs', async () => {
    mount({ bodyTimeoutMs: 200 })
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '100' }, timeout: 3000 }, (res) => {
        let body = ''
        res.on('data', (c) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode!, body }))
      })
      req.on('timeout', () => reject(new Error('no answer: the handler waited for the body')))
      req.on('error', reject)
      req.write('{"query": "ca') // and never the rest
    })
    expect(answer.status).toBe(408)
    expect(JSON.parse(answer.body)).toEqual({ error: { code: 'body_timeout', message: expect.any(String) } })
  })

  it('bodyTimeoutMs and maxBodyBytes must be positive integers: INVALID_INPUT at setup', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => mount({ bodyTimeoutMs: bad })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', details: { option: 'bodyTimeoutMs' } }))
      expect(() => mount({ maxBodyBytes: bad })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', details: { option: 'maxBodyBytes' } }))
    }
  })
})

describe('a caller that went away', () => {
  it('gets nothing written once its response is destroyed (an aborted search) while the query ran', async () => {
    let release!: () => void
    const slow: PostgresClient = { query: () => new Promise((resolve) => (release = () => resolve({ rows: [{ id: 'p1', text: 't', score: 1 }] }))) }
    const written: string[] = []
    const res = { statusCode: 0, destroyed: false, writableEnded: false, setHeader: () => {}, end: (body?: string) => void written.push(body ?? '') }
    const req = { method: 'POST', headers: { 'content-type': 'application/json' }, body: { query: 'cats' }, on: () => {} }
    const answered = createPostgresHandler({ client: slow, table: 'passages', onError: () => {} })(req, res)
    await new Promise((r) => setTimeout(r, 10))
    res.destroyed = true // the socket closed: the page aborted its search
    release()
    await answered
    expect(written).toEqual([])
    // The same call with the caller still there is answered.
    res.destroyed = false
    const live = createPostgresHandler({ client: slow, table: 'passages', onError: () => {} })(req, res)
    await new Promise((r) => setTimeout(r, 10))
    release()
    await live
    expect(written).toHaveLength(1)
    expect(res.statusCode).toBe(200)
  })
})

describe('CORS', () => {
  it("allowOrigin '*' answers any origin with *, and the preflight", async () => {
    mount({ allowOrigin: '*' })
    const res = await post(JSON.stringify({ query: 'cats' }), { origin: 'http://anywhere.test' })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://other.test', 'access-control-request-headers': 'content-type' }, signal: AbortSignal.timeout(3000) })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*')
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST')
  })
})
