import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it } from 'vitest'
import { readConfig } from '../src/config'
import { withDb } from '../src/db/connect'
import { checkAndRun } from '../src/db/guarded-sql'
import { HOSTILE } from './fixtures/hostile-sql'
import { dbEnv } from './support/app'

const owner = () => readConfig({ ...env, ...dbEnv('guard') }).database
const readonly = () => readConfig({ ...env, ...dbEnv('guardReadonly') }).database
const asOwner = <R = Record<string, unknown>>(sql: string) => withDb(owner(), (db) => db.query<R>(sql), 30_000)
const OPTIONS = { schemas: ['public'], checkTimeoutMs: 2000, executeTimeoutMs: 500, maxRows: 500, maxBytes: 1_048_576 }
const guard = (sql: string, execute = true, options = OPTIONS) => withDb(readonly(), (db) => checkAndRun(db, sql, { ...options, execute }), 30_000)

/** What must hold after every hostile statement, checked as the owner. */
async function expectNothingChanged() {
  expect(await asOwner('SELECT id, note FROM canary ORDER BY id')).toEqual([
    { id: 1, note: 'untouched' },
    { id: 2, note: 'untouched' },
  ])
  expect(await asOwner("SELECT to_regclass('public.stolen') IS NULL AS gone")).toEqual([{ gone: true }])
  expect(await asOwner('SELECT last_value, is_called FROM ticket_seq')).toEqual([{ last_value: '1', is_called: false }])
  expect(await asOwner("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'")).toEqual([{ n: 0 }])
  // No statement of the read-only role is still running: timeouts fired, sessions ended.
  let active: { n: number }[] = []
  for (let i = 0; i < 40; i++) {
    active = await asOwner<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = 'txt2sql_ro' AND state <> 'idle'")
    if (active[0]!.n === 0) break
    await new Promise((r) => setTimeout(r, 50))
  }
  expect(active).toEqual([{ n: 0 }])
}

describe('hostile SQL never changes data, outlives its timeout, or reads outside the business schema', () => {
  afterEach(expectNothingChanged)
  for (const h of HOSTILE) {
    it(`${h.name}: ${h.sql.replace(/\s+/g, ' ').slice(0, 60)}`, async () => {
      const { check, run } = await guard(h.sql)
      if (h.stage === 'check') expect(check.ok).toBe(false)
      if (h.stage === 'run') {
        expect(check.ok).toBe(true)
        expect(run?.ok).toBe(false)
      }
      // Whatever the stage, nothing ran to completion.
      expect(run?.ok ?? false).toBe(false)
      const error = check.ok ? (run as { error: string }).error : check.error
      expect(error.length).toBeGreaterThan(0)
      if (h.error) expect(error).toMatch(h.error)
    })
  }
})

describe('under a caller\'s role (SET LOCAL ROLE and request.jwt.claims, DB_ROLES), hostile SQL is stopped all the same', () => {
  afterEach(expectNothingChanged)
  const AS = { role: 'guard_reader', claims: JSON.stringify({ sub: 'mallory', role: 'guard_reader', tenant: "x' OR '1'='1" }) }
  for (const h of HOSTILE) {
    it(`${h.name}`, async () => {
      const { check, run } = await withDb(readonly(), (db) => checkAndRun(db, h.sql, { ...OPTIONS, execute: true, as: AS }), 30_000)
      expect(run?.ok ?? false).toBe(false)
      const error = check.ok ? (run as { error: string }).error : check.error
      expect(error.length).toBeGreaterThan(0)
      // The role lacks what the login may read (private.secrets): Postgres may refuse it first.
      if (h.error) expect(error).toMatch(new RegExp(`${h.error.source}|permission denied`))
    })
  }

  it('a harmless query runs as the role, with the claims, and the session is itself again afterwards', async () => {
    const seen = await withDb(readonly(), async (db) => {
      const { run } = await checkAndRun(db, "SELECT who, sub FROM session_identity", { ...OPTIONS, execute: true, as: AS })
      const [after] = await db.query<{ who: string; claims: string }>("SELECT current_user AS who, current_setting('request.jwt.claims', true) AS claims")
      return { rows: run?.ok ? run.rows : run, after }
    }, 30_000)
    expect(seen).toEqual({ rows: [['guard_reader', 'mallory']], after: { who: 'txt2sql_ro', claims: '' } })
  })
})

