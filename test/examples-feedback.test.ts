import { env } from 'cloudflare:workers'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { readConfig } from '../src/config'
import { withDb } from '../src/db/connect'
import type { StoredExample } from '../src/db/examples-table'
import { saveRequestRecord } from '../src/feedback/request-record'
import { loadSnapshot } from '../src/schema/snapshot-store'
import { ask, call, clearSnapshot, dbEnv, putDemoSnapshot, type Overrides } from './support/app'
import { readEvents } from './support/streams'

// The examples live in a schema of their own in the `feedback` database: schema-refresh.test.ts
// refreshes that database in parallel and compares versions, and approved examples in
// public.txt2sql_examples would change them under it. Its schema is introspected here, so the
// table's exclusion from the snapshot is really tested.
const SCHEMA = 'examples_test'
const TABLE = `${SCHEMA}.txt2sql_examples`
const ADMIN = { ADMIN_TOKEN: 'admin-secret' }
const auth = { authorization: 'Bearer admin-secret' }
const EX = () => dbEnv('feedback', { ...ADMIN, EXAMPLES_TABLE: TABLE, DB_SCHEMAS: `public,${SCHEMA}` })

const dbConfig = () => readConfig({ ...env, ...dbEnv('feedback') }).database
const query = <R = Record<string, unknown>>(text: string) => withDb(dbConfig(), (db) => db.query<R>(text), 30_000)
const tableExists = async (name: string) => (await query<{ ok: boolean }>(`SELECT to_regclass('${name}') IS NOT NULL AS ok`))[0]!.ok
const storedSnapshot = () => loadSnapshot(env.SCHEMA_KV, { cacheTtlSeconds: 0 })
const pairs = (examples: { question: string; sql: string }[]) => examples.map(({ question, sql }) => ({ question, sql }))

type Stored = StoredExample
type Listed = { examples: Stored[]; total: number; limit: number; offset: number }

const postJson = (body: unknown, overrides: Overrides = EX(), query = '') =>
  call(`/v1/admin/examples${query}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) }, overrides)
const postCsv = (text: string, overrides: Overrides = EX(), contentType = 'text/csv') =>
  call('/v1/admin/examples', { method: 'POST', headers: { ...auth, 'content-type': contentType }, body: text }, overrides)
const list = async (params = '', overrides: Overrides = EX()): Promise<Listed> => {
  const res = await call(`/v1/admin/examples${params}`, { headers: auth }, overrides)
  expect(res.status).toBe(200)
  return (await res.json()) as Listed
}
const action = (id: string, what: 'approve' | 'unapprove', params = '') => call(`/v1/admin/examples/${id}/${what}${params}`, { method: 'POST', headers: auth }, EX())
const feedback = (body: unknown, overrides: Overrides = EX(), headers: Record<string, string> = {}) =>
  call('/v1/feedback', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) }, overrides)

async function expectError(res: Response, status: number, code: string): Promise<string> {
  expect(res.status).toBe(status)
  const body = (await res.json()) as { error: { code: string; message: string } }
  expect(body.error.code).toBe(code)
  return body.error.message
}

const STATION = { question: '沈塘桥地铁站的信息', sql: "SELECT * FROM stations WHERE name LIKE '%沈塘桥%'" }
const LINES = { question: '各线路的站点数', sql: 'SELECT line_id, count(*) FROM station_lines GROUP BY line_id' }
const FARES = { question: '票价最高的区间', sql: 'SELECT * FROM fares ORDER BY price_yuan DESC LIMIT 1' }

beforeAll(() => query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`))
beforeEach(async () => {
  await clearSnapshot()
  await query(`DROP TABLE IF EXISTS ${TABLE}`)
})

