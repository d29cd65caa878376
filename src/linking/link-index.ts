import { renderTable } from '../prompt/render-schema'
import type { Snapshot } from '../schema/snapshot-schema'
import { relatedWords, type Synonyms } from './synonyms'
import { estimateTokens, pairTerms, splitWords, stem, terms } from './tokenize'
import { valueKey } from './value-keys'

/**
 * What schema linking needs, computed once per snapshot (at refresh/upload, stored with it):
 * weighted terms per table in an inverted index (with the schema words' synonyms), the columns'
 * known values for literal matches, the foreign-key graph, each table's token cost, and the
 * examples' masked forms. Plain JSON.
 */
export type LinkIndex = {
  /**
   * Format version: a stored index of another version is rebuilt at load (2: word-pair terms,
   * `refs`; 3: synonyms, `values` instead of `samples`).
   */
  v: 3
  /** Estimated prompt tokens of each table's rendering, in snapshot order. */
  tokens: number[]
  /** Each table's schema, as an index into `groups`. */
  group: number[]
  groups: string[]
  /** term → [table, weight, table, weight, …] (weights × 10, integers). */
  postings: Record<string, number[]>
  /**
   * Known values of columns — the snapshot's samples and the distinct values a refresh collected
   * (`LinkInputs.values`) — as value keys (src/linking/value-keys.ts) → indexes into `columns`.
   */
  values: Record<string, number[]>
  /** The columns holding indexed values: [table, column name]. */
  columns: [number, string][]
  /** Foreign-key neighbours of each table (both directions). */
  edges: number[][]
  /** The tables each table's foreign keys reference (its parents). */
  refs: number[][]
  examples: { terms: string[]; skeleton: string[]; tables: number[]; tokens: number }[]
}

const W_TABLE_NAME = 30
const W_TABLE_COMMENT = 30
const W_COLUMN_NAME = 15
const W_COLUMN_COMMENT = 15
const W_SAMPLE = 10
const W_EXAMPLE = 10
/** A synonym of a schema word counts this share of the word's own weight. */
const SYNONYM_SHARE = 0.5

/** What a refresh adds to the snapshot for linking: never sent to the model, only indexed. */
export type LinkInputs = {
  /** Related words of schema words (public/linking/synonyms.txt), expanded into the index. */
  synonyms?: Synonyms
  /** Distinct values of low-cardinality text columns, collected at refresh (bounded there). */
  values?: { schema: string; table: string; column: string; values: string[] }[]
}

