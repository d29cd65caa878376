import type { LinkIndex } from './link-index'
import { pruneColumns, widenColumns, type ColumnPruning, type PrunedTable } from './prune-columns'
import { columnWords, isWeakTerm, pairTerms, terms } from './tokenize'
import { questionSpans } from './value-keys'

export type Linked = {
  /** Chosen tables, in snapshot order. */
  tables: number[]
  /** Estimated tokens of their rendering. */
  tokens: number
  /** Columns whose known values the question names ("Jetblue Airways" → airlines.Airline), by table. */
  values: { table: number; column: string; value: string }[]
  /** Kept tables shown with only some of their columns (column pruning): table → the columns shown. */
  shown: Map<number, string[]>
}

/**
 * Score added to a table whose column holds a value the question names ("沈塘桥"), when only that
 * table holds it; a value many tables hold adds less (× its idf over the largest idf).
 */
const LITERAL = 12
/** How much of its best neighbours' scores a table inherits (bridge tables, join paths). */
const NEIGHBOUR = 0.35
/** How much of its schema's best score a table inherits (one database of many). */
const GROUP = 0.6
/**
 * The priority, as a share of its kept child's, at which a referenced table competes for the
 * budget: a row of `Has_Pet` or `countrylanguage` is read through its parents (what the pet is,
 * the country's name), but a parent must not crowd out a better direct match.
 */
const PARENT = 0.85
/** The weight of the earlier questions' words (a follow-up "那女生呢？" is about the same tables). */
const HISTORY = 0.5
/** Earlier questions read for their words, the latest first. */
const HISTORY_TURNS = 3

/**
 * Each table's direct score for a question: Σ idf × field weight over the question's terms (the
 * earlier questions' words at `HISTORY`), plus `LITERAL` for a known value the question names —
 * and which columns hold those values. Shared by table choice and the "cannot answer" check.
 */
export function scoreTables(
  index: LinkIndex,
  question: string,
  opts: { history?: readonly string[]; strongOnly?: boolean } = {},
): { score: Float64Array; values: Linked['values']; weights: Map<string, number> } {
  const n = index.tokens.length
  const score = new Float64Array(n)
  const qTerms = new Set([...terms(question), ...pairTerms(question)])
  // Single CJK characters help rank tables but say little about whether any table fits at all.
  if (opts.strongOnly) for (const term of qTerms) if (isWeakTerm(term)) qTerms.delete(term)
  const history = opts.history ?? []
  const earlier = new Set<string>()
  for (const turn of history.slice(-HISTORY_TURNS)) for (const term of [...terms(turn), ...pairTerms(turn)]) if (!qTerms.has(term)) earlier.add(term)
  // Each term's weight (idf × its turn's share), for the columns of pruned tables too.
  const weights = new Map<string, number>()
  for (const [set, share] of [[qTerms, 1], [earlier, HISTORY]] as const) {
    for (const term of set) {
      const post = index.postings[term]
      if (!post) continue
      const df = post.length / 2
      const idf = Math.log(1 + n / df)
      weights.set(term, share * idf)
      for (let k = 0; k < post.length; k += 2) score[post[k]!] = score[post[k]!]! + (share * idf * post[k + 1]!) / 10
    }
  }
  const values: Linked['values'] = []
  const seen = new Set<number>()
  const maxIdf = Math.log(1 + n)
  for (const span of questionSpans(question)) {
    const cols = index.values[span]
    if (!cols) continue
    const tables = new Set(cols.map((c) => index.columns[c]![0]))
    const bonus = (LITERAL * Math.log(1 + n / tables.size)) / maxIdf
    for (const t of tables) score[t] = score[t]! + bonus
    for (const c of cols) {
      if (seen.has(c)) continue
      seen.add(c)
      values.push({ table: index.columns[c]![0], column: index.columns[c]![1], value: span })
    }
  }
  return { score, values, weights }
}

/**
 * The tables a question needs, within a token budget: tables scored by the question's terms
 * (inverse document frequency × field weight), literal sample values found in the question, and
 * their foreign-key neighbours' and schema's scores; greedily kept best first, each with the
 * tables that join it to the kept ones (shortest foreign-key paths), while the budget allows.
 * The tables a kept table references compete too, at `PARENT` × its priority. `pinned` tables
 * (named by the glossary terms the question uses) are kept first, whatever their score. With
 * `columns`, a wide table costs only the columns it shows (src/linking/prune-columns.ts), so more
 * tables fit; `pinnedColumns` (the glossary's columns) are among those shown.
 */
