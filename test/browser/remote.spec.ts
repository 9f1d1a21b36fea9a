/**
 * The remote first stage end to end: a real Postgres started here (PGlite 18 with pgvector, served
 * over the wire protocol by pglite-socket on loopback, reached through the `pg` client) holding
 * SciFact (5,183 abstracts, a tsvector column with a GIN index, and random unit vectors of 32
 * dimensions from a seeded generator: no real embedder weights exist here), answered by
 * winnow-rerank/postgres's handler on a loopback http server, and searched from Chromium through
 * the public API (`winnow.search` / `collection.search` with `httpRetriever`) with the tiny random
 * reranker and embedder fixtures.
 */
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { expect, test } from '@playwright/test'
import pg from 'pg'
import { createPostgresHandler } from '../../src/postgres/index.js'
import { openHarness, TINY } from './helpers.js'

const EMBEDDER = 'tiny-random-embedder'
const DIMS = 32
const SCIFACT = new URL('../../../shared/datasets/scifact/corpus.jsonl', import.meta.url)

/** mulberry32: the same vectors on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Seen {
  path: string
  body: any
  /** Resolves when the request's connection closes before an answer was written. */
  closedEarly: Promise<void>
}

let db: PGlite
let socket: PGLiteSocketServer
let client: pg.Client
let server: Server
let base = ''
const seen: Seen[] = []
const waiting: ((s: Seen) => void)[] = []

test.beforeAll(async () => {
  test.setTimeout(120_000)
  db = await PGlite.create({ extensions: { vector } })
  socket = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1' })
  await socket.start()
  client = new pg.Client({ host: '127.0.0.1', port: Number(String(socket.getServerConn()).split(':').pop()), user: 'postgres', database: 'postgres' })
  await client.connect()
  await client.query(`CREATE EXTENSION IF NOT EXISTS vector;
    CREATE TABLE passages (id text PRIMARY KEY, title text, text text NOT NULL, meta jsonb,
      tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED, embedding vector(${DIMS}));`)
  const docs = readFileSync(SCIFACT, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { _id: string; title: string; text: string })
  const next = random(19)
  for (let i = 0; i < docs.length; i += 500) {
    const batch = docs.slice(i, i + 500)
    const vectors = batch.map(() => {
      const v = Array.from({ length: DIMS }, () => next() - 0.5)
      const norm = Math.hypot(...v)
      return `[${v.map((x) => x / norm).join(',')}]`
    })
    await client.query('INSERT INTO passages (id, title, text, meta, embedding) SELECT a, b, c, d::jsonb, e::vector FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(a, b, c, d, e)', [
      batch.map((d) => String(d._id)),
      batch.map((d) => d.title),
      batch.map((d) => `${d.title}\n${d.text}`),
      batch.map((_, j) => JSON.stringify({ half: (i + j) % 2 === 0 ? 'even' : 'odd' })),
      vectors,
    ])
  }
  await client.query('CREATE INDEX passages_tsv ON passages USING gin (tsv)')
  const columns = { tsvector: 'tsv', vector: 'embedding', metadata: 'meta', title: 'title' }
  const firstStage = createPostgresHandler({ client, table: 'passages', columns, dims: DIMS, allowOrigin: '*' })
  const broken = createPostgresHandler({ client, table: 'no_such_table', allowOrigin: '*', onError: () => {} })

  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    res.setHeader('Access-Control-Allow-Origin', '*')
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Headers', 'content-type, authorization')
      res.setHeader('Access-Control-Allow-Methods', 'POST')
      res.statusCode = 204
      res.end()
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null')
      const entry: Seen = { path, body, closedEarly: new Promise((resolve) => res.on('close', () => !res.writableEnded && resolve())) }
      seen.push(entry)
      waiting.splice(0).forEach((w) => w(entry))
      const answer = async () => {
        if (path === '/slow') return // never answers: the caller aborts or times out
        if (path === '/garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"candidates": [{"id": ')
        if (path === '/no-text') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ candidates: [{ id: 'a', text: 'x' }, { id: 'b', body: 'y' }] }))
        const handler = path === '/broken' ? broken : firstStage
        const result = await handler.handle(body)
        res.writeHead(result.status, { 'content-type': 'application/json' }).end(JSON.stringify(result.body))
      }
      void answer()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

