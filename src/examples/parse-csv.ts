/**
 * RFC 4180 CSV (quoted fields, doubled quotes, newlines inside quotes, CRLF or LF, a leading BOM)
 * into rows of strings. Small enough that a dependency would cost more than it saves.
 */
export function parseCsv(text: string): { ok: true; rows: string[][] } | { ok: false; error: string } {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  let line = 1
  // Where the open quoted field began: the line to show when it is never closed (the end of the
  // text says nothing about where the stray quote is).
  let quoteLine = 1
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  const endRow = () => {
    row.push(field)
    // Blank lines are skipped, not read as a row with one empty field.
    if (!(row.length === 1 && row[0] === '')) rows.push(row)
    row = []
    field = ''
  }
  for (; i < text.length; i++) {
    const ch = text[i]!
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i++
        } else quoted = false
      } else {
        if (ch === '\n') line++
        field += ch
      }
    } else if (ch === '"') {
      if (field !== '') return { ok: false, error: `line ${line}: a quote inside an unquoted field` }
      quoted = true
      quoteLine = line
    } else if (ch === ',') {
      row.push(field)
      field = ''
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++
      endRow()
      line++
    } else field += ch
  }
  if (quoted) return { ok: false, error: `line ${quoteLine}: a quoted field is not closed` }
  if (field !== '' || row.length) endRow()
  return { ok: true, rows }
}
