import type { Config } from '../config'
import { withDb } from '../db/connect'
import { approvedExamples } from '../db/examples-table'
import { introspect, type IntrospectStats } from '../db/introspect'
import { readRoleViews } from '../db/role-privileges'
import { AppError, toAppError } from '../errors'
import { loadSynonyms } from '../linking/load-synonyms'
import { fitGlossary, loadGlossary } from './glossary'
import { applyOverlay, columnsWithoutSamples, loadOverlay, privateColumnKey } from './overlay'
import type { Snapshot } from './snapshot-schema'
import { parseSnapshot, saveSnapshot, type SnapshotPointer } from './snapshot-store'
import { contentVersion } from './snapshot-version'
import { databaseFingerprint } from './database-fingerprint'

export const LAST_REFRESH_KEY = 'schema:last-refresh'
/**
 * What a refresh may spend on the database besides the sample-value budget: a whole refresh of
 * 2,000 tables × 30 columns takes 3.5–6 s here (BENCHMARKS.md, P9); a database that stops
 * answering fails the refresh (database_timeout) and the stored snapshot stays.
 */
const REFRESH_CATALOG_DEADLINE_MS = 60_000

export type RefreshResult = {
  version: string
  changed: boolean
  refreshed_at: string
  tables: number
  views: number
  columns: number
  foreign_keys: number
  examples: number
  sampled_columns: number
  sampling_skipped: number
  /** Tables whose text columns could not be sampled, and why (e.g. row-level security on the introspection role). */
  unsampled_tables: { table: string; reason: string }[]
  /** Columns whose distinct values were indexed for linking, and how many values in all. */
  indexed_columns: number
  indexed_values: number
  /** Head words of the synonym table the index was built with (0: none could be read). */
  synonyms: number
  overlay_unmatched: string[]
  /** Glossary references (`term → table.column`) the introspected schema lacks: left out of this snapshot. */
  glossary_unmatched: string[]
  /** Per role of DB_ROLES, how much of the snapshot it may read (docs/SECURITY.md, "Who may see what"). */
  roles: { name: string; tables: number; columns: number }[]
  /** Roles of DB_ROLES the database does not have: nothing is recorded for them. */
  roles_missing: string[]
  bytes: number
  stored_bytes: number
  parts: number
  duration_ms: number
  /** Where the time went: catalog queries, value sampling, and validate + index + gzip + KV writes. */
  timings: { catalog_ms: number; sampling_ms: number; store_ms: number }
}

/** What started a refresh: an admin, the Cron Trigger, an example change, or a request that found the cache for another database. */
export type RefreshTrigger = 'admin' | 'cron' | 'examples' | 'database_changed'

export type LastRefresh = { ok: boolean; at: string; trigger: string; version?: string; duration_ms: number; error?: { code: string; message: string } }

/**
 * Database → snapshot → KV. Introspects, adds the approved examples and the curated overlay,
 * validates, stores. Anything failing leaves the stored snapshot as it was; the outcome (either
 * way) is kept under LAST_REFRESH_KEY for GET /v1/admin/schema.
 */
