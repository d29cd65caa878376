// Execution accuracy as a careful text-to-SQL evaluator scores it (Spider's test-suite evaluator,
// BIRD): two result sets match when they hold the same rows — in the same order only when the gold
// query orders its result — after normalising values: numbers and numeric strings compare as
// numbers (numeric/bigint come back as strings), floats within a relative tolerance, NULL only
// equals NULL, booleans and dates as themselves, text trimmed. Columns are matched by their
// values, not by name or position: `SELECT name, count(*)` and `SELECT count(*) AS n, name` are
// the same answer. The column count must agree (an extra column is a different answer).

/** Significant digits a number keeps: float rounding (avg(), sums of numerics) must not split equal answers. */
const DIGITS = 10

/** One value in canonical text: the same for 12, '12', '12.00' and 12.0000000000001. */
export function canonical(value) {
  if (value === null || value === undefined) return '∅'
  if (typeof value === 'boolean') return value ? 'b:t' : 'b:f'
  if (typeof value === 'number') return Number.isFinite(value) ? `n:${roundNumber(value)}` : `n:${value}`
  if (typeof value === 'bigint') return `n:${roundNumber(Number(value))}`
  if (typeof value === 'string') {
    const t = value.trim()
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return `n:${roundNumber(Number(t))}`
    return `s:${t}`
  }
  if (value instanceof Date) return `s:${value.toISOString()}`
  return `s:${JSON.stringify(value)}`
}

function roundNumber(n) {
  if (n === 0) return '0'
  return String(Number(n.toPrecision(DIGITS)))
}

/**
 * Does the query order its final result? A top-level ORDER BY (outside parentheses, strings and
 * comments); an ORDER BY inside a subquery or a window does not order the output.
 */
export function ordersResult(sql) {
  let depth = 0
  let top = ''
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1)
      i = end < 0 ? sql.length : end
      top += ' '
      continue
    }
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i)
      i = end < 0 ? sql.length : end
      continue
    }
    if (c === '(') depth++
    else if (c === ')') depth--
    else if (depth === 0) top += c
  }
  return /\border\s+by\b/i.test(top)
}

/**
 * @param {{ columns: string[], rows: unknown[][] }} gold
 * @param {{ columns: string[], rows: unknown[][] }} predicted
 * @param {{ ordered: boolean }} opts ordered: the gold query orders its result
 * @returns {{ match: boolean, reason?: string }}
 */
export function compareResults(gold, predicted, { ordered }) {
  const width = gold.rows[0]?.length ?? gold.columns.length
  const predWidth = predicted.rows[0]?.length ?? predicted.columns.length
  if (gold.rows.length !== predicted.rows.length) return { match: false, reason: `${predicted.rows.length} rows, gold has ${gold.rows.length}` }
  if (gold.rows.length === 0) return { match: true }
  if (width !== predWidth) return { match: false, reason: `${predWidth} columns, gold has ${width}` }
  const g = gold.rows.map((r) => r.map(canonical))
  const p = predicted.rows.map((r) => r.map(canonical))
  // Candidate predicted columns for each gold column: the same multiset of values.
  const signature = (rows, c) => rows.map((r) => r[c]).sort().join('\u0001')
  const gSig = Array.from({ length: width }, (_, c) => signature(g, c))
  const pSig = Array.from({ length: width }, (_, c) => signature(p, c))
  const candidates = gSig.map((s) => pSig.flatMap((t, j) => (t === s ? [j] : [])))
  if (candidates.some((c) => c.length === 0)) return { match: false, reason: 'a column of the gold result has no equal in the answer' }
  // Columns with equal values can pair up in several ways: try them (bounded), rows must agree too.
  let tried = 0
  const used = new Set()
  const mapping = []
  const search = (c) => {
    if (c === width) return rowsAgree(g, p, mapping, ordered)
    for (const j of candidates[c]) {
      if (used.has(j)) continue
      if (++tried > 5000) return false
      used.add(j)
      mapping.push(j)
      if (search(c + 1)) return true
      mapping.pop()
      used.delete(j)
    }
    return false
  }
  if (search(0)) return { match: true }
  return { match: false, reason: ordered ? 'same values, but the rows differ or are in another order' : 'same column values, but the rows differ' }
}

function rowsAgree(g, p, mapping, ordered) {
  const gRows = g.map((r) => r.join('\u0002'))
  const pRows = p.map((r) => mapping.map((j) => r[j]).join('\u0002'))
  if (!ordered) {
    gRows.sort()
    pRows.sort()
  }
  return gRows.every((row, i) => row === pRows[i])
}

/**
 * The one reason of a miss, for `eval:live --approved` (docs/EVAL.md), from the two result sets of
 * a comparison that did not match: no rows where the gold has some (`empty_result`), another column
 * count (`column_mismatch`), fewer or more rows (`missing_rows`, `extra_rows`), else the same shape
 * with other values or order (`wrong_values`).
 * @param {{ columns: string[], rows: unknown[][] }} gold
 * @param {{ columns: string[], rows: unknown[][] }} predicted
 */
export function missReason(gold, predicted) {
  if (predicted.rows.length === 0 && gold.rows.length > 0) return 'empty_result'
  const width = gold.rows[0]?.length ?? gold.columns.length
  const predWidth = predicted.rows[0]?.length ?? predicted.columns.length
  if (width !== predWidth) return 'column_mismatch'
  if (predicted.rows.length < gold.rows.length) return 'missing_rows'
  if (predicted.rows.length > gold.rows.length) return 'extra_rows'
  return 'wrong_values'
}
