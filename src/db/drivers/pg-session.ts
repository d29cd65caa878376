import { AppError } from '../../errors'
import type { Db } from '../db'
import { toDatabaseError } from '../database-error'
import { withTimeout } from '../with-timeout'

/**
 * What both drivers are: node-postgres's `Client` (the Neon driver carries its own copy of it,
 * speaking over a WebSocket; `pg` speaks over the runtime's TCP socket). Only how one statement
 * reaches the extended protocol differs between them, so each driver passes its own `single`.
 */
export type PgClient = {
  connect(): Promise<unknown>
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>
  end(): Promise<void>
  on(event: 'error', listener: (err: Error) => void): unknown
}

/**
 * Connects `client` within `connectTimeoutMs` and wraps it as a `Db`: every failure becomes an
 * AppError with a database_* code, except `single`'s, which the SQL check reads as Postgres's
 * verdict on the model's SQL.
 */
export async function openPgSession(client: PgClient, connectTimeoutMs: number, single: Db['single']): Promise<Db> {
  // The driver reports a dead socket as an 'error' event; without a listener it would throw.
  client.on('error', () => {})
  await withTimeout(client.connect(), connectTimeoutMs, () => {
    void client.end().catch(() => {})
    return new AppError(504, 'database_timeout', `The database did not accept a connection within ${connectTimeoutMs} ms`, { retryable: true })
  }).catch((err: unknown) => {
    void client.end().catch(() => {})
    throw toDatabaseError(err)
  })
  return {
    single,
    async query<R>(text: string, values?: unknown[]) {
      try {
        return (await client.query(text, values)).rows as R[]
      } catch (err) {
        throw toDatabaseError(err)
      }
    },
    async batch(text) {
      // No values: the simple protocol, which runs every statement of the text (our own SQL only).
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
