import { AppError } from '../errors'

type PgError = { code?: unknown; message?: unknown; position?: unknown }

/**
 * A driver or server failure → one AppError. Postgres's own message is kept (it names the object
 * or the role, never the password); the connection string never appears.
 */
export function toDatabaseError(err: unknown): AppError {
  if (err instanceof AppError) return err
  const e = (typeof err === 'object' && err !== null ? err : {}) as PgError
  const code = typeof e.code === 'string' ? e.code : ''
  const message = scrub(typeof e.message === 'string' ? e.message : String(err))
  if (code === '28P01' || code === '28000') return new AppError(502, 'database_auth_failed', `The database refused the credentials: ${message}`, { cause: err })
  if (code === '3D000') return new AppError(502, 'database_unreachable', `The database does not exist: ${message}`, { cause: err })
  if (code === '42501') return new AppError(502, 'database_permission_denied', `The database role lacks a privilege: ${message}`, { cause: err })
  if (code === '57014') return new AppError(504, 'database_timeout', `The database cancelled a statement: ${message}`, { cause: err, retryable: true })
  if (/^(08|53|57P)/.test(code)) return new AppError(502, 'database_unreachable', `The database is not available: ${message}`, { cause: err, retryable: true })
  if (code) return new AppError(502, 'database_error', `The database said: ${message}`, { cause: err })
  // No SQLSTATE: the socket or the WebSocket failed before Postgres answered.
  return new AppError(502, 'database_unreachable', `Could not reach the database: ${message || 'connection failed'}`, { cause: err, retryable: true })
}

/** Drops anything shaped like a connection string from a message. */
function scrub(message: string): string {
  return message.replace(/postgres(ql)?:\/\/\S+/gi, '<database url>')
}