describe('POST /v1/admin/examples imports question→SQL pairs', () => {
  it('takes {examples:[…]} as JSON, creating the table on demand; an admin import is approved unless it says otherwise', async () => {
    expect(await tableExists(TABLE)).toBe(false)
    const res = await postJson({ examples: [STATION, { ...LINES, approved: false }] })
    expect(res.status).toBe(201)
    const body = (await res.json()) as { ids: string[] }
    expect(body).toEqual({ received: 2, inserted: 2, duplicates: 0, ids: [expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/)], refresh: null })
    expect(await tableExists(TABLE)).toBe(true)
    const all = await list('?status=all')
    expect(all.total).toBe(2)
    const none = { rejected_at: null, rejected_by: null, rejected_reason: null, updated_at: null, updated_by: null, sent_role: null, model_sql: null, prompted: 0, verified: 0 }
    const checked = { ok: true, checked_at: expect.stringMatching(/Z$/) }
    expect(all.examples).toEqual([
      { id: body.ids[0], ...STATION, source: 'admin', status: 'approved', approved: true, request_id: null, created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), approved_at: expect.stringMatching(/Z$/), approved_by: 'admin-token', sent_by: 'admin-token', check: checked, ...none },
      { id: body.ids[1], ...LINES, source: 'admin', status: 'pending', approved: false, request_id: null, created_at: expect.stringMatching(/Z$/), approved_at: null, approved_by: null, sent_by: 'admin-token', check: checked, ...none },
    ])
  })

  it('takes a bare array, and counts pairs already stored (or repeated in the import) as duplicates', async () => {
    const first = await postJson([STATION, LINES])
    expect(first.status).toBe(201)
    const again = await postJson([STATION, LINES])
    expect(again.status).toBe(201)
    expect(await again.json()).toEqual({ received: 2, inserted: 0, duplicates: 2, ids: [], refresh: null })
    // Identical after trimming, and a pair twice in one import.
    const mixed = await postJson([{ question: `  ${STATION.question}  `, sql: `\n${STATION.sql}\n` }, FARES, FARES])
    expect(mixed.status).toBe(201)
    expect(await mixed.json()).toMatchObject({ received: 3, inserted: 1, duplicates: 2, ids: [expect.any(String)] })
    expect((await list('?status=all')).total).toBe(3)
  })

  it('numbers the pairs it stores without gaps, whatever duplicates came before them', async () => {
    const first = (await (await postJson([STATION, LINES])).json()) as { ids: string[] }
    // Both already stored, then one stored and one new twice over in one import.
    await postJson([STATION, LINES])
    const next = (await (await postJson([LINES, FARES, FARES])).json()) as { ids: string[]; inserted: number }
    expect(next.inserted).toBe(1)
    expect(Number(next.ids[0])).toBe(Number(first.ids[1]) + 1)
    const last = (await (await postJson([STATION, { question: '一加一', sql: 'SELECT 1 + 1' }, { question: '二加二', sql: 'SELECT 2 + 2' }])).json()) as { ids: string[] }
    expect(last.ids.map(Number)).toEqual([Number(next.ids[0]) + 1, Number(next.ids[0]) + 2])
  })

  it('takes CSV with quoted commas, doubled quotes and newlines, and an approved column', async () => {
    const csv =
      '\uFEFFSQL,Question,approved\r\n' +
      '"SELECT line_id, count(*)\r\nFROM station_lines\r\nGROUP BY line_id","各线路的站点数, 按线路",no\r\n' +
      `"SELECT name AS ""站名"" FROM stations WHERE name = '沈塘桥'",沈塘桥地铁站的信息,yes\r\n` +
      'SELECT 1,一加零,\r\n'
    const res = await postCsv(csv)
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ received: 3, inserted: 3, duplicates: 0 })
    const all = await list('?status=all')
    expect(all.examples.map((e) => [e.question, e.sql, e.approved])).toEqual([
      ['各线路的站点数, 按线路', 'SELECT line_id, count(*)\r\nFROM station_lines\r\nGROUP BY line_id', false],
      ['沈塘桥地铁站的信息', `SELECT name AS "站名" FROM stations WHERE name = '沈塘桥'`, true],
      ['一加零', 'SELECT 1', true],
    ])
    expect(new Set(all.examples.map((e) => e.source))).toEqual(new Set(['admin']))
  })

  it('accepts application/csv with a charset', async () => {
    const res = await postCsv('question,sql\nq,SELECT 1\n', EX(), 'application/csv; charset=utf-8')
    expect(res.status).toBe(201)
  })

  const invalidCsv: [string, string, RegExp][] = [
    ['an unclosed quote', 'question,sql\nq1,SELECT 1\nq2,"SELECT\n2\n', /line 3: a quoted field is not closed/],
    ['a bad approved value', 'question,sql,approved\nq1,SELECT 1,yes\nq2,SELECT 2,sure\n', /row 3: "approved" must be true or false/],
    ['an empty question', 'question,sql\nq1,SELECT 1\n,SELECT 2\n', /row 3: question must not be empty/],
    ['no sql column', 'question,query\nq1,SELECT 1\n', /"question" and "sql"/],
    ['a header only', 'question,sql\n', /header but no rows/],
  ]
  for (const [what, csv, message] of invalidCsv) {
    it(`refuses CSV with ${what}: 400 invalid_request saying where, and stores nothing`, async () => {
      expect(await expectError(await postCsv(csv), 400, 'invalid_request')).toMatch(message)
      expect(await tableExists(TABLE)).toBe(false)
    })
  }

  const invalidJson: [string, unknown, RegExp][] = [
    ['an empty list', { examples: [] }, /examples: /],
    ['a pair without sql', [STATION, { question: 'q' }], /1\.sql: /],
    ['an empty question', { examples: [{ question: ' ', sql: 'SELECT 1' }] }, /examples\.0\.question: question must not be empty/],
    ['a string', 'question,sql', /\(root\)/],
  ]
  for (const [what, body, message] of invalidJson) {
    it(`refuses JSON with ${what}: 400 invalid_request`, async () => {
      expect(await expectError(await postJson(body), 400, 'invalid_request')).toMatch(message)
    })
  }

  it('refuses JSON that does not parse: 400 invalid_json', async () => {
    const res = await call('/v1/admin/examples', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"examples": [' }, EX())
    await expectError(res, 400, 'invalid_json')
  })

  it('refuses another content type: 415, naming the ones it takes', async () => {
    const message = await expectError(await postCsv('question,sql\nq,SELECT 1\n', EX(), 'text/plain'), 415, 'unsupported_media_type')
    expect(message).toBe('Send the body as JSON or CSV with "Content-Type: application/json or text/csv"')
    const none = await call('/v1/admin/examples', { method: 'POST', headers: auth, body: 'question,sql\nq,SELECT 1\n' }, EX())
    await expectError(none, 415, 'unsupported_media_type')
  })

  it('is 401 without the admin token, with a wrong one, and when ADMIN_TOKEN is not set', async () => {
    const body = JSON.stringify([STATION])
    const headers = { 'content-type': 'application/json' }
    await expectError(await call('/v1/admin/examples', { method: 'POST', headers, body }, EX()), 401, 'unauthorized')
    await expectError(await call('/v1/admin/examples', { method: 'POST', headers: { ...headers, authorization: 'Bearer nope' }, body }, EX()), 401, 'unauthorized')
    await expectError(await call('/v1/admin/examples', { method: 'POST', headers: { ...headers, ...auth }, body }, { ...EX(), ADMIN_TOKEN: undefined }), 401, 'unauthorized')
    await expectError(await call('/v1/admin/examples', { headers: auth }, { ...EX(), ADMIN_TOKEN: '' }), 401, 'unauthorized')
    expect(await tableExists(TABLE)).toBe(false)
  })

  it('is 503 database_not_configured without DATABASE_URL', async () => {
    await expectError(await postJson([STATION], ADMIN), 503, 'database_not_configured')
    await expectError(await call('/v1/admin/examples', { headers: auth }, ADMIN), 503, 'database_not_configured')
    await expectError(await call('/v1/admin/examples/1/approve', { method: 'POST', headers: auth }, ADMIN), 503, 'database_not_configured')
    await expectError(await call('/v1/admin/examples/1', { method: 'DELETE', headers: auth }, ADMIN), 503, 'database_not_configured')
  })

  it('with ?refresh=true puts the approved pairs into the snapshot', async () => {
    const res = await postJson([STATION, { ...LINES, approved: false }], EX(), '?refresh=true')
    expect(res.status).toBe(201)
    const body = (await res.json()) as { refresh: { examples: number; changed: boolean } }
    expect(body.refresh).toMatchObject({ ok: true, examples: 1, changed: true })
    expect((await storedSnapshot()).examples).toEqual([{ id: expect.stringMatching(/^\d+$/), ...STATION, approved_at: expect.stringMatching(/Z$/) }])
  })

  it('stores the pairs even when the refresh after them fails, and says so beside the result', async () => {
    await putDemoSnapshot()
    // A schema with nothing in it: the import (an SQL that reads no table) works, the refresh finds no table to cache.
    const res = await postJson([{ question: '一加一', sql: 'SELECT 1 + 1' }], { ...EX(), DB_SCHEMAS: 'no_such_schema' }, '?refresh=true')
    expect(res.status).toBe(201)
    const body = (await res.json()) as { inserted: number; refresh: { ok: boolean; error: { code: string } } }
    expect(body.inserted).toBe(1)
    expect(body.refresh).toEqual({ ok: false, error: { code: 'database_permission_denied', message: expect.any(String) } })
    expect((await storedSnapshot()).version).toBe('demo-1')
  })

  it('uses public.txt2sql_examples when EXAMPLES_TABLE is not set', async () => {
    const table = 'public.txt2sql_examples'
    await query(`DROP TABLE IF EXISTS ${table}`)
    try {
      // Unapproved only: the default table is read by refreshes of this database elsewhere.
      const res = await postJson([{ ...STATION, approved: false }], dbEnv('feedback', ADMIN))
      expect(res.status).toBe(201)
      expect(await tableExists(table)).toBe(true)
      expect(await tableExists(TABLE)).toBe(false)
      const pending = await list('', dbEnv('feedback', ADMIN))
      expect(pending.examples.map((e) => e.question)).toEqual([STATION.question])
    } finally {
      await query(`DROP TABLE IF EXISTS ${table}`)
    }
  })
})

