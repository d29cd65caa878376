import type { JWTPayload } from 'hono/utils/jwt/types'
import type { DbIdentity } from '../db/guarded-sql'
import { AppError } from '../errors'
import { sha256Hex } from '../schema/bytes'

/**
 * Who is asking, as the routes below the auth middleware see it:
 * - `open`: no API_KEYS and no JWT settings — anyone, as the service's own role;
 * - `key`: one of API_KEYS — the service's own role, everything it may read; `id` hashes the key;
 * - `jwt`: a verified token naming one of DB_ROLES — the model sees, and the SQL runs with, only
 *   what that role may read; `claims` (the verified payload as JSON) go to Postgres as
 *   `request.jwt.claims`.
 * `id` is what feedback records are tied to (null: anyone may give feedback, as when auth is off).
 */
export type Caller =
  | { via: 'open'; id: null }
  | { via: 'key'; id: string }
  | { via: 'jwt'; id: string | null; sub: string | null; role: string; claims: string }


export function dbIdentityOf(caller: Caller): DbIdentity | undefined {
  return caller.via === 'jwt' ? { role: caller.role, claims: caller.claims } : undefined
}

/**
 * A verified token → its caller. The role claim must name one of DB_ROLES exactly; anything else
 * (absent, not a string, not listed — however it is spelled) is refused before anything runs.
 */
export async function callerFromClaims(payload: JWTPayload, roleClaim: string, allowedRoles: readonly string[]): Promise<Caller> {
  const sub = typeof payload.sub === 'string' && payload.sub ? payload.sub : null
  const role = payload[roleClaim]
  // RFC 6750: a valid token without the right to this resource.
  const challenge = 'Bearer error="insufficient_scope"'
  if (role === undefined) throw new AppError(403, 'role_not_allowed', `The token has no "${roleClaim}" claim naming a database role`, { challenge })
  if (typeof role !== 'string' || !allowedRoles.includes(role)) {
    throw new AppError(403, 'role_not_allowed', `The token's "${roleClaim}" claim names no role this service allows (DB_ROLES)`, { challenge })
  }
  const issuer = typeof payload.iss === 'string' ? payload.iss : ''
  // The same person across token refreshes: feedback and limits follow the subject, not the token.
  const id = sub ? `sub:${(await sha256Hex(`txt2sql-sub:${issuer}\u0000${sub}`)).slice(0, 24)}` : null
  return { via: 'jwt', id, sub, role, claims: JSON.stringify(payload) }
}

/** The caller as the request log names it: the key's hash or the token's subject, never a secret. */
export function callerLabel(caller: Caller): string {
  if (caller.via === 'key') return `key:${caller.id}`
  if (caller.via === 'jwt') return caller.sub === null ? 'jwt' : `sub:${caller.sub}`
  return 'anonymous'
}
