import type { Column, ForeignKey, Table } from '../schema/snapshot-schema'
import { KEYS_SQL, RELATIONS_SQL, STATS_SAMPLES_SQL } from './catalog-queries'
import type { Db } from './connect'
import { columnKey, sampleColumns, type SampleTarget } from './sample-values'

export type IntrospectOptions = {
  schemas: string[]
  /** Distinct values kept per short text column (0 = none). */
  sampleValues: number
  /** Wall-clock budget for sampling tables directly (columns without statistics). */
  sampleBudgetMs: number
  /**
   * Values indexed for linking: all distinct values of a text column with at most this many
   * (0 = none), read from statistics or the same bounded samples, never sent to the model.
   */
  indexValues?: number
  /** At most this many values indexed in all; the columns with the fewest values go first. */
  indexValuesTotal?: number
  /** Relations never shown to the model (the service's own examples table). */
  exclude?: { schema: string; name: string }[]
  now?: () => number
}

export type IntrospectStats = {
  tables: number
  views: number
  columns: number
  foreign_keys: number
  sampled_columns: number
  sampling_skipped: number
  /** Columns and values kept for the link index (`ColumnValues`). */
  indexed_columns: number
  indexed_values: number
  /** Tables whose text columns got no samples, and why (row-level security on the introspecting role). */
  unsampled_tables: { table: string; reason: string }[]
  catalog_ms: number
  sampling_ms: number
}

type RelationRow = {
  oid: string | number
  schema: string
  name: string
  relkind: string
  comment: string | null
  reltuples: number | null
  row_security: boolean
  rows_hidden: boolean
  columns: RawColumn[] | null
}
type RawColumn = { name: string; type: string; nullable: boolean; default: string | null; comment: string | null; category: string; enum: string[] | null }
type KeyRow = { oid: string | number; kind: 'p' | 'f' | 'u'; columns: string[] | null; ref_schema: string | null; ref_table: string | null; ref_columns: string[] | null }
type StatsRow = { schema: string; name: string; column: string; vals: string[] | null; n_distinct: number | null }

/** The distinct values of one low-cardinality text column, for the link index only. */
export type ColumnValues = { schema: string; table: string; column: string; values: string[] }

export const RLS_REASON =
  'row-level security applies to the introspection role (it is not the owner and has no BYPASSRLS), so Postgres hides the statistics and the policies filter the rows: no samples or linked values; give the role ownership or BYPASSRLS to keep them (docs/DATABASE.md)'

/** Longest value kept as a sample, in characters; longer text is not a label a question would quote. */
export const MAX_SAMPLE_CHARS = 40

/**
 * Reads what the connected role may SELECT in the given schemas: three catalog queries in all,
 * whatever the number of tables, then sample values from statistics and — for columns that have
 * none — from the tables themselves, bounded in time.
 */
