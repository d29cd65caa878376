/**
 * Row values as lookup keys, so a question that names a row ("Jetblue Airways", 武林广场) finds
 * the column holding it with a handful of hash lookups instead of a scan over every value. A text
 * becomes units — a run of letters/digits, or one Chinese character — joined without separators,
 * lower-cased: "JetBlue  Airways" → `jetblueairways`, "1号线" → `1号线`. A question is looked up by
 * every span of up to `MAX_VALUE_UNITS` consecutive units, so case, spacing and punctuation
 * never matter and Chinese needs no word boundaries.
 */
const UNIT = /[\u3400-\u9fff\uf900-\ufaff]|[^\s\p{P}\p{S}\u3400-\u9fff\uf900-\ufaff]+/gu
const CJK = /[\u3400-\u9fff\uf900-\ufaff]/u

/** Longest value, in units, that can be matched (and so is worth indexing). */
export const MAX_VALUE_UNITS = 8

/** Values that say nothing about which row is meant: yes/no flags, placeholders, stop words. */
const VAGUE = new Set(
  'yes no true false none null unknown other others na n/a all any the and not male female unknown total y n t f m'.split(' '),
)

function units(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(UNIT) ?? []
}

/**
 * The key of a value, or null when it cannot name a row usefully: more than `MAX_VALUE_UNITS`
 * units, digits only (years, codes and counts match every number in a question), shorter than two
 * characters, or vague.
 */
export function valueKey(value: string): string | null {
  const u = units(value)
  if (!u.length || u.length > MAX_VALUE_UNITS) return null
  const key = u.join('')
  if (key.length < 2 || /^[0-9.]+$/.test(key) || VAGUE.has(key)) return null
  // One Latin word of two letters ("CA", "ab") is too often a word of the question itself.
  if (u.length === 1 && key.length < 3 && !CJK.test(key)) return null
  return key
}

/** Every span of the question's units that could be a value key, longest spans first. */
export function questionSpans(question: string): string[] {
  const u = units(question)
  const out: string[] = []
  for (let n = Math.min(MAX_VALUE_UNITS, u.length); n >= 1; n--) {
    for (let i = 0; i + n <= u.length; i++) out.push(u.slice(i, i + n).join(''))
  }
  return out
}