describe('GET /v1/admin/examples lists stored pairs', () => {
  const seed = async () => {
    const res = await postJson([
      { question: 'p1', sql: 'SELECT 1', approved: false },
      { question: 'a1', sql: 'SELECT 2' },
      { question: 'p2', sql: 'SELECT 3', approved: false },
      { question: 'a2', sql: 'SELECT 4' },
      { question: 'p3', sql: 'SELECT 5', approved: false },
    ])
    expect(res.status).toBe(201)
  }

  it('is empty before the table exists', async () => {
    expect(await list()).toEqual({ examples: [], total: 0, limit: 100, offset: 0 })
    expect(await tableExists(TABLE)).toBe(false)
  })

  it('shows pending pairs by default, oldest first; approved or all on request, with the total', async () => {
    await seed()
    const pending = await list()
    expect(pending).toMatchObject({ total: 3, limit: 100, offset: 0 })
    expect(pending.examples.map((e) => e.question)).toEqual(['p1', 'p2', 'p3'])
    expect((await list('?status=pending')).examples.map((e) => e.question)).toEqual(['p1', 'p2', 'p3'])
    const approved = await list('?status=approved')
    expect(approved.total).toBe(2)
    expect(approved.examples.map((e) => e.question)).toEqual(['a1', 'a2'])
    const all = await list('?status=all')
    expect(all.total).toBe(5)
    expect(all.examples.map((e) => e.question)).toEqual(['p1', 'a1', 'p2', 'a2', 'p3'])
  })

  it('pages with limit and offset; total counts all matching rows', async () => {
    await seed()
    const page = await list('?status=all&limit=2&offset=1')
    expect(page).toMatchObject({ total: 5, limit: 2, offset: 1 })
    expect(page.examples.map((e) => e.question)).toEqual(['a1', 'p2'])
    const last = await list('?status=pending&limit=2&offset=2')
    expect(last).toMatchObject({ total: 3 })
    expect(last.examples.map((e) => e.question)).toEqual(['p3'])
    expect((await list('?status=all&offset=10')).examples).toEqual([])
  })

  const bad = ['?status=denied', '?status=', '?limit=0', '?limit=1001', '?limit=abc', '?limit=1.5', '?offset=-1', '?offset=x']
  for (const params of bad) {
    it(`is 400 invalid_request for ${params}`, async () => {
      await expectError(await call(`/v1/admin/examples${params}`, { headers: auth }, EX()), 400, 'invalid_request')
    })
  }

  it('is 401 without the admin token', async () => {
    await expectError(await call('/v1/admin/examples', {}, EX()), 401, 'unauthorized')
  })
})

