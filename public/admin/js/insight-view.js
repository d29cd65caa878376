// Accuracy (the stored `eval:live --approved` reports over time, each miss side by side) and usage
// (requests and tokens per caller per day: a bar chart and a table).
import { call } from './admin-api.js'
import { t } from './admin-text.js'
import { el, table, when } from './dom.js'

const SVG = 'http://www.w3.org/2000/svg'

export function accuracyView() {
  const body = document.getElementById('accuracy-body')
  return async () => {
    let res
    try {
      res = await call('GET', '/v1/admin/evals')
    } catch (err) {
      // The route belongs to the eval reports' work; a service without it says so and nothing breaks.
      if (err.status === 404 && err.code === 'not_found' && /No route/.test(err.message)) return body.replaceChildren(el('p', {}, t.evalsMissing))
      throw err
    }
    // Issue 31's report: {at, model, total, hits, accuracy, misses_by_reason, misses: [{example_id,
    // question, gold_sql, answer_sql, reason, gold_rows, answer_rows}]}; newest first.
    const reports = [...(Array.isArray(res) ? res : (res.reports ?? []))].sort((a, b) => String(b.at).localeCompare(String(a.at)))
    if (!reports.length) return body.replaceChildren(el('p', {}, t.noReports))
    body.replaceChildren(
      table(
        t.accuracyTitle,
        [t.reportAt, 'model', t.accuracyValue, t.misses, t.missesByReason],
        reports.map((r) => [when(r.at), r.model ?? '—', `${percent(r)} (${r.hits ?? '?'} / ${r.total ?? '?'})`, String(r.misses?.length ?? 0), Object.entries(r.misses_by_reason ?? countReasons(r.misses)).filter(([, v]) => v > 0).map(([k, v]) => `${k}: ${v}`).join(', ') || '—']),
      ),
      el('h3', {}, `${t.misses} — ${when(reports[0].at)}`),
      ...(reports[0].misses ?? []).map((m, i) => missView(m, i)),
    )
  }
}

function missView(miss, i) {
  const side = (title, sql, rows) => el('div', { class: 'side' }, el('h4', {}, title), el('pre', { class: 'code' }, sql ?? '—'), rows ? rowsTable(title, rows) : null)
  return el(
    'details',
    { class: 'miss', open: i === 0 },
    el('summary', {}, `${miss.question} — ${miss.reason ?? ''}`),
    el('div', { class: 'side-by-side' }, side(t.expectedSql, miss.gold_sql, miss.gold_rows), side(t.modelSql, miss.answer_sql, miss.answer_rows)),
  )
}

function rowsTable(caption, rows) {
  if (!Array.isArray(rows) || !rows.length) return null
  const first = rows[0]
  const columns = Array.isArray(first) ? first.map((_, i) => `#${i + 1}`) : Object.keys(first)
  return table(caption, columns, rows.slice(0, 5).map((r) => (Array.isArray(r) ? r : columns.map((c) => r[c]))))
}

/** From hits and total, which say it unambiguously (a stored `accuracy` may be a fraction or a percentage). */
const percent = (r) => (r.total > 0 ? `${((r.hits / r.total) * 100).toFixed(1)}%` : '—')

function countReasons(misses = []) {
  const out = {}
  for (const m of misses) out[m.reason ?? '?'] = (out[m.reason ?? '?'] ?? 0) + 1
  return out
}

export function usageView() {
  const chart = document.getElementById('usage-chart')
  const box = document.getElementById('usage-table')
  const DAYS = 14
  return async () => {
    const res = await call('GET', `/v1/admin/usage/history?days=${DAYS}`)
    const perDay = new Map()
    for (let d = Date.parse(`${res.from}T00:00:00Z`); d <= Date.parse(`${res.to}T00:00:00Z`); d += 86_400_000) perDay.set(new Date(d).toISOString().slice(0, 10), 0)
    for (const r of res.rows) perDay.set(r.day, (perDay.get(r.day) ?? 0) + r.requests)
    chart.replaceChildren(barChart(t.usageChart(DAYS), [...perDay]))
    box.replaceChildren(table(t.usageTitle, [t.day, t.caller, t.requests, t.tokens], [...res.rows].reverse().map((r) => [r.day, r.name ?? r.id, String(r.requests), String(r.tokens)])))
  }
}

/** Bars of [label, value]; the numbers are also in the table below, so the picture is labelled, not read out. */
function barChart(title, points) {
  const width = 640
  const height = 160
  const max = Math.max(1, ...points.map(([, v]) => v))
  const step = width / points.length
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', `0 0 ${width} ${height + 20}`)
  svg.setAttribute('role', 'img')
  svg.setAttribute('aria-label', title)
  svg.classList.add('usage-bars')
  points.forEach(([label, value], i) => {
    const h = Math.round((value / max) * height)
    const bar = document.createElementNS(SVG, 'rect')
    Object.entries({ x: i * step + 2, y: height - h, width: step - 4, height: h }).forEach(([k, v]) => bar.setAttribute(k, String(v)))
    const tip = document.createElementNS(SVG, 'title')
    tip.textContent = `${label}: ${value}`
    bar.append(tip)
    const text = document.createElementNS(SVG, 'text')
    Object.entries({ x: i * step + step / 2, y: height + 14, 'text-anchor': 'middle' }).forEach(([k, v]) => text.setAttribute(k, String(v)))
    text.textContent = label.slice(5)
    svg.append(bar, text)
  })
  return el('figure', {}, svg, el('figcaption', {}, title))
}
