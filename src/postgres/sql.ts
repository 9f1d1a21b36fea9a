/**
 * The Postgres first stage's configuration, request checks and SQL. Table and column names are
 * checked as identifiers once, at setup, and quoted; everything a request carries (query text,
 * vector, k, filter values and field names) travels as a parameter, never as SQL text.
 */

import { invalidInput } from '../errors.js'

/** The part of a Postgres client the handler uses: `pg`'s `Client`/`Pool`, PGlite, postgres.js wrappers… */
export interface PostgresClient {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
}

/** Which columns hold what. Names are identifiers (letters, digits, `_`, `$`; not starting with a digit), at most 63 characters. */
export interface PostgresColumns {
  /** Default `'id'` (any type; answered as text). */
  id?: string
  /** The passage text the reranker reads. Default `'text'`. */
  text?: string
  /** Default: none. */
  title?: string
  /** A `jsonb` column of flat metadata: answered with each candidate, and what filters test. Default: none (filters are refused). */
  metadata?: string
  /**
   * A `tsvector` column (with a GIN index) for keyword search. Default: none, and the keyword stage
   * computes `to_tsvector(language, text)` per row (no index can serve it: fine for a few thousand rows).
   */
  tsvector?: string
  /** A pgvector `vector` column for vector search (cosine, `<=>`). Default: none (vector and hybrid requests are refused). */
  vector?: string
}

/** Options of the Postgres first stage. */
export interface PostgresFirstStageOptions {
  client: PostgresClient
  /** The table (or `schema.table`). */
  table: string
  columns?: PostgresColumns
  /** The text search configuration (`regconfig`) for queries (and for `to_tsvector` without a tsvector column). Default `'english'`. */
  language?: string
  /**
   * How a keyword query matches: `'any'` (default) passages with any of its terms (OR, like BM25),
   * ranked by `ts_rank_cd`; `'websearch'` `websearch_to_tsquery` (all terms, "quoted phrases", `or`, `-term`).
   */
  keywordMatch?: 'any' | 'websearch'
  /**
   * `ts_rank_cd`'s normalization bit mask (0 to 63): 1 divides the rank by 1 + log(length), 2 by the
   * length, 4 by the mean harmonic distance between extents. Default 2: the best Recall@100 on
   * SciFact's train split (0.833; 0 gives 0.803, 4 gives 0.790; see docs/relevance.md).
   */
  rankNormalization?: number
  /** Largest `k` a request may ask for. Default 500. */
  maxK?: number
  /** Longest query text, in characters. Default 2,000. */
  maxQueryLength?: number
  /** The vector length the column holds; requests with another are refused (400). Default: not checked here (Postgres refuses a mismatch). */
  dims?: number
  /** Hybrid: each list is read `max(k, hybridDepth)` deep before RRF. Default 100. */
  hybridDepth?: number
  /** Hybrid: RRF's k. Default 60. */
  rrfK?: number
}

/** A checked first-stage request. */
export interface FirstStageRequest {
  mode: 'keyword' | 'vector' | 'hybrid'
  k: number
  query?: string
  vector?: number[]
  filter?: Record<string, unknown>
}

/** A request the handler refuses: an HTTP status, a stable code and a message for the caller. */
export class FirstStageRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'FirstStageRequestError'
  }
}

