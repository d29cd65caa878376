import { AppError } from '../errors'
import { readNames } from '../sql/admission/read-names'
import { attachLinkIndex, roleLinkIndexOf } from '../linking/index-cache'
import { buildLinkIndex, type LinkIndex, type LinkInputs } from '../linking/link-index'
import { resolveColumn, resolveTable } from './glossary'
import type { Column, Example, RoleView, Snapshot, Table } from './snapshot-schema'

/**
 * What a Postgres role of DB_ROLES is told about the database: the snapshot cut to the tables and
 * columns the refresh found it may SELECT — and nothing that would name or reveal the rest:
 * - a table it may not read is gone, and so is every key, foreign key, glossary entry and example
 *   that names it; a column it may not read likewise (an example whose SQL names a hidden column
 *   of a table it uses is left out);
 * - tables whose rows are filtered per caller (`row_security`) lose their sample values and row
 *   estimate: those are the service role's rows, not this caller's;
 * - the other roles' views are not in it.
 * Postgres still decides at run time: this only keeps the prompt (and `meta.tables`, linking,
 * `unanswerable.closest_tables`) to what the role could read anyway.
 */
export function snapshotForRole(snapshot: Snapshot, role: string): Snapshot {
  let byRole = views.get(snapshot)
  if (!byRole) views.set(snapshot, (byRole = new Map()))
  let view = byRole.get(role)
  if (!view) {
    const recorded = snapshot.roles?.find((r) => r.name === role)
    if (!recorded) {
      throw new AppError(503, 'schema_unavailable', `The cached schema snapshot (${snapshot.version}) records nothing about this role: a refresh records each role of DB_ROLES that exists in the database (POST /v1/admin/schema/refresh)`, { retryable: true, retryAfterSeconds: 5 })
    }
    view = cutToRole(snapshot, recorded)
    attachLinkIndex(view, roleLinkIndexOf(snapshot, role))
    byRole.set(role, view)
  }
  return view
}

// Per cached snapshot object, so each role's view (and its rendering and link index) is built once.
const views = new WeakMap<Snapshot, Map<string, Snapshot>>()

const keyOf = (schema: string, name: string) => `${schema}\u0000${name}`

export function cutToRole(snapshot: Snapshot, recorded: RoleView): Snapshot {
  const grants = new Map<string, Set<string> | null>()
  for (const t of recorded.tables) grants.set(keyOf(t.schema, t.name), t.columns ? new Set(t.columns) : null)
  const visible = new Map<string, Set<string>>()
  const hiddenColumns = new Map<string, Set<string>>()
  for (const t of snapshot.tables) {
    const grant = grants.get(keyOf(t.schema, t.name))
    const shown = grant === undefined ? [] : t.columns.filter((c) => grant === null || grant.has(c.name)).map((c) => c.name)
    if (!shown.length) continue
    visible.set(keyOf(t.schema, t.name), new Set(shown))
    const hidden = t.columns.filter((c) => !shown.includes(c.name)).map((c) => c.name.toLowerCase())
    if (hidden.length) hiddenColumns.set(keyOf(t.schema, t.name), new Set(hidden))
  }
  const tables: Table[] = []
  for (const t of snapshot.tables) {
    const shown = visible.get(keyOf(t.schema, t.name))
    if (shown) tables.push(cutTable(t, shown, visible))
  }
  const { roles: _others, glossary, examples, ...rest } = snapshot
  const kept = (glossary ?? []).filter((e) => [...(e.tables ?? []), ...(e.columns ?? [])].every((ref) => sameTarget(snapshot.tables, tables, ref, visible)))
  return {
    ...rest,
    tables,
    examples: examples.filter((e) => readsOnlyVisible(e, snapshot.tables, visible, hiddenColumns)),
    ...(kept.length ? { glossary: kept } : {}),
  }
}

/** An uploaded snapshot's role views must name its own tables and columns (and each role once). */
export function checkRoleViews(snapshot: Pick<Snapshot, 'tables' | 'roles'>): string[] {
  const problems: string[] = []
  const tables = new Map(snapshot.tables.map((t) => [keyOf(t.schema, t.name), new Set(t.columns.map((c) => c.name))]))
  const seen = new Set<string>()
  for (const r of snapshot.roles ?? []) {
    if (seen.has(r.name)) problems.push(`role ${r.name}: given twice`)
    seen.add(r.name)
    for (const t of r.tables) {
      const columns = tables.get(keyOf(t.schema, t.name))
      if (!columns) problems.push(`role ${r.name}: no table ${t.schema}.${t.name}`)
      else for (const c of t.columns ?? []) if (!columns.has(c)) problems.push(`role ${r.name}: no column ${t.schema}.${t.name}.${c}`)
    }
  }
  return problems
}

