import { splitWords, stem } from './tokenize'

/**
 * Synonyms for schema linking: head word → related words (English lemmas, Chinese words). The
 * table is public/linking/synonyms.txt, reduced at build time from WordNet and node-segment
 * (scripts/build-synonyms.mjs) and read at refresh time, never on a question's path: the link
 * index gets the related words of its schema's words as extra terms, so the question's "stores"
 * finds the table `shop` with one lookup.
 */
export type Synonyms = Map<string, string[]>

const CJK_RUN = /[\u3400-\u9fff\uf900-\ufaff]+/gu
/** Longest Chinese head word looked up inside a run of Chinese text. */
const MAX_CJK_WORD = 4

/** `word<TAB>related related …` lines; `#` lines and malformed lines are skipped. */
export function parseSynonyms(text: string): Synonyms {
  const out: Synonyms = new Map()
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const tab = line.indexOf('\t')
    if (tab <= 0) continue
    const words = line.slice(tab + 1).trim().split(' ').filter(Boolean)
    if (words.length) out.set(line.slice(0, tab), words)
  }
  return out
}

/**
 * The related words of a schema text's words: each English word (as written and stemmed) and
 * each Chinese word found inside a run of Chinese characters. Returned as text, to be split into
 * terms like any other text; the text's own words are not repeated.
 */
export function relatedWords(synonyms: Synonyms, text: string): string[] {
  if (!synonyms.size) return []
  const out = new Set<string>()
  for (const w of splitWords(text)) {
    for (const head of w === stem(w) ? [w] : [w, stem(w)]) for (const r of synonyms.get(head) ?? []) if (r !== w) out.add(r)
  }
  for (const run of text.match(CJK_RUN) ?? []) {
    for (let i = 0; i < run.length; i++) {
      for (let n = 2; n <= MAX_CJK_WORD && i + n <= run.length; n++) {
        for (const r of synonyms.get(run.slice(i, i + n)) ?? []) if (!run.includes(r)) out.add(r)
      }
    }
  }
  return [...out]
}
