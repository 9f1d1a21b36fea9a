/**
 * winnow-rerank/postgres in Node, against a real Postgres 18 (PGlite with pgvector, in process;
 * one test goes through the `pg` client over pglite-socket on loopback): identifiers checked at
 * setup, request checks, parameterised SQL (an injection attempt stays data), keyword / vector /
 * hybrid rankings computed independently here, metadata filters equal to winnow's own filter on the
 * same metadata, and the HTTP handler's statuses, CORS and JSON errors.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFirstStageQuery, checkFirstStageRequest, createPostgresHandler, FirstStageRequestError, resolveFirstStage, type PostgresClient } from '../../src/postgres/index.js'
import { compileFilter } from '../../src/rank/filter.js'

interface Row {
  id: string
  text: string
  meta: Record<string, unknown> | null
  embedding: number[]
}

const ROWS: Row[] = [
  { id: 'p1', text: 'Cats chase mice in the garden', meta: { lang: 'en', year: 2020, tags: ['pets', 'garden'], draft: false }, embedding: [1, 0, 0] },
  { id: 'p2', text: 'A cat sleeps; cats sleep a lot, cats purr', meta: { lang: 'en', year: 2023, tags: ['pets'] }, embedding: [0.9, 0.1, 0] },
  { id: 'p3', text: 'Dogs chase cats and bark', meta: { lang: 'de', year: '2023', tags: [] }, embedding: [0, 1, 0] },
  { id: 'p4', text: 'Gardening with tomatoes', meta: { lang: 'en', year: 2021, score: 1.5, draft: null }, embedding: [0, 0, 1] },
  { id: 'p5', text: 'Mice are small rodents', meta: null, embedding: [0.5, 0.5, 0] },
  { id: 'p6', text: 'Quotes "inside" and back\\slashes', meta: { 'we"ird.key': 'x', n: 1 }, embedding: [0.1, 0.2, 0.9] },
]

let db: PGlite
let client: PostgresClient

beforeAll(async () => {
  db = await PGlite.create({ extensions: { vector } })
  await db.exec(`CREATE EXTENSION vector;
    CREATE TABLE passages (id text PRIMARY KEY, text text NOT NULL, title text, meta jsonb, tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED, embedding vector(3));
    CREATE INDEX passages_tsv ON passages USING gin (tsv);`)
  for (const r of ROWS) await db.query('INSERT INTO passages (id, text, title, meta, embedding) VALUES ($1, $2, $3, $4, $5::vector)', [r.id, r.text, `Title ${r.id}`, r.meta === null ? null : JSON.stringify(r.meta), `[${r.embedding.join(',')}]`])
  client = db as unknown as PostgresClient
}, 60_000)

afterAll(async () => {
  await db?.close()
})

const columns = { tsvector: 'tsv', vector: 'embedding', metadata: 'meta', title: 'title' }

async function run(body: unknown, options: Partial<Parameters<typeof createPostgresHandler>[0]> = {}) {
  return createPostgresHandler({ client, table: 'passages', columns, onError: () => {}, ...options }).handle(body)
}

async function ids(body: Record<string, unknown>, options = {}): Promise<string[]> {
  const answer = await run({ k: 10, ...body }, options)
  if (answer.status !== 200) throw new Error(JSON.stringify(answer.body))
  return (answer.body as { candidates: { id: string }[] }).candidates.map((c) => c.id)
}

function cosine(a: number[], b: number[]): number {
  const dot = a.reduce((n, x, i) => n + x * b[i]!, 0)
  return dot / Math.hypot(...a) / Math.hypot(...b)
}

describe('setup', () => {
  it.each([
    [{ table: 'passages; DROP TABLE passages' }, 'table'],
    [{ table: 'a.b.c' }, 'table'],
    [{ table: '1passages' }, 'table'],
    [{ table: 'passages', columns: { text: 'text"--' } }, 'columns.text'],
    [{ table: 'passages', columns: { vector: 'emb edding' } }, 'columns.vector'],
    [{ table: 'passages', language: "english'" }, 'language'],
    [{ table: 'passages', maxK: 0 }, 'maxK'],
    [{ table: 'passages', keywordMatch: 'all' }, 'keywordMatch'],
  ])('refuses %j (%s) with INVALID_INPUT naming the option', (options, name) => {
    const setup = () => resolveFirstStage({ client: { query: async () => ({ rows: [] }) }, ...(options as { table: string }) })
    expect(setup).toThrow(new RegExp(`options\\.${name.replace('.', '\\.')}`))
    expect(setup).toThrow(expect.objectContaining({ name: 'WinnowError', code: 'INVALID_INPUT', details: { option: name } }))
  })

  it('quotes identifiers, including schema.table', () => {
    const config = resolveFirstStage({ client, table: 'public.passages', columns })
    expect(config.table).toBe('"public"."passages"')
    expect(config.vector).toBe('"embedding"')
  })
})

describe('requests', () => {
  const config = resolveFirstStage({ client: { query: async () => ({ rows: [] }) }, table: 'passages', columns, maxK: 50, dims: 3 })
  it.each([
    [null, /JSON object/],
    [{ mode: 'semantic', query: 'q' }, /mode/],
    [{ query: 'q', k: 51 }, /k must be an integer from 1 to 50/],
    [{ query: 'q', k: 2.5 }, /k must/],
    [{ k: 5 }, /needs query/],
    [{ query: 'q'.repeat(2001) }, /at most 2000/],
    [{ query: 'q', vector: [1, 2, 3] }, /keyword' takes no vector/],
    [{ mode: 'vector', vector: [1, 2] }, /3/],
    [{ mode: 'vector', vector: [1, 'x', 3] }, /finite numbers/],
    [{ mode: 'vector', query: 'leaks text', vector: [1, 2, 3] }, /takes no query/],
    [{ query: 'q', filter: { year: { between: [1, 2] } } }, /unknown operator/],
    [{ query: 'q', filter: { year: [2020] } }, /use \{ in/],
    [{ query: 'q', filter: { year: { gt: 1, lt: 'z' } } }, /all be numbers or all be strings/],
    [{ query: 'q', filter: { year: { eq: { nested: 1 } } } }, /must be a string, a finite number/],
    [{ query: 'q', sql: 'DROP TABLE passages' }, /unknown field "sql"/],
  ])('%j is a 400 naming the problem', (body, message) => {
    expect(() => buildFirstStageQuery(checkFirstStageRequest(body, config), config)).toThrow(message)
    try {
      buildFirstStageQuery(checkFirstStageRequest(body, config), config)
    } catch (error) {
      expect(error).toBeInstanceOf(FirstStageRequestError)
      expect((error as FirstStageRequestError).status).toBe(400)
    }
  })

  it('puts every request value in params, never in the SQL text', () => {
    const evil = `x'); DROP TABLE passages; --`
    for (const mode of ['keyword', 'vector', 'hybrid'] as const) {
      const body = { mode, k: 47, ...(mode !== 'vector' && { query: evil }), ...(mode !== 'keyword' && { vector: [0.25, 0.5, 0.75] }), filter: { [evil]: evil, year: { gte: 2020 } } }
      const { text, params } = buildFirstStageQuery(checkFirstStageRequest(body, config), config)
      expect(text).not.toContain('DROP')
      expect(text).not.toContain('0.25')
      expect(text).not.toContain('47')
      const placeholders = new Set([...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))
      expect([...placeholders].sort((a, b) => a - b)).toEqual(params.map((_, i) => i + 1))
    }
  })

  it('refuses vector modes and filters the handler is not configured for', async () => {
    const bare = { columns: { metadata: undefined, vector: undefined, tsvector: 'tsv' } }
    expect((await run({ mode: 'vector', vector: [1, 0, 0] }, bare)).body).toEqual({ error: { code: 'mode_unavailable', message: expect.any(String) } })
    expect((await run({ query: 'cat', filter: { lang: 'en' } }, bare)).body).toMatchObject({ error: { code: 'filter_unavailable' } })
  })
})

describe('rankings against Postgres', () => {
  it('keyword: any term matches (OR), ranked by ts_rank_cd; the table survives an injection attempt', async () => {
    const expected = (
      await db.query<{ id: string }>("SELECT id FROM passages WHERE tsv @@ to_tsquery('english', 'cat | mice') ORDER BY ts_rank_cd(tsv, to_tsquery('english', 'cat | mice')) DESC, id")
    ).rows.map((r) => r.id)
    expect(expected.length).toBeGreaterThan(2)
    expect(await ids({ query: 'cats and mice' }, { rankNormalization: 0 })).toEqual(expected)
    // The default normalization 2 divides by the document's length.
    const byLength = (
      await db.query<{ id: string }>("SELECT id FROM passages WHERE tsv @@ to_tsquery('english', 'cat | mice') ORDER BY ts_rank_cd(tsv, to_tsquery('english', 'cat | mice'), 2) DESC, id")
    ).rows.map((r) => r.id)
    expect(byLength).not.toEqual(expected)
    expect(await ids({ query: 'cats and mice' })).toEqual(byLength)
    expect(await ids({ query: `cats'); DROP TABLE passages; --` })).toEqual(await ids({ query: 'cats' }))
    expect((await db.query('SELECT count(*)::int AS n FROM passages')).rows[0]).toEqual({ n: ROWS.length })
    // websearch: every term must match.
    expect(await ids({ query: 'cats mice' }, { keywordMatch: 'websearch' })).toEqual(['p1'])
    expect(await ids({ query: 'cats', k: 2 })).toHaveLength(2)
    // without a tsvector column: to_tsvector per row, the same ranking
    expect(await ids({ query: 'cats and mice' }, { rankNormalization: 0, columns: { ...columns, tsvector: undefined } })).toEqual(expected)
  })

  it('keyword answers carry text, title, metadata and a score', async () => {
    const answer = await run({ query: 'tomatoes', k: 5 })
    expect(answer).toEqual({ status: 200, body: { candidates: [{ id: 'p4', text: 'Gardening with tomatoes', title: 'Title p4', metadata: ROWS[3]!.meta, score: expect.any(Number) }] } })
  })

  it('vector: cosine order, score = 1 − distance', async () => {
    const q = [0.8, 0.3, 0.1]
    const expected = [...ROWS].sort((a, b) => cosine(q, b.embedding) - cosine(q, a.embedding)).map((r) => r.id)
    const answer = await run({ mode: 'vector', vector: q, k: 6 })
    const candidates = (answer.body as { candidates: { id: string; score: number }[] }).candidates
    expect(candidates.map((c) => c.id)).toEqual(expected)
    for (const c of candidates) expect(c.score).toBeCloseTo(cosine(q, ROWS.find((r) => r.id === c.id)!.embedding), 5)
  })

  it('hybrid: RRF of the keyword and vector lists, computed here', async () => {
    const q = [0, 1, 0]
    const keyword = await ids({ query: 'cats garden', k: 100 })
    const vec = await ids({ mode: 'vector', vector: q, k: 100 })
    const fused = new Map<string, number>()
    keyword.forEach((id, i) => fused.set(id, (fused.get(id) ?? 0) + 1 / (60 + i + 1)))
    vec.forEach((id, i) => fused.set(id, (fused.get(id) ?? 0) + 1 / (60 + i + 1)))
    const expected = [...fused].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    const answer = await run({ mode: 'hybrid', query: 'cats garden', vector: q, k: 10 })
    const candidates = (answer.body as { candidates: { id: string; score: number }[] }).candidates
    expect(candidates.map((c) => c.id)).toEqual(expected.map(([id]) => id))
    candidates.forEach((c, i) => expect(c.score).toBeCloseTo(expected[i]![1], 12))
  })

  it('filters mean what winnow’s own filter means on the same metadata', async () => {
    const filters: Record<string, unknown>[] = [
      { lang: 'en' },
      { lang: { ne: 'en' } },
      { year: 2023 },
      { year: '2023' },
      { year: { gte: 2021 } },
      { year: { gt: 2020, lte: 2023 } },
      { year: { gte: '2000' } },
      { tags: 'pets' },
      { tags: { in: ['garden', 'none'] } },
      { tags: { nin: ['pets'] } },
      { tags: { exists: true } },
      { draft: { exists: true } },
      { draft: null },
      { draft: false },
      { score: 1.5 },
      { lang: 'en', year: { lt: 2023 } },
      { lang: { in: [] } },
      { 'we"ird.key': 'x' },
      { n: { eq: 1 } },
      { n: '1' },
    ]
    for (const filter of filters) {
      const passes = compileFilter(filter)!
      const expected = ROWS.filter((r) => passes(r.meta ?? undefined)).map((r) => r.id).sort()
      const got = (await ids({ mode: 'vector', vector: [1, 1, 1], filter, k: 10 })).sort()
      expect({ filter, got }).toEqual({ filter, got: expected })
    }
  })
})

describe('the HTTP handler', () => {
  let server: Server
  let url: string
  beforeAll(async () => {
    server = createServer(createPostgresHandler({ client, table: 'passages', columns, allowOrigin: 'http://app.test', maxBodyBytes: 2000, onError: () => {} }))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => fetch(url, { method: 'POST', body, headers })

  it('answers JSON with candidates, no-store, and CORS for an allowed origin only', async () => {
    const res = await post(JSON.stringify({ query: 'cats', k: 3 }), { 'content-type': 'application/json', origin: 'http://app.test' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('access-control-allow-origin')).toBe('http://app.test')
    expect(((await res.json()) as { candidates: unknown[] }).candidates).toHaveLength(3)
    const other = await post(JSON.stringify({ query: 'cats' }), { 'content-type': 'application/json', origin: 'http://evil.test' })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://app.test', 'access-control-request-headers': 'content-type,authorization' } })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type,authorization')
  })

  it('405, 415, 413, 400 for bad JSON and bad requests, 500 without the database’s words', async () => {
    expect((await fetch(url)).status).toBe(405)
    expect((await post('{}', { 'content-type': 'text/plain' })).status).toBe(415)
    expect((await post(JSON.stringify({ query: 'x'.repeat(3000) }))).status).toBe(413)
    const badJson = await post('{"query": ')
    expect(badJson.status).toBe(400)
    expect(await badJson.json()).toEqual({ error: { code: 'invalid_json', message: expect.any(String) } })
    expect((await post(JSON.stringify({ query: 'q', k: 100_000 }))).status).toBe(400)
    const errors: unknown[] = []
    const broken = createPostgresHandler({ client, table: 'no_such_table', onError: (e) => errors.push(e) })
    const answer = await broken.handle({ query: 'q' })
    expect(answer.status).toBe(500)
    expect(JSON.stringify(answer.body)).not.toContain('no_such_table')
    expect(errors).toHaveLength(1)
  })
})

describe('through pg over the Postgres wire protocol', () => {
  it('gives the same candidates as PGlite in process', async () => {
    const socket = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1' })
    await socket.start()
    const port = Number(String(socket.getServerConn()).split(':').pop())
    const pgClient = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' })
    await pgClient.connect()
    try {
      for (const body of [{ query: 'cats mice', k: 5 }, { mode: 'vector', vector: [0.3, 0.3, 0.3], k: 4, filter: { lang: 'en' } }, { mode: 'hybrid', query: 'garden', vector: [0, 0, 1], k: 5 }]) {
        const viaPg = await createPostgresHandler({ client: pgClient, table: 'passages', columns }).handle(body)
        expect(viaPg.status).toBe(200)
        expect(viaPg).toEqual(await run(body))
      }
    } finally {
      await pgClient.end()
      await socket.stop()
    }
  })
})
