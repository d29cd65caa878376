import { env } from 'cloudflare:workers'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { readConfig } from '../src/config'
import { withDb } from '../src/db/connect'
import { saveRequestRecord } from '../src/feedback/request-record'
import { loadSnapshot } from '../src/schema/snapshot-store'
import { call, clearSnapshot, dbEnv, type Overrides } from './support/app'

// The examples model (issue 31, issue 34 items 3–4, the routes of issue 32): a schema of its own in
// the `feedback` database, so the suites that share that database never see these rows.
const SCHEMA = 'examples_model'
const TABLE = `${SCHEMA}.txt2sql_examples`
const auth = { authorization: 'Bearer admin-secret' }
const EX = (extra: Record<string, string> = {}) => dbEnv('feedback', { ADMIN_TOKEN: 'admin-secret', EXAMPLES_TABLE: TABLE, ...extra })

const dbConfig = () => readConfig({ ...env, ...dbEnv('feedback') }).database
const query = <R = Record<string, unknown>>(text: string, values: unknown[] = []) => withDb(dbConfig(), (db) => db.query<R>(text, values), 30_000)
const storedSnapshot = () => loadSnapshot(env.SCHEMA_KV, { cacheTtlSeconds: 0 })

type Example = {
  id: string
  question: string
  sql: string
  status: string
  approved: boolean
  approved_by: string | null
  rejected_by: string | null
  rejected_reason: string | null
  updated_by: string | null
  updated_at: string | null
  sent_by: string | null
  sent_role: string | null
  model_sql: string | null
  check: { ok: boolean; error?: string; checked_at: string } | null
  prompted: number
  verified: number
}

const send = (path: string, method: string, body?: unknown, overrides: Overrides = EX(), headers: Record<string, string> = {}) =>
  call(path, { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }, overrides)
const importJson = (pairs: unknown[], q = '') => send(`/v1/admin/examples${q}`, 'POST', pairs)
const listed = async (q = '?status=all'): Promise<{ examples: Example[]; total: number }> => {
  const res = await call(`/v1/admin/examples${q}`, { headers: auth }, EX())
  expect(res.status).toBe(200)
  return res.json()
}
const one = async (id: string): Promise<Example> => ((await (await call(`/v1/admin/examples/${id}`, { headers: auth }, EX())).json()) as { example: Example }).example

async function expectError(res: Response, status: number, code: string): Promise<{ message: string; details?: unknown[] }> {
  expect(res.status).toBe(status)
  const body = (await res.json()) as { error: { code: string; message: string; details?: unknown[] } }
  expect(body.error.code).toBe(code)
  return body.error
}

async function imported(pairs: unknown[]): Promise<string[]> {
  const res = await importJson(pairs)
  expect(res.status).toBe(201)
  return ((await res.json()) as { ids: string[] }).ids
}

const STATION = { question: '沈塘桥地铁站的信息', sql: "SELECT * FROM stations WHERE name LIKE '%沈塘桥%'" }
const LINES = { question: '各线路的站点数', sql: 'SELECT line_id, count(*) FROM station_lines GROUP BY line_id' }
const FARES = { question: '票价最高的区间', sql: 'SELECT * FROM fares ORDER BY price_yuan DESC LIMIT 1' }