export function linkTables(
  index: LinkIndex,
  question: string,
  budget: number,
  opts: { history?: string[]; pinned?: readonly number[]; columns?: ColumnPruning; pinnedColumns?: readonly { table: number; column: string }[] } = {},
): Linked {
  const pinned = opts.pinned ?? []
  const n = index.tokens.length
  const { score, values, weights } = scoreTables(index, question, { history: opts.history ?? [] })
  const pruning = opts.columns && opts.columns.wide > 0 ? opts.columns : undefined
  const pruned = new Map<number, PrunedTable | null>()
  let cost = (t: number): number => index.tokens[t]!
  if (pruning) {
    const named = new Map<number, Set<string>>()
    for (const { table, column } of [...values, ...(opts.pinnedColumns ?? [])]) {
      let set = named.get(table)
      if (!set) named.set(table, (set = new Set()))
      set.add(column)
    }
    const words = new Set([question, ...(opts.history ?? []).slice(-HISTORY_TURNS)].flatMap(columnWords))
    const signals = { weights, words, pinned: named }
    cost = (t) => {
      let p = pruned.get(t)
      if (p === undefined) pruned.set(t, (p = pruneColumns(pruning, t, index.tokens[t]!, budget, signals)))
      return p ? p.tokens : index.tokens[t]!
    }
  }

  // Bridges and join partners inherit from their neighbours; tables from the best schema.
  const linked = new Float64Array(n)
  for (let t = 0; t < n; t++) {
    const near = index.edges[t]!.map((j) => score[j]!).sort((a, b) => b - a)
    linked[t] = score[t]! + NEIGHBOUR * ((near[0] ?? 0) + (near[1] ?? 0))
  }
  const groupBest = new Float64Array(index.groups.length)
  for (let t = 0; t < n; t++) groupBest[index.group[t]!] = Math.max(groupBest[index.group[t]!]!, linked[t]!)
  const rank = new Float64Array(n)
  for (let t = 0; t < n; t++) rank[t] = linked[t]! + (index.groups.length > 1 ? GROUP * groupBest[index.group[t]!]! : 0)

  const order = Array.from({ length: n }, (_, t) => t).sort((a, b) => rank[b]! - rank[a]! || a - b)
  const kept = new Set<number>()
  let used = 0
  // Parents of kept tables wait here, each at a share of its kept child's priority.
  const waiting = new Map<number, number>()
  for (const t of pinned) {
    if (kept.has(t) || used + cost(t) > budget) continue
    kept.add(t)
    used += cost(t)
    for (const ref of index.refs[t]!) waiting.set(ref, Math.max(waiting.get(ref) ?? 0, PARENT * Math.max(rank[t]!, rank[order[0]!]!)))
  }
  let next = 0
  for (;;) {
    while (next < n && kept.has(order[next]!)) next++
    const direct = next < n && (rank[order[next]!]! > 0 || kept.size === 0) ? order[next]! : -1
    let parent = -1
    for (const [t, p] of waiting) if (parent < 0 || p > waiting.get(parent)!) parent = t
    let t: number
    let priority: number
    if (direct >= 0 && (parent < 0 || rank[direct]! >= waiting.get(parent)!)) {
      t = direct
      priority = rank[t]!
      next++
    } else if (parent >= 0) {
      t = parent
      priority = waiting.get(parent)!
      waiting.delete(parent)
      if (kept.has(t)) continue
    } else break
    if (used + cost(t) > budget) continue
    kept.add(t)
    used += cost(t)
    // Keep what joins it to the tables already kept in its schema.
    for (const bridge of joinPath(index, t, kept)) {
      if (kept.has(bridge) || used + cost(bridge) > budget) continue
      kept.add(bridge)
      used += cost(bridge)
    }
    for (const ref of index.refs[t]!) if (!kept.has(ref)) waiting.set(ref, Math.max(waiting.get(ref) ?? 0, PARENT * priority))
  }
  // What no further table could use goes back to the pruned tables' columns, the first kept first.
  const keptPruned = new Map<number, PrunedTable>()
  for (const t of kept) {
    const p = pruned.get(t)
    if (p) keptPruned.set(t, p)
  }
  if (pruning && keptPruned.size) used += widenColumns(pruning.tables, keptPruned, [...kept], budget - used)
  const shown = new Map<number, string[]>()
  for (const [t, p] of keptPruned) shown.set(t, p.shown)
  return { tables: [...kept].sort((a, b) => a - b), tokens: used, values: values.filter((v) => kept.has(v.table)), shown }
}

/** Intermediate tables on the shortest FK path (≤ 3 hops) from `from` to any kept table of its schema. */
function joinPath(index: LinkIndex, from: number, kept: Set<number>): number[] {
  const group = index.group[from]
  const targets = [...kept].filter((t) => t !== from && index.group[t] === group)
  if (!targets.length || index.edges[from]!.some((j) => kept.has(j))) return []
  const prev = new Map<number, number>([[from, -1]])
  let frontier = [from]
  for (let hop = 0; hop < 3 && frontier.length; hop++) {
    const next: number[] = []
    for (const t of frontier) {
      for (const j of index.edges[t]!) {
        if (prev.has(j)) continue
        prev.set(j, t)
        if (kept.has(j)) {
          const path: number[] = []
          for (let k = prev.get(j)!; k !== from && k !== -1; k = prev.get(k)!) path.push(k)
          return path
        }
        next.push(j)
      }
    }
    frontier = next
  }
  return []
}

