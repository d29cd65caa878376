import type { MiddlewareHandler } from 'hono'
import { bearerAuth } from 'hono/bearer-auth'
import type { AppEnv } from '../app-env'
import { callerFromClaims, callerLabel, type Caller } from '../auth/caller'
import { verifyJwt, verifyJwtToken } from '../auth/verify-jwt'
import { AppError } from '../errors'
import { callerId } from '../feedback/request-record'

type Ctx = Parameters<MiddlewareHandler<AppEnv>>[0]

/**
 * Bearer auth on Hono's middleware (constant-time comparison), with every failure — missing,
 * malformed or wrong — answered as our 401 JSON.
 */
function requireBearer(tokens: (c: Ctx) => string[], what: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const allowed = tokens(c)
    if (allowed.length === 0) return next()
    // Thrown, not returned: Hono would wrap a returned Response in its own HTTPException and lose
    // the message; thrown, the one onError writes it (JSON, or text on /getAnwser).
    const refuse = (): never => {
      throw new AppError(401, 'unauthorized', `Missing or invalid ${what}: send "Authorization: Bearer <key>"`)
    }
    return bearerAuth<AppEnv>({
      token: allowed,
      noAuthenticationHeader: { message: refuse },
      invalidAuthenticationHeader: { message: refuse },
      invalidToken: { message: refuse },
    })(c, next)
  }
}

/** Whether the bearer is one of the API keys (Hono's constant-time comparison; no refusal). */
async function isApiKey(c: Ctx, keys: string[]): Promise<boolean> {
  let matched = false
  try {
    await bearerAuth<AppEnv>({ token: keys })(c, async () => {
      matched = true
    })
  } catch {
    // not one of the keys (or no usable header): the token may still be a JWT
  }
  return matched
}

/**
 * The callers of /v1/ask, /getAnwser and /v1/feedback. With neither API_KEYS nor a JWT setting the
 * routes are open, as they always were. With API_KEYS only, a key is required. With JWT_SECRET or
 * JWT_JWKS_URL, the bearer is an API key when it is one of API_KEYS, else a JWT that must verify
 * and name one of DB_ROLES (401 `unauthorized` / 403 `role_not_allowed` otherwise, before
 * anything runs). Leaves `caller` for the routes and names it in the request log.
 */
export const requireCaller: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { apiKeys, jwt } = c.var.config
  const admit = async (caller: Caller) => {
    c.set('caller', caller)
    c.var.log.set({ caller: callerLabel(caller), role: caller.via === 'jwt' ? caller.role : null })
    await next()
  }
  if (!jwt) {
    if (apiKeys.length === 0) return admit({ via: 'open', id: null })
    return requireBearer(() => apiKeys, 'API key')(c, async () => admit({ via: 'key', id: (await callerId(c.req.header('authorization'), true))! }))
  }
  if (apiKeys.length > 0 && (await isApiKey(c, apiKeys))) return admit({ via: 'key', id: (await callerId(c.req.header('authorization'), true))! })
  const payload = await verifyJwt(c, jwt)
  let caller: Caller
  try {
    caller = await callerFromClaims(payload, jwt.roleClaim, c.var.config.dbRoles)
  } catch (err) {
    // A refused role is logged with who asked (never the role or the claims it tried).
    c.var.log.set({ caller: typeof payload.sub === 'string' && payload.sub ? `sub:${payload.sub}` : 'jwt', role: null })
    throw err
  }
  return admit(caller)
}

/** Who made an admin change, as the example routes record it: the JWT's `sub`, or `admin-token`. */
export const ADMIN_TOKEN_NAME = 'admin-token'

/**
 * The admin routes (/v1/admin/*), closed unless ADMIN_TOKEN or ADMIN_ROLES (with a JWT setting) is
 * set. The bearer is the ADMIN_TOKEN (constant-time comparison), else a JWT — from
 * `Authorization: Bearer`, or from Cloudflare Access's `Cf-Access-Jwt-Assertion` when there is no
 * Authorization header — verified as callers' tokens are, whose role claim must name one of
 * ADMIN_ROLES (DB_ROLES do not count: 403 `role_not_allowed`) and whose `sub` names the person.
 * Leaves `admin` (the `sub`, or `admin-token`) for the routes to record, and names it in the
 * request log line, which for a change (any method but GET) is the audit record.
 */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  // Several admin sub-apps guard overlapping paths (/v1/admin/*, /v1/admin/examples/*): verified once per request.
  if (c.var.admin) return next()
  const { adminToken, adminRoles, jwt } = c.var.config
  const byJwt = jwt !== undefined && adminRoles.length > 0
  const admit = async (admin: string) => {
    c.set('admin', { id: admin })
    c.var.log.set({ admin, ...(c.req.method !== 'GET' && c.req.method !== 'HEAD' ? { audit: 'admin_change' as const } : {}) })
    await next()
  }
  if (!adminToken && !byJwt) throw new AppError(401, 'unauthorized', 'Admin routes are disabled: set the ADMIN_TOKEN secret, or ADMIN_ROLES with JWT_SECRET or JWT_JWKS_URL')
  if (!byJwt) return requireBearer(() => [adminToken!], 'admin token')(c, () => admit(ADMIN_TOKEN_NAME))
  if (adminToken && (await isApiKey(c, [adminToken]))) return admit(ADMIN_TOKEN_NAME)
  const assertion = c.req.header('authorization') === undefined ? c.req.header('cf-access-jwt-assertion')?.trim() : undefined
  const payload = assertion ? await verifyJwtToken(assertion, jwt) : await verifyJwt(c, jwt)
  const sub = typeof payload.sub === 'string' && payload.sub ? payload.sub : null
  const role = payload[jwt.roleClaim]
  c.var.log.set({ caller: sub ? `sub:${sub}` : 'jwt' })
  const challenge = 'Bearer error="insufficient_scope"'
  if (typeof role !== 'string' || !adminRoles.includes(role)) {
    throw new AppError(403, 'role_not_allowed', `The token's "${jwt.roleClaim}" claim names no admin role (ADMIN_ROLES): the admin routes and the console are for the data team`, { challenge })
  }
  // Every approval is signed by a person: a token that names nobody cannot change anything.
  if (!sub) throw new AppError(403, 'role_not_allowed', 'An admin token must name its person in "sub"', { challenge })
  return admit(sub)
}