/**
 * Each role's link index, built from its view with the refresh's synonyms and the row values it
 * may see (stored beside the snapshot's own index by snapshot-store).
 */
export function buildRoleLinkIndexes(snapshot: Snapshot, inputs: LinkInputs = {}): Record<string, LinkIndex> | undefined {
  if (!snapshot.roles?.length) return undefined
  const byRole: Record<string, LinkIndex> = Object.create(null)
  for (const recorded of snapshot.roles) {
    const view = cutToRole(snapshot, recorded)
    byRole[recorded.name] = buildLinkIndex(view, { synonyms: inputs.synonyms, values: valuesForRole(view, inputs.values) })
  }
  return byRole
}

/** The row values a role's link index may hold: its own columns, never rows filtered per caller. */
export function valuesForRole(view: Pick<Snapshot, 'tables'>, values: LinkInputs['values']): LinkInputs['values'] {
  const filtered = new Set(view.tables.filter((t) => t.row_security).map((t) => keyOf(t.schema, t.name)))
  return values?.filter((v) => !filtered.has(keyOf(v.schema, v.table)))
}

function cutTable(t: Table, shown: Set<string>, visible: Map<string, Set<string>>): Table {
  const all = (names: string[]) => names.every((n) => shown.has(n))
  const columns: Column[] = t.columns.filter((c) => shown.has(c.name)).map((c) => (t.row_security && c.samples ? withoutSamples(c) : c))
  const { primary_key, unique, foreign_keys, row_estimate, ...rest } = t
  const keptUnique = unique?.filter(all) ?? []
  const keptForeign = (foreign_keys ?? []).filter((fk) => {
    const target = visible.get(keyOf(fk.ref_schema ?? t.schema, fk.ref_table)) ?? visible.get(keyOf('public', fk.ref_table))
    return all(fk.columns) && target !== undefined && fk.ref_columns.every((c) => target.has(c))
  })
  return {
    ...rest,
    columns,
    ...(row_estimate !== undefined ? { row_estimate: t.row_security ? null : row_estimate } : {}),
    ...(primary_key && all(primary_key) ? { primary_key } : {}),
    ...(keptUnique.length ? { unique: keptUnique } : {}),
    ...(keptForeign.length ? { foreign_keys: keptForeign } : {}),
  }
}

function withoutSamples(c: Column): Column {
  const { samples: _rows, ...rest } = c
  return rest
}

/**
 * A glossary reference stays only when it names, in the role's view, the very table (and column)
 * it names in the whole schema — an unqualified name must not slide onto another schema's table.
 */
function sameTarget(all: Table[], view: Table[], ref: string, visible: Map<string, Set<string>>): boolean {
  const asColumn = resolveColumn(all, ref)
  const full = asColumn ? all[asColumn.table]! : all[resolveTable(all, ref)]
  if (!full) return false
  const shown = visible.get(keyOf(full.schema, full.name))
  if (!shown || (asColumn?.column !== undefined && !shown.has(asColumn.column))) return false
  const inView = asColumn ? resolveColumn(view, ref) : { table: resolveTable(view, ref) }
  const mine = inView ? view[inView.table] : undefined
  return mine !== undefined && mine.schema === full.schema && mine.name === full.name
}

/**
 * Whether an example may be shown to a role: every relation its SQL reads — as Postgres's parser
 * names them (src/sql/admission/read-names.ts: `U&"\0065mployees"` is `employees`; CTE names are
 * not relations) — is in the role's view, and it refers to no hidden column of them (compared
 * without case: in doubt, left out). An unqualified name must be visible in every business schema
 * that has it (search_path decides which one Postgres reads); a name the snapshot does not know, or
 * SQL that does not parse, is never shown.
 */
function readsOnlyVisible(example: Example, all: Table[], visible: Map<string, Set<string>>, hiddenColumns: Map<string, Set<string>>): boolean {
  const names = readNames(example.sql)
  if (!names) return false
  const keys: string[] = []
  for (const relation of names.relations) {
    const dot = relation.indexOf('.')
    const matches = dot > 0 ? [keyOf(relation.slice(0, dot), relation.slice(dot + 1))] : all.filter((t) => t.name === relation).map((t) => keyOf(t.schema, t.name))
    if (!matches.length || matches.some((k) => !visible.has(k))) return false
    keys.push(...matches)
  }
  const columns = names.columns.map((c) => c.toLowerCase())
  return !keys.some((k) => columns.some((c) => hiddenColumns.get(k)?.has(c)))
}
