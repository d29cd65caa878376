import type { Column, Snapshot, Table } from '../schema/snapshot-schema'
import { cleanDataName, cleanDataValue } from './data-section'

// Postgres keywords that cannot stand as bare identifiers in the places we print them.
const RESERVED = new Set(
  'all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral leading limit localtime localtimestamp not null offset on only or order placing primary references returning select session_user some symmetric system_user table then to trailing true union unique user using variadic when where window with'.split(
    ' ',
  ),
)

/**
 * Quotes an identifier only when Postgres needs it (mixed case, Chinese, symbols, keywords). Names
 * come from the database: cleaned as data first (src/prompt/data-section.ts).
 */
export function quoteIdent(raw: string): string {
  const name = cleanDataName(raw)
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replaceAll('"', '""')}"`
}

export function qualifiedName(table: Pick<Table, 'schema' | 'name'>, omitPublic: boolean): string {
  return omitPublic && table.schema === 'public' ? quoteIdent(table.name) : `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`
}

const MAX_SAMPLES = 5
const MAX_SAMPLE_CHARS = 40
/** Comments explain names; a longer one is cut (it may hold anything a table owner typed). */
const MAX_COMMENT_CHARS = 200

/**
 * The schema as compact CREATE TABLE/VIEW statements with the comments a model needs to know
 * what cryptic names mean, and a few sample values so it filters the right column. All of it is
 * the database's text: every name, type, comment and sample is cleaned and bounded as data, and
 * the caller puts the whole inside a data section.
 */
export function renderSchema(snapshot: Pick<Snapshot, 'tables'>, tables: Table[] = snapshot.tables, shown?: ReadonlyMap<Table, readonly string[]>): string {
  const omitPublic = snapshot.tables.every((t) => t.schema === 'public')
  return tables.map((t) => renderTable(t, omitPublic, shown?.get(t))).join('\n\n')
}

/**
 * One table's CREATE statement. `shown` (column pruning, src/linking/prune-columns.ts): only these
 * columns are written, and a last comment line says how many were left out, so the model knows
 * the table has more than it sees (and does not invent their absence).
 */
export function renderTable(table: Table, omitPublic: boolean, shown?: readonly string[]): string {
  const name = qualifiedName(table, omitPublic)
  const head: string[] = []
  if (table.comment) head.push(`-- ${cleanDataValue(table.comment, MAX_COMMENT_CHARS)}`)
  const rows = table.row_estimate != null && table.row_estimate >= 0 ? ` -- ~${Math.round(table.row_estimate)} rows` : ''
  const pk = table.primary_key ?? []
  const keep = shown ? new Set(shown) : undefined
  const columns = keep ? table.columns.filter((c) => keep.has(c.name)) : table.columns
  const lines = columns.map((col) => ({ def: columnDef(table, col, omitPublic), note: columnNote(col) }))
  const fks = table.foreign_keys ?? []
  if (table.kind === 'table') {
    if (pk.length > 1) lines.push({ def: `  PRIMARY KEY (${pk.map(quoteIdent).join(', ')})`, note: '' })
    for (const fk of fks.filter((f) => f.columns.length > 1)) {
      lines.push({ def: `  FOREIGN KEY (${fk.columns.map(quoteIdent).join(', ')}) REFERENCES ${refName(fk, omitPublic)}(${fk.ref_columns.map(quoteIdent).join(', ')})`, note: '' })
    }
  }
  let body = lines.map((l, i) => `${l.def}${i < lines.length - 1 ? ',' : ''}${l.note ? ` -- ${l.note}` : ''}`).join('\n')
  const hidden = table.columns.length - columns.length
  if (hidden > 0) body += `\n${hiddenNote(hidden)}`
  head.push(`CREATE ${table.kind === 'view' ? 'VIEW' : 'TABLE'} ${name} (${rows}\n${body}\n);`)
  return head.join('\n')
}

/** The comment line that stands for the columns pruning left out. */
export function hiddenNote(hidden: number): string {
  return `  -- ${hidden} more column${hidden === 1 ? '' : 's'} not shown`
}

/** A column's line as rendered (with its comma and note): what column pruning weighs each column by. */
export function renderColumnLine(table: Table, col: Column, omitPublic: boolean): string {
  const note = columnNote(col)
  return `${columnDef(table, col, omitPublic)},${note ? ` -- ${note}` : ''}`
}

function columnDef(table: Table, col: Column, omitPublic: boolean): string {
  let def = `  ${quoteIdent(col.name)} ${cleanDataName(col.type)}`
  if (table.kind !== 'table') return def
  const pk = table.primary_key ?? []
  if (pk.length === 1 && col.name === pk[0]) def += ' PRIMARY KEY'
  else if (col.nullable === false) def += ' NOT NULL'
  const fk = (table.foreign_keys ?? []).find((f) => f.columns.length === 1 && f.columns[0] === col.name)
  if (fk) def += ` REFERENCES ${refName(fk, omitPublic)}(${fk.ref_columns.map(quoteIdent).join(', ')})`
  return def
}

function refName(fk: { ref_schema?: string | undefined; ref_table: string }, omitPublic: boolean): string {
  return qualifiedName({ schema: fk.ref_schema ?? 'public', name: fk.ref_table }, omitPublic)
}

function columnNote(col: Column): string {
  const parts: string[] = []
  if (col.comment) parts.push(cleanDataValue(col.comment, MAX_COMMENT_CHARS))
  if (col.samples?.length) {
    const values = col.samples.slice(0, MAX_SAMPLES).map((v) => `'${cleanDataValue(v, MAX_SAMPLE_CHARS).replaceAll("'", "''")}'`)
    parts.push(`e.g. ${values.join(', ')}`)
  }
  return parts.join(' ')
}
