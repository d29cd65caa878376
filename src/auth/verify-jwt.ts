import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { jwk } from 'hono/jwk'
import { jwt } from 'hono/jwt'
import { decodeHeader, verify, verifyWithJwks } from 'hono/utils/jwt/jwt'
import type { JWTPayload } from 'hono/utils/jwt/types'
import {
  JwtAlgorithmMismatch,
  JwtAlgorithmNotAllowed,
  JwtHeaderRequiresKid,
  JwtPayloadRequiresAud,
  JwtSymmetricAlgorithmNotAllowed,
  JwtTokenAudience,
  JwtTokenExpired,
  JwtTokenIssuer,
  JwtTokenNotBefore,
  JwtTokenSignatureMismatched,
} from 'hono/utils/jwt/types'
import type { AppEnv } from '../app-env'
import type { JwtConfig } from '../config'
import { AppError } from '../errors'
import { jwksKeys } from './jwks-cache'

/** What a JWKS may sign with (Cloudflare Access, Auth0, Keycloak: RS256; Supabase Auth: ES256). */
const ASYMMETRIC = ['RS256', 'ES256'] as const

/**
 * Verifies the request's bearer JWT with Hono's own middleware — `jwt` (HS256, JWT_SECRET) or
 * `jwk` (RS256/ES256 from JWT_JWKS_URL, keys cached in this isolate) — checking the signature,
 * `exp` (which must be there) and `nbf` always, `iss` and `aud` when configured. Every refusal is
 * our 401 `unauthorized` with the reason; the token itself never appears in it (Hono's own
 * messages quote it, so they are not used).
 */
export async function verifyJwt(c: Context<AppEnv>, config: JwtConfig): Promise<JWTPayload> {
  const verification = verificationOf(config)
  const middleware = chooseMiddleware(c, config, verification)
  try {
    await middleware(c, async () => {})
  } catch (err) {
    throw refusal(err)
  }
  const payload = c.get('jwtPayload')
  if (!payload || typeof payload !== 'object') throw invalid('it carries no claims')
  if (typeof payload.exp !== 'number') throw invalid('it has no expiry (exp)')
  return payload
}

/**
 * A token that does not come as `Authorization: Bearer` — Cloudflare Access's
 * `Cf-Access-Jwt-Assertion` header, which carries the bare JWT — verified by the same Hono
 * functions the middleware calls, with the same settings and the same refusals.
 */
export async function verifyJwtToken(token: string, config: JwtConfig): Promise<JWTPayload> {
  const verification = verificationOf(config)
  let payload: JWTPayload
  try {
    const header = decodeHeader(token)
    if (header.alg === 'HS256' && config.secret) payload = await verify(token, config.secret, { alg: 'HS256', ...verification })
    else if (config.jwksUrl) payload = await verifyWithJwks(token, { keys: await jwksKeys(config.jwksUrl, header.kid, { ttlMs: config.jwksTtlSeconds * 1000 }), verification, allowedAlgorithms: [...ASYMMETRIC] })
    else payload = await verify(token, config.secret!, { alg: 'HS256', ...verification })
  } catch (err) {
    throw refusal(err instanceof AppError ? err : new HTTPException(401, { cause: err }))
  }
  if (typeof payload.exp !== 'number') throw invalid('it has no expiry (exp)')
  return payload
}

function verificationOf(config: JwtConfig) {
  return {
    exp: true,
    nbf: true,
    // Not required by the protocol, and an identity provider whose clock runs a second ahead would
    // have its fresh tokens refused: exp and nbf bound a token's life.
    iat: false,
    ...(config.issuer ? { iss: config.issuer } : {}),
    ...(config.audience.length ? { aud: config.audience } : {}),
  }
}

function chooseMiddleware(c: Context<AppEnv>, config: JwtConfig, verification: Parameters<typeof jwt>[0]['verification']) {
  const alg = algorithmOf(c.req.header('authorization'))
  if (alg === 'HS256' && config.secret) return jwt({ secret: config.secret, alg: 'HS256', verification })
  if (config.jwksUrl) {
    const url = config.jwksUrl
    return jwk({ keys: () => jwksKeys(url, kidOf(c.req.header('authorization')), { ttlMs: config.jwksTtlSeconds * 1000 }), alg: [...ASYMMETRIC], verification })
  }
  // Only a secret is configured: the token must be HS256 (Hono refuses any other alg against it).
  return jwt({ secret: config.secret!, alg: 'HS256', verification })
}

function algorithmOf(authorization: string | undefined): string | undefined {
  try {
    return decodeHeader(tokenOf(authorization) ?? '').alg
  } catch {
    return undefined
  }
}

function kidOf(authorization: string | undefined): string | undefined {
  try {
    return decodeHeader(tokenOf(authorization) ?? '').kid
  } catch {
    return undefined
  }
}

function tokenOf(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1]
}

function invalid(why: string): AppError {
  return new AppError(401, 'unauthorized', `Invalid token: ${why}`, { challenge: 'Bearer error="invalid_token"' })
}

function refusal(err: unknown): AppError {
  if (err instanceof AppError) return err
  if (!(err instanceof HTTPException)) return invalid('it could not be verified')
  const cause = err.cause
  // The key source failed (our own error, wrapped by the middleware): not the caller's fault.
  if (cause instanceof AppError) return cause
  if (!cause) {
    const missing = err.message === 'no authorization included in request'
    return new AppError(401, 'unauthorized', `${missing ? 'Missing token' : 'Malformed authorization'}: send "Authorization: Bearer <API key or JWT>"`, { challenge: missing ? 'Bearer' : 'Bearer error="invalid_request"' })
  }
  if (cause instanceof JwtTokenExpired) return invalid('it has expired (exp)')
  if (cause instanceof JwtTokenNotBefore) return invalid('it is not valid yet (nbf)')
  if (cause instanceof JwtTokenAudience || cause instanceof JwtPayloadRequiresAud) return invalid('it is not meant for this service (aud)')
  if (cause instanceof JwtTokenIssuer) return invalid('it was issued by another issuer (iss)')
  if (cause instanceof JwtTokenSignatureMismatched) return invalid('its signature does not match')
  if (cause instanceof JwtAlgorithmNotAllowed || cause instanceof JwtAlgorithmMismatch || cause instanceof JwtSymmetricAlgorithmNotAllowed) return invalid('it is signed with an algorithm this service does not accept')
  if (cause instanceof JwtHeaderRequiresKid) return invalid('its header names no key (kid)')
  return invalid('it is malformed, or signed by a key this service does not know')
}
