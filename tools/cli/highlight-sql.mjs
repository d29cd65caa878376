// SQL for a terminal: keywords, strings, numbers, comments and quoted names each in their colour.
// The model wrote it (and may quote a hostile value): it is cleaned first, so colours are the only
// escape sequences that reach the terminal.
import { cleanText } from './clean-terminal.mjs'
// A lexer, not a parser: it only has to colour what the model writes, and leaves anything it does
// not know as it is.

const KEYWORDS = new Set(
  `select from where and or not in is null like ilike between exists join inner left right full outer cross natural on using
  group by order having limit offset fetch first next rows only distinct as asc desc nulls last union all intersect except
  with recursive case when then else end cast over partition window filter within lateral values true false interval
  insert update delete into set create table view drop alter index returning any some array`.split(/\s+/),
)
const FUNCTIONS = new Set('count sum avg min max coalesce nullif round floor ceil abs length lower upper trim substring extract date_trunc now to_char row_number rank dense_rank lag lead string_agg array_agg greatest least concat'.split(' '))

// One alternative per token kind, tried in order at each position.
const TOKEN = /(--[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|('(?:[^']|'')*'?)|("(?:[^"]|"")*"?)|(\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b)|([A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*)|(\s+|.)/gys

/**
 * @param {string} sql
 * @param {import('./style.mjs').Style} style
 */
export function highlightSql(sql, style) {
  let out = ''
  for (const m of cleanText(sql).matchAll(TOKEN)) {
    const [text, comment, string, quoted, number, word] = m
    if (comment) out += style.gray(comment)
    else if (string) out += style.green(string)
    else if (quoted) out += style.cyan(quoted)
    else if (number) out += style.magenta(number)
    else if (word && KEYWORDS.has(word.toLowerCase())) out += style.bold(style.blue(word))
    else if (word && FUNCTIONS.has(word.toLowerCase())) out += style.yellow(word)
    else out += text
  }
  return out
}
