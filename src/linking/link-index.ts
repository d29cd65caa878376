import { renderTable } from '../prompt/render-schema'
import type { Snapshot } from '../schema/snapshot-schema'
import { estimateTokens, pairTerms, splitWords, stem, terms } from './tokenize'

/**
 * What schema linking needs, computed once per snapshot (at refresh/upload, stored with it):
 * weighted terms per table in an inverted index, sample values for literal matches, the
 * foreign-key graph, each table's token cost, and the examples' masked forms. Plain JSON.
 */
export type LinkIndex = {
  /** Format version: a stored index of another version is rebuilt at load (2: word-pair terms, `refs`). */
  v: 2
  /** Estimated prompt tokens of each table's rendering, in snapshot order. */
  tokens: number[]
  /** Each table's schema, as an index into `groups`. */
  group: number[]
  groups: string[]
  /** term → [table, weight, table, weight, …] (weights × 10, integers). */
  postings: Record<string, number[]>
  /** Lower-cased sample values (≥ 2 characters) → tables holding them. */
  samples: Record<string, number[]>
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

export function buildLinkIndex(snapshot: Pick<Snapshot, 'tables' | 'examples'>): LinkIndex {
  const omitPublic = snapshot.tables.every((t) => t.schema === 'public')
  const groups: string[] = []
  const groupOf = new Map<string, number>()
  const postings: Record<string, number[]> = Object.create(null)
  const samples: Record<string, number[]> = Object.create(null)
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
    add(nameTerms(table.name), W_TABLE_NAME)
    if (table.comment) add(terms(table.comment), W_TABLE_COMMENT)
    for (const col of table.columns) {
      add(nameTerms(col.name), W_COLUMN_NAME)
      if (col.comment) add(terms(col.comment), W_COLUMN_COMMENT)
      for (const value of col.samples ?? []) {
        add(terms(value), W_SAMPLE)
        const key = value.trim().toLowerCase()
        if (key.length >= 2) (samples[key] ??= []).includes(i) || samples[key]!.push(i)
      }
    }
    for (const [term, w] of weights) (postings[term] ??= []).push(i, w)
  })

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

  return { v: 2, tokens, group, groups, postings, samples, edges, refs, examples }
}

function nameTerms(name: string): string[] {
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