test.afterAll(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve))
  await client?.end()
  await socket?.stop()
  await db?.close()
})

const nextRequest = () => new Promise<Seen>((resolve) => waiting.push(resolve))

test('SciFact candidates from Postgres are reranked on the device as winnow.rerank() orders them; only the query text leaves in keyword mode', async ({ page }) => {
  await openHarness(page)
  seen.length = 0
  const out = await page.evaluate(
    async ({ base, model }) => {
      const api = (window as any).winnowApi
      const winnow = await api.createWinnow({ reranker: { model, dtype: 'fp32' }, device: 'wasm' })
      const query = 'Vitamin D deficiency is associated with an increased risk of infection'
      const firstStageSeen: string[][] = []
      const hits = await winnow.search(query, {
        retriever: api.httpRetriever({ url: `${base}/fs`, mode: 'keyword' }),
        k: 10,
        candidates: 30,
        onFirstStage: (h: any[]) => firstStageSeen.push(h.map((x) => x.id)),
      })
      // The same candidates, fetched by hand, reranked by rerank().
      const direct = await (await fetch(`${base}/fs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'keyword', query, k: 30 }) })).json()
      const ranked = await winnow.rerank(query, direct.candidates.map((c: any) => ({ id: c.id, text: c.text })))
      await winnow.dispose()
      return {
        hits: hits.map((h: any) => ({ id: h.id, rerankScore: h.rerankScore, title: h.title, rankBefore: h.rankBefore, remote: h.scores.remote, snippet: h.snippet.text })),
        route: hits.route,
        firstStageSeen,
        direct: direct.candidates.map((c: any) => c.id),
        ranked: ranked.map((r: any) => ({ id: r.id, score: r.score })),
      }
    },
    { base, model: TINY },
  )
  expect(out.direct).toHaveLength(30)
  expect(out.hits.map((h: any) => h.id)).toEqual(out.ranked.slice(0, 10).map((r: any) => r.id))
  out.hits.forEach((h: any, i: number) => {
    expect(Math.abs(h.rerankScore - out.ranked[i]!.score)).toBeLessThan(1e-6)
    expect(h.rankBefore).toBe(out.direct.indexOf(h.id) + 1)
    expect(h.remote).toBeGreaterThan(0)
    expect(h.title).toBeTruthy()
    expect(h.snippet.length).toBeGreaterThan(0)
  })
  expect(out.route).toMatchObject({ path: 'reranked', mode: 'keyword', firstStage: 'remote', candidates: 30, reranked: 30 })
  expect(out.route.timings.remoteMs).toBeGreaterThan(0)
  expect(out.firstStageSeen).toEqual([out.direct.slice(0, 10)])
  const sent = seen.filter((s) => s.path === '/fs')
  expect(sent[0]!.body).toEqual({ mode: 'keyword', k: 30, query: 'Vitamin D deficiency is associated with an increased risk of infection' })
})

test("vector mode sends only the vector the page's embedder computed, never the text; a collection fuses or replaces its own first stage", async ({ page }) => {
  await openHarness(page)
  seen.length = 0
  const out = await page.evaluate(
    async ({ base, model, embedder }) => {
      const api = (window as any).winnowApi
      const winnow = await api.createWinnow({ reranker: { model, dtype: 'fp32' }, embedder: { model: embedder, dtype: 'fp32' }, device: 'wasm' })
      const retriever = api.httpRetriever({ url: `${base}/fs`, mode: 'vector' })
      const query = 'a private query that must stay on this device'
      const hits = await winnow.search(query, { retriever, k: 5, filter: { half: 'even' } })
      const docs = await winnow.collection(`remote-${Date.now()}`)
      await docs.add([{ id: 'local-a', text: 'Vitamin D deficiency and infection risk in adults' }, { id: 'local-b', text: 'Bananas are yellow' }])
      const keyword = api.httpRetriever({ url: `${base}/fs`, mode: 'keyword' })
      const fused = await docs.search('vitamin D infection', { retriever: keyword, firstStage: 'fuse', mode: 'keyword', k: 5, rerank: false })
      const replaced = await docs.search('vitamin D infection', { retriever: keyword, k: 5, rerank: false })
      let localOption = 'resolved'
      try {
        await docs.search('x', { retriever: keyword, mode: 'vector' })
      } catch (e: any) {
        localOption = e.code
      }
      await winnow.dispose()
      return {
        hits: hits.map((h: any) => h.id),
        route: hits.route,
        fused: { ids: fused.map((h: any) => h.id), firstStage: fused.route.firstStage },
        replaced: { ids: replaced.map((h: any) => h.id), firstStage: replaced.route.firstStage },
        localOption,
      }
    },
    { base, model: TINY, embedder: EMBEDDER },
  )
  const vectorRequest = seen.find((s) => s.path === '/fs')!.body
  expect(Object.keys(vectorRequest).sort()).toEqual(['filter', 'k', 'mode', 'vector'])
  expect(vectorRequest.vector).toHaveLength(32)
  expect(JSON.stringify(vectorRequest)).not.toContain('private')
  expect(out.hits).toHaveLength(5)
  expect(out.route).toMatchObject({ mode: 'vector', firstStage: 'remote' })
  // The filter ran in Postgres: only rows whose metadata says 'even'.
  const even = await client.query("SELECT id FROM passages WHERE meta->>'half' = 'even' AND id = ANY($1)", [out.hits])
  expect(even.rows).toHaveLength(5)
  expect(out.fused.firstStage).toBe('fused')
  expect(out.fused.ids).toContain('local-a')
  expect(out.fused.ids.some((id: string) => !id.startsWith('local-'))).toBe(true)
  expect(out.replaced.firstStage).toBe('remote')
  expect(out.replaced.ids.some((id: string) => id.startsWith('local-'))).toBe(false)
  expect(out.localOption).toBe('INVALID_INPUT')
})

test('abort cancels the HTTP request (the server sees it closed); a hang is REMOTE_TIMEOUT, a 500 REMOTE_FAILED, bad JSON and a bad candidate REMOTE_MALFORMED', async ({ page }) => {
  await openHarness(page)
  await page.evaluate(async (model) => {
    const api = (window as any).winnowApi
    ;(window as any).w = await api.createWinnow({ reranker: { model, dtype: 'fp32' }, device: 'wasm' })
  }, TINY)
  const search = (path: string, extra = '') =>
    page.evaluate(
      async ({ url, extra }) => {
        const api = (window as any).winnowApi
        const controller = new AbortController()
        ;(window as any).abortSearch = () => controller.abort()
        try {
          await (window as any).w.search('vitamin D', { retriever: api.httpRetriever({ url }), signal: controller.signal, ...new Function(`return {${extra}}`)() })
          return { code: 'resolved', details: null }
        } catch (e: any) {
          return { code: e instanceof api.WinnowError ? e.code : String(e), details: e.details ?? null }
        }
      },
      { url: `${base}${path}`, extra },
    )

  const arrived = nextRequest()
  const aborted = search('/slow')
  const request = await arrived
  await page.evaluate(() => (window as any).abortSearch())
  expect((await aborted).code).toBe('ABORTED')
  await request.closedEarly // the fetch was cancelled: the server saw the connection close

  const arrivedHang = nextRequest()
  const timedOut = await search('/slow', 'remoteTimeoutMs: 300')
  expect(timedOut).toEqual({ code: 'REMOTE_TIMEOUT', details: { ms: 300 } })
  await (await arrivedHang).closedEarly

  const failed = await search('/broken')
  expect(failed.code).toBe('REMOTE_FAILED')
  expect(failed.details).toMatchObject({ status: 500, code: 'internal' })
  expect(JSON.stringify(failed.details)).not.toContain('no_such_table')

  const garbage = await search('/garbage')
  expect(garbage).toMatchObject({ code: 'REMOTE_MALFORMED', details: { field: 'body' } })
  const noText = await search('/no-text')
  expect(noText).toMatchObject({ code: 'REMOTE_MALFORMED', details: { index: 1, field: 'text' } })
  const invalid = await search('/fs', 'k: 0')
  expect(invalid.code).toBe('INVALID_INPUT')
  await page.evaluate(() => (window as any).w.dispose())
})
