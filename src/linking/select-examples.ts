import type { Example } from '../schema/snapshot-schema'
import type { LinkIndex } from './link-index'
import { skeleton } from './link-index'
import { terms } from './tokenize'

export type ScoredExample = Example & { similarity: number }

/**
 * The examples most like the question, DAIL-SQL style: questions compared with their values
 * masked (the shape of the question), plus the words they share; the top `k` within `budget`
 * tokens, most similar first. All of them (in their order) when they fit anyway. Each with its
 * similarity (rounded to 3 places), which `meta.examples` reports.
 */
export function selectExamples(index: LinkIndex, examples: Example[], question: string, k: number, budget: number, skip?: string): ScoredExample[] {
  // An example held out (eval) is left out as if it were not there.
  const scored = scoreExamples(index, question).filter(({ i }) => i < examples.length && (skip === undefined || examples[i]!.id !== skip))
  const total = scored.reduce((n, { i }) => n + index.examples[i]!.tokens, 0)
  const round = (x: number) => Math.round(x * 1000) / 1000
  if (scored.length <= k && total <= budget) return scored.map(({ i, score }) => ({ ...examples[i]!, similarity: round(score) }))
  scored.sort((a, b) => b.score - a.score || a.i - b.i)
  const out: ScoredExample[] = []
  let used = 0
  for (const { i, score } of scored) {
    if (out.length >= k) break
    const cost = index.examples[i]!.tokens
    if (used + cost > budget) continue
    out.push({ ...examples[i]!, similarity: round(score) })
    used += cost
  }
  return out
}

function scoreExamples(index: LinkIndex, question: string): { i: number; score: number }[] {
  const shape = new Set(skeleton(question))
  const words = new Set(terms(question))
  const scored = index.examples.map((e, i) => {
    const s = new Set(e.skeleton)
    let both = 0
    for (const x of shape) if (s.has(x)) both++
    const jaccard = both / Math.max(1, shape.size + s.size - both)
    let shared = 0
    for (const w of e.terms) if (words.has(w)) shared++
    return { i, score: jaccard + (0.5 * shared) / Math.max(1, words.size) }
  })
  return scored
}
