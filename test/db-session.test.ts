import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { readConfig } from '../src/config'
import { withDb } from '../src/db/connect'
import { databaseWay, dbEnv } from './support/app'

// What the Db boundary promises, whichever driver is behind it (this file runs in both database
// projects of vitest.config.ts): model SQL goes only through `single`, our own through `batch`.
const session = <T>(work: Parameters<typeof withDb<T>>[1]) => withDb(readConfig({ ...env, ...dbEnv('guardReadonly') }).database, work, 30_000)

describe(`a database session (${databaseWay()} way)`, () => {
  it('single refuses a text holding several statements: the extended protocol, not the simple one', async () => {
    const err = await session((db) => db.single('SELECT 1; SELECT 2')).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: '42601', message: 'cannot insert multiple commands into a prepared statement' })
  })

  it('single leaves no prepared statement in the session and returns rows as arrays with their types', async () => {
    const state = await session(async (db) => {
      const result = await db.single("SELECT 1 AS one, 'b'::text AS two")
      const [left] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements')
      return { result, left: left!.n }
    })
    expect(state).toEqual({ result: { rows: [[1, 'b']], fields: [{ name: 'one', dataTypeID: 23 }, { name: 'two', dataTypeID: 25 }] }, left: 0 })
  })

  it('batch runs every statement of our own text in one round trip', async () => {
    const settings = await session(async (db) => {
      await db.batch("BEGIN READ ONLY; SET LOCAL statement_timeout = 1234; SET LOCAL TimeZone = 'UTC'")
      const rows = await db.query<{ timeout: string; zone: string; readonly: string }>("SELECT current_setting('statement_timeout') AS timeout, current_setting('TimeZone') AS zone, current_setting('transaction_read_only') AS readonly")
      await db.batch('ROLLBACK')
      return rows
    })
    expect(settings).toEqual([{ timeout: '1234ms', zone: 'UTC', readonly: 'on' }])
  })

  it('query binds its values as parameters, never into the text', async () => {
    const hostile = "x'); DELETE FROM canary; --"
    const rows = await session((db) => db.query<{ v: string; n: number }>('SELECT $1::text AS v, $2::int AS n', [hostile, 7]))
    expect(rows).toEqual([{ v: hostile, n: 7 }])
  })

  it('reports a Postgres error with its SQLSTATE and position, and the session stays usable', async () => {
    const outcome = await session(async (db) => {
      const err = await db.single('SELECT nme FROM stations').catch((e: unknown) => e)
      const [after] = await db.query<{ ok: number }>('SELECT 1 AS ok')
      return { err, after }
    })
    expect(outcome.err).toMatchObject({ code: '42703', position: '8' })
    expect(outcome.after).toEqual({ ok: 1 })
  })
})