beforeAll(() => query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`))
beforeEach(async () => {
  await clearSnapshot()
  await query(`DROP TABLE IF EXISTS ${TABLE}`)
})

describe('an EXAMPLES_TABLE created by an older version', () => {
  const createOld = () =>
    query(`CREATE TABLE ${TABLE} (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, question text NOT NULL, sql text NOT NULL, source text NOT NULL DEFAULT 'admin',
      approved boolean NOT NULL DEFAULT false, request_id text, created_at timestamptz NOT NULL DEFAULT now(), approved_at timestamptz);
    CREATE UNIQUE INDEX txt2sql_examples_pair_key ON ${TABLE} (md5(question || chr(31) || sql));
    INSERT INTO ${TABLE} (question, sql, approved, approved_at) VALUES ('${STATION.question}', '${STATION.sql.replace(/'/g, "''")}', true, now()), ('${LINES.question}', '${LINES.sql}', false, NULL);`)

  it('is brought up to date on first use: statuses from its approved flags, no verdict yet, counters at zero', async () => {
    await createOld()
    const all = await listed()
    expect(all.examples.map((e) => [e.question, e.status, e.approved, e.check, e.prompted, e.verified, e.sent_by])).toEqual([
      [STATION.question, 'approved', true, null, 0, 0, null],
      [LINES.question, 'pending', false, null, 0, 0, null],
    ])
    const columns = await query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'txt2sql_examples'`, [SCHEMA])
    expect(columns.map((c) => c.column_name)).toEqual(expect.arrayContaining(['status', 'approved_by', 'rejected_reason', 'sent_role', 'check_ok', 'prompted', 'verified', 'model_sql']))
    expect(all.examples.map((e) => e.model_sql)).toEqual([null, null])
  })

  it('of the version before model_sql (every other column there) gains the column on first use, its rows keeping theirs', async () => {
    await createOld()
    // The previous version's table: every column of today but model_sql.
    await listed()
    await query(`ALTER TABLE ${TABLE} DROP COLUMN model_sql`)
    const before = await query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'txt2sql_examples'`, [SCHEMA])
    expect(before.map((c) => c.column_name)).not.toContain('model_sql')
    const all = await listed()
    expect(all.examples.map((e) => [e.question, e.status, e.model_sql])).toEqual([
      [STATION.question, 'approved', null],
      [LINES.question, 'pending', null],
    ])
    const after = await query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'txt2sql_examples'`, [SCHEMA])
    expect(after.map((c) => c.column_name)).toContain('model_sql')
  })

  it('serves a refresh at once: its approved rows reach the snapshot with their ids', async () => {
    await createOld()
    const res = await send('/v1/admin/schema/refresh', 'POST', undefined, EX({ DB_SCHEMAS: `public,${SCHEMA}` }))
    expect(res.status).toBe(200)
    const snapshot = await storedSnapshot()
    expect(snapshot.examples).toEqual([{ id: '1', ...STATION, approved_at: expect.stringMatching(/Z$/) }])
  })

  it('keeps its rows through an import and an approval afterwards', async () => {
    await createOld()
    const [fares] = await imported([{ ...FARES, approved: false }])
    expect((await send(`/v1/admin/examples/${fares}/approve`, 'POST')).status).toBe(200)
    expect((await listed('?status=approved')).examples.map((e) => e.question)).toEqual([STATION.question, FARES.question])
  })
})

describe('every example SQL goes through the check model SQL takes', () => {
  it('refuses an import with an invalid SQL: 400 example_sql_invalid naming each failing CSV row and why; stores nothing', async () => {
    const csv = `question,sql\n${STATION.question},"${STATION.sql}"\n坏的,SELEC * FRM stations\n${LINES.question},"${LINES.sql}"\n删表,"SELECT 1; DROP TABLE stations"\n`
    const res = await call('/v1/admin/examples', { method: 'POST', headers: { ...auth, 'content-type': 'text/csv' }, body: csv }, EX())
    const error = await expectError(res, 400, 'example_sql_invalid')
    expect(error.message).toMatch(/2 SQL failed the check \(row 3: .*syntax error.*; row 5: /)
    expect(error.details).toEqual([
      { at: 'row 3', sql: 'SELEC * FRM stations', error: expect.stringMatching(/syntax error/) },
      { at: 'row 5', sql: 'SELECT 1; DROP TABLE stations', error: expect.any(String) },
    ])
    expect((await listed()).total).toBe(0)
    expect((await query<{ n: number }>(`SELECT count(*)::int AS n FROM stations`))[0]!.n).toBeGreaterThan(0)
  })

  it('names a JSON pair by its index, and refuses a table outside DB_SCHEMAS', async () => {
    const error = await expectError(await importJson([STATION, { question: 'q', sql: 'SELECT * FROM pg_catalog.pg_authid' }]), 400, 'example_sql_invalid')
    expect(error.details).toEqual([{ at: 'examples.1', sql: 'SELECT * FROM pg_catalog.pg_authid', error: expect.any(String) }])
  })

  it('stores a feedback SQL that fails, with its verdict and who sent it; it cannot be approved until an edit makes it pass', async () => {
    const keys = EX({ API_KEYS: 'k1' })
    const requestId = crypto.randomUUID()
    const callerId = (await query<{ h: string }>(`SELECT left(encode(sha256(convert_to('txt2sql-caller:k1', 'UTF8')), 'hex'), 24) AS h`))[0]!.h
    await saveRequestRecord(env.SCHEMA_KV, requestId, { question: '营收', sql: 'SELECT 1', schema_version: 'demo-1', caller: callerId, at: new Date().toISOString() }, 60)
    const bad = 'SELECT revenue FROM sales; DROP TABLE invoice'
    const res = await send('/v1/feedback', 'POST', { request_id: requestId, correct: false, sql: bad }, keys, { authorization: 'Bearer k1' })
    expect(res.status).toBe(201)
    const { example } = (await res.json()) as { example: { id: string; check: Example['check'] } }
    expect(example.check).toEqual({ ok: false, error: expect.any(String), checked_at: expect.any(String) })

    const stored = await one(example.id)
    expect(stored).toMatchObject({ status: 'pending', sql: bad, sent_by: `key:${callerId}`, sent_role: null, check: { ok: false } })
    const refused = await expectError(await send(`/v1/admin/examples/${example.id}/approve`, 'POST'), 409, 'example_sql_invalid')
    expect(refused.message).toMatch(/cannot be approved/)
    expect(await one(example.id)).toMatchObject({ status: 'pending', approved: false, approved_by: null })

    const edited = await send(`/v1/admin/examples/${example.id}`, 'PATCH', { sql: 'SELECT count(*) FROM stations' })
    expect(edited.status).toBe(200)
    expect(((await edited.json()) as { example: Example }).example).toMatchObject({ status: 'pending', check: { ok: true }, updated_by: 'admin-token', sent_by: `key:${callerId}` })
    const approved = await send(`/v1/admin/examples/${example.id}/approve`, 'POST')
    expect(approved.status).toBe(200)
    expect(((await approved.json()) as { example: Example }).example).toMatchObject({ status: 'approved', approved_by: 'admin-token', check: { ok: true } })
  })

  it('checks again at approval: an SQL that was fine when stored but no longer is stays pending', async () => {
    await query('CREATE TABLE IF NOT EXISTS public.examples_model_tmp (a int)')
    const [id] = await imported([{ question: '临时表', sql: 'SELECT a FROM examples_model_tmp', approved: false }])
    await query('DROP TABLE public.examples_model_tmp')
    const refused = await expectError(await send(`/v1/admin/examples/${id}/approve`, 'POST'), 409, 'example_sql_invalid')
    expect(refused.message).toMatch(/examples_model_tmp/)
    expect(await one(id!)).toMatchObject({ status: 'pending', check: { ok: false, error: expect.stringMatching(/does not exist/) } })
  })
})

describe('PATCH /v1/admin/examples/:id edits an example', () => {
  it('stores the new question, checks the new SQL and records who edited it; the refreshed snapshot shows the edit', async () => {
    const [id] = await imported([STATION])
    const res = await send(`/v1/admin/examples/${id}?refresh=true`, 'PATCH', { question: '沈塘桥站', sql: "SELECT name FROM stations WHERE name = '沈塘桥'" })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { example: Example; refresh: { ok: boolean } }
    expect(body.example).toMatchObject({ question: '沈塘桥站', status: 'approved', updated_by: 'admin-token', updated_at: expect.stringMatching(/Z$/), check: { ok: true } })
    expect(body.refresh).toMatchObject({ ok: true })
    expect((await storedSnapshot()).examples.map((e) => e.question)).toEqual(['沈塘桥站'])
  })

  it('an approved example edited to an SQL that fails is pending again and leaves prompts at the next refresh', async () => {
    const [id] = await imported([STATION])
    const res = await send(`/v1/admin/examples/${id}?refresh=1`, 'PATCH', { sql: 'SELECT nope FROM stations' })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { example: Example }).example).toMatchObject({ status: 'pending', approved: false, check: { ok: false, error: expect.stringMatching(/nope/) } })
    expect((await storedSnapshot()).examples).toEqual([])
  })

  it('is 409 example_exists when another example holds the same pair, 400 for an empty edit, 404 for an unknown id', async () => {
    const [a] = await imported([STATION, LINES])
    await expectError(await send(`/v1/admin/examples/${a}`, 'PATCH', LINES), 409, 'example_exists')
    await expectError(await send(`/v1/admin/examples/${a}`, 'PATCH', {}), 400, 'invalid_request')
    await expectError(await send(`/v1/admin/examples/${a}`, 'PATCH', { sql: '  ' }), 400, 'invalid_request')
    await expectError(await send('/v1/admin/examples/999999', 'PATCH', { sql: 'SELECT 1' }), 404, 'not_found')
  })
})

describe('rejecting an example', () => {
  it('is a stored state with who and why: out of the pending queue, out of prompts, not back as pending when the same feedback comes again', async () => {
    const [station, lines] = await imported([{ ...STATION, approved: false }, LINES])
    const res = await send(`/v1/admin/examples/${station}/reject`, 'POST', { reason: '重复了' })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { example: Example }).example).toMatchObject({ status: 'rejected', approved: false, rejected_by: 'admin-token', rejected_reason: '重复了' })
    expect((await listed('')).examples.map((e) => e.id)).toEqual([])
    expect((await listed('?status=rejected')).examples.map((e) => e.id)).toEqual([station])
    // The same pair sent again is a duplicate of the rejected row: it stays rejected.
    expect(await (await importJson([{ ...STATION, approved: false }])).json()).toMatchObject({ inserted: 0, duplicates: 1 })
    expect((await one(station!)).status).toBe('rejected')
    // An approved one rejected leaves the snapshot with ?refresh=true.
    await send(`/v1/admin/examples/${lines}/reject?refresh=true`, 'POST')
    expect((await storedSnapshot()).examples).toEqual([])
  })

  it('takes no body too, and refuses a body that is not JSON', async () => {
    const [id] = await imported([STATION])
    const res = await send(`/v1/admin/examples/${id}/reject`, 'POST')
    expect(res.status).toBe(200)
    expect(((await res.json()) as { example: Example }).example).toMatchObject({ status: 'rejected', rejected_reason: null })
    await expectError(await call(`/v1/admin/examples/${id}/reject`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'why' }, EX()), 415, 'unsupported_media_type')
  })

  it('can be approved later (a change of mind), which clears the rejection', async () => {
    const [id] = await imported([STATION])
    await send(`/v1/admin/examples/${id}/reject`, 'POST', { reason: 'x' })
    const res = await send(`/v1/admin/examples/${id}/approve`, 'POST')
    expect(((await res.json()) as { example: Example }).example).toMatchObject({ status: 'approved', rejected_by: null, rejected_reason: null })
  })
})

describe('GET /v1/admin/examples filters', () => {
  it('by status, by the table the SQL reads, and by text in the question or SQL', async () => {
    const [station, lines, fares] = await imported([STATION, { ...LINES, approved: false }, FARES])
    await send(`/v1/admin/examples/${fares}/reject`, 'POST')
    expect((await listed('?status=approved')).examples.map((e) => e.id)).toEqual([station])
    expect((await listed('?status=all&table=stations')).examples.map((e) => e.id)).toEqual([station])
    expect((await listed('?status=all&table=public.station_lines')).examples.map((e) => e.id)).toEqual([lines])
    expect((await listed('?status=all&table=fares')).examples.map((e) => e.id)).toEqual([fares])
    expect((await listed('?status=all&q=GROUP%20by')).examples.map((e) => e.id)).toEqual([lines])
    expect((await listed(`?status=all&q=${encodeURIComponent('沈塘桥')}`)).total).toBe(1)
    expect((await listed('?status=all&table=station')).total).toBe(0)
  })

  it('is 400 for a table filter that is not a name', async () => {
    await expectError(await call('/v1/admin/examples?table=a%20b', { headers: auth }, EX()), 400, 'invalid_request')
    await expectError(await call('/v1/admin/examples?table=a%27b', { headers: auth }, EX()), 400, 'invalid_request')
  })
})

describe('every example route takes ?refresh=true alike', () => {
  it('DELETE ?refresh=true takes the example out of the next prompt at once', async () => {
    const [station, lines] = await imported([STATION, LINES], )
    await send('/v1/admin/schema/refresh', 'POST')
    expect((await storedSnapshot()).examples.map((e) => e.id)).toEqual([station, lines])
    const res = await send(`/v1/admin/examples/${station}?refresh=true`, 'DELETE')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ deleted: station, refresh: { ok: true, examples: 1 } })
    expect((await storedSnapshot()).examples.map((e) => e.id)).toEqual([lines])
  })

  it('without it, a change waits for the next refresh and the reply says none happened', async () => {
    const [station] = await imported([STATION], )
    await send('/v1/admin/schema/refresh', 'POST')
    const res = await send(`/v1/admin/examples/${station}`, 'DELETE')
    expect(await res.json()).toEqual({ deleted: station, refresh: null })
    expect((await storedSnapshot()).examples.map((e) => e.id)).toEqual([station])
  })
})

describe('POST /v1/admin/examples-bulk acts on many examples at once', () => {
  it('approves each as approve does (an SQL that fails stays pending and says why), one refresh at the end', async () => {
    const [good, other] = await imported([{ ...STATION, approved: false }, { ...LINES, approved: false }])
    await query(`UPDATE ${TABLE} SET sql = 'SELECT nope FROM stations' WHERE id = $1`, [other])
    const res = await send('/v1/admin/examples-bulk?refresh=true', 'POST', { action: 'approve', ids: [good, other, '999999'] })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { results: { id: string; ok: boolean; error?: { code: string } }[]; refresh: { ok: boolean; examples: number } }
    expect(body.results.map((r) => [r.id, r.ok, r.error?.code ?? null])).toEqual([
      [good, true, null],
      [other, false, 'example_sql_invalid'],
      ['999999', false, 'not_found'],
    ])
    expect(body.refresh).toMatchObject({ ok: true, examples: 1 })
    expect((await one(other!)).status).toBe('pending')
  })

  it('rejects with a reason, and deletes', async () => {
    const [a, b] = await imported([{ ...STATION, approved: false }, { ...LINES, approved: false }])
    const rejected = await send('/v1/admin/examples-bulk', 'POST', { action: 'reject', ids: [a, b], reason: '不需要' })
    expect(((await rejected.json()) as { results: { ok: boolean }[] }).results.every((r) => r.ok)).toBe(true)
    expect((await listed('?status=rejected')).examples.map((e) => [e.id, e.rejected_reason])).toEqual([[a, '不需要'], [b, '不需要']])
    const deleted = await send('/v1/admin/examples-bulk', 'POST', { action: 'delete', ids: [a] })
    expect(((await deleted.json()) as { results: unknown[] }).results).toEqual([{ id: a, ok: true }])
    expect((await listed()).examples.map((e) => e.id)).toEqual([b])
  })

  it('is 401 without the admin token', async () => {
    const res = await call('/v1/admin/examples-bulk', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'delete', ids: ['1'] }) }, EX())
    await expectError(res, 401, 'unauthorized')
  })

  it('is 400 for an unknown action or a bad id', async () => {
    await expectError(await send('/v1/admin/examples-bulk', 'POST', { action: 'publish', ids: ['1'] }), 400, 'invalid_request')
    await expectError(await send('/v1/admin/examples-bulk', 'POST', { action: 'delete', ids: ['x'] }), 400, 'invalid_request')
    await expectError(await send('/v1/admin/examples-bulk', 'POST', { action: 'delete', ids: [] }), 400, 'invalid_request')
  })
})
