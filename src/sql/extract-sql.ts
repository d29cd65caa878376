export type ExtractedSql = { ok: true; sql: string } | { ok: false; error: string }

export const NO_SQL = 'no SQL found in the answer'

// Scanning lines keeps this linear on any input; no regex with nested quantifiers runs over the
// whole answer.
const SQL_LANGS = new Set(['sql', 'postgresql', 'postgres', 'pgsql', 'psql', 'plpgsql'])
const STARTS_LIKE_SQL = /^\s*(select|with|values|table|explain)\b/i
// What may follow an opening fence on its own line: a statement, a comment or a parenthesis.
const OPENS_SQL = /^(?:--|\/\*|\(|(?:select|with|values|table|explain)\b)/i
const STATEMENT_START = /(?:^|[:：]\s*)((?:select|with)\b)/i

/**
 * The final SQL of a model's answer: the last ```sql block (any case; also a bare ``` block that
 * reads as SQL), tolerating a fence opened after prose or closed on the SQL's own line, fences
 * inside the SQL's string literals, a missing closing fence and a trailing `;`. Without fences, the answer's last SELECT/WITH statement. No SQL → ok:false.
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

// An opening fence anywhere on a line ("最终SQL如下：```sql SELECT …"): the fence, an optional
// language word, then the rest of the line, which may already be SQL.
const FENCE_ANYWHERE = /(`{3,}|~{3,})[ \t]*([A-Za-z-]*)(?=\s|$)/g

/**
 * The first fence on this line that opens a block: one followed on its line by nothing or by SQL.
 * A fence followed by prose ("请给出一个 ```sql 代码块。", a model restating its instructions, or
 * inline code in a sentence) is a mention of a fence, not a block; the line is searched on.
 */
function openingFence(line: string): RegExpExecArray | null {
  FENCE_ANYWHERE.lastIndex = 0
  for (let m = FENCE_ANYWHERE.exec(line); m; m = FENCE_ANYWHERE.exec(line)) {
    const rest = line.slice(m.index + m[0].length).trim()
    if (rest === '' || OPENS_SQL.test(rest)) return m
  }
  return null
}

function fencedBlocks(lines: string[]): { lang: string; body: string }[] {
  const blocks: { lang: string; body: string }[] = []
  let open: { lang: string; body: string[]; scanner: FenceCloser; naive: { line: number; col: number } | null } | null = null
  for (let line of lines) {
    if (!open) {
      const m = openingFence(line)
      if (!m) continue
      open = { lang: m[2] ?? '', body: [], scanner: new FenceCloser(m[1]![0]!), naive: null }
      line = line.slice(m.index + m[0].length).replace(/^[ \t]+/, '')
      if (!line) continue
    }
    const fence = open.scanner.fence
    const close = open.scanner.scan(line)
    if (close >= 0) {
      // The seed's model closed the fence right after the SQL: "… LIKE '%沈塘桥%'```".
      open.body.push(line.slice(0, close))
      blocks.push({ lang: open.lang, body: open.body.join('\n') })
      open = null
      continue
    }
    const naive = line.indexOf(fence)
    if (naive >= 0 && !open.naive) open.naive = { line: open.body.length, col: naive }
    open.body.push(line)
  }
  if (open) {
    // A fence left open: a truncated answer — or an unbalanced quote in the SQL (an apostrophe in
    // prose-like SQL) hid the closing fence; then the first fence on a line closes it after all.
    const body = open.naive ? [...open.body.slice(0, open.naive.line), open.body[open.naive.line]!.slice(0, open.naive.col)] : open.body
    blocks.push({ lang: open.lang, body: body.join('\n') })
  }
  return blocks
}

/**
 * Finds a block's closing fence, line by line, outside SQL's quotes and comments, so the literal
 * in `SELECT '```' AS x` does not end the block. Quote state carries over lines (a string literal
 * can span them); `--` comments end with their line.
 */
class FenceCloser {
  readonly fence: string
  private state: 'code' | 'single' | 'escaped-single' | 'double' | 'block-comment' | 'dollar' = 'code'
  private dollarTag = ''

  constructor(fenceChar: string) {
    this.fence = fenceChar.repeat(3)
  }

  /** The column of the closing fence in this line, or -1. */
  scan(line: string): number {
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!
      switch (this.state) {
        case 'code':
          if (line.startsWith(this.fence, i)) return i
          if (c === '-' && line[i + 1] === '-') {
            // A comment to the end of the line — but a fence at its end still closes the block.
            const close = line.indexOf(this.fence, i + 2)
            return close
          }
          if (c === '/' && line[i + 1] === '*') (this.state = 'block-comment'), i++
          else if (c === "'") this.state = (line[i - 1] === 'E' || line[i - 1] === 'e') && !/\w/.test(line[i - 2] ?? '') ? 'escaped-single' : 'single'
          else if (c === '"') this.state = 'double'
          else if (c === '$') {
            const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(line.slice(i))
            if (tag && !/\w/.test(line[i - 1] ?? '')) {
              this.state = 'dollar'
              this.dollarTag = tag[0]
              i += tag[0].length - 1
            }
          }
          break
        case 'single':
          if (c === "'") this.state = 'code' // '' re-enters at once: an escaped quote
          break
        case 'escaped-single':
          if (c === '\\') i++
          else if (c === "'") this.state = 'code'
          break
        case 'double':
          if (c === '"') this.state = 'code'
          break
        case 'block-comment':
          if (c === '*' && line[i + 1] === '/') (this.state = 'code'), i++
          break
        case 'dollar':
          if (line.startsWith(this.dollarTag, i)) (this.state = 'code'), (i += this.dollarTag.length - 1)
          break
      }
    }
    return -1
  }
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
