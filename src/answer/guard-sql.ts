import type { Config } from '../config'
import { withDb } from '../db/connect'
import { AppError } from '../errors'
import { admissionRefusal, checkAndRun, type DbIdentity, type SqlCheck, type SqlRun } from '../db/guarded-sql'

/** Round trips of a check beyond its statements' own timeouts: connect is bounded separately. */
const SESSION_GRACE_MS = 2000

export type Checked = { check: SqlCheck; run?: SqlRun; relations: string[] }
export type Guarded = Checked | { unavailable: string }

/**
 * SQL admitted by the gate (src/sql/admission), then checked by Postgres — and run, when
 * `execute` — on the read-only session, under the service's timeouts and caps
 * (src/db/guarded-sql.ts). The model's SQL and a caller's (`POST /v1/sql`) take this same path, as
 * the caller's role (`as`) when a JWT named one — on that role's own login when DB_ROLE_URLS gives
 * one, else by SET LOCAL ROLE on the shared read-only login. Throws an AppError when the database
 * cannot be asked.
 */
export async function guardSql(config: Config, sql: string, execute: boolean, as?: DbIdentity): Promise<Checked> {
  // SQL the admission gate refuses needs no connection: its refusal stands even when the database is down.
  const refused = await admissionRefusal(sql, config.sql.functions)
  if (refused) return refused
  // One login per role (DB_ROLE_URLS): the caller's own login, with only its claims to set.
  const login = as && config.sql.roleUrls ? config.sql.roleUrls.get(as.role) : undefined
  if (as && config.sql.roleUrls && login === undefined) throw new AppError(500, 'server_misconfigured', 'DB_ROLE_URLS has no login for the caller\'s role')
  const identity = as && login !== undefined ? { ...as, loggedIn: true } : as
  return withDb({ ...config.database, url: login ?? config.sql.url }, (db) =>
    checkAndRun(db, sql, {
      schemas: config.database.schemas,
      functions: config.sql.functions,
      checkTimeoutMs: config.sql.checkTimeoutMs,
      executeTimeoutMs: config.sql.executeTimeoutMs,
      maxRows: config.sql.maxRows,
      maxBytes: config.sql.maxResultBytes,
      execute,
      ...(identity ? { as: identity } : {}),
    }),
    // Postgres bounds each statement; this bounds a server that stops answering altogether.
    config.sql.checkTimeoutMs + (execute ? config.sql.executeTimeoutMs : 0) + SESSION_GRACE_MS,
  )
}
