import type { Config } from '../config'
import { withDb } from '../db/connect'
import type { ExampleCheck } from '../db/examples-table'
import { checkAndRun } from '../db/guarded-sql'

/** Round trips beyond the statements' own timeouts (connect is bounded separately). */
const SESSION_GRACE_MS = 2000

/**
 * Each example's SQL through the same check as the model's (the admission gate and Postgres's
 * EXPLAIN, src/db/guarded-sql.ts) — as the service's read-only login with no role: an example is
 * the team's, shown to every caller whose view covers its tables; a role's own check happens when
 * it is answered verified. One session for the lot, one read-only transaction per SQL.
 */
export async function checkExampleSqls(config: Config, sqls: string[]): Promise<ExampleCheck[]> {
  if (!sqls.length) return []
  return withDb(
    { ...config.database, url: config.sql.url },
    async (db) => {
      const out: ExampleCheck[] = []
      for (const sql of sqls) {
        const { check } = await checkAndRun(db, sql, {
          schemas: config.database.schemas,
          checkTimeoutMs: config.sql.checkTimeoutMs,
          executeTimeoutMs: config.sql.executeTimeoutMs,
          maxRows: config.sql.maxRows,
          maxBytes: config.sql.maxResultBytes,
          execute: false,
        })
        out.push(check.ok ? { ok: true } : { ok: false, error: check.error })
      }
      return out
    },
    sqls.length * config.sql.checkTimeoutMs + SESSION_GRACE_MS,
  )
}

export async function checkExampleSql(config: Config, sql: string): Promise<ExampleCheck> {
  return (await checkExampleSqls(config, [sql]))[0]!
}
