import type { MiddlewareHandler } from 'hono'
import { bearerAuth } from 'hono/bearer-auth'
import type { AppEnv } from '../app-env'
import { AppError, toErrorResponse } from '../errors'

/**
 * Bearer auth on Hono's middleware (constant-time comparison), with every failure — missing,
 * malformed or wrong — answered as our 401 JSON.
 */
function requireBearer(tokens: (c: Parameters<MiddlewareHandler<AppEnv>>[0]) => string[], what: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const allowed = tokens(c)
    if (allowed.length === 0) return next()
    const refuse = () => toErrorResponse(new AppError(401, 'unauthorized', `Missing or invalid ${what}: send "Authorization: Bearer <key>"`))
    return bearerAuth<AppEnv>({
      token: allowed,
      noAuthenticationHeader: { message: refuse },
      invalidAuthenticationHeader: { message: refuse },
      invalidToken: { message: refuse },
    })(c, next)
  }
}

/** Callers' keys (API_KEYS); open when none is configured. */
export const requireApiKey = requireBearer((c) => c.var.config.apiKeys, 'API key')

/** Admin routes are closed unless ADMIN_TOKEN is set. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = c.var.config.adminToken
  if (!token) throw new AppError(401, 'unauthorized', 'Admin routes are disabled: set the ADMIN_TOKEN secret')
  return requireBearer(() => [token], 'admin token')(c, next)
}
