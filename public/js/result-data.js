// Pure helpers over a result (`columns: [{name, type}]`, `rows: unknown[][]`) as the `rows` events
// deliver it: which columns are numbers, whether a chart fits, CSV text.

const NUMERIC_TYPES = new Set(['smallint', 'integer', 'bigint', 'real', 'double precision', 'numeric', 'oid'])
const TIME_TYPES = new Set(['date', 'timestamp', 'timestamptz', 'time'])

export const isNumericType = (type) => NUMERIC_TYPES.has(type)
export const isTimeType = (type) => TIME_TYPES.has(type)

/** bigint and numeric arrive as strings (no precision lost); charts only need a double. */
export function toNumber(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value)
  return null
}

/**
 * A chart fits when there is exactly one label column, at least one numeric column, and the rows
 * have distinct labels (one bar or point each — repeated labels would draw a misleading chart):
 * `{ kind: 'line' | 'bar', label, series }` (indexes into columns), else null. A date/time label
 * reads as a line over time; anything else as bars.
 */
export function chooseChart(columns, rows) {
  if (!columns?.length || !rows?.length) return null
  const numeric = []
  const labels = []
  columns.forEach((c, i) => (isNumericType(c.type) ? numeric : labels).push(i))
  if (labels.length !== 1 || numeric.length === 0) return null
  const label = labels[0]
  if (new Set(rows.map((r) => formatCell(r[label]))).size !== rows.length) return null
  return { kind: isTimeType(columns[label].type) ? 'line' : 'bar', label, series: numeric }
}

/** A cell as text for the table and the CSV: JSON for objects, empty for NULL. */
export function formatCell(value) {
  if (value === null || value === undefined) return ''
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** Identifiers and years read wrong with thousands separators (station 1,042; the year 2,019). */
const NO_GROUPING = /(^|_)(id|year|code|no)$|Id$|(年|年份|编号|代码|序号)$/
const formatters = new Map()

/**
 * A number as people read it: thousands separators in `locale`, every digit kept (bigint and
 * numeric arrive as strings; Intl formats a decimal string exactly). Anything else as formatCell.
 */
export function formatNumber(value, locale, columnName = '') {
  const text = typeof value === 'number' || typeof value === 'string' ? String(value) : ''
  const m = /^-?\d+(?:\.(\d{1,100}))?$/.exec(text)
  if (!m || NO_GROUPING.test(columnName)) return formatCell(value)
  const digits = m[1]?.length ?? 0
  const key = `${locale}/${digits}`
  let format = formatters.get(key)
  if (!format) formatters.set(key, (format = new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits })))
  return format.format(text)
}

/**
 * A spreadsheet runs a cell starting with one of these as a formula (CSV injection, OWASP): also
 * after leading spaces (spreadsheets trim them before deciding), and the full-width ＝＋－＠ that
 * a Chinese IME types (some spreadsheets fold them to ASCII).
 */
const FORMULA_START = /^(?:[\t\r]|\s*[=+\-@＝＋－＠])/

/**
 * RFC 4180 CSV (CRLF, quotes doubled), with a BOM so spreadsheet programs read the Chinese right.
 * A text cell that would start a formula gets a leading ' (numeric columns hold only numbers).
 */
export function toCsv(columns, rows) {
  const quote = (text) => (/[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text)
  const cell = (value, i) => {
    const text = formatCell(value)
    return FORMULA_START.test(text) && !isNumericType(columns[i]?.type) ? `'${text}` : text
  }
  const lines = [columns.map((c) => quote(cell(c.name, -1))).join(',')]
  for (const row of rows) lines.push(row.map((v, i) => quote(cell(v, i))).join(','))
  return `\ufeff${lines.join('\r\n')}\r\n`
}
