import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** Stable machine-readable codes; docs/API.md lists each with its status. */
export type ErrorCode =
  | 'invalid_json'
  | 'invalid_request'
  | 'invalid_glossary'
  | 'unauthorized'
  | 'role_not_allowed'
  | 'auth_unavailable'
  | 'not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'schema_unavailable'
  | 'upstream_not_configured'
  | 'upstream_throttled'
  | 'upstream_auth_failed'
  | 'upstream_model_not_found'
  | 'upstream_bad_request'
  | 'upstream_content_rejected'
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'upstream_disconnected'
  | 'upstream_malformed'
  | 'upstream_error'
  | 'database_not_configured'
  | 'database_unreachable'
  | 'database_auth_failed'
  | 'database_permission_denied'
  | 'database_timeout'
  | 'database_error'
  | 'request_not_found'
  | 'example_sql_invalid'
  | 'example_exists'
  | 'execute_not_allowed'
  | 'rate_limited'
  | 'quota_exceeded'
  | 'server_misconfigured'
  | 'internal_error'

/**
 * The one error type of the service. Thrown anywhere before the stream begins, it becomes a JSON
 * response in `toErrorResponse`; after the stream has begun, it becomes an `error` event.
 */
export class AppError extends Error {
  override readonly name = 'AppError'
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    readonly options: {
      retryable?: boolean
      retryAfterSeconds?: number
      upstreamStatus?: number
      cause?: unknown
      details?: unknown[]
      /** A `WWW-Authenticate` challenge (RFC 6750) for refused bearer tokens. */
      challenge?: string
      /** The methods a 405's `Allow` header names. */
      allow?: string[]
    } = {},
  ) {
    super(message, { cause: options.cause })
  }
  get retryable(): boolean {
    return this.options.retryable ?? false
  }
}

export type ErrorBody = { error: { code: ErrorCode; message: string; details?: unknown[] } }

/** Normalises anything thrown into an AppError without leaking internals (or secrets) to callers. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode
    const code: ErrorCode =
      status === 400 ? 'invalid_request' : status === 401 ? 'unauthorized' : status === 413 ? 'payload_too_large' : 'internal_error'
    return new AppError(status, code, err.message || 'Request refused')
  }
  return new AppError(500, 'internal_error', 'Internal error', { cause: err })
}

export function errorBody(err: AppError): ErrorBody {
  // `details`: the items a caller must fix, when there are several (e.g. glossary references).
  return { error: { code: err.code, message: err.message, ...(err.options.details ? { details: err.options.details } : {}) } }
}

/**
 * The response of an error before a stream begins: JSON (`{"error": {code, message}}`), or — on
 * the old service's `/getAnwser` — one line of text, `Error: <message>`. Same status and headers.
 */
export function toErrorResponse(err: AppError, format: 'json' | 'text' = 'json'): Response {
  const headers = new Headers({ 'content-type': format === 'text' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8' })
  if (err.options.retryAfterSeconds !== undefined) headers.set('retry-after', String(err.options.retryAfterSeconds))
  if (err.options.challenge) headers.set('www-authenticate', err.options.challenge)
  if (err.options.allow) headers.set('allow', err.options.allow.join(', '))
  const body = format === 'text' ? `Error: ${err.message.replace(/[\r\n]+/g, ' ')}\n` : JSON.stringify(errorBody(err))
  return new Response(body, { status: err.status, headers })
}
