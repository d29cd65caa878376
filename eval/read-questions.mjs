// The question file of `npm run eval:live`: JSON — an array (or {"questions": [...]}) of
// {question, sql | gold_sql | query, id?, category?, history?} — or CSV with a header naming the
// columns question and sql (or gold_sql), optionally id and category. A gold SQL that is null or
// empty marks a question the schema cannot answer. Ids default to the position (q001, …).
import { readFileSync } from 'node:fs'

/**
 * @param {string} file
 * @param {(text: string) => ({ ok: true, rows: string[][] } | { ok: false, error: string })} parseCsv the service's CSV parser
 */
export function readQuestions(file, parseCsv) {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '')
  const raw = /\.csv$/i.test(file) ? fromCsv(text, parseCsv, file) : fromJson(text, file)
  const seen = new Set()
  return raw.map((q, i) => {
    const where = `${file}: question ${i + 1}`
    if (typeof q !== 'object' || q === null) throw new Error(`${where} is not an object`)
    const question = typeof q.question === 'string' ? q.question.trim() : ''
    if (!question) throw new Error(`${where} has no "question"`)
    const gold = q.sql ?? q.gold_sql ?? q.query ?? null
    if (gold !== null && typeof gold !== 'string') throw new Error(`${where}: the gold SQL must be a string or null`)
    const id = String(q.id ?? `q${String(i + 1).padStart(3, '0')}`)
    if (seen.has(id)) throw new Error(`${where}: id ${id} is used twice`)
    seen.add(id)
    return { id, question, sql: gold && gold.trim() ? gold.trim() : null, category: q.category ?? null, ...(Array.isArray(q.history) ? { history: q.history } : {}) }
  })
}

function fromJson(text, file) {
  let json
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new Error(`${file} is not JSON: ${err.message}`)
  }
  const list = Array.isArray(json) ? json : json?.questions
  if (!Array.isArray(list)) throw new Error(`${file}: expected an array of questions (or {"questions": [...]})`)
  return list
}

function fromCsv(text, parseCsv, file) {
  const parsed = parseCsv(text)
  if (!parsed.ok) throw new Error(`${file} is not valid CSV: ${parsed.error}`)
  const [header, ...rows] = parsed.rows
  const names = (header ?? []).map((h) => h.trim().toLowerCase())
  const col = (...candidates) => names.findIndex((n) => candidates.includes(n))
  const q = col('question')
  const s = col('sql', 'gold_sql', 'query')
  if (q < 0 || s < 0) throw new Error(`${file}: the CSV header must name the columns question and sql`)
  const id = col('id')
  const category = col('category')
  return rows
    .filter((r) => r.some((cell) => cell.trim()))
    .map((r) => ({ question: r[q] ?? '', sql: r[s] ?? null, ...(id >= 0 && r[id] ? { id: r[id] } : {}), ...(category >= 0 && r[category] ? { category: r[category] } : {}) }))
}
