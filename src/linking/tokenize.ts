/**
 * Words for matching a question against a schema, without a dictionary: identifiers split into
 * words (snake_case, camelCase, digits), English words lightly stemmed, and Chinese (CJK) runs
 * as single characters and character bigrams — "沈塘桥站" → 沈塘 塘桥 桥站 — which match Chinese comments and values
 * whatever the word boundaries.
 */
const CJK = /[\u3400-\u9fff\uf900-\ufaff]/u
const CJK_RUN = /[\u3400-\u9fff\uf900-\ufaff]+/gu
const WORD = /[A-Za-z][A-Za-z0-9]*|[0-9]+/g

/** Words that carry no meaning for linking (English question words and SQL-ish filler). */
const STOP = new Set(
  'a an the of in on at to for by with from and or not no is are was were be been do does did what which who whom whose when where how many much all any each every that this these those there their its it as than then show list give find return get me please number name names id ids'.split(
    ' ',
  ),
)
/**
 * Stop words that still name columns: "the name of the card" says nothing about which table, but
 * inside a kept table it points at `name` (column pruning, src/linking/prune-columns.ts).
 */
const COLUMN_WORDS = new Set(['name', 'names', 'number', 'id', 'ids'])

/** A text's words as column names use them: stemmed, stop words dropped except `COLUMN_WORDS`. */
export function columnWords(text: string): string[] {
  return splitWords(text)
    .filter((w) => w.length > 1 && (!STOP.has(w) || COLUMN_WORDS.has(w)))
    .map(stem)
}

/** Chinese function characters: a bigram made only of them says nothing. */
const CJK_STOP = new Set([...'的了是在和与及或有个些哪什么多少请问给出列所各每被把为从对'])

export function stem(word: string): string {
  const w = word.toLowerCase()
  if (w.length > 4 && w.endsWith('ies')) return `${w.slice(0, -3)}y`
  if (w.length > 4 && /(ses|xes|ches|shes)$/.test(w)) return w.slice(0, -2)
  if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us')) return w.slice(0, -1)
  return w
}

/** Splits an identifier or phrase into lower-case words: `stadiumID` → stadium id, `Song_Name` → song name. */
export function splitWords(text: string): string[] {
  const spaced = text.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
  return spaced.match(WORD)?.map((w) => w.toLowerCase()) ?? []
}

/** The matching terms of any text: stemmed English words (stop words dropped) and CJK bigrams. */
export function terms(text: string): string[] {
  const out: string[] = []
  for (const w of splitWords(text)) {
    if (STOP.has(w) || w.length < 2) continue
    const s = stem(w)
    out.push(s)
    // A shared 5-letter start links word forms stemming misses: weigh/weight, compet(e|ition).
    if (s.length >= 5) out.push(`${s.slice(0, 5)}~`)
  }
  for (const run of text.match(CJK_RUN) ?? []) {
    if (run.length === 1) {
      // Also as the weak single character a longer run yields: a table named 人 meets 人数.
      if (!CJK_STOP.has(run)) out.push(run, `${run}·`)
      continue
    }
    // Single characters too (marked ·): a question's 书 meets a table 图书; idf keeps them weak.
    for (const ch of run) if (!CJK_STOP.has(ch)) out.push(`${ch}·`)
    for (let i = 0; i + 1 < run.length; i++) {
      const bigram = run.slice(i, i + 2)
      if (!(CJK_STOP.has(bigram[0]!) && CJK_STOP.has(bigram[1]!))) out.push(bigram)
    }
  }
  return out
}

/** Words that may sit between the words of a multi-word name in a question: "number of products". */
const JOINERS = new Set(['of', 'the', 'a', 'an'])

/**
 * Adjacent word pairs, as one term each: a column `Number_products` gives `number+product`, and
 * so does the question's "number of products". A pair is rarer than its words (one of them may
 * even be a stop word), so a question that names a column in full points at its table.
 */
export function pairTerms(text: string): string[] {
  const words = splitWords(text).filter((w) => !JOINERS.has(w)).map(stem)
  const out: string[] = []
  for (let i = 0; i + 1 < words.length; i++) if (words[i]!.length > 1 && words[i + 1]!.length > 1) out.push(`${words[i]}+${words[i + 1]}`)
  return out
}

export function hasCjk(text: string): boolean {
  return CJK.test(text)
}

/**
 * Tokens a text costs in the prompt, estimated without a tokenizer: Qwen spends about one token
 * per 1.5 Chinese characters and per 3.5 other characters (SQL, English, punctuation).
 */
export function estimateTokens(text: string): number {
  let cjk = 0
  for (const _ of text.matchAll(CJK_RUN)) cjk += _[0].length
  return Math.ceil(cjk / 1.5 + (text.length - cjk) / 3.5)
}

/** A single CJK character term (`书·`): a weak signal, see `terms`. */
export function isWeakTerm(term: string): boolean {
  return term.endsWith('·')
}
