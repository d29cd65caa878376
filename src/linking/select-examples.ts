import type { Example } from '../schema/snapshot-schema'
import type { LinkIndex } from './link-index'
import { skeleton } from './link-index'
import { terms } from './tokenize'

/**
 * The examples most like the question, DAIL-SQL style: questions compared with their values
 * masked (the shape of the question), plus the words they share; the top `k` within `budget`
 * tokens, most similar first. All of them when they fit anyway.
 */
export function selectExamples(index: LinkIndex, examples: Example[], question: string, k: number, budget: number): Example[] {
  const total = index.examples.reduce((n, e) => n + e.tokens, 0)
  if (examples.length <= k && total <= budget) return examples
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
  scored.sort((a, b) => b.score - a.score || a.i - b.i)
  const out: Example[] = []
  let used = 0
  for (const { i } of scored) {
    if (out.length >= k) break
    const cost = index.examples[i]!.tokens
    if (used + cost > budget) continue
    out.push(examples[i]!)
    used += cost
  }
  return out
}
