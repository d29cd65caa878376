import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { readConfig } from '../src/config'
import { withDb } from '../src/db/connect'
import { checkAndRun } from '../src/db/guarded-sql'
import { dbEnv } from './support/app'

// The database tests' PgBouncer runs in transaction mode with one server session per database and
// role (test/setup/databases.ts): every client below lands on the same Postgres session, as
// requests do behind Neon's pooled endpoint, Hyperdrive or any transaction pooler.
const config = (name: string) => readConfig({ ...env, ...dbEnv(name) }).database
const OPTIONS = { schemas: ['public'], checkTimeoutMs: 2000, executeTimeoutMs: 1000, maxRows: 50, maxBytes: 65_536 }
const check = (name: string, sql: string, execute = false) => withDb(config(name), (db) => checkAndRun(db, sql, { ...OPTIONS, execute }), 30_000)
const GOOD = "SELECT * FROM stations WHERE name LIKE '%沈塘桥%'"
const sessionState = (name: string) =>
  withDb(
    config(name),
    (db) =>
      db.query<{ pid: number; statements: number; in_tx: boolean }>(
        "SELECT pg_backend_pid() AS pid, (SELECT count(*)::int FROM pg_prepared_statements) AS statements, now() <> statement_timestamp() AS in_tx",
      ),
    30_000,
  ).then((rows) => rows[0]!)

describe('behind a transaction pooler that hands one server session to every client', () => {
  it('the pooler really shares the session: a statement one client prepares is seen by the next', async () => {
    const first = await sessionState('guardPooled')
    await withDb(config('guardPooled'), (db) => db.batch('PREPARE left_behind AS SELECT 1'), 30_000)
    try {
      const next = await withDb(config('guardPooled'), (db) => db.query<{ name: string; pid: number }>('SELECT name, pg_backend_pid() AS pid FROM pg_prepared_statements'), 30_000)
      expect(next).toEqual([{ name: 'left_behind', pid: first.pid }])
    } finally {
      await withDb(config('guardPooled'), (db) => db.batch('DEALLOCATE left_behind'), 30_000)
    }
  })

  it('twelve checks in a row all pass, and leave no prepared statement in the shared session', async () => {
    const before = await sessionState('guardReadonlyPooled')
    for (let i = 0; i < 12; i++) expect((await check('guardReadonlyPooled', GOOD)).check, `check ${i + 1}`).toMatchObject({ ok: true })
    const after = await sessionState('guardReadonlyPooled')
    expect(after).toEqual({ pid: before.pid, statements: 0, in_tx: false })
  })

  it('six checks at once all pass', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => check('guardReadonlyPooled', GOOD)))
    expect(results.map((r) => r.check.ok)).toEqual([true, true, true, true, true, true])
    expect((await sessionState('guardReadonlyPooled')).statements).toBe(0)
  })

  it('a failing check (and a failing run) does not affect the next request on the same session', async () => {
    expect((await check('guardReadonlyPooled', 'SELECT nme FROM stations')).check).toMatchObject({ ok: false, pg_code: '42703' })
    expect((await check('guardReadonlyPooled', 'SELECT 1 / (id - id) FROM stations', true)).run).toMatchObject({ ok: false })
    expect((await check('guardReadonlyPooled', GOOD)).check).toMatchObject({ ok: true })
    expect(await sessionState('guardReadonlyPooled')).toMatchObject({ statements: 0, in_tx: false })
  })

  it('several statements in one text are refused by the admission gate before anything reaches the pooler', async () => {
    const { check: result } = await check('guardReadonlyPooled', 'SELECT 1; SELECT 2')
    expect(result).toMatchObject({ ok: false, rule: 'one_statement', error: 'exactly one statement is admitted' })
  })
})

describe('two requests sharing one session (a direct connection)', () => {
  it('checks twice on one session, leaving nothing prepared and no transaction open', async () => {
    const state = await withDb(
      config('guardReadonly'),
      async (db) => {
        const first = await checkAndRun(db, GOOD, { ...OPTIONS, execute: false })
        const second = await checkAndRun(db, 'SELECT count(*) FROM lines', { ...OPTIONS, execute: false })
        const [left] = await db.query<{ statements: number }>('SELECT count(*)::int AS statements FROM pg_prepared_statements')
        return { first: first.check.ok, second: second.check.ok, statements: left!.statements }
      },
      30_000,
    )
    expect(state).toEqual({ first: true, second: true, statements: 0 })
  })
})
