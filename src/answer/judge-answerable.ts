import { linkIndexFor } from '../linking/index-cache'
import { scoreRelevance } from '../linking/relevance'
import { hasCjk } from '../linking/tokenize'
import { matchGlossary } from '../schema/glossary'
import type { Snapshot } from '../schema/snapshot-schema'

export type Verdict = { answerable: true; closest: string[] } | { answerable: false; closest: string[]; reason: string }

// Whether a snapshot describes itself in Chinese (comments), once per cached snapshot object.
const chineseSchemas = new WeakMap<Snapshot, boolean>()

function describedInChinese(snapshot: Snapshot): boolean {
  let v = chineseSchemas.get(snapshot)
  if (v === undefined) {
    v = snapshot.tables.some((t) => hasCjk(t.comment ?? '') || t.columns.some((c) => hasCjk(c.comment ?? '')))
    chineseSchemas.set(snapshot, v)
  }
  return v
}

/**
 * Before any call to the model: does any table match the conversation well enough to be worth
 * asking? Not when the best table's linking score is below `minScore` (UNANSWERABLE_MIN_SCORE; 0
 * turns the check off) — unless a glossary term is used (the company named it, so it is answerable),
 * or the question is English against a schema described in Chinese: its words then meet only the
 * identifiers, and an empty match says more about the language than about the data (measured:
 * "How many people entered the network yesterday?" matches nothing in the demo schema yet is
 * answerable). The model decides those (and says so: detect-unanswerable.ts).
 */
export function judgeAnswerable(snapshot: Snapshot, text: string, minScore: number): Verdict {
  const omitPublic = snapshot.tables.every((t) => t.schema === 'public')
  const relevance = scoreRelevance(linkIndexFor(snapshot), text)
  const closest = relevance.closest.map((i) => snapshot.tables[i]!).map((t) => (omitPublic ? t.name : `${t.schema}.${t.name}`))
  if (minScore <= 0 || relevance.best >= minScore) return { answerable: true, closest }
  if (matchGlossary(snapshot.glossary, text).length > 0) return { answerable: true, closest }
  if (!hasCjk(text) && describedInChinese(snapshot)) return { answerable: true, closest }
  return {
    answerable: false,
    closest,
    reason: closest.length
      ? `无法回答：数据库中没有与问题足够相关的表或字段（最接近的表：${closest.join('、')}）。`
      : '无法回答：数据库中没有与问题相关的表或字段。',
  }
}