/** Options with defaults, names quoted. */
export interface ResolvedFirstStage {
  client: PostgresClient
  table: string
  id: string
  text: string
  title: string | null
  metadata: string | null
  tsvector: string | null
  vector: string | null
  language: string
  keywordMatch: 'any' | 'websearch'
  rankNormalization: number
  maxK: number
  maxQueryLength: number
  dims: number | null
  hybridDepth: number
  rrfK: number
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/
const MAX_FIELD_LENGTH = 128
const OPERATORS = new Set(['eq', 'ne', 'in', 'nin', 'gt', 'gte', 'lt', 'lte', 'exists'])
const RANGE = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const

/**
 * Checks the options once, at setup.
 *
 * @throws WinnowError `INVALID_INPUT` naming the bad option in its message and `details.option` (a table or column that is not an identifier, …).
 * @example
 * resolveFirstStage({ client, table: 'passages', columns: { tsvector: 'tsv', vector: 'embedding', metadata: 'meta' } })
 */
export function resolveFirstStage(options: PostgresFirstStageOptions): ResolvedFirstStage {
  if (options === null || typeof options !== 'object') throw invalidInput('the Postgres first stage needs options { client, table, columns }', { option: 'options' })
  const { client, table, columns = {} } = options
  if (!client || typeof client.query !== 'function') throw invalidInput('options.client must have query(text, params), like pg’s Client or Pool', { option: 'client' })
  if (typeof table !== 'string' || !table.split('.').every((part) => IDENTIFIER.test(part)) || table.split('.').length > 2) {
    throw invalidInput(`options.table must be a table name or schema.table of identifiers (letters, digits, _ and $, not starting with a digit, ≤ 63 characters), got ${JSON.stringify(table)}`, { option: 'table' })
  }
  const column = (name: keyof PostgresColumns, fallback: string | null): string | null => {
    const value = columns[name] ?? fallback
    if (value === null) return null
    if (typeof value !== 'string' || !IDENTIFIER.test(value)) throw invalidInput(`options.columns.${name} must be a column name (an identifier), got ${JSON.stringify(value)}`, { option: `columns.${name}` })
    return quote(value)
  }
  const language = options.language ?? 'english'
  if (typeof language !== 'string' || !language.split('.').every((part) => IDENTIFIER.test(part))) throw invalidInput(`options.language must name a text search configuration, got ${JSON.stringify(language)}`, { option: 'language' })
  const keywordMatch = options.keywordMatch ?? 'any'
  if (keywordMatch !== 'any' && keywordMatch !== 'websearch') throw invalidInput(`options.keywordMatch must be 'any' or 'websearch', got ${JSON.stringify(keywordMatch)}`, { option: 'keywordMatch' })
  const int = (name: string, value: number | undefined, fallback: number, min: number, max: number): number => {
    const v = value ?? fallback
    if (!Number.isInteger(v) || v < min || v > max) throw invalidInput(`options.${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`, { option: name })
    return v
  }
  return {
    client,
    table: table.split('.').map(quote).join('.'),
    id: column('id', 'id')!,
    text: column('text', 'text')!,
    title: column('title', null),
    metadata: column('metadata', null),
    tsvector: column('tsvector', null),
    vector: column('vector', null),
    language,
    keywordMatch,
    rankNormalization: int('rankNormalization', options.rankNormalization, 2, 0, 63),
    maxK: int('maxK', options.maxK, 500, 1, 10_000),
    maxQueryLength: int('maxQueryLength', options.maxQueryLength, 2000, 1, 100_000),
    dims: options.dims === undefined ? null : int('dims', options.dims, 0, 1, 16_000),
    hybridDepth: int('hybridDepth', options.hybridDepth, 100, 1, 10_000),
    rrfK: int('rrfK', options.rrfK, 60, 1, 10_000),
  }
}

/**
 * Checks a request body: `{ mode, k, query?, vector?, filter? }`.
 *
 * @throws FirstStageRequestError (400) naming the bad field.
 * @example
 * checkFirstStageRequest({ mode: 'keyword', query: 'install', k: 50 }, config) // { mode: 'keyword', query: 'install', k: 50 }
 */
export function checkFirstStageRequest(body: unknown, config: ResolvedFirstStage): FirstStageRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad('the body must be a JSON object { mode, k, query?, vector?, filter? }')
  const b = body as Record<string, unknown>
  for (const key of Object.keys(b)) if (!['mode', 'k', 'query', 'vector', 'filter'].includes(key)) throw bad(`unknown field ${JSON.stringify(key)}; the body takes mode, k, query, vector and filter`)
  const mode = b.mode ?? 'keyword'
  if (mode !== 'keyword' && mode !== 'vector' && mode !== 'hybrid') throw bad(`mode must be 'keyword', 'vector' or 'hybrid', got ${JSON.stringify(mode)}`)
  const k = b.k ?? 10
  if (!Number.isInteger(k) || (k as number) < 1 || (k as number) > config.maxK) throw bad(`k must be an integer from 1 to ${config.maxK}, got ${JSON.stringify(k)}`)
  const out: FirstStageRequest = { mode, k: k as number }
  if (mode !== 'vector') {
    if (typeof b.query !== 'string') throw bad(`mode '${mode}' needs query, a string`)
    if (b.query.length > config.maxQueryLength) throw bad(`query has ${b.query.length} characters; at most ${config.maxQueryLength}`)
    out.query = b.query
  } else if (b.query !== undefined) {
    throw bad("mode 'vector' takes no query text (only its vector leaves the device)")
  }
  if (mode !== 'keyword') {
    if (!config.vector) throw new FirstStageRequestError(400, 'mode_unavailable', `mode '${mode}' needs a vector column, and this handler has none configured`)
    const v = b.vector
    if (!Array.isArray(v) || v.length === 0 || v.length > 16_000 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw bad(`mode '${mode}' needs vector, an array of 1 to 16,000 finite numbers`)
    if (config.dims !== null && v.length !== config.dims) throw bad(`vector has ${v.length} dimensions; this table's have ${config.dims}`)
    out.vector = v as number[]
  } else if (b.vector !== undefined) {
    throw bad("mode 'keyword' takes no vector")
  }
  if (b.filter !== undefined && b.filter !== null) {
    if (typeof b.filter !== 'object' || Array.isArray(b.filter)) throw bad('filter must be an object of metadata conditions')
    if (!config.metadata && Object.keys(b.filter).length > 0) throw new FirstStageRequestError(400, 'filter_unavailable', 'filters need a metadata column, and this handler has none configured')
    out.filter = b.filter as Record<string, unknown>
  }
  return out
}

/**
 * The parameterised SQL of a checked request; rows are `{ id, text, title, metadata, score }`,
 * best first.
 *
 * @throws FirstStageRequestError (400) for a malformed filter.
 * @example
 * const { text, params } = buildFirstStageQuery({ mode: 'keyword', query: 'install', k: 50 }, config)
 * const { rows } = await client.query(text, params)
 */
export function buildFirstStageQuery(request: FirstStageRequest, config: ResolvedFirstStage): { text: string; params: unknown[] } {
  const params: unknown[] = []
  const param = (value: unknown, cast = ''): string => {
    params.push(value)
    return `$${params.length}${cast}`
  }
  const where = request.filter ? filterSql(request.filter, config.metadata!, param) : []
  const c = config
  const columns = (alias: string) =>
    [`${alias}${c.id}::text AS id`, `${alias}${c.text} AS text`, c.title ? `${alias}${c.title} AS title` : 'NULL::text AS title', c.metadata ? `${alias}${c.metadata} AS metadata` : 'NULL::jsonb AS metadata'].join(', ')
  const and = (conditions: string[]) => (conditions.length > 0 ? conditions.join(' AND ') : 'TRUE')
  let keyword: { from: string; match: string; rank: string } | null = null
  if (request.mode !== 'vector') {
    const language = param(c.language, '::regconfig')
    const query = param(request.query)
    const tsquery = c.keywordMatch === 'websearch' ? `websearch_to_tsquery(${language}, ${query})` : `replace(plainto_tsquery(${language}, ${query})::text, ' & ', ' | ')::tsquery`
    const document = c.tsvector ?? `to_tsvector(${language}, ${c.text})`
    keyword = { from: `, (SELECT ${tsquery} AS q) AS wq`, match: `${document} @@ wq.q`, rank: `ts_rank_cd(${document}, wq.q, ${c.rankNormalization})` }
  }
  const vector = request.mode !== 'keyword' ? param(`[${request.vector!.join(',')}]`, '::vector') : null
  const filter = and(where)
  if (request.mode === 'keyword') {
    const k = param(request.k, '::int')
    return { text: `SELECT ${columns('')}, ${keyword!.rank} AS score FROM ${c.table}${keyword!.from} WHERE ${keyword!.match} AND ${filter} ORDER BY score DESC, ${c.id} LIMIT ${k}`, params }
  }
  if (request.mode === 'vector') {
    const k = param(request.k, '::int')
    // ORDER BY the distance alone, so that an HNSW or IVFFlat index can serve it.
    return { text: `SELECT ${columns('')}, 1 - (${c.vector} <=> ${vector}) AS score FROM ${c.table} WHERE ${c.vector} IS NOT NULL AND ${filter} ORDER BY ${c.vector} <=> ${vector} LIMIT ${k}`, params }
  }
  const depth = param(Math.max(request.k, c.hybridDepth), '::int')
  const rrf = param(c.rrfK, '::int')
  const k = param(request.k, '::int')
  const text = [
    `WITH kw AS (SELECT id, row_number() OVER (ORDER BY s DESC, id) AS r FROM (SELECT ${c.id} AS id, ${keyword!.rank} AS s FROM ${c.table}${keyword!.from} WHERE ${keyword!.match} AND ${filter} ORDER BY s DESC, ${c.id} LIMIT ${depth}) kw0),`,
    `vec AS (SELECT id, row_number() OVER (ORDER BY d, id) AS r FROM (SELECT ${c.id} AS id, ${c.vector} <=> ${vector} AS d FROM ${c.table} WHERE ${c.vector} IS NOT NULL AND ${filter} ORDER BY ${c.vector} <=> ${vector} LIMIT ${depth}) vec0)`,
    `SELECT ${columns('t.')}, (COALESCE(1.0 / (${rrf} + kw.r), 0) + COALESCE(1.0 / (${rrf} + vec.r), 0))::float8 AS score`,
    `FROM kw FULL OUTER JOIN vec ON kw.id = vec.id JOIN ${c.table} t ON t.${c.id} = COALESCE(kw.id, vec.id)`,
    `ORDER BY score DESC, t.${c.id} LIMIT ${k}`,
  ].join(' ')
  return { text, params }
}

/**
 * Metadata conditions as SQL over the jsonb column, winnow's filter semantics: a value or `eq`
 * (strict: `1` is not `'1'`), `ne`, `in`, `nin`, `gt`/`gte`/`lt`/`lte` (numbers with numbers,
 * strings with strings), `exists`. An array field matches `eq`/`in` when any element does and a
 * range when one element satisfies every bound; `ne`/`nin` hold for a missing field. Each
 * condition is a jsonpath (`$."field"[*] ? (@ == $v0)`) with its values as variables: the path and
 * the variables are parameters.
 */
function filterSql(filter: Record<string, unknown>, metadata: string, param: (value: unknown, cast?: string) => string): string[] {
  const out: string[] = []
  const target = `COALESCE(${metadata}, '{}'::jsonb)`
  for (const [field, condition] of Object.entries(filter)) {
    if (field.length === 0 || field.length > MAX_FIELD_LENGTH || /[\u0000-\u001f]/.test(field)) throw bad(`filter field ${JSON.stringify(field)} must be 1 to ${MAX_FIELD_LENGTH} characters, no control characters`)
    const key = `$."${field.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
    const ops: Record<string, unknown> = condition !== null && typeof condition === 'object' && !Array.isArray(condition) ? (condition as Record<string, unknown>) : { eq: condition }
    if (Array.isArray(condition)) throw bad(`filter.${field}: an array is not a condition; use { in: [...] }`)
    const path = (predicate: string, vars: Record<string, unknown>) => `jsonb_path_exists(${target}, ${param(`${key}[*] ? (${predicate})`, '::jsonpath')}, ${param(JSON.stringify(vars), '::jsonb')})`
    const bounds: string[] = []
    const boundVars: Record<string, unknown> = {}
    let boundType: string | null = null
    for (const [op, value] of Object.entries(ops)) {
      if (!OPERATORS.has(op)) throw bad(`filter.${field}: unknown operator ${JSON.stringify(op)}; use eq, ne, in, nin, gt, gte, lt, lte or exists`)
      if (op === 'exists') {
        if (typeof value !== 'boolean') throw bad(`filter.${field}.exists must be true or false`)
        const test = `jsonb_path_exists(${target}, ${param(key, '::jsonpath')})`
        out.push(value ? test : `NOT ${test}`)
      } else if (op === 'eq' || op === 'ne') {
        scalar(value, ops === condition ? `filter.${field}.${op}` : `filter.${field}`)
        const test = path('@ == $v', { v: value })
        out.push(op === 'eq' ? test : `NOT ${test}`)
      } else if (op === 'in' || op === 'nin') {
        if (!Array.isArray(value) || value.length > 1000) throw bad(`filter.${field}.${op} must be an array of at most 1,000 values`)
        value.forEach((v) => scalar(v, `filter.${field}.${op}[]`))
        const test = value.length === 0 ? 'FALSE' : path(value.map((_, i) => `@ == $v${i}`).join(' || '), Object.fromEntries(value.map((v, i) => [`v${i}`, v])))
        out.push(op === 'in' ? test : `NOT ${test}`)
      } else {
        const type = typeof value
        if ((type !== 'number' || !Number.isFinite(value)) && type !== 'string') throw bad(`filter.${field}.${op} must be a finite number or a string`)
        if (boundType !== null && boundType !== type) throw bad(`filter.${field}: range bounds must all be numbers or all be strings`)
        boundType = type
        const name = `b${bounds.length}`
        bounds.push(`@ ${RANGE[op as keyof typeof RANGE]} $${name}`)
        boundVars[name] = value
      }
    }
    if (bounds.length > 0) out.push(path(bounds.join(' && '), boundVars))
  }
  return out
}

function scalar(value: unknown, where: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return
  throw bad(`${where} must be a string, a finite number, a boolean or null, got ${Array.isArray(value) ? 'an array' : typeof value}`)
}

function quote(identifier: string): string {
  return `"${identifier}"`
}

function bad(message: string): FirstStageRequestError {
  return new FirstStageRequestError(400, 'invalid_request', message)
}