describe('the check', () => {
  it('plans a good query and reports its estimated rows and cost', async () => {
    const { check, run } = await guard("SELECT * FROM stations WHERE name LIKE '%沈塘桥%';", false)
    expect(check).toEqual({ ok: true, plan_rows: expect.any(Number), plan_cost: expect.any(Number) })
    expect(run).toBeUndefined()
  })

  it("returns Postgres's message and the position in the model's own text", async () => {
    const sql = 'SELECT nme FROM stations'
    const { check } = await guard(sql, false)
    expect(check).toEqual({ ok: false, error: 'column "nme" does not exist', position: 8, pg_code: '42703' })
    expect(sql.slice(7)).toMatch(/^nme/)
  })

  it('accepts WITH … SELECT, VALUES, TABLE and set-returning functions of pg_catalog', async () => {
    for (const sql of ['WITH t AS (SELECT id FROM lines) SELECT count(*) FROM t', 'VALUES (1, 2)', 'TABLE lines', 'SELECT * FROM generate_series(1, 3) g', "SELECT unnest(ARRAY['a','b'])"]) {
      expect((await guard(sql, false)).check, sql).toMatchObject({ ok: true })
    }
  })

  it('refuses a query that would fold into a huge constant at the gate, with its rule, before anything reaches Postgres', async () => {
    // The database given here never answers once logged in: any statement sent to it would fail
    // with database_timeout, so a check that comes back proves the gate refused on its own.
    const mute = readConfig({ ...env, ...dbEnv('mute') }).database
    const { check, run } = await withDb(mute, (db) => checkAndRun(db, "SELECT repeat('x', 60000000) AS big", { ...OPTIONS, execute: true }), 2000)
    expect(check).toEqual({ ok: false, rule: 'huge_constant', position: 8, error: 'the query builds a constant of up to 60000000 bytes (repeat); at most 1048576 are admitted' })
    expect(run).toBeUndefined()
    // The service keeps serving: the next check on a fresh session passes.
    expect((await guard('SELECT 1 AS one', false)).check).toMatchObject({ ok: true })
  })

  it('refuses a plan larger than the plan cap as the query\'s fault (ok:false with why), when the gate admits the text', async () => {
    // The gate bounds what folds; a literal is the text itself, and Postgres prints it in the plan
    // as it was given: 1.1 MB of text, more than the plan cap.
    const { check, run } = await guard(`SELECT '${'x'.repeat(1_100_000)}' AS big`, true, { ...OPTIONS, checkTimeoutMs: 10_000 })
    expect(check).toEqual({ ok: false, error: expect.stringMatching(/^the query's plan is \d+ characters, more than 1048576: it folds into constants too large to check$/) })
    expect(run).toBeUndefined()
    expect((await guard('SELECT 1 AS one', false)).check).toMatchObject({ ok: true })
  })

  it('refuses, at the gate, a folded value printed once per reference (an inlined CTE, three outputs)', async () => {
    const { check, run } = await guard("WITH t AS (SELECT repeat('x', 400000) AS v) SELECT v AS a, v AS b, v AS c FROM t")
    expect(check).toMatchObject({ ok: false, rule: 'huge_constant', error: expect.stringMatching(/^the query builds a constant of up to \d+ bytes/) })
    expect(run).toBeUndefined()
  })

  it('does not mistake a string that names a denied function for a call', async () => {
    expect((await guard("SELECT * FROM stations WHERE name = 'pg_sleep(1)'", false)).check).toMatchObject({ ok: true })
  })
})

describe('running the SQL', () => {
  it('serializes types faithfully: bigint/numeric as strings, timestamps ISO, bytea base64, NULL as null', async () => {
    const { run } = await guard(
      "SELECT 9007199254740993::bigint AS big, 12.30::numeric(6,2) AS num, 42 AS int, 1.5::float8 AS dbl, true AS yes, NULL::text AS nothing, " +
        "'2026-11-01 10:00:00.5+08'::timestamptz AS at, '2026-11-01'::date AS day, '\\x01ff'::bytea AS raw, '{\"a\": [1, 2]}'::jsonb AS doc, '沈塘桥' AS name, ARRAY[1,2] AS arr",
    )
    expect(run).toMatchObject({ ok: true, truncated: false })
    if (!run?.ok) throw new Error('not run')
    expect(run.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'big:bigint', 'num:numeric', 'int:integer', 'dbl:double precision', 'yes:boolean', 'nothing:text', 'at:timestamptz', 'day:date', 'raw:bytea', 'doc:jsonb', 'name:text', 'arr:integer[]',
    ])
    expect(run.rows).toEqual([['9007199254740993', '12.30', 42, 1.5, true, null, '2026-11-01T02:00:00.5+00:00', '2026-11-01', 'Af8=', { a: [1, 2] }, '沈塘桥', '{1,2}']])
  })

  it('names every column type Postgres reports — arrays as their element type with [] — never an oid', async () => {
    const { run } = await guard(
      "SELECT ARRAY[1,2] AS ints, ARRAY['a','b'] AS tags, ARRAY['2026-11-01 10:00+08'::timestamptz] AS times, ARRAY['x']::varchar(8)[] AS labels, " +
        "'10.0.0.1'::inet AS ip, '(1,2)'::point AS spot, ARRAY['10.0.0.1'::inet] AS ips, ARRAY[1.5::numeric] AS amounts, 'a'::name AS label",
    )
    if (!run?.ok) throw new Error(`not run: ${JSON.stringify(run)}`)
    expect(run.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'ints:integer[]', 'tags:text[]', 'times:timestamptz[]', 'labels:character varying[]', 'ip:inet', 'spot:point', 'ips:inet[]', 'amounts:numeric[]', 'label:name',
    ])
  })

  it('caps the rows and says so', async () => {
    const { run } = await guard('SELECT * FROM daily_ridership', true, { ...OPTIONS, maxRows: 25 })
    expect(run).toMatchObject({ ok: true, truncated: true })
    expect((run as { rows: unknown[] }).rows).toHaveLength(25)
  })

  it('caps the bytes and says so', async () => {
    const { run } = await guard('SELECT * FROM stations', true, { ...OPTIONS, maxBytes: 2000 })
    expect(run).toMatchObject({ ok: true, truncated: true })
    const rows = (run as { rows: unknown[] }).rows
    expect(rows.length).toBeGreaterThan(0)
    expect(JSON.stringify(rows).length).toBeLessThanOrEqual(2000 + rows.length)
  })

  it('keeps the order, the names (duplicates too) and the types of the columns through the cursor', async () => {
    const { run } = await guard("SELECT g AS n, g::text AS n, 'x' AS label FROM generate_series(1, 250) g ORDER BY g DESC")
    if (!run?.ok) throw new Error(`not run: ${JSON.stringify(run)}`)
    expect(run.columns).toEqual([{ name: 'n', type: 'integer' }, { name: 'n', type: 'text' }, { name: 'label', type: 'text' }])
    expect(run.rows).toHaveLength(250)
    expect(run.rows[0]).toEqual([250, '250', 'x'])
    expect(run.rows[249]).toEqual([1, '1', 'x'])
    expect(run).toMatchObject({ truncated: false })
    expect(run).not.toHaveProperty('truncated_reason')
  })

  it('keeps columns named like the wrapper\'s own (txt2sql_q, txt2sql_row, txt2sql_size, txt2sql_sent), and a query with no column', async () => {
    const { run } = await guard("SELECT 1 AS txt2sql_q, 'a' AS txt2sql_row, 2 AS txt2sql_size, false AS txt2sql_sent, ROW(1, 'b') AS r")
    expect(run).toMatchObject({ ok: true, truncated: false, rows: [[1, 'a', 2, false, '(1,b)']] })
    expect((run as { columns: { name: string }[] }).columns.map((c) => c.name)).toEqual(['txt2sql_q', 'txt2sql_row', 'txt2sql_size', 'txt2sql_sent', 'r'])
    expect((await guard('SELECT FROM generate_series(1, 3)')).run).toMatchObject({ ok: true, columns: [], rows: [[], [], []] })
  })

  it('says why the rows stop at SQL_MAX_ROWS', async () => {
    const { run } = await guard('SELECT g FROM generate_series(1, 1000) g', true, { ...OPTIONS, maxRows: 150 })
    expect(run).toMatchObject({ ok: true, truncated: true, truncated_reason: 'the rows reached SQL_MAX_ROWS (150)' })
    expect((run as { rows: unknown[] }).rows).toHaveLength(150)
  })

  it('stops at the byte cap, counted by Postgres, with the rows before it', async () => {
    const { run } = await guard('SELECT g, repeat(\'x\', 1000) AS pad FROM generate_series(1, 100) g', true, { ...OPTIONS, maxBytes: 10_000 })
    expect(run).toMatchObject({ ok: true, truncated: true, truncated_reason: 'the rows reached SQL_MAX_RESULT_BYTES (10000)' })
    const rows = (run as { rows: unknown[][] }).rows
    expect(rows.length).toBeGreaterThan(5)
    expect(rows.length).toBeLessThan(10)
    expect(rows.map((r) => r[0])).toEqual(rows.map((_, i) => i + 1))
  })

  it('never sends a value larger than the cap: the row is cut, with its size and the reason', async () => {
    // An aggregate is never folded: the 2 MB value exists only at run time, where the cap applies.
    const { check, run } = await guard("SELECT g, (SELECT string_agg(repeat('1', 1000), '') FROM generate_series(1, 2000)) AS huge FROM generate_series(1, 10) g", true, { ...OPTIONS, executeTimeoutMs: 10_000, maxBytes: 1_000_000 })
    expect(check.ok).toBe(true)
    expect(run).toMatchObject({ ok: true, rows: [], truncated: true, truncated_reason: 'row 1 is 2000004 bytes, more than SQL_MAX_RESULT_BYTES (1000000): its values were not sent' })
    expect((run as { columns: unknown }).columns).toEqual([{ name: 'g', type: 'integer' }, { name: 'huge', type: 'text' }])
  })

  it('cuts an oversized row after smaller ones and keeps those', async () => {
    const { run } = await guard('SELECT g, repeat(\'y\', CASE WHEN g = 3 THEN 500000 ELSE 10 END) AS v FROM generate_series(1, 5) g ORDER BY g', true, { ...OPTIONS, maxBytes: 100_000 })
    expect(run).toMatchObject({ ok: true, truncated: true, truncated_reason: 'row 3 is 500004 bytes, more than SQL_MAX_RESULT_BYTES (100000): its values were not sent' })
    expect((run as { rows: unknown[][] }).rows).toEqual([[1, 'y'.repeat(10)], [2, 'y'.repeat(10)]])
  })

  it('after a cut row, the same session answers the next question in full (sequence)', async () => {
    await withDb(readonly(), async (db) => {
      const first = await checkAndRun(db, "SELECT string_agg(repeat('x', 1000), '') AS big FROM generate_series(1, 3000) g", { ...OPTIONS, execute: true })
      expect(first.run).toMatchObject({ ok: true, rows: [], truncated: true, truncated_reason: 'row 1 is 3000002 bytes, more than SQL_MAX_RESULT_BYTES (1048576): its values were not sent' })
      const second = await checkAndRun(db, 'SELECT count(*)::int AS n FROM stations', { ...OPTIONS, execute: true })
      expect(second.run).toMatchObject({ ok: true, truncated: false, rows: [[expect.any(Number)]] })
    }, 30_000)
  })

  it("reports an error raised while fetching as the query's failure (ok:false with its SQLSTATE), not the database's", async () => {
    const { check, run } = await guard('SELECT 1 / (g - 3) AS x FROM generate_series(1, 5) g')
    expect(check.ok).toBe(true)
    expect(run).toMatchObject({ ok: false, pg_code: '22012', error: 'division by zero' })
  })

  it('is refused for a superuser connection, even for a harmless query', async () => {
    const { check, run } = await withDb(owner(), (db) => checkAndRun(db, 'SELECT 1', { ...OPTIONS, execute: true }), 30_000)
    expect(check.ok).toBe(true)
    expect(run).toEqual({ ok: false, refused: true, error: expect.stringMatching(/superuser/) })
  })
})

describe('a database session', () => {
  it('fails with database_timeout past its deadline when the server logs in and then stops answering', async () => {
    const mute = readConfig({ ...env, ...dbEnv('mute') }).database
    const err = await withDb(mute, (db) => db.query('SELECT 1'), 300).catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 504, code: 'database_timeout', message: 'The database stopped answering: no reply within 300 ms' })
  })
})
