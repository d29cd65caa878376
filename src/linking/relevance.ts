import type { LinkIndex } from './link-index'
import { scoreTables } from './select-schema'

const CLOSEST = 3

export type Relevance = {
  /** The best table's direct score: Σ idf × weight over the question's terms, plus known values. */
  best: number
  /** Up to three best-matching tables (indexes), best first; only tables that matched something. */
  closest: number[]
}

/**
 * How well the schema matches a question at all, before anything is sent to the model: the same
 * direct scores schema linking ranks tables by (scoreTables) without its weak single-character
 * terms, and without the neighbour and schema shares — a question about salaries must not look answerable because `stations` has neighbours.
 * Below UNANSWERABLE_MIN_SCORE the question is answered `unanswerable` without a call (measured on
 * the demo database: eval/questions/metro-zh.json, docs/EVAL.md).
 */
export function scoreRelevance(index: LinkIndex, question: string): Relevance {
  const { score } = scoreTables(index, question, { strongOnly: true })
  const ranked = Array.from({ length: score.length }, (_, t) => t)
    .filter((t) => score[t]! > 0)
    .sort((a, b) => score[b]! - score[a]! || a - b)
  return { best: ranked.length ? score[ranked[0]!]! : 0, closest: ranked.slice(0, CLOSEST) }
}
