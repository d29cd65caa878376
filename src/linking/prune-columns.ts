import { hiddenNote, renderColumnLine } from '../prompt/render-schema'
import type { Table } from '../schema/snapshot-schema'
import { nameTerms } from './link-index'
import { columnWords, estimateTokens, isWeakTerm, terms } from './tokenize'

/**
 * Column pruning inside kept tables: when the schema is cut to a budget, a table wider than
 * `wide` columns shows only the columns that matter — its keys (primary key, its foreign-key
 * columns and the columns other tables' foreign keys reference), the columns the question (or
 * history, a glossary term, a value it names) points at, then the others by relevance while the
 * table stays within its share of the budget — and says how many it left out
 * (src/prompt/render-schema.ts). What a wide table no longer spends lets more tables in.
 */
export type ColumnPruning = {
  /** The snapshot's tables, in index order (the link index knows tables only by number). */
  tables: readonly Table[]
  /** Tables with more columns than this are pruned; 0 = never (SCHEMA_WIDE_TABLE_COLUMNS). */
  wide: number
  /** The share of the budget a pruned table fills by relevance; `TABLE_SHARE` unless measuring another. */
  share?: number
}

/**
 * The share of the schema budget one pruned table may fill with columns chosen by relevance (its
 * keys and named columns are shown whatever they cost). Half: on BIRD a fifth kept all the gold
 * tables of 0.3–3.5 pp more questions at 500–2,000 tokens, but hid a gold column from 1.0–1.2 % of
 * questions at 2,000 and 3,000, where the whole table would have fit; at half, no budget measured
 * shows fewer questions all their gold tables and columns than without pruning (BENCHMARKS.md,
 * "Column pruning").
 */
export const TABLE_SHARE = 0.5
/** A column whose sample values the question names a word of counts this share of a named one. */
const SAMPLE_SHARE = 0.5
/**
 * A question's term names a column only when it names at most this many of the table's columns:
 * 传感器 in the comment of fifty sensor columns says nothing about which of them is meant (it
 * still ranks them above the others).
 */
const NAMES_AT_MOST = 3
/** The score of a column word the question uses that linking's terms leave out (`name`, `id`). */
const COLUMN_WORD = 1

/**
 * A table's label: its column called `name` or `title`, else its first one whose name ends so
 * (`card_name`, `Title`) or says 名称, 名字, 姓名, 标题. A question that names a row ("card
 * 'Duress'") filters on it even when no value index knows the row, and an answer lists it: it is
 * shown like a key.
 */
const LABEL = /(?:name|title)s?$|名称|名字|姓名|标题/iu

/** Per table, computed once per snapshot (its tables array) and kept per isolate. */
type ColumnFacts = {
  /** Estimated tokens of each column's line. */
  tokens: number[]
  /** The table's tokens without its column lines, plus the "more columns not shown" line. */
  base: number
  /** Each column's name and comment terms. */
  named: string[][]
  /** Each column's name as `columnWords` (with `name`, `id`, which `terms` drop). */
  words: string[][]
  /** How many of the table's columns each of those terms and words occurs in. */
  spread: Map<string, number>
  /** Each column's sample values' terms. */
  sampled: string[][]
  /** Always shown: primary key, foreign-key columns of both ends, the label column. */
  key: boolean[]
}

const factsCache = new WeakMap<readonly Table[], { facts: (ColumnFacts | undefined)[]; referenced: Map<number, Set<string>> }>()

/** What a question says about columns: term → weight (idf × its turn's share), and which columns are named. */
export type ColumnSignals = {
  weights: ReadonlyMap<string, number>
  /** The question's and history's `columnWords`. */
  words: ReadonlySet<string>
  /** Columns named by a glossary term or holding a value the question names: table → column names. */
  pinned: ReadonlyMap<number, ReadonlySet<string>>
}

/** A pruned table: the columns it shows (in table order) and what it then costs. */
export type PrunedTable = {
  shown: string[]
  tokens: number
  /** The columns left out, most relevant first, with their tokens: what `widenColumns` adds back. */
  rest: { name: string; tokens: number }[]
}

/**
 * The columns table `t` shows, and what it then costs, or null when it is shown whole (not wide,
 * fits its share, or every column matters). `fullTokens` is its whole rendering's estimate.
 */
