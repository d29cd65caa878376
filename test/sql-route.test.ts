import { afterEach, describe, expect, it, vi } from 'vitest'
import { sha256Hex } from '../src/schema/bytes'
import { SqlRunResponseSchema } from '../src/openapi/event-schemas'
import { call, dbEnv, type Overrides } from './support/app'

// POST /v1/sql: SQL the caller gives, through the guard of the model's SQL (the MCP run_sql tool).
/** Every 200 of the route, as the OpenAPI document describes it (strictly: no field undocumented). */
async function documented(res: Response): Promise<unknown> {
  const body = await res.json()
  expect(SqlRunResponseSchema.safeParse(body).error).toBeUndefined()
  return body
}

const post = (body: unknown, overrides: Overrides = {}, headers: Record<string, string> = {}) =>
  call('/v1/sql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }, overrides)
const EXEC = () => ({ ...dbEnv('guardReadonly'), SQL_EXECUTE: 'true' })

describe('POST /v1/sql', () => {
  it('checks a query by default: the verdict with the plan\'s estimates, no rows', async () => {
    const res = await post({ sql: 'SELECT name FROM stations' }, dbEnv('guardReadonly'))
    expect(res.status).toBe(200)
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(await documented(res)).toEqual({ sql: 'SELECT name FROM stations', check: { sql: 'SELECT name FROM stations', ok: true, checked: true, plan_rows: expect.any(Number), plan_cost: expect.any(Number) } })
  })

  it('runs it read-only with "execute": the columns, the rows and the result', async () => {
    const res = await post({ sql: 'SELECT id, name FROM stations ORDER BY id LIMIT 3', execute: true }, EXEC())
    const body = (await documented(res)) as { result: unknown; columns: unknown; rows: unknown[][] }
    expect(body.result).toEqual({ ok: true, row_count: 3, truncated: false, elapsed_ms: expect.any(Number) })
    expect(body.columns).toEqual([{ name: 'id', type: 'integer' }, { name: 'name', type: 'character varying' }])
    expect(body.rows).toHaveLength(3)
  })

  it('answers Postgres\'s refusal with its message and position, and says the rows were not run', async () => {
    const res = await post({ sql: 'SELECT nme FROM stations', execute: true }, EXEC())
    expect(res.status).toBe(200)
    expect(await documented(res)).toEqual({
      sql: 'SELECT nme FROM stations',
      check: { sql: 'SELECT nme FROM stations', ok: false, checked: true, error: 'column "nme" does not exist', position: 8, pg_code: '42703' },
      result: { ok: false, code: 'check_failed', error: 'not run: the check refused the SQL: column "nme" does not exist' },
    })
  })

  it('refuses writes like the model\'s SQL', async () => {
    const body = (await (await post({ sql: "UPDATE canary SET note = 'x'", execute: true }, EXEC())).json()) as { check: { ok: boolean } }
    expect(body.check.ok).toBe(false)
  })

  it('is 403 execute_not_allowed for a run unless SQL_EXECUTE is on; a check is allowed', async () => {
    const res = await post({ sql: 'SELECT 1', execute: true }, dbEnv('guardReadonly'))
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('execute_not_allowed')
  })

  it('is 503 database_not_configured without a database, and 502 database_unreachable when it cannot be reached', async () => {
    expect(((await (await post({ sql: 'SELECT 1' }, { DATABASE_URL: undefined })).json()) as { error: { code: string } }).error.code).toBe('database_not_configured')
    const dead = await post({ sql: 'SELECT 1' }, dbEnv('dead'))
    expect(dead.status).toBe(502)
    expect(((await dead.json()) as { error: { code: string } }).error.code).toBe('database_unreachable')
  })

  it('is 400 for a body without SQL, and 401 without the key when API_KEYS is set', async () => {
    expect((await post({ sql: '  ' }, dbEnv('guardReadonly'))).status).toBe(400)
    expect((await post({ query: 'SELECT 1' }, dbEnv('guardReadonly'))).status).toBe(400)
    expect((await post({ sql: 'SELECT 1' }, { ...dbEnv('guardReadonly'), API_KEYS: 'k' })).status).toBe(401)
    expect((await post({ sql: 'SELECT 1' }, { ...dbEnv('guardReadonly'), API_KEYS: 'k' }, { authorization: 'Bearer k' })).status).toBe(200)
  })

  it('a GET is 405 naming POST', async () => {
    const res = await call('/v1/sql')
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('POST')
  })
})

describe('POST /v1/sql audit line (what /v1/ask logs: sql_hash, verdict and rule, relations, rows)', () => {
  afterEach(() => vi.restoreAllMocks())
  const captureLog = () => {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)))
    return lines
  }
  const hash = async (sql: string) => (await sha256Hex(sql)).slice(0, 16)

  it('logs a run, a refusal by the admission gate, one by the plan guard and one by Postgres, each with its hash, rule and relations', async () => {
    const lines = captureLog()
    const ran = 'SELECT id, name FROM stations ORDER BY id LIMIT 3'
    // A catalog named with its schema is the gate's to refuse; unqualified, only the plan shows where it lives.
    const gated = 'SELECT relname FROM pg_catalog.pg_class'
    const guarded = 'SELECT relname FROM pg_class'
    const wrong = 'SELECT nme FROM stations'
    await post({ sql: ran, execute: true }, EXEC())
    await post({ sql: gated, execute: true }, EXEC())
    await post({ sql: guarded, execute: true }, EXEC())
    await post({ sql: wrong }, EXEC())
    expect(lines).toHaveLength(4)
    const [first, gate, second, third] = lines.map((l) => JSON.parse(l))
    expect(first).toMatchObject({ path: '/v1/sql', status: 200, sql_ok: true, sql_hash: await hash(ran), sql_check: 'passed', relations: ['public.stations'], rows: 3 })
    expect(gate).toMatchObject({ path: '/v1/sql', sql_ok: false, sql_hash: await hash(gated), sql_check: 'refused', sql_refusal: 'relation', relations: ['pg_catalog.pg_class'] })
    expect(gate.rows).toBeUndefined()
    expect(second).toMatchObject({ path: '/v1/sql', sql_ok: false, sql_hash: await hash(guarded), sql_check: 'refused', sql_refusal: 'plan_guard', relations: ['pg_catalog.pg_class'] })
    expect(second.rows).toBeUndefined()
    expect(third).toMatchObject({ sql_ok: false, sql_hash: await hash(wrong), sql_check: 'refused', sql_refusal: '42703', relations: [] })
    // A check alone ran nothing: no row count.
    expect(third.rows).toBeUndefined()
    for (const line of lines) expect(line).not.toContain('stations ORDER BY')
  })

  it('logs a run Postgres stopped (rows: null) and a truncated one (the rows sent)', async () => {
    const lines = captureLog()
    await post({ sql: 'SELECT 1 / (g - 2) FROM generate_series(1, 3) g', execute: true }, EXEC())
    await post({ sql: 'SELECT g FROM generate_series(1, 50) g', execute: true }, { ...EXEC(), SQL_MAX_ROWS: '7' })
    const [failed, cut] = lines.map((l) => JSON.parse(l))
    expect(failed).toMatchObject({ sql_check: 'passed', rows: null })
    expect(cut).toMatchObject({ sql_check: 'passed', rows: 7 })
  })
})