export function buildLinkIndex(snapshot: Pick<Snapshot, 'tables' | 'examples'>, inputs: LinkInputs = {}): LinkIndex {
  const synonyms = inputs.synonyms ?? new Map<string, string[]>()
  const omitPublic = snapshot.tables.every((t) => t.schema === 'public')
  const groups: string[] = []
  const groupOf = new Map<string, number>()
  const postings: Record<string, number[]> = Object.create(null)
  const values: Record<string, number[]> = Object.create(null)
  const columns: [number, string][] = []
  const columnId = new Map<string, number>()
  const addValue = (t: number, column: string, value: string) => {
    const key = valueKey(value)
    if (key === null) return
    const id = `${t}\u0000${column}`
    let c = columnId.get(id)
    if (c === undefined) {
      columnId.set(id, (c = columns.length))
      columns.push([t, column])
    }
    const list = (values[key] ??= [])
    if (!list.includes(c)) list.push(c)
  }
  const byName = new Map<string, number>()
  const tokens: number[] = []
  const group: number[] = []

  snapshot.tables.forEach((table, i) => {
    if (!groupOf.has(table.schema)) {
      groupOf.set(table.schema, groups.length)
      groups.push(table.schema)
    }
    group.push(groupOf.get(table.schema)!)
    tokens.push(estimateTokens(renderTable(table, omitPublic)) + 1)
    byName.set(`${table.schema}.${table.name}`.toLowerCase(), i)
    if (!byName.has(table.name.toLowerCase())) byName.set(table.name.toLowerCase(), i)
    const weights = new Map<string, number>()
    const add = (list: string[], w: number) => {
      for (const term of list) if ((weights.get(term) ?? 0) < w) weights.set(term, w)
    }
    const addWithSynonyms = (text: string, list: string[], w: number) => {
      add(list, w)
      const related = relatedWords(synonyms, text)
      if (related.length) add(terms(related.join(' ')), Math.round(w * SYNONYM_SHARE))
    }
    addWithSynonyms(table.name, nameTerms(table.name), W_TABLE_NAME)
    if (table.comment) addWithSynonyms(table.comment, terms(table.comment), W_TABLE_COMMENT)
    for (const col of table.columns) {
      addWithSynonyms(col.name, nameTerms(col.name), W_COLUMN_NAME)
      if (col.comment) addWithSynonyms(col.comment, terms(col.comment), W_COLUMN_COMMENT)
      for (const value of col.samples ?? []) {
        add(terms(value), W_SAMPLE)
        addValue(i, col.name, value)
      }
    }
    for (const [term, w] of weights) (postings[term] ??= []).push(i, w)
  })

  for (const v of inputs.values ?? []) {
    const t = byName.get(`${v.schema}.${v.table}`.toLowerCase())
    if (t === undefined || !snapshot.tables[t]!.columns.some((c) => c.name === v.column)) continue
    for (const value of v.values) addValue(t, v.column, value)
  }

  const edges: number[][] = snapshot.tables.map(() => [])
  const refs: number[][] = snapshot.tables.map(() => [])
  snapshot.tables.forEach((table, i) => {
    for (const fk of table.foreign_keys ?? []) {
      const j = byName.get(`${fk.ref_schema ?? table.schema}.${fk.ref_table}`.toLowerCase()) ?? byName.get(fk.ref_table.toLowerCase())
      if (j === undefined || j === i) continue
      if (!refs[i]!.includes(j)) refs[i]!.push(j)
      if (!edges[i]!.includes(j)) edges[i]!.push(j)
      if (!edges[j]!.includes(i)) edges[j]!.push(i)
    }
  })

  // Examples: the tables their SQL uses borrow their question's words.
  const examples = snapshot.examples.map((e) => {
    const used = tablesInSql(e.sql, byName)
    const qTerms = terms(e.question)
    for (const t of used) {
      for (const term of new Set(qTerms)) {
        const post = (postings[term] ??= [])
        let found = false
        for (let k = 0; k < post.length; k += 2) if (post[k] === t) found = true
        if (!found) post.push(t, W_EXAMPLE)
      }
    }
    return { terms: [...new Set(qTerms)], skeleton: skeleton(e.question), tables: used, tokens: estimateTokens(`问题：${e.question}\nSQL：${e.sql}`) + 2 }
  })

  return { v: 3, tokens, group, groups, postings, values, columns, edges, refs, examples }
}

/** The terms of an identifier: its words (stemmed), their pairs and CJK bigrams. */
export function nameTerms(name: string): string[] {
  return [...splitWords(name).filter((w) => w.length > 1).map(stem), ...terms(name), ...pairTerms(name)]
}

function tablesInSql(sql: string, byName: Map<string, number>): number[] {
  const used = new Set<number>()
  const re = /(?:from|join)\s+((?:"[^"]+"|[\w\u3400-\u9fff]+)(?:\s*\.\s*(?:"[^"]+"|[\w\u3400-\u9fff]+))?)/giu
  for (const m of sql.matchAll(re)) {
    const name = m[1]!.replace(/"/g, '').replace(/\s+/g, '').toLowerCase()
    const t = byName.get(name)
    if (t !== undefined) used.add(t)
  }
  return [...used]
}

/**
 * A question with its values masked (DAIL-SQL): numbers, quoted strings and — for Chinese — the
 * literal runs are what differs between questions of the same shape.
 */
export function skeleton(question: string): string[] {
  const masked = question
    .replace(/(["'“”‘’「」『』《》])[^"'“”‘’「」『』《》]{1,40}\1?/gu, ' _v_ ')
    .replace(/[0-9]+(?:\.[0-9]+)?/g, ' _n_ ')
    .replace(/\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*/g, (m, offset: number) => (offset === 0 ? m : ' _v_ '))
  return terms(masked).concat(masked.match(/_[vn]_/g) ?? [])
}
