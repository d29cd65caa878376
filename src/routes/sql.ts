import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app-env'
import { executeRefusal } from '../answer/execute-refusal'
import { guardSql } from '../answer/guard-sql'
import { auditFields, resultOf, sqlData } from '../answer/verify-answer'
import { AppError } from '../errors'
import type { SqlRunResponse } from '../mcp/tools'
import { dbIdentityOf } from '../auth/caller'
import { requireCaller } from '../middleware/auth'
import { jsonBody } from '../middleware/json-body'
import { validJson } from '../middleware/valid-json'
import { SqlRequestSchema } from './sql-body'
import { limitCaller } from './limit-caller'
import { sha256Hex } from '../schema/bytes'

export const sqlRoutes = new Hono<AppEnv>()

/**
 * SQL the caller wrote (or edited), through the guard of the model's SQL: checked by Postgres in a
 * read-only transaction, and run there when asked — one statement, the plan inspected, timeouts,
 * row and byte caps, the read-only role, the caller's own role. The MCP server's `run_sql` tool is
 * this route.
 */
sqlRoutes.post('/v1/sql', requireCaller, limitCaller, jsonBody((config) => config.maxBodyBytes), validJson(SqlRequestSchema, 'request'), async (c) => {
  const { sql, execute = false } = c.req.valid('json')
  const config = c.var.config
  if (!config.sql.check || config.sql.url === undefined) {
    throw new AppError(503, 'database_not_configured', 'Checking SQL needs a database: set DATABASE_URL (and SQL_CHECK)')
  }
  // The database is there (above): what is left of /v1/ask's refusal of a run is SQL_EXECUTE.
  const refusal = execute ? executeRefusal(config.sql) : undefined
  if (refusal) throw refusal
  // The database unreachable is this request's failure (503/504 with its code), not "unchecked".
  // As the caller's role when a JWT named one: its grants and row policies decide, as for model SQL.
  const outcome = await guardSql(config, sql, execute, dbIdentityOf(c.var.caller))
  const body: SqlRunResponse = { sql, check: sqlData(sql, outcome, false) }
  // Asked for rows: the result says what became of them, with the codes of /v1/ask's `result`.
  if (execute) body.result = resultOf(outcome)
  const run = outcome.run
  if (run?.ok) Object.assign(body, { columns: run.columns, rows: run.rows })
  // The audit record of /v1/ask's final SQL, for SQL the caller wrote (and MCP's run_sql, this route).
  c.var.log.set({ sql_ok: body.check.ok, sql_hash: (await sha256Hex(sql)).slice(0, 16), ...auditFields(outcome) })
  return c.json(body)
})
