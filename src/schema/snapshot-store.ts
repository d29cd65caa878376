import { AppError } from '../errors'
import { describeFirstIssue } from '../first-issue'
import { attachLinkIndex, attachRoleLinkIndexes } from '../linking/index-cache'
import { buildLinkIndex, type LinkIndex, type LinkInputs } from '../linking/link-index'
import { gunzipText, gzipText, sha256Hex } from './bytes'
import { loadParser } from '../sql/admission/pg-parser'
import { buildRoleLinkIndexes } from './role-view'
import { createSnapshotCache, type LoadOptions, type ReadStoredSnapshot } from './snapshot-cache'
import { SnapshotSchema, type Snapshot } from './snapshot-schema'

/**
 * The snapshot in SCHEMA_KV: a small pointer (the one key the request path reads) naming a body,
 * stored gzip-compressed in parts below KV's 25 MiB value limit. A new body is written completely
 * before the pointer moves to it, so a failed write never replaces a good snapshot, and the
 * previous body is kept until the next change for readers still holding the old pointer.
 */
export const POINTER_KEY = 'schema:current'
export const BODY_PREFIX = 'schema:body:'
/** Below KV's 25 MiB per value. */
export const PART_BYTES = 20 * 1024 * 1024

export type SnapshotPointer = {
  version: string
  /** Content id of the body: sha-256 of its JSON (refreshed_at excluded), 16 hex digits. */
  body: string
  parts: number
  encoding: 'gzip'
  bytes: number
  stored_bytes: number
  refreshed_at: string
  source: NonNullable<Snapshot['source']>
  tables: number
  views: number
  columns: number
  examples: number
  /** The roles of DB_ROLES whose views the snapshot records (src/schema/role-view.ts). */
  roles?: string[]
  /** The database it describes (src/schema/database-fingerprint.ts), when it records one. */
  database?: string
  previous?: { body: string; parts: number }
}

/**
 * The request path's read: the snapshot held in this isolate, checked against KV at most once per
 * SCHEMA_CACHE_TTL_SECONDS and in the background while traffic is steady (snapshot-cache.ts).
 */
export function loadSnapshot(kv: KVNamespace, opts: LoadOptions): Promise<Snapshot> {
  return isolateSnapshots.load(kv, opts)
}

/**
 * One read of the store: the pointer (one small get), then — only when it names a body other
 * than the one already known — the body's parts, decompressed, parsed and validated.
 */
export const readStoredSnapshot: ReadStoredSnapshot = async (kv, ttlSeconds, known) => {
  const pointerRaw = await kv.get(POINTER_KEY, pointerTtl(ttlSeconds))
  if (pointerRaw === null) return null
  if (known?.pointerRaw === pointerRaw) return known
  const pointer = readPointer(pointerRaw)
  if (known?.body === pointer.body) return { ...known, pointerRaw }
  // KV is eventually consistent: a fresh pointer may arrive before its parts; the previous body
  // (kept until the next change) still serves.
  const ttl = kvTtl(ttlSeconds)
  let text = await readBody(kv, pointer.body, pointer.parts, ttl)
  let body = pointer.body
  if (text === null && pointer.previous) {
    text = await readBody(kv, pointer.previous.body, pointer.previous.parts, ttl)
    body = pointer.previous.body
  }
  if (text === null) throw new AppError(503, 'schema_unavailable', 'The cached schema snapshot is incomplete (being replaced?): retry shortly', { retryable: true })
  const parsed = parseStoredBody(text)
  if (!parsed.ok) throw new AppError(503, 'schema_unavailable', `The cached schema snapshot is invalid: ${parsed.error}`)
  // A fallback body is not the pointer's: held under an empty pointer text, so the next check
  // reads the pointer's own body again.
  return { pointerRaw: body === pointer.body ? pointerRaw : '', body, snapshot: parsed.snapshot }
}

/** The one cache of this isolate; writes through saveSnapshot/deleteSnapshot update it at once. */
export const isolateSnapshots = createSnapshotCache(readStoredSnapshot)

