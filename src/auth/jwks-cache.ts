import type { HonoJsonWebKey } from 'hono/utils/jwt/jws'
import { AppError } from '../errors'

/**
 * The public keys of JWT_JWKS_URL, fetched once and kept in this isolate for the configured TTL,
 * so a question costs no round trip to the identity provider. A token signed with a key we do not
 * hold (the provider rotated its keys) fetches them again, at most once per REFETCH_MS; a provider
 * that cannot be reached is answered from the keys already held, and only without any is the
 * request refused (503 `auth_unavailable`, retryable) — never taken as a bad token.
 */
type Held = { keys: HonoJsonWebKey[]; fetchedAt: number }

/** An unknown `kid` refetches no more often than this: a flood of forged kids costs one fetch. */
export const REFETCH_MS = 30_000
const FETCH_TIMEOUT_MS = 5_000

const held = new Map<string, Held>()
const inFlight = new Map<string, Promise<Held>>()

export type JwksOptions = { ttlMs: number; fetch?: typeof fetch; now?: () => number }

export async function jwksKeys(url: string, kid: string | undefined, opts: JwksOptions): Promise<HonoJsonWebKey[]> {
  const now = (opts.now ?? Date.now)()
  const known = held.get(url)
  if (known) {
    const fresh = now - known.fetchedAt < opts.ttlMs
    const hasKid = kid === undefined || known.keys.some((k) => k.kid === kid)
    if ((fresh && hasKid) || (!hasKid && fresh && now - known.fetchedAt < REFETCH_MS)) return known.keys
  }
  try {
    return (await fetchOnce(url, opts, now)).keys
  } catch (err) {
    if (known) {
      console.error(JSON.stringify({ jwks: 'refetch failed, keeping the keys held', error: err instanceof AppError ? err.message : String(err) }))
      return known.keys
    }
    throw err
  }
}

function fetchOnce(url: string, opts: JwksOptions, now: number): Promise<Held> {
  let pending = inFlight.get(url)
  if (!pending) {
    pending = fetchKeys(url, opts.fetch ?? fetch)
      .then((keys) => {
        const entry = { keys, fetchedAt: now }
        held.set(url, entry)
        return entry
      })
      .finally(() => inFlight.delete(url))
    inFlight.set(url, pending)
  }
  return pending
}

async function fetchKeys(url: string, doFetch: typeof fetch): Promise<HonoJsonWebKey[]> {
  const unavailable = (why: string) => new AppError(503, 'auth_unavailable', `The keys that verify tokens (JWT_JWKS_URL) could not be read: ${why}`, { retryable: true, retryAfterSeconds: 5 })
  let res: Response
  try {
    res = await doFetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })
  } catch (err) {
    throw unavailable(err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${FETCH_TIMEOUT_MS} ms` : 'unreachable')
  }
  if (!res.ok) {
    await res.body?.cancel()
    throw unavailable(`HTTP ${res.status}`)
  }
  let body: unknown
  try {
    body = await res.json()
  } catch {
    throw unavailable('not JSON')
  }
  const keys = (body as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys)) throw unavailable('no "keys" array')
  return keys.filter((k): k is HonoJsonWebKey => typeof k === 'object' && k !== null && typeof (k as { kty?: unknown }).kty === 'string')
}
