import type { Context } from 'hono'
import type { AppEnv } from '../app-env'
import { AppError, toAppError } from '../errors'
import { databaseFingerprint } from '../schema/database-fingerprint'
import { refreshSnapshot } from '../schema/refresh'
import type { Snapshot } from '../schema/snapshot-schema'
import { loadSnapshot } from '../schema/snapshot-store'
import { runInBackground } from './run-in-background'

/** How long a refresh started for a changed database keeps other isolates from starting another. */
const REFRESH_MARK_SECONDS = 60
const REFRESH_MARK_KEY = 'schema:refreshing:'
/** What a caller is told to wait: a refresh of a small schema takes a few seconds. */
const RETRY_AFTER_SECONDS = 5

/** The refresh this isolate started, per database: at most one at a time. */
const started = new Map<string, Promise<unknown>>()

/**
 * The snapshot the worker may answer from: only one of the database it is configured for. A
 * stored snapshot that names another (DATABASE_URL or the Hyperdrive binding changed; a local KV
 * kept from another `npm start`) is not served: the answer is `503 schema_unavailable` with
 * `retry-after`, and a refresh from the configured database starts — once, not per request: once
 * per isolate, and not while another isolate's is under way (a mark in KV). A snapshot that names
 * no database (stored by an older version, or on a service without one) is served as before.
 */
export async function loadServedSnapshot(c: Context<AppEnv>): Promise<Snapshot> {
  const config = c.var.config
  const kv = c.env.SCHEMA_KV
  const load = (cacheTtlSeconds: number) => loadSnapshot(kv, { cacheTtlSeconds, background: (work) => runInBackground(c, work) })
  const expected = await databaseFingerprint(config.database.url)
  let snapshot = await load(config.schemaCacheTtlSeconds)
  if (!expected || !snapshot.database || snapshot.database === expected) return snapshot
  // The isolate may hold an old one while KV already has the configured database's: ask KV now.
  snapshot = await load(0)
  if (!snapshot.database || snapshot.database === expected) return snapshot
  startRefresh(c, expected)
  throw new AppError(503, 'schema_unavailable', 'The schema cache is for another database than the one configured: a refresh from the configured database has started; retry shortly', {
    retryable: true,
    retryAfterSeconds: RETRY_AFTER_SECONDS,
  })
}

function startRefresh(c: Context<AppEnv>, database: string): void {
  if (started.has(database)) return
  const kv = c.env.SCHEMA_KV
  const mark = REFRESH_MARK_KEY + database
  const work = (async () => {
    if ((await kv.get(mark)) !== null) return
    await kv.put(mark, new Date().toISOString(), { expirationTtl: REFRESH_MARK_SECONDS })
    try {
      const r = await refreshSnapshot(kv, c.var.config, 'database_changed', c.env.ASSETS)
      console.log(JSON.stringify({ refresh: 'ok', trigger: 'database_changed', version: r.version, tables: r.tables, duration_ms: r.duration_ms }))
      await kv.delete(mark).catch(() => {})
    } catch (err) {
      // Recorded for GET /v1/admin/schema by the refresh itself. The mark stays until it expires:
      // a database that cannot be reached is tried again once a minute, not at every request.
      const e = toAppError(err)
      console.error(JSON.stringify({ refresh: 'failed', trigger: 'database_changed', code: e.code, message: e.message }))
    }
  })().finally(() => started.delete(database))
  started.set(database, work)
  runInBackground(c, work)
}