export async function readPointerFrom(kv: KVNamespace): Promise<SnapshotPointer | null> {
  const raw = await kv.get(POINTER_KEY)
  return raw === null ? null : readPointer(raw)
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
  if (!result.success) return { ok: false, error: describeFirstIssue(result.error) }
  return { ok: true, snapshot: result.data }
}

export type SaveResult = { pointer: SnapshotPointer; changed: boolean }

/**
 * Stores a validated snapshot: body parts first, then the pointer. Unchanged content only moves
 * `refreshed_at`. Parts of the body before the previous one are deleted.
 */
export async function saveSnapshot(
  kv: KVNamespace,
  snapshot: Snapshot,
  opts: { refreshedAt?: string; partBytes?: number; linking?: LinkInputs; linkIndex?: LinkIndex; roleLinkIndexes?: Record<string, unknown> } = {},
): Promise<SaveResult> {
  const { refreshed_at: _drop, ...content } = snapshot
  const json = JSON.stringify(content)
  // The schema-linking index is derived from the tables, the examples and the refresh's values and
  // synonyms: stored beside the content, not part of the version, but part of the body's identity
  // (new row values or a new synonym table store a new body even when the schema is unchanged).
  // A change that leaves tables and examples alone (the glossary) passes the indexes it already has
  // (the snapshot's and each role's): only a refresh can collect the row values again.
  const linkIndex = opts.linkIndex ?? buildLinkIndex(snapshot, opts.linking)
  const index = JSON.stringify(linkIndex)
  // Each role of the snapshot gets the index of its own view (src/schema/role-view.ts).
  // Each role's index holds only the examples it may see, chosen on Postgres's parse of their SQL.
  if (!opts.roleLinkIndexes && snapshot.roles?.length) await loadParser()
  const roleIndexes = opts.roleLinkIndexes ?? buildRoleLinkIndexes(snapshot, opts.linking)
  const roleIndex = roleIndexes ? JSON.stringify(roleIndexes) : ''
  const body = (await sha256Hex(`${json}\u0000${index}${roleIndex ? `\u0000${roleIndex}` : ''}`)).slice(0, 16)
  const current = await readPointerFrom(kv).catch(() => null)
  const refreshedAt = opts.refreshedAt ?? new Date().toISOString()
  const base = {
    version: snapshot.version,
    body,
    encoding: 'gzip' as const,
    bytes: new TextEncoder().encode(json).byteLength,
    refreshed_at: refreshedAt,
    source: snapshot.source ?? 'upload',
    tables: snapshot.tables.filter((t) => t.kind !== 'view').length,
    views: snapshot.tables.filter((t) => t.kind === 'view').length,
    columns: snapshot.tables.reduce((n, t) => n + t.columns.length, 0),
    examples: snapshot.examples.length,
    ...(snapshot.roles ? { roles: snapshot.roles.map((r) => r.name) } : {}),
    ...(snapshot.database ? { database: snapshot.database } : {}),
  }
  if (current?.body === body) {
    const pointer: SnapshotPointer = { ...current, ...base, parts: current.parts, stored_bytes: current.stored_bytes }
    const pointerRaw = JSON.stringify(pointer)
    await kv.put(POINTER_KEY, pointerRaw)
    // This isolate may hold an older body: what it holds now must carry the stored indexes.
    holdWritten(pointerRaw, body, json, linkIndex, roleIndexes)
    return { pointer, changed: false }
  }
  const gz = await gzipText(`${json.slice(0, -1)},"link_index":${index}${roleIndex ? `,"role_link_indexes":${roleIndex}` : ''}}`)
  const partBytes = opts.partBytes ?? PART_BYTES
  const parts = Math.max(1, Math.ceil(gz.byteLength / partBytes))
  await Promise.all(Array.from({ length: parts }, (_, i) => kv.put(partKey(body, i), gz.slice(i * partBytes, (i + 1) * partBytes))))
  const pointer: SnapshotPointer = { ...base, parts, stored_bytes: gz.byteLength, ...(current ? { previous: { body: current.body, parts: current.parts } } : {}) }
  const pointerRaw = JSON.stringify(pointer)
  await kv.put(POINTER_KEY, pointerRaw)
  holdWritten(pointerRaw, body, json, linkIndex, roleIndexes)
  const stale = current?.previous
  if (stale && stale.body !== body) await Promise.all(Array.from({ length: stale.parts }, (_, i) => kv.delete(partKey(stale.body, i))))
  return { pointer, changed: true }
}

