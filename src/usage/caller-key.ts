import { callerId } from '../feedback/request-record'
import { sha256Hex } from '../schema/bytes'

/**
 * Whom a limit counts: with API_KEYS, the caller's key — as the same hash feedback uses, never the
 * key itself; without, the client's IP (Cloudflare's `cf-connecting-ip`, which a client cannot
 * set through Cloudflare), hashed; with neither, one shared bucket. The id is what the limiter,
 * the usage store and GET /v1/admin/usage see.
 */
export async function callerKeyOf(authorization: string | undefined, authOn: boolean, clientIp: string | undefined): Promise<string> {
  if (authOn) {
    const id = await callerId(authorization, true)
    if (id) return `key:${id}`
  }
  const ip = clientIp?.trim()
  return ip ? `ip:${(await sha256Hex(`txt2sql-ip:${ip}`)).slice(0, 24)}` : 'anonymous'
}