describe('approving, withdrawing and deleting a pair', () => {
  const importPending = async (pairs: object[]) => {
    const res = await postJson(pairs.map((p) => ({ ...p, approved: false })))
    expect(res.status).toBe(201)
    return ((await res.json()) as { ids: string[] }).ids
  }

  it('approve?refresh=true approves it and the refreshed snapshot shows it, without the examples table itself', async () => {
    const [station, lines] = await importPending([STATION, LINES])
    const res = await action(station!, 'approve', '?refresh=true')
    expect(res.status).toBe(200)
    const body = (await res.json()) as { example: Stored; refresh: { examples: number; version: string } }
    expect(body.example).toMatchObject({ id: station, ...STATION, approved: true, source: 'admin', approved_at: expect.stringMatching(/Z$/) })
    expect(body.refresh).toMatchObject({ examples: 1, version: expect.stringMatching(/^pg-/) })

    const snapshot = await storedSnapshot()
    expect(snapshot.version).toBe(body.refresh.version)
    expect(snapshot.examples).toEqual([{ id: station, ...STATION, approved_at: body.example.approved_at }])
    expect(snapshot.tables.some((t) => t.name === 'stations')).toBe(true)
    expect(snapshot.tables.some((t) => t.name === 'txt2sql_examples')).toBe(false)
    expect(JSON.stringify(snapshot.tables)).not.toContain('txt2sql_examples')

    expect((await list('?status=approved')).examples.map((e) => e.id)).toEqual([station])
    expect((await list()).examples.map((e) => e.id)).toEqual([lines])
  })

  it('approve without refresh leaves the snapshot alone', async () => {
    await putDemoSnapshot()
    const [station] = await importPending([STATION])
    const res = await action(station!, 'approve')
    expect(res.status).toBe(200)
    expect(((await res.json()) as { refresh: unknown }).refresh).toBeNull()
    expect((await storedSnapshot()).version).toBe('demo-1')
  })

  it('unapprove withdraws it, and the next refresh drops it from the snapshot', async () => {
    const [station, lines] = await importPending([STATION, LINES])
    await action(station!, 'approve')
    await action(lines!, 'approve', '?refresh=1')
    expect(pairs((await storedSnapshot()).examples)).toEqual([STATION, LINES])
    const res = await action(station!, 'unapprove', '?refresh=yes')
    expect(res.status).toBe(200)
    const body = (await res.json()) as { example: Stored; refresh: { examples: number } }
    expect(body.example).toMatchObject({ id: station, approved: false, approved_at: null })
    expect(body.refresh).toMatchObject({ examples: 1 })
    expect(pairs((await storedSnapshot()).examples)).toEqual([LINES])
    expect((await list()).examples.map((e) => e.id)).toEqual([station])
  })

  it('is 404 for an id that does not exist, before and after the table exists', async () => {
    await expectError(await action('12345', 'approve'), 404, 'not_found')
    await expectError(await call('/v1/admin/examples/12345', { method: 'DELETE', headers: auth }, EX()), 404, 'not_found')
    expect(await tableExists(TABLE)).toBe(false)
    await importPending([STATION])
    await expectError(await action('999999', 'approve'), 404, 'not_found')
    await expectError(await action('999999', 'unapprove'), 404, 'not_found')
    await expectError(await call('/v1/admin/examples/999999', { method: 'DELETE', headers: auth }, EX()), 404, 'not_found')
  })

  for (const id of ['abc', '0', '-1', '1.5', '01', '1e3', '9999999999999999999']) {
    it(`is 400 invalid_request for the id "${id}"`, async () => {
      await expectError(await action(encodeURIComponent(id), 'approve'), 400, 'invalid_request')
      await expectError(await call(`/v1/admin/examples/${encodeURIComponent(id)}`, { method: 'DELETE', headers: auth }, EX()), 400, 'invalid_request')
    })
  }

  it('DELETE removes it', async () => {
    const [station, lines] = await importPending([STATION, LINES])
    const res = await call(`/v1/admin/examples/${station}`, { method: 'DELETE', headers: auth }, EX())
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ deleted: station, refresh: null })
    expect((await list('?status=all')).examples.map((e) => e.id)).toEqual([lines])
    await expectError(await call(`/v1/admin/examples/${station}`, { method: 'DELETE', headers: auth }, EX()), 404, 'not_found')
    // Deleted, the pair may be imported again.
    expect(await (await postJson([STATION])).json()).toMatchObject({ inserted: 1 })
  })

  it('is 401 without the admin token', async () => {
    const [station] = await importPending([STATION])
    await expectError(await call(`/v1/admin/examples/${station}/approve`, { method: 'POST' }, EX()), 401, 'unauthorized')
    await expectError(await call(`/v1/admin/examples/${station}`, { method: 'DELETE' }, EX()), 401, 'unauthorized')
    expect((await list()).total).toBe(1)
  })
})

