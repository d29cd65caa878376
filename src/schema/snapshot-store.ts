import { AppError } from '../errors'
import { SnapshotSchema, type Snapshot } from './snapshot-schema'

/** The one KV key the request path reads. */
export const SNAPSHOT_KEY = 'schema:snapshot'

// Per isolate: the last value read and its parsed form. KV returns the same text until the
// snapshot changes, so a request pays one KV get and a string comparison, not a parse.
let cached: { raw: string; snapshot: Snapshot } | undefined

export async function loadSnapshot(kv: KVNamespace, opts: { cacheTtlSeconds: number }): Promise<Snapshot> {
  // KV refuses cacheTtl below 30 s; 0 means "always read through".
  const raw = opts.cacheTtlSeconds >= 30 ? await kv.get(SNAPSHOT_KEY, { cacheTtl: opts.cacheTtlSeconds }) : await kv.get(SNAPSHOT_KEY)
  if (raw === null) {
    throw new AppError(503, 'schema_unavailable', 'No schema snapshot is cached yet: upload one (PUT /v1/admin/schema) or refresh from the database')
  }
  if (cached?.raw === raw) return cached.snapshot
  const parsed = parseSnapshot(raw)
  if (!parsed.ok) {
    throw new AppError(503, 'schema_unavailable', `The cached schema snapshot is invalid: ${parsed.error}`)
  }
  cached = { raw, snapshot: parsed.snapshot }
  return parsed.snapshot
}

export function parseSnapshot(raw: string | unknown): { ok: true; snapshot: Snapshot } | { ok: false; error: string } {
  let json: unknown = raw
  if (typeof raw === 'string') {
    try {
      json = JSON.parse(raw)
    } catch {
      return { ok: false, error: 'not JSON' }
    }
  }
  const result = SnapshotSchema.safeParse(json)
  if (!result.success) {
    const first = result.error.issues[0]
    return { ok: false, error: first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid' }
  }
  return { ok: true, snapshot: result.data }
}

/** Validates before writing, so a bad upload never replaces a good snapshot. */
export async function saveSnapshot(kv: KVNamespace, snapshot: Snapshot): Promise<void> {
  await kv.put(SNAPSHOT_KEY, JSON.stringify(snapshot))
}
