import { Client } from '@neondatabase/serverless'
import type { DatabaseConfig } from '../config'
import { AppError } from '../errors'
import { toDatabaseError } from './database-error'
import { queryUnnamed } from './unnamed-statement'

export type Db = {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>
  /**
   * One statement through the extended protocol (the unnamed prepared statement, so Postgres
   * refuses a text holding several, and nothing stays in the session). Throws the driver's own error (SQLSTATE `code`, `position`) for the
   * caller to report; rows as arrays, values parsed by `types`.
   */
  single(text: string, types?: { getTypeParser: (oid: number) => (value: string) => unknown }): Promise<{ rows: unknown[][]; fields: { name: string; dataTypeID: number }[] }>
  /** The raw driver result of a multi-statement text (simple protocol; our own SQL only). */
  batch(text: string): Promise<unknown>
  end(): Promise<void>
}

/**
 * One session with the business database over the Neon driver's WebSocket `Client` (sessions are
 * needed for read-only transactions and SET LOCAL). With NEON_WS_PROXY set — local development
 * and tests against a plain Postgres — the driver goes through that relay without TLS; otherwise
 * it talks to Neon's proxy directly. Every failure becomes an AppError with a database_* code.
 */
export async function openDb(config: DatabaseConfig): Promise<Db> {
  if (!config.url) {
    throw new AppError(503, 'database_not_configured', 'No database is configured: set the DATABASE_URL secret')
  }
  let client: Client
  try {
    client = new Client({ connectionString: config.url })
  } catch (err) {
    throw new AppError(500, 'server_misconfigured', 'DATABASE_URL is not a valid postgres:// connection string', { cause: err })
  }
  if (config.wsProxy) {
    const proxy = config.wsProxy.replace(/^wss?:\/\//, '')
    client.neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`
    client.neonConfig.useSecureWebSocket = false
    client.neonConfig.pipelineTLS = false
    client.neonConfig.pipelineConnect = false
  }
  // The driver reports a dead socket as an 'error' event; without a listener it would throw.
  client.on('error', () => {})
  await withTimeout(client.connect(), config.connectTimeoutMs, () => {
    void client.end().catch(() => {})
    return new AppError(504, 'database_timeout', `The database did not accept a connection within ${config.connectTimeoutMs} ms`, { retryable: true })
  }).catch((err) => {
    void client.end().catch(() => {})
    throw toDatabaseError(err)
  })
  return {
    async single(text, types) {
      const result = await queryUnnamed(client, text, types)
      return { rows: result.rows as unknown[][], fields: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })) }
    },
    async query(text, values) {
      try {
        return (await client.query(text, values)).rows
      } catch (err) {
        throw toDatabaseError(err)
      }
    },
    async batch(text) {
      try {
        return await client.query(text)
      } catch (err) {
        throw toDatabaseError(err)
      }
    },
    // Bounded: a server that keeps the socket open after Terminate must not hold the request (the
    // local relay closes it for PGlite, which does not; tools/ws-relay/terminate-watch.mjs).
    end: () => withTimeout(client.end(), 1000, () => new Error('end timed out')).catch(() => {}),
  }
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

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms)
  })
  return Promise.race([promise, timeout]).finally(() => {
    if (timer !== undefined) clearTimeout(timer)
  })
}
