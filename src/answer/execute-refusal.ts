import type { Config } from '../config'
import { AppError } from '../errors'

/**
 * Why `"execute": true` would be refused on this service, or undefined when runs are allowed: one
 * answer for `/v1/ask`, which throws it, and `/healthz`, which shows it as `execute_reason` so the
 * playground can say why an answer comes without rows.
 */
export function executeRefusal(sql: Config['sql']): AppError | undefined {
  if (!sql.allowExecute) return new AppError(403, 'execute_not_allowed', 'Running the SQL is not enabled on this service (SQL_EXECUTE)')
  if (!sql.check || sql.url === undefined) return new AppError(503, 'database_not_configured', 'Running the SQL needs a database: set DATABASE_URL (and SQL_CHECK)')
  return undefined
}
