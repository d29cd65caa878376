import { sign } from 'hono/jwt'
import { inject } from 'vitest'

/** HS256 secret of the tests (JWT_SECRET must be at least 32 characters). */
export const JWT_SECRET = 'test-jwt-secret-0123456789abcdef-xyz'

export type Claims = Record<string, unknown>

const now = () => Math.floor(Date.now() / 1000)

/** An HS256 token valid for five minutes unless the claims say otherwise. */
export function hsToken(claims: Claims, secret = JWT_SECRET): Promise<string> {
  return sign({ exp: now() + 300, ...claims }, secret, 'HS256')
}

/** A token signed by the local identity provider's key `kid` (test/setup/jwks-server.ts). */
export function providerToken(claims: Claims, kid = 'rsa-1'): Promise<string> {
  const key = inject('jwks').keys[kid]
  if (!key) throw new Error(`no test signing key ${kid}`)
  return sign({ exp: now() + 300, ...claims }, key as Parameters<typeof sign>[1])
}

/** A JWKS URL of its own for a test: the provider counts fetches per name. */
export function jwksUrl(name: string): string {
  return `${inject('jwks').url}/keys/${encodeURIComponent(name)}`
}

export async function jwksHits(name: string): Promise<number> {
  return ((await (await fetch(`${inject('jwks').url}/hits/${encodeURIComponent(name)}`)).json()) as { hits: number }).hits
}

export async function jwksControl(action: 'rotate' | 'down', name: string): Promise<void> {
  await fetch(`${inject('jwks').url}/${action}/${encodeURIComponent(name)}`, { method: 'POST' })
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
export { now as epochSeconds }