/** Removes the snapshot entirely (tests and operators starting over). */
export async function deleteSnapshot(kv: KVNamespace): Promise<void> {
  const current = await readPointerFrom(kv).catch(() => null)
  await kv.delete(POINTER_KEY)
  isolateSnapshots.forget()
  for (const b of current ? [{ body: current.body, parts: current.parts }, ...(current.previous ? [current.previous] : [])] : []) {
    await Promise.all(Array.from({ length: b.parts }, (_, i) => kv.delete(partKey(b.body, i))))
  }
}

/**
 * This isolate serves what it has just written at once; the snapshot held is the stored JSON
 * parsed and validated, exactly what a read would load.
 */
function holdWritten(pointerRaw: string, body: string, json: string, index?: unknown, roleIndexes?: unknown): void {
  const known = isolateSnapshots.peek()
  if (known?.body === body) return isolateSnapshots.hold({ ...known, pointerRaw })
  const parsed = parseSnapshot(json)
  if (!parsed.ok) return isolateSnapshots.forget()
  if (index !== undefined) attachLinkIndex(parsed.snapshot, index)
  attachRoleLinkIndexes(parsed.snapshot, roleIndexes)
  isolateSnapshots.hold({ pointerRaw, body, snapshot: parsed.snapshot })
}

/** A stored body: the snapshot, validated, with its link index attached when it has one. */
function parseStoredBody(text: string): ReturnType<typeof parseSnapshot> {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { ok: false, error: 'not JSON' }
  }
  const { link_index: index, role_link_indexes: roleIndexes, ...content } = json as Record<string, unknown>
  const parsed = parseSnapshot(content)
  if (parsed.ok) {
    attachLinkIndex(parsed.snapshot, index)
    attachRoleLinkIndexes(parsed.snapshot, roleIndexes)
  }
  return parsed
}

function partKey(body: string, i: number): string {
  return `${BODY_PREFIX}${body}:${i}`
}

function readPointer(raw: string): SnapshotPointer {
  try {
    const p = JSON.parse(raw) as SnapshotPointer
    if (typeof p.body === 'string' && Number.isInteger(p.parts) && p.parts > 0 && typeof p.version === 'string') return p
  } catch {
    // fall through
  }
  throw new AppError(503, 'schema_unavailable', 'The cached schema pointer is invalid: upload or refresh the snapshot again')
}

async function readBody(kv: KVNamespace, body: string, parts: number, ttl: { cacheTtl?: number }): Promise<string | null> {
  const chunks = await Promise.all(Array.from({ length: parts }, (_, i) => kv.get(partKey(body, i), { type: 'arrayBuffer', ...ttl })))
  if (chunks.some((c) => c === null)) return null
  const all = new Uint8Array(chunks.reduce((n, c) => n + c!.byteLength, 0))
  let at = 0
  for (const c of chunks) {
    all.set(new Uint8Array(c!), at)
    at += c!.byteLength
  }
  return gunzipText(all)
}

/**
 * The pointer is read off the request path now (snapshot-cache.ts), so freshness wins over
 * latency: KV's shortest edge cache (30 s, its default is 60 s).
 */
function pointerTtl(seconds: number): { cacheTtl?: number } {
  return seconds > 0 ? { cacheTtl: 30 } : {}
}

/** KV refuses cacheTtl below 30 s; 0 means "always read through". Bodies are content-addressed. */
function kvTtl(seconds: number): { cacheTtl?: number } {
  return seconds >= 30 ? { cacheTtl: seconds } : {}
}
