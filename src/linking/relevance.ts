import type { LinkIndex } from './link-index'
import { pairTerms, terms } from './tokenize'

/** Score a table gets when one of its sample values appears literally in the question (as in select-schema). */
const LITERAL = 12
const CLOSEST = 3

export type Relevance = {
  /** The best table's direct score: Σ idf × weight over the question's terms, plus literal values. */
  best: number
  /** Up to three best-matching tables (indexes), best first; only tables that matched something. */
  closest: number[]
}

/**
 * How well the schema matches a question at all, before anything is sent to the model: the same
 * direct scores schema linking ranks tables by (select-schema.ts), without the neighbour and
 * schema shares — a question about salaries must not look answerable because `stations` has
 * neighbours. Below UNANSWERABLE_MIN_SCORE the question is answered `unanswerable` without a call
 * (measured on the demo database: eval/questions/metro-zh.json, docs/EVAL.md).
 */
export function scoreRelevance(index: LinkIndex, question: string): Relevance {
  const n = index.tokens.length
  const score = new Float64Array(n)
  for (const term of new Set([...terms(question), ...pairTerms(question)])) {
    const post = index.postings[term]
    if (!post) continue
    const idf = Math.log(1 + n / (post.length / 2))
    for (let k = 0; k < post.length; k += 2) score[post[k]!] = score[post[k]!]! + (idf * post[k + 1]!) / 10
  }
  const lower = question.toLowerCase()
  for (const [value, tables] of Object.entries(index.samples)) {
    if (lower.includes(value)) for (const t of tables) score[t] = score[t]! + LITERAL
  }
  const ranked = Array.from({ length: n }, (_, t) => t)
    .filter((t) => score[t]! > 0)
    .sort((a, b) => score[b]! - score[a]! || a - b)
  return { best: ranked.length ? score[ranked[0]!]! : 0, closest: ranked.slice(0, CLOSEST) }
}
