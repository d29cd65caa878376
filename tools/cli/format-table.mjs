// Result rows as an aligned text table. Widths are display widths (string-width): a CJK character
// takes two terminal columns, so counting code units would push every Chinese cell out of line.
import stringWidth from 'string-width'
import { cleanLine } from './clean-terminal.mjs'

export const MAX_CELL_WIDTH = 40

/**
 * A value as the table shows it: SQL NULL is distinct from the text "null". A cell is one line:
 * line feeds and every other control character show as escapes (clean-terminal.mjs), so a row can
 * neither break the table nor steer the terminal, and widths are those of what is shown.
 */
export function cellText(value) {
  if (value === null || value === undefined) return 'NULL'
  if (typeof value === 'object') return cleanLine(JSON.stringify(value))
  return cleanLine(String(value))
}

/** Cuts to at most `width` display columns, ending with … when cut. */
export function truncateToWidth(text, width) {
  if (stringWidth(text) <= width) return text
  let out = ''
  let used = 0
  for (const ch of text) {
    const w = stringWidth(ch)
    if (used + w > width - 1) break
    out += ch
    used += w
  }
  return out + '…'
}

function pad(text, width, right) {
  const fill = ' '.repeat(Math.max(0, width - stringWidth(text)))
  return right ? fill + text : text + fill
}

const NUMERIC = /^(int|float|numeric|decimal|real|double|bigint|smallint|money|oid)/i

/**
 * @param {{ name: string, type?: string }[]} columns
 * @param {unknown[][]} rows
 * @param {import('./style.mjs').Style} style
 * @returns {string} lines joined by \n, no trailing newline
 */
export function formatTable(columns, rows, style, maxCellWidth = MAX_CELL_WIDTH) {
  const cells = rows.map((row) => columns.map((_, i) => truncateToWidth(cellText(row[i]), maxCellWidth)))
  const headers = columns.map((c) => truncateToWidth(cleanLine(c.name), maxCellWidth))
  const widths = headers.map((h, i) => Math.max(stringWidth(h), ...cells.map((r) => stringWidth(r[i]))))
  // Numbers line up on the right, as in psql: by column type, or by value when the type is unknown.
  const right = columns.map((c, i) => (c.type ? NUMERIC.test(c.type) : rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null)))
  const line = (parts) => parts.join(' │ ')
  const out = [
    style.bold(line(headers.map((h, i) => pad(h, widths[i], right[i])))),
    widths.map((w) => '─'.repeat(w)).join('─┼─'),
    ...cells.map((r, ri) => line(r.map((text, i) => (rows[ri][i] === null ? style.dim(pad(text, widths[i], right[i])) : pad(text, widths[i], right[i]))))),
  ]
  return out.join('\n')
}
