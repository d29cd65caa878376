export type ExtractedSql = { ok: true; sql: string } | { ok: false; error: string }

export const NO_SQL = 'no SQL found in the answer'

// A fence opens at a line start: ``` plus an optional language word. Scanning lines keeps this
// linear on any input; no regex with nested quantifiers runs over the whole answer.
const FENCE_OPEN = /^\s*(`{3,}|~{3,})\s*([A-Za-z-]*)\s*$/
const SQL_LANGS = new Set(['sql', 'postgresql', 'postgres', 'pgsql', 'psql', 'plpgsql'])
const STARTS_LIKE_SQL = /^\s*(select|with|values|table|explain)\b/i
const STATEMENT_START = /(?:^|[:：]\s*)((?:select|with)\b)/i

/**
 * The final SQL of a model's answer: the last ```sql block (any case; also a bare ``` block that
 * reads as SQL), tolerating a fence closed on the SQL's own line, a missing closing fence and a
 * trailing `;`. Without fences, the answer's last SELECT/WITH statement. No SQL → ok:false.
 */
export function extractSql(answer: string): ExtractedSql {
  const lines = answer.replace(/\r\n?/g, '\n').split('\n')
  const blocks = fencedBlocks(lines)
  for (let i = blocks.length - 1; i >= 0; i--) {
    const block = blocks[i]!
    const sql = clean(block.body)
    if (!sql) continue
    if (SQL_LANGS.has(block.lang.toLowerCase()) || (block.lang === '' && STARTS_LIKE_SQL.test(sql))) return { ok: true, sql }
  }
  const bare = lastBareStatement(lines)
  return bare ? { ok: true, sql: bare } : { ok: false, error: NO_SQL }
}

function fencedBlocks(lines: string[]): { lang: string; body: string }[] {
  const blocks: { lang: string; body: string }[] = []
  let open: { lang: string; body: string[]; fence: string } | null = null
  for (const line of lines) {
    if (!open) {
      const m = FENCE_OPEN.exec(line)
      // An inline opening such as "```sql SELECT 1```" on one line.
      const inline = /^\s*```\s*(sql|postgresql|pgsql)\s+(.*?)\s*```\s*$/i.exec(line)
      if (inline) blocks.push({ lang: inline[1]!, body: inline[2]! })
      else if (m) open = { lang: m[2] ?? '', body: [], fence: m[1]![0]! }
      continue
    }
    const close = line.indexOf(open.fence.repeat(3))
    if (close >= 0) {
      // The seed's model closed the fence right after the SQL: "… LIKE '%沈塘桥%'```".
      open.body.push(line.slice(0, close))
      blocks.push({ lang: open.lang, body: open.body.join('\n') })
      open = null
    } else open.body.push(line)
  }
  if (open) blocks.push({ lang: open.lang, body: open.body.join('\n') }) // a truncated answer
  return blocks
}

function lastBareStatement(lines: string[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = STATEMENT_START.exec(lines[i]!)
    if (!m) continue
    const first = lines[i]!.slice(m.index + m[0].length - m[1]!.length)
    const body = [first]
    for (let j = i + 1; j < lines.length && lines[j]!.trim() !== '' && !first.includes(';'); j++) {
      body.push(lines[j]!)
      if (lines[j]!.includes(';')) break
    }
    let sql = body.join('\n')
    const semi = sql.indexOf(';')
    if (semi >= 0) sql = sql.slice(0, semi)
    sql = clean(sql)
    if (looksLikeQuery(sql)) return sql
  }
  return null
}

/** "With this in mind…" or "select 语句" is prose: demand the shape of a real query. */
function looksLikeQuery(sql: string): boolean {
  if (/^select\s/i.test(sql)) return /\bfrom\b/i.test(sql) || /^select\s+[\d'"(*-]|^select\s+\w+\s*\(/i.test(sql)
  return /^with\s+(recursive\s+)?("[^"]+"|\w+)\s*(\([^)]*\))?\s+as\s+(not\s+)?(materialized\s+)?\(/i.test(sql)
}

function clean(sql: string): string {
  return sql.replace(/[\s;；。]+$/u, '').replace(/^\s+/, '').replace(/\s+$/, '')
}
