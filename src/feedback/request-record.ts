import { sha256Hex } from '../schema/bytes'

/**
 * What feedback needs to know about an answered question, kept in KV for FEEDBACK_TTL_SECONDS
 * under the request id the caller saw (`meta.request_id`, `x-request-id`). The caller is kept as
 * a hash of its API key, so only the caller who asked can give feedback on the answer.
 */
export type RequestRecord = {
  question: string
  sql: string | null
  schema_version: string
  caller: string | null
  at: string
  /** The answer cache's key of this question and caller, when the cache was on: a `wrong` feedback evicts it. */
  cache_key?: string
}

const PREFIX = 'request:'
/** KV's smallest expiration TTL. */
const MIN_TTL = 60

export async function saveRequestRecord(kv: KVNamespace, requestId: string, record: RequestRecord, ttlSeconds: number): Promise<void> {
  await kv.put(PREFIX + requestId, JSON.stringify(record), { expirationTtl: Math.max(MIN_TTL, ttlSeconds) })
}

export async function loadRequestRecord(kv: KVNamespace, requestId: string): Promise<RequestRecord | null> {
  const raw = await kv.get(PREFIX + requestId)
  return raw === null ? null : (JSON.parse(raw) as RequestRecord)
}

/** A caller's identity for feedback: a hash of the bearer key, or null while auth is off. */
export async function callerId(authorization: string | undefined, authOn: boolean): Promise<string | null> {
  if (!authOn) return null
  const token = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim()
  return token ? (await sha256Hex(`txt2sql-caller:${token}`)).slice(0, 24) : null
}
