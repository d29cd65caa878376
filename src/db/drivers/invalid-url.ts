import { AppError } from '../../errors'

/** A connection string the driver cannot parse: an operator error, named without its content. */
export function invalidUrl(cause: unknown): AppError {
  return new AppError(500, 'server_misconfigured', 'DATABASE_URL (or DATABASE_URL_READONLY) is not a valid postgres:// connection string', { cause })
}
