import { describe, expect, it } from 'vitest'
import { SqlRunResponseSchema } from '../src/openapi/event-schemas'
import { call, dbEnv } from './support/app'
import { bearer, hsToken, JWT_SECRET } from './support/tokens'

// POST /v1/admin/sql: the console's check and row preview, as the service's read-only login.
const VARS = () => ({ ...dbEnv('guardReadonly'), JWT_SECRET, ADMIN_ROLES: 'data_team', DB_ROLES: 'analyst' })
const post = async (body: unknown, claims: Record<string, unknown> = { sub: 'dana', role: 'data_team' }) =>
  call('/v1/admin/sql', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(await hsToken(claims)) }, body: JSON.stringify(body) }, VARS())

describe('POST /v1/admin/sql', () => {
  it('previews at most 20 rows, read-only, though SQL_EXECUTE is off — as the service\'s login, not the admin\'s role', async () => {
    // Who ran it, through the owner's view (test/fixtures/db/guard.sql): the gate refuses current_user in the caller's text.
    const res = await post({ sql: 'SELECT who, n FROM session_identity, generate_series(1, 100) AS n', execute: true })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { result: { ok: boolean; truncated: boolean }; rows: unknown[][] }
    expect(SqlRunResponseSchema.safeParse(body).error).toBeUndefined()
    expect(body.rows).toHaveLength(20)
    expect(body.result).toMatchObject({ ok: true, truncated: true })
    expect(body.rows[0]![0]).toBe('txt2sql_ro')
  })

  it('gives Postgres\'s verdict on a bad SQL, and refuses a write like the model\'s', async () => {
    const bad = (await (await post({ sql: 'SELECT nme FROM stations' })).json()) as { check: { ok: boolean; error: string } }
    expect(bad.check).toMatchObject({ ok: false, error: 'column "nme" does not exist' })
    const write = (await (await post({ sql: "UPDATE canary SET note = 'x'", execute: true })).json()) as { check: { ok: boolean } }
    expect(write.check.ok).toBe(false)
  })

  it('is 403 for a JWT of a database role only', async () => {
    expect((await post({ sql: 'SELECT 1' }, { sub: 'carol', role: 'analyst' })).status).toBe(403)
  })
})