export async function introspect(db: Db, opts: IntrospectOptions): Promise<{ tables: Table[]; values: ColumnValues[]; stats: IntrospectStats }> {
  const now = opts.now ?? Date.now
  const indexValues = Math.max(0, opts.indexValues ?? 0)
  const readValues = opts.sampleValues > 0 || indexValues > 0
  const started = now()
  const excluded = new Set((opts.exclude ?? []).map((t) => `${t.schema}.${t.name}`))
  const [relations, keys, statsRows] = await Promise.all([
    db.query<RelationRow>(RELATIONS_SQL, [opts.schemas]),
    db.query<KeyRow>(KEYS_SQL, [opts.schemas]),
    readValues ? db.query<StatsRow>(STATS_SAMPLES_SQL, [opts.schemas, MAX_SAMPLE_CHARS * 4]) : Promise.resolve([] as StatsRow[]),
  ])
  const catalogMs = now() - started

  const byOid = new Map<string, Table>()
  const textColumns = new Map<string, { table: Table; column: Column }>()
  const rowsOf = new Map<Table, number>()
  const hidden = new Set<Table>()
  for (const r of relations) {
    if (excluded.has(`${r.schema}.${r.name}`) || !r.columns?.length) continue
    const table: Table = {
      schema: r.schema,
      name: r.name,
      kind: r.relkind === 'v' || r.relkind === 'm' ? 'view' : 'table',
      comment: r.comment ?? null,
      row_estimate: roundEstimate(r.reltuples),
      columns: r.columns.map((c) => toColumn(c, opts.sampleValues)),
      ...(r.row_security ? { row_security: true } : {}),
    }
    byOid.set(String(r.oid), table)
    rowsOf.set(table, r.reltuples ?? -1)
    if (r.rows_hidden) hidden.add(table)
    r.columns.forEach((c, i) => {
      if (c.category === 'S' && !c.enum) textColumns.set(columnKey(r.schema, r.name, c.name), { table, column: table.columns[i]! })
    })
  }
  const visible = new Set([...byOid.values()].map((t) => `${t.schema}.${t.name}`))

  let foreignKeys = 0
  for (const k of keys) {
    const table = byOid.get(String(k.oid))
    const columns = k.columns ?? []
    // A key over a column the role cannot see is not shown (it would name that column).
    if (!table || !columns.length || !columns.every((c) => table.columns.some((col) => col.name === c))) continue
    if (k.kind === 'p') table.primary_key = columns
    else if (k.kind === 'u') {
      table.unique ??= []
      if (!table.unique.some((u) => u.join('\u0000') === columns.join('\u0000'))) table.unique.push(columns)
    } else if (k.ref_table && k.ref_schema && k.ref_columns && visible.has(`${k.ref_schema}.${k.ref_table}`)) {
      const fk: ForeignKey = { columns, ref_schema: k.ref_schema, ref_table: k.ref_table, ref_columns: k.ref_columns }
      table.foreign_keys ??= []
      table.foreign_keys.push(fk)
      foreignKeys++
    }
  }

  const samplingStarted = now()
  let sampled = 0
  const candidates: ColumnValues[] = []
  const keep = (table: Table, column: Column, values: string[], distinct: number) => {
    if (opts.sampleValues > 0) {
      const samples = cleanSamples(values, opts.sampleValues)
      if (samples.length) column.samples = samples
    }
    if (indexValues > 0 && distinct > 0 && distinct <= indexValues) {
      const all = cleanSamples(values, indexValues)
      if (all.length) candidates.push({ schema: table.schema, table: table.name, column: column.name, values: all })
    }
  }
  if (readValues) {
    for (const s of statsRows) {
      const target = textColumns.get(columnKey(s.schema, s.name, s.column))
      if (!target) continue
      // n_distinct < 0 is a share of the rows (a column whose values grow with the table).
      const nd = s.n_distinct ?? 0
      const distinct = nd >= 0 ? nd : Math.round(-nd * Math.max(0, rowsOf.get(target.table) ?? 0))
      const vals = s.vals ?? []
      // Statistics list at most ~100 most common values plus histogram bounds: a column of few
      // distinct values that they do not cover is read from the table below instead.
      if (indexValues > 0 && distinct > 0 && distinct <= indexValues && new Set(vals).size < distinct) continue
      keep(target.table, target.column, vals, distinct)
      textColumns.delete(columnKey(s.schema, s.name, s.column))
      sampled++
    }
  }
  // Columns with no statistics (never analyzed): read a bounded slice of the table itself; one
  // more value than the index takes tells a low-cardinality column from the others.
  const direct: SampleTarget[] = readValues ? [...textColumns.values()].map(({ table, column }) => ({ schema: table.schema, table: table.name, column: column.name })) : []
  const perColumn = Math.max(opts.sampleValues, indexValues > 0 ? indexValues + 1 : 0)
  const directResult = await sampleColumns(db, direct, { perColumn, maxChars: MAX_SAMPLE_CHARS, budgetMs: opts.sampleBudgetMs, now })
  for (const [key, values] of directResult.values) {
    const target = textColumns.get(key)
    if (target && values.length) keep(target.table, target.column, values, values.length)
    sampled++
  }
  const values = boundValues(candidates, opts.indexValuesTotal ?? Number.POSITIVE_INFINITY)
  // Said, not silent: a table under row-level security the introspecting role is subject to gives
  // it no statistics and only the rows its policies allow (none, with SECURITY.md's recipe).
  const unsampled = readValues
    ? [...hidden]
        .filter((t) => t.columns.some((c) => textColumns.has(columnKey(t.schema, t.name, c.name)) && !c.samples))
        .map((t) => ({ table: `${t.schema}.${t.name}`, reason: RLS_REASON }))
    : []

  const tables = [...byOid.values()]
  return {
    tables,
    values,
    stats: {
      tables: tables.filter((t) => t.kind === 'table').length,
      views: tables.filter((t) => t.kind === 'view').length,
      columns: tables.reduce((n, t) => n + t.columns.length, 0),
      foreign_keys: foreignKeys,
      sampled_columns: sampled,
      sampling_skipped: directResult.skipped,
      indexed_columns: values.length,
      indexed_values: values.reduce((n, v) => n + v.values.length, 0),
      unsampled_tables: unsampled,
      catalog_ms: catalogMs,
      sampling_ms: now() - samplingStarted,
    },
  }
}

function toColumn(c: RawColumn, sampleValues: number): Column {
  const column: Column = { name: c.name, type: c.type, nullable: c.nullable }
  if (c.default !== null) column.default = c.default
  if (c.comment !== null) column.comment = c.comment
  // An enum's labels are its complete list of values: the best samples there are.
  if (c.enum && sampleValues > 0) column.samples = c.enum.slice(0, Math.max(sampleValues, 20))
  return column
}

/** At most `total` values in all: the columns with the fewest values first (a status or a line name before a long list). */
export function boundValues(columns: ColumnValues[], total: number): ColumnValues[] {
  const out: ColumnValues[] = []
  let used = 0
  for (const c of [...columns].sort((a, b) => a.values.length - b.values.length)) {
    if (used + c.values.length > total) break
    out.push(c)
    used += c.values.length
  }
  return out
}

function cleanSamples(values: string[], max: number): string[] {
  const out: string[] = []
  for (const v of values) {
    if (typeof v !== 'string' || !v.trim() || v.length > MAX_SAMPLE_CHARS || out.includes(v)) continue
    out.push(v)
    if (out.length >= max) break
  }
  return out
}

/** reltuples is an estimate (−1: never analyzed); two significant digits keep the version stable. */
function roundEstimate(reltuples: number | null): number | null {
  if (reltuples === null || reltuples < 0) return null
  if (reltuples < 100) return Math.round(reltuples)
  const magnitude = 10 ** (Math.floor(Math.log10(reltuples)) - 1)
  return Math.round(reltuples / magnitude) * magnitude
}
