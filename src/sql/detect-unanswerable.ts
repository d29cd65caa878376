/**
 * The model saying the schema cannot answer a question. The prompt asks for a fixed line —
 * `无法回答：<原因>` — and no SQL; models do not always obey, so an answer without SQL is also read
 * for the usual phrasings, Chinese and English. An answer WITH SQL is unanswerable only by the
 * marker line: "数据库中没有直接的客流字段，但可以用 entries + exits 计算" comes with a fine query.
 */
export const UNANSWERABLE_MARKER = '无法回答：'

const MARKER_LINE = /^[\s>*_#-]*(?:无法回答|cannot answer|unanswerable)\s*[:：]\s*(.*)$/im
const PHRASES: RegExp[] = [
  /无法(?:回答|查询|得出|确定|获取|提供|统计|计算)/,
  /(?:不能|没法|无从)(?:回答|查询|得出|统计)/,
  /(?:数据库|库|表结构|数据表|给定的表|这些表|现有的表|结构)(?:中|里|内)?(?:并)?(?:没有|不包含|未包含|不存在|缺少|缺乏)/,
  /没有(?:任何)?(?:相关|对应|关于|记录|包含|存储|涉及)[^。\n]{0,12}(?:表|字段|数据|信息|列)/,
  /(?:不包含|不涉及|不存在)[^。\n]{0,12}(?:表|字段|数据|信息|列)/,
  /\b(?:cannot|can ?not|can't|unable to) (?:be )?(?:answer|determine|answered|determined)\b/i,
  /\b(?:database|schema|tables?) (?:does not|doesn't|do not|don't) (?:contain|have|include|store|record)\b/i,
  /\bno (?:table|column|data|information)s? (?:for|about|on|with|that|containing|related)\b/i,
  /\bnot (?:available|present|contained|stored|recorded) in (?:the|this|these) (?:database|schema|tables?)\b/i,
]

/** The reason the answer gives for not answering, or null when it answers (or says nothing of it). */
export function detectUnanswerable(answer: string, hasSql: boolean): string | null {
  const marker = MARKER_LINE.exec(answer)
  if (marker) return shorten(marker[1]!.trim() || answer.slice(marker.index).trim())
  if (hasSql) return null
  for (const phrase of PHRASES) {
    const m = phrase.exec(answer)
    if (m) return shorten(sentenceAround(answer, m.index))
  }
  return null
}

/** The sentence (or line) holding a match: the reason in the model's own words. */
function sentenceAround(text: string, at: number): string {
  const before = text.slice(0, at)
  const start = Math.max(before.lastIndexOf('\n'), before.search(/[。！？.!?][^。！？.!?]*$/)) + 1
  const rest = text.slice(at)
  const end = rest.search(/[。！？\n]|[.!?](?:\s|$)/)
  return text.slice(start, end < 0 ? text.length : at + end + 1).trim()
}

function shorten(text: string): string {
  const chars = Array.from(text.replace(/\s+/g, ' '))
  return chars.length > 300 ? `${chars.slice(0, 300).join('')}…` : chars.join('')
}