export async function refreshSnapshot(kv: KVNamespace, config: Config, trigger: RefreshTrigger, assets?: Fetcher): Promise<RefreshResult> {
  const started = Date.now()
  const at = new Date(started).toISOString()
  try {
    const db = config.database
    const { tables, values, stats, examples, roles } = await withDb(db, async (session) => {
      const found = await introspect(session, {
        schemas: db.schemas,
        sampleValues: db.sampleValues,
        sampleBudgetMs: db.sampleBudgetMs,
        indexValues: db.linkValuesPerColumn,
        indexValuesTotal: db.linkValuesTotal,
        exclude: [db.examplesTable],
      })
      const [approved, roleViews] = await Promise.all([approvedExamples(session, db.examplesTable), readRoleViews(session, config.dbRoles, db.schemas, found.tables)])
      return { ...found, examples: approved, roles: roleViews }
    }, db.sampleBudgetMs + REFRESH_CATALOG_DEADLINE_MS)
    if (!tables.length) {
      throw new AppError(502, 'database_permission_denied', `The database role may SELECT no table or view in schema(s) ${db.schemas.join(', ')}: nothing to cache`)
    }
    const storeStarted = Date.now()
    const [overlay, storedGlossary] = await Promise.all([loadOverlay(kv), loadGlossary(kv)])
    const overlaid = applyOverlay(tables, overlay)
    // Columns the overlay keeps private: their values are not indexed for linking either.
    const noSamples = columnsWithoutSamples(tables, overlay)
    const indexed = values.filter((v) => !noSamples.has(privateColumnKey(v.schema, v.table, v.column)))
    const glossary = fitGlossary(storedGlossary, overlaid.tables)
    const content = {
      source: 'introspection' as const,
      // The database this describes: the worker serves it to no other (src/routes/served-snapshot.ts).
      database: await databaseFingerprint(db.url),
      dialect: 'postgresql' as const,
      tables: overlaid.tables,
      examples,
      ...(glossary.terms.length ? { glossary: glossary.terms } : {}),
      ...(config.dbRoles.length ? { roles: roles.views } : {}),
    }
    const parsed = parseSnapshot({ version: 'pg-pending', ...content })
    if (!parsed.ok) throw new AppError(502, 'database_error', `The introspected schema is not a valid snapshot: ${parsed.error}`)
    const version = await contentVersion(parsed.snapshot)
    const synonyms = await loadSynonyms(assets)
    const saved = await saveSnapshot(kv, { ...parsed.snapshot, version }, { refreshedAt: at, linking: { synonyms, values: indexed } })
    const storeMs = Date.now() - storeStarted
    const result = {
      ...toResult(saved.pointer, saved.changed, stats, overlaid.unmatched, glossary.unmatched, Date.now() - started, storeMs),
      indexed_columns: indexed.length,
      indexed_values: indexed.reduce((n, v) => n + v.values.length, 0),
      synonyms: synonyms.size,
      roles: roles.views.map((r) => ({ name: r.name, tables: r.tables.length, columns: r.tables.reduce((n, t) => n + (t.columns?.length ?? overlaid.tables.find((x) => x.schema === t.schema && x.name === t.name)!.columns.length), 0) })),
      roles_missing: roles.missing,
    }
    await record(kv, { ok: true, at, trigger, version, duration_ms: result.duration_ms })
    return result
  } catch (err) {
    const e = toAppError(err)
    await record(kv, { ok: false, at, trigger, duration_ms: Date.now() - started, error: { code: e.code, message: e.message } }).catch(() => {})
    throw e
  }
}

export async function lastRefresh(kv: KVNamespace): Promise<LastRefresh | null> {
  const raw = await kv.get(LAST_REFRESH_KEY)
  return raw === null ? null : (JSON.parse(raw) as LastRefresh)
}

function record(kv: KVNamespace, value: LastRefresh): Promise<void> {
  return kv.put(LAST_REFRESH_KEY, JSON.stringify(value))
}

function toResult(p: SnapshotPointer, changed: boolean, stats: IntrospectStats, unmatched: string[], glossaryUnmatched: string[], durationMs: number, storeMs: number): Omit<RefreshResult, 'synonyms' | 'roles' | 'roles_missing'> {
  return {
    version: p.version,
    changed,
    refreshed_at: p.refreshed_at,
    tables: p.tables,
    views: p.views,
    columns: p.columns,
    foreign_keys: stats.foreign_keys,
    examples: p.examples,
    sampled_columns: stats.sampled_columns,
    sampling_skipped: stats.sampling_skipped,
    unsampled_tables: stats.unsampled_tables,
    indexed_columns: stats.indexed_columns,
    indexed_values: stats.indexed_values,
    overlay_unmatched: unmatched,
    glossary_unmatched: glossaryUnmatched,
    bytes: p.bytes,
    stored_bytes: p.stored_bytes,
    parts: p.parts,
    duration_ms: durationMs,
    timings: { catalog_ms: stats.catalog_ms, sampling_ms: stats.sampling_ms, store_ms: storeMs },
  }
}

export type { Snapshot }