export function pruneColumns(pruning: ColumnPruning, t: number, fullTokens: number, budget: number, signals: ColumnSignals): PrunedTable | null {
  const table = pruning.tables[t]!
  const share = Math.floor(budget * (pruning.share ?? TABLE_SHARE))
  if (pruning.wide <= 0 || table.columns.length <= pruning.wide || fullTokens <= share) return null
  const facts = factsOf(pruning.tables, t, fullTokens)
  const pinned = signals.pinned.get(t)
  const n = table.columns.length
  const score = new Float64Array(n)
  const show = new Uint8Array(n)
  let tokens = facts.base
  for (let c = 0; c < n; c++) {
    let named = false
    for (const term of facts.named[c]!) {
      const w = signals.weights.get(term)
      if (w === undefined) continue
      score[c] = score[c]! + w
      if (!isWeakTerm(term) && facts.spread.get(term)! <= NAMES_AT_MOST) named = true
    }
    for (const word of facts.words[c]!) {
      if (!signals.words.has(word) || signals.weights.has(word)) continue
      score[c] = score[c]! + COLUMN_WORD
      if (facts.spread.get(word)! <= NAMES_AT_MOST) named = true
    }
    for (const term of facts.sampled[c]!) score[c] = score[c]! + SAMPLE_SHARE * (signals.weights.get(term) ?? 0)
    if (named || facts.key[c] || pinned?.has(table.columns[c]!.name)) {
      show[c] = 1
      tokens += facts.tokens[c]!
    }
  }
  // The rest by relevance (then table order: the first columns of a table tend to matter most).
  const rest = []
  for (let c = 0; c < n; c++) if (!show[c]) rest.push(c)
  rest.sort((a, b) => score[b]! - score[a]! || a - b)
  let next = 0
  for (; next < rest.length; next++) {
    const c = rest[next]!
    if (tokens + facts.tokens[c]! > share) break
    show[c] = 1
    tokens += facts.tokens[c]!
  }
  const shown = table.columns.filter((_, c) => show[c]).map((col) => col.name)
  if (shown.length === n || tokens >= fullTokens) return null
  return { shown, tokens, rest: rest.slice(next).map((c) => ({ name: table.columns[c]!.name, tokens: facts.tokens[c]! })) }
}

/**
 * Gives back what the budget has left once no other table fits: each pruned table, in the order
 * given (the most wanted first), shows its next most relevant columns while `spare` tokens last.
 * Returns the tokens spent; a table that ends up showing every column is shown whole.
 */
export function widenColumns(tables: readonly Table[], pruned: Map<number, PrunedTable>, order: readonly number[], spare: number): number {
  let spent = 0
  for (const t of order) {
    const p = pruned.get(t)
    if (!p) continue
    let added = 0
    while (added < p.rest.length && spent + p.rest[added]!.tokens <= spare) spent += p.rest[added++]!.tokens
    if (!added) continue
    const names = new Set([...p.shown, ...p.rest.slice(0, added).map((c) => c.name)])
    const shown = tables[t]!.columns.filter((c) => names.has(c.name)).map((c) => c.name)
    if (shown.length === tables[t]!.columns.length) pruned.delete(t)
    else pruned.set(t, { shown, tokens: p.tokens, rest: p.rest.slice(added) })
  }
  return spent
}

function factsOf(tables: readonly Table[], t: number, fullTokens: number): ColumnFacts {
  let cache = factsCache.get(tables)
  if (!cache) factsCache.set(tables, (cache = { facts: [], referenced: referencedColumns(tables) }))
  let facts = cache.facts[t]
  if (facts) return facts
  const table = tables[t]!
  const omitPublic = tables.every((x) => x.schema === 'public')
  const tokens = table.columns.map((col) => estimateTokens(renderColumnLine(table, col, omitPublic)))
  const label = (table.columns.find((col) => /^(?:name|title)$/i.test(col.name)) ?? table.columns.find((col) => LABEL.test(col.name)))?.name
  const keys = new Set([...(table.primary_key ?? []), ...(table.foreign_keys ?? []).flatMap((f) => f.columns), ...(cache.referenced.get(t) ?? []), ...(label ? [label] : [])])
  const named = table.columns.map((col) => [...new Set([...nameTerms(col.name), ...(col.comment ? terms(col.comment) : [])])])
  const words = table.columns.map((col) => [...new Set(columnWords(col.name))])
  const spread = new Map<string, number>()
  named.forEach((list, c) => {
    for (const term of new Set([...list, ...words[c]!])) spread.set(term, (spread.get(term) ?? 0) + 1)
  })
  facts = {
    tokens,
    base: Math.max(0, fullTokens - tokens.reduce((a, b) => a + b, 0)) + estimateTokens(hiddenNote(100)),
    named,
    words,
    spread,
    sampled: table.columns.map((col) => [...new Set((col.samples ?? []).flatMap((v) => terms(v)))]),
    key: table.columns.map((col) => keys.has(col.name)),
  }
  cache.facts[t] = facts
  return facts
}

/** The columns other tables' foreign keys reference, by table: the far end of each join. */
function referencedColumns(tables: readonly Table[]): Map<number, Set<string>> {
  const byName = new Map<string, number>()
  tables.forEach((table, i) => {
    byName.set(`${table.schema}.${table.name}`.toLowerCase(), i)
    if (!byName.has(table.name.toLowerCase())) byName.set(table.name.toLowerCase(), i)
  })
  const out = new Map<number, Set<string>>()
  for (const table of tables) {
    for (const fk of table.foreign_keys ?? []) {
      const j = byName.get(`${fk.ref_schema ?? table.schema}.${fk.ref_table}`.toLowerCase()) ?? byName.get(fk.ref_table.toLowerCase())
      if (j === undefined) continue
      let set = out.get(j)
      if (!set) out.set(j, (set = new Set()))
      for (const c of fk.ref_columns) set.add(c)
    }
  }
  return out
}
