import type { DatabaseConfig, DatabaseDriver } from '../config'
import { AppError } from '../errors'
import { openNeon } from './drivers/neon'
import { openNodePostgres } from './drivers/node-postgres'
import type { Db } from './db'
import { withTimeout } from './with-timeout'

export type { Db }

/**
 * The way to the database, as the configuration decided it (src/config.ts): the Neon driver over
 * a WebSocket, or node-postgres over TCP to a Hyperdrive binding. A deployed Worker carries only
 * the driver its configuration uses (wrangler.toml `[alias]`, docs/DATABASE.md).
 */
const DRIVERS: Record<DatabaseDriver, (config: DatabaseConfig & { url: string }) => Promise<Db>> = {
  neon: openNeon,
  hyperdrive: openNodePostgres,
}

/** One session with the business database. Every failure becomes an AppError with a database_* code. */
export async function openDb(config: DatabaseConfig): Promise<Db> {
  const url = config.url
  if (!url) {
    throw new AppError(503, 'database_not_configured', 'No database is configured: set the DATABASE_URL secret or a HYPERDRIVE binding (docs/DATABASE.md)')
  }
  return DRIVERS[config.driver]({ ...config, url })
}

/** How long an admin or feedback call may wait on the database in all. */
export const ADMIN_DEADLINE_MS = 30_000

/**
 * Runs `work` with a session that is always closed afterwards. Postgres's own timeouts bound each
 * statement, but not a server or link that stops answering mid-session: past `deadlineMs` the
 * session is closed and the call fails with database_timeout (retryable).
 */
export async function withDb<T>(config: DatabaseConfig, work: (db: Db) => Promise<T>, deadlineMs: number): Promise<T> {
  const db = await openDb(config)
  try {
    return await withTimeout(work(db), deadlineMs, () => new AppError(504, 'database_timeout', `The database stopped answering: no reply within ${deadlineMs} ms`, { retryable: true }))
  } finally {
    await db.end()
  }
}