type RecordShape = { question: string; sql: string | null; schema_version: string; caller: string | null; at: string }

/** The request record is written once the stream has ended, in the background: wait for it. */
async function requestRecord(id: string): Promise<RecordShape | null> {
  for (let i = 0; i < 40; i++) {
    const raw = await env.SCHEMA_KV.get(`request:${id}`)
    if (raw !== null) return JSON.parse(raw) as RecordShape
    await new Promise((r) => setTimeout(r, 50))
  }
  return null
}

/** Asks the demo question, reads the whole answer, and waits for its request record. */
async function answered(overrides: Overrides = EX(), headers: Record<string, string> = {}) {
  const res = await ask({ question: '沈塘桥地铁站的信息' }, overrides, headers)
  expect(res.status).toBe(200)
  const events = await readEvents(res.body!)
  const requestId = events.find((e) => e.event === 'meta')!.data.request_id as string
  const sql = events.find((e) => e.event === 'sql')!.data.sql as string
  expect(sql).toMatch(/^SELECT .*沈塘桥/s)
  const record = await requestRecord(requestId)
  expect(record).not.toBeNull()
  return { requestId, sql, record: record! }
}

describe('POST /v1/feedback turns an answer into a pending example', () => {
  beforeEach(putDemoSnapshot)

  it('keeps a record of an answered request: question, SQL, snapshot version, no caller while auth is off', async () => {
    const { record, sql } = await answered()
    expect(record).toEqual({ question: '沈塘桥地铁站的信息', sql, schema_version: 'demo-1', caller: null, at: expect.stringMatching(/Z$/) })
  })

  it('{correct:true} stores the question and the SQL the answer had, unapproved', async () => {
    const { requestId, sql } = await answered()
    const res = await feedback({ request_id: requestId, correct: true })
    expect(res.status).toBe(201)
    const body = (await res.json()) as { stored: boolean; example: { id: string } }
    expect(body).toEqual({ stored: true, example: { id: expect.stringMatching(/^\d+$/), approved: false, status: 'pending', source: 'feedback', check: { ok: true, checked_at: expect.any(String) } } })
    const pending = await list()
    expect(pending.total).toBe(1)
    expect(pending.examples[0]).toMatchObject({ id: body.example.id, question: '沈塘桥地铁站的信息', sql, source: 'feedback', approved: false, request_id: requestId, approved_at: null, model_sql: null })
  })

  it('the same feedback twice stores one row and names it both times', async () => {
    const { requestId } = await answered()
    const first = (await (await feedback({ request_id: requestId, correct: true })).json()) as { example: { id: string } }
    const second = await feedback({ request_id: requestId, correct: true })
    expect(second.status).toBe(201)
    expect(((await second.json()) as { example: { id: string } }).example.id).toBe(first.example.id)
    expect((await list('?status=all')).total).toBe(1)
  })

  it('{correct:false, sql} stores the corrected SQL as feedback-corrected', async () => {
    const { requestId } = await answered()
    const corrected = "SELECT * FROM stations WHERE name = '沈塘桥'"
    const res = await feedback({ request_id: requestId, correct: false, sql: `  ${corrected}\n` })
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ stored: true, example: { id: expect.any(String), approved: false, status: 'pending', source: 'feedback-corrected', check: { ok: true } } })
    expect((await list()).examples.map((e) => [e.question, e.sql, e.source])).toEqual([['沈塘桥地铁站的信息', corrected, 'feedback-corrected']])
  })

  it("{correct:false, sql} keeps the model's SQL beside the correction, in the listing and in GET of the example; a {correct:true} keeps none", async () => {
    const { requestId, sql: modelSql } = await answered()
    const corrected = "SELECT * FROM stations WHERE name = '沈塘桥'"
    expect(corrected).not.toBe(modelSql)
    const wrong = (await (await feedback({ request_id: requestId, correct: false, sql: corrected })).json()) as { example: { id: string } }
    const second = await answered()
    const right = (await (await feedback({ request_id: second.requestId, correct: true })).json()) as { example: { id: string } }
    expect((await list()).examples.map((e) => [e.id, e.sql, e.model_sql])).toEqual([
      [wrong.example.id, corrected, modelSql],
      [right.example.id, second.sql, null],
    ])
    const res = await call(`/v1/admin/examples/${wrong.example.id}`, { headers: auth }, EX())
    expect(res.status).toBe(200)
    expect(((await res.json()) as { example: Stored }).example).toMatchObject({ sql: corrected, model_sql: modelSql, source: 'feedback-corrected' })
  })

  it('{correct:false} without sql is acknowledged (202) and stores nothing', async () => {
    const { requestId } = await answered()
    const res = await feedback({ request_id: requestId, correct: false })
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ stored: false, example: null })
    expect((await list('?status=all')).total).toBe(0)
  })

  it('an approved pair reaches the snapshot at the next refresh', async () => {
    const { requestId, sql } = await answered()
    const { example } = (await (await feedback({ request_id: requestId, correct: true })).json()) as { example: { id: string } }
    expect((await action(example.id, 'approve', '?refresh=true')).status).toBe(200)
    expect(pairs((await storedSnapshot()).examples)).toEqual([{ question: '沈塘桥地铁站的信息', sql }])
  })

  it('{correct:true} for an answer without SQL is 400 and asks for the right SQL', async () => {
    const requestId = crypto.randomUUID()
    await saveRequestRecord(env.SCHEMA_KV, requestId, { question: '你好', sql: null, schema_version: 'demo-1', caller: null, at: new Date().toISOString() }, 60)
    expect(await expectError(await feedback({ request_id: requestId, correct: true }), 400, 'invalid_request')).toMatch(/"sql"/)
    const res = await feedback({ request_id: requestId, correct: false, sql: 'SELECT 1' })
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ stored: true, example: { source: 'feedback-corrected' } })
  })

  it('is 404 request_not_found for a request id that was never answered', async () => {
    await expectError(await feedback({ request_id: crypto.randomUUID(), correct: true }), 404, 'request_not_found')
  })

  const invalid: [string, unknown][] = [
    ['without correct', { request_id: crypto.randomUUID() }],
    ['with correct as a string', { request_id: crypto.randomUUID(), correct: 'yes' }],
    ['without request_id', { correct: true }],
    ['with a request_id that is not a UUID', { request_id: 'abc', correct: true }],
    ['with an empty sql', { request_id: crypto.randomUUID(), correct: false, sql: '   ' }],
    ['that is an array', [{ correct: true }]],
  ]
  for (const [what, body] of invalid) {
    it(`is 400 invalid_request for a body ${what}`, async () => {
      await expectError(await feedback(body), 400, 'invalid_request')
    })
  }

  it('is 400 invalid_json for a body that does not parse, 415 for another content type', async () => {
    await expectError(await feedback('{"correct":'), 400, 'invalid_json')
    const res = await call('/v1/feedback', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }, EX())
    await expectError(res, 415, 'unsupported_media_type')
  })

  it("with API keys on, only the caller who asked may give feedback: another key's request looks unknown", async () => {
    const keys = { ...EX(), API_KEYS: 'k1,k2' }
    const { requestId, record } = await answered(keys, { authorization: 'Bearer k1' })
    expect(record.caller).toMatch(/^[0-9a-f]{24}$/)
    expect(JSON.stringify(record)).not.toContain('k1')
    await expectError(await feedback({ request_id: requestId, correct: true }, keys, { authorization: 'Bearer k2' }), 404, 'request_not_found')
    await expectError(await feedback({ request_id: requestId, correct: true }, keys), 401, 'unauthorized')
    expect((await list('?status=all')).total).toBe(0)
    const res = await feedback({ request_id: requestId, correct: true }, keys, { authorization: 'Bearer k1' })
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ stored: true, example: { source: 'feedback' } })
  })

  it('a request asked while auth was off gets no feedback once keys are on', async () => {
    const { requestId } = await answered()
    await expectError(await feedback({ request_id: requestId, correct: true }, { ...EX(), API_KEYS: 'k1' }, { authorization: 'Bearer k1' }), 404, 'request_not_found')
  })

  it('is 503 database_not_configured without DATABASE_URL', async () => {
    const { requestId } = await answered()
    await expectError(await feedback({ request_id: requestId, correct: true }, {}), 503, 'database_not_configured')
  })

  it('keeps no request record when no DATABASE_URL is configured', async () => {
    const res = await ask({ question: '沈塘桥地铁站的信息' })
    expect(res.status).toBe(200)
    const events = await readEvents(res.body!)
    const without = events.find((e) => e.event === 'meta')!.data.request_id as string
    expect(events.at(-1)!.event).toBe('done')
    // A later request with a database gets its record: by then the first would have had its own.
    await answered()
    expect(await env.SCHEMA_KV.get(`request:${without}`)).toBeNull()
    const keys = await env.SCHEMA_KV.list({ prefix: 'request:' })
    expect(keys.keys.map((k) => k.name)).not.toContain(`request:${without}`)
  })
})
