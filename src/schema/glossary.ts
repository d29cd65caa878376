import { GlossarySchema, type Glossary, type GlossaryEntry } from './glossary-schema'
import type { Table } from './snapshot-schema'

/**
 * The business glossary: a company's own words (客流, 进站人次, 换乘站, "GMV") mapped to the tables
 * and columns that hold them, with a definition (metric definitions included: "客流 = 进站人次 +
 * 出站人次"). Curated like the comment overlay: stored in KV under GLOSSARY_KEY, copied into every
 * snapshot stored after it (refresh or upload), so it survives refreshes and travels with the
 * snapshot the request path already reads. A question that uses a term keeps the term's tables in
 * schema linking, and only such a question gets the term's definition in its prompt.
 */
export const GLOSSARY_KEY = 'schema:glossary'
export { GlossaryEntrySchema, GlossarySchema, MAX_GLOSSARY_TERMS, type Glossary, type GlossaryEntry } from './glossary-schema'

/** A reference in the glossary that the schema does not have. */
export type GlossaryProblem = { term: string; ref: string; problem: 'unknown_table' | 'unknown_column' | 'no_reference' | 'duplicate_term' }

type Resolved = { table: number; column?: string }

/**
 * Resolves `table`, `schema.table`, `table.column` or `schema.table.column` against the tables;
 * an unqualified table name means `public` first, then any schema that has it.
 */
export function resolveTable(tables: Pick<Table, 'schema' | 'name'>[], ref: string): number {
  const dot = ref.indexOf('.')
  if (dot > 0) {
    const qualified = tables.findIndex((t) => t.schema === ref.slice(0, dot) && t.name === ref.slice(dot + 1))
    if (qualified >= 0) return qualified
  }
  const pub = tables.findIndex((t) => t.schema === 'public' && t.name === ref)
  return pub >= 0 ? pub : tables.findIndex((t) => t.name === ref)
}

export function resolveColumn(tables: Pick<Table, 'schema' | 'name' | 'columns'>[], ref: string): Resolved | null {
  // The column is after the last dot; the rest names the table (which may itself be qualified).
  const dot = ref.lastIndexOf('.')
  if (dot <= 0 || dot === ref.length - 1) return null
  const table = resolveTable(tables, ref.slice(0, dot))
  const column = ref.slice(dot + 1)
  if (table < 0 || !tables[table]!.columns.some((c) => c.name === column)) return null
  return { table, column }
}

/** Every reference the schema lacks, every entry that names nothing, every term given twice. */
export function checkGlossary(glossary: Glossary, tables: Pick<Table, 'schema' | 'name' | 'columns'>[]): GlossaryProblem[] {
  const problems: GlossaryProblem[] = []
  const seen = new Set<string>()
  for (const e of glossary.terms) {
    for (const word of [e.term, ...(e.aliases ?? [])]) {
      const key = word.toLowerCase()
      if (seen.has(key)) problems.push({ term: e.term, ref: word, problem: 'duplicate_term' })
      seen.add(key)
    }
    if (!e.tables?.length && !e.columns?.length) problems.push({ term: e.term, ref: '', problem: 'no_reference' })
    for (const ref of e.tables ?? []) if (resolveTable(tables, ref) < 0) problems.push({ term: e.term, ref, problem: 'unknown_table' })
    for (const ref of e.columns ?? []) if (!resolveColumn(tables, ref)) problems.push({ term: e.term, ref, problem: 'unknown_column' })
  }
  return problems
}

/**
 * The glossary as it applies to a schema that changed since it was curated (a refresh dropped a
 * column): references the schema lacks are left out, and so are entries left naming nothing. The
 * stored glossary keeps them, so they come back with the column; `unmatched` says what was left out.
 */
export function fitGlossary(glossary: Glossary | null, tables: Pick<Table, 'schema' | 'name' | 'columns'>[]): { terms: GlossaryEntry[]; unmatched: string[] } {
  if (!glossary) return { terms: [], unmatched: [] }
  const unmatched: string[] = []
  const terms: GlossaryEntry[] = []
  for (const e of glossary.terms) {
    const keptTables = (e.tables ?? []).filter((ref) => resolveTable(tables, ref) >= 0 || (unmatched.push(`${e.term} → ${ref}`), false))
    const keptColumns = (e.columns ?? []).filter((ref) => resolveColumn(tables, ref) !== null || (unmatched.push(`${e.term} → ${ref}`), false))
    if (!keptTables.length && !keptColumns.length) continue
    terms.push({ ...e, ...(e.tables ? { tables: keptTables } : {}), ...(e.columns ? { columns: keptColumns } : {}) })
  }
  return { terms, unmatched }
}

/** The entries a question uses: any of its words (term or alias) appears in the text. */
export function matchGlossary(terms: GlossaryEntry[] | undefined, text: string): GlossaryEntry[] {
  if (!terms?.length) return []
  const lower = text.toLowerCase()
  return terms.filter((e) => [e.term, ...(e.aliases ?? [])].some((w) => containsWord(lower, w.toLowerCase())))
}

/** The tables (indexes into `tables`) the matched entries name, directly or through a column. */
export function glossaryTables(entries: GlossaryEntry[], tables: Pick<Table, 'schema' | 'name' | 'columns'>[]): number[] {
  const out = new Set<number>()
  for (const e of entries) {
    for (const ref of e.tables ?? []) {
      const t = resolveTable(tables, ref)
      if (t >= 0) out.add(t)
    }
    for (const ref of e.columns ?? []) {
      const c = resolveColumn(tables, ref)
      if (c) out.add(c.table)
    }
  }
  return [...out]
}

/** The columns (table index and name) the matched entries name: shown even when their table is pruned. */
export function glossaryColumns(entries: GlossaryEntry[], tables: Pick<Table, 'schema' | 'name' | 'columns'>[]): { table: number; column: string }[] {
  const out: { table: number; column: string }[] = []
  for (const e of entries) {
    for (const ref of e.columns ?? []) {
      const c = resolveColumn(tables, ref)
      if (c?.column !== undefined) out.push({ table: c.table, column: c.column })
    }
  }
  return out
}

// Chinese terms match anywhere (no word boundaries in Chinese); ASCII terms only as whole words,
// so "GMV" is not found in "GMVX" nor "line" in "airline".
function containsWord(lowerText: string, lowerWord: string): boolean {
  if (!/^[\x20-\x7e]+$/.test(lowerWord)) return lowerText.includes(lowerWord)
  for (let at = lowerText.indexOf(lowerWord); at >= 0; at = lowerText.indexOf(lowerWord, at + 1)) {
    const before = lowerText[at - 1] ?? ' '
    const after = lowerText[at + lowerWord.length] ?? ' '
    if (!/[a-z0-9_]/.test(before) && !/[a-z0-9_]/.test(after)) return true
  }
  return false
}

export async function loadGlossary(kv: KVNamespace): Promise<Glossary | null> {
  const raw = await kv.get(GLOSSARY_KEY)
  if (raw === null) return null
  const parsed = GlossarySchema.safeParse(JSON.parse(raw))
  return parsed.success ? parsed.data : null
}
