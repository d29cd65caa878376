import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app-env'
import { guardSql } from '../answer/guard-sql'
import { resultOf, sqlData } from '../answer/verify-answer'
import { AppError } from '../errors'
import type { SqlRunResponse } from '../mcp/tools'
import { requireAdmin } from '../middleware/auth'
import { jsonBody } from '../middleware/json-body'
import { validJson } from '../middleware/valid-json'
import { SqlRequestSchema } from './sql-body'

/** Rows an admin's preview shows: enough to judge an example, never a download. */
export const ADMIN_PREVIEW_ROWS = 20

/**
 * `POST /v1/admin/sql`: the console's check-as-you-type and row preview. The same guard as
 * POST /v1/sql, but as the service's own read-only login (no role: the broadest view an admin
 * reviews examples for — POST /v1/sql would run as the admin's JWT role, which need not be a
 * database role at all), and a run is capped at ADMIN_PREVIEW_ROWS rows whatever SQL_EXECUTE says:
 * it is a read-only look for the data team, not an answer to callers.
 */
export const adminSqlRoutes = new Hono<AppEnv>()

adminSqlRoutes.post('/v1/admin/sql', requireAdmin, jsonBody((config) => config.maxBodyBytes), validJson(SqlRequestSchema, 'request'), async (c) => {
  const { sql, execute = false } = c.req.valid('json')
  const config = c.var.config
  if (config.sql.url === undefined) throw new AppError(503, 'database_not_configured', 'Checking SQL needs a database: set DATABASE_URL')
  const capped = { ...config, sql: { ...config.sql, maxRows: Math.min(config.sql.maxRows, ADMIN_PREVIEW_ROWS) } }
  const outcome = await guardSql(capped, sql, execute)
  const body: SqlRunResponse = { sql, check: sqlData(sql, outcome, false) }
  if (execute) body.result = resultOf(outcome)
  const run = outcome.run
  if (run?.ok) Object.assign(body, { columns: run.columns, rows: run.rows })
  c.var.log.set({ sql_ok: body.check.ok })
  return c.json(body)
})
