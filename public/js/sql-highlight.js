// A small SQL highlighter: one regular-expression tokenizer over PostgreSQL's lexical classes,
// rendered as DOM text nodes (never innerHTML — the SQL is the model's text).

const KEYWORDS = new Set(`
  select from where and or not in is null as on join inner left right full outer cross lateral natural using
  group by order having limit offset fetch first next rows only distinct all any some exists between like ilike
  similar union intersect except case when then else end with recursive asc desc nulls last over partition window
  filter within cast true false interval date time timestamp extract values insert update delete into set returning
  create table view index drop alter grant revoke explain analyze`.trim().split(/\s+/))

const TOKEN = new RegExp(
  [
    String.raw`(?<comment>--[^\n]*|/\*[\s\S]*?(?:\*/|$))`,
    String.raw`(?<string>[eE]?'(?:[^']|'')*(?:'|$)|\$(?<tag>[A-Za-z_]*)\$[\s\S]*?(?:\$\k<tag>\$|$))`,
    String.raw`(?<ident>"(?:[^"]|"")*(?:"|$))`,
    String.raw`(?<number>\b\d+(?:\.\d*)?(?:[eE][+-]?\d+)?\b|\.\d+\b)`,
    String.raw`(?<word>[\p{L}_][\p{L}\p{N}_$]*)`,
    String.raw`(?<op>::|<=|>=|<>|!=|\|\||[-+*/%<>=~!@#^&|])`,
    String.raw`(?<punct>[(),;.\[\]])`,
    String.raw`(?<space>\s+)`,
    String.raw`(?<other>.)`,
  ].join('|'),
  'gsu',
)

/**
 * Splits SQL into `{ type, text }` tokens: comment, string, ident, number, keyword, function,
 * word, op, punct, space, other. Concatenating the texts gives the input back unchanged.
 */
export function tokenizeSql(sql) {
  const tokens = []
  for (const m of sql.matchAll(TOKEN)) {
    const g = m.groups
    const type = Object.keys(g).find((k) => k !== 'tag' && g[k] !== undefined) ?? 'other'
    if (type === 'word') {
      const lower = m[0].toLowerCase()
      const next = sql.slice(m.index + m[0].length).match(/^\s*\(/)
      tokens.push({ type: KEYWORDS.has(lower) ? 'keyword' : next ? 'function' : 'word', text: m[0] })
    } else tokens.push({ type, text: m[0] })
  }
  return tokens
}

/**
 * Fills `target` with highlighted SQL. `errorPosition` (Postgres's, in characters from 1) marks
 * the token it points into.
 */
export function renderSql(target, sql, errorPosition) {
  target.replaceChildren()
  let at = 0 // characters consumed so far
  for (const token of tokenizeSql(sql)) {
    const length = Array.from(token.text).length
    const span = document.createElement('span')
    span.className = `tok-${token.type}`
    span.textContent = token.text
    if (errorPosition && errorPosition - 1 >= at && errorPosition - 1 < at + length && token.type !== 'space') {
      span.classList.add('tok-error')
      span.title = `position ${errorPosition}`
    }
    target.append(span)
    at += length
  }
}
