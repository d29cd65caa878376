// The rows of an executed query: a table that fills as `rows` events arrive (sticky header,
// numbers right-aligned), then — at `result` — the summary, a chart when one fits, and CSV export.
import { drawChart } from './chart.js'
import { t } from './i18n.js'
import { chooseChart, formatCell, isNumericType, toCsv } from './result-data.js'

const views = new WeakMap()

/** The view of one answer's result box (created at its first rows event). */
export function renderResult(box) {
  let view = views.get(box)
  if (!view) {
    view = createView(box)
    views.set(box, view)
  }
  return view
}

/** Empties the box and forgets its rows (a retried answer starts over). */
export function clearResult(box) {
  views.delete(box)
  box.replaceChildren()
}

function createView(box) {
  const columns = []
  const rows = []
  const head = document.createElement('div')
  head.className = 'result-head'
  const title = document.createElement('h3')
  title.textContent = t.result
  head.append(title)
  const chartBox = document.createElement('figure')
  chartBox.className = 'chart-box'
  chartBox.hidden = true
  const wrap = document.createElement('div')
  wrap.className = 'table-wrap'
  wrap.tabIndex = 0 // scrollable by keyboard
  wrap.setAttribute('role', 'region')
  wrap.setAttribute('aria-label', t.table)
  const table = document.createElement('table')
  const thead = table.createTHead()
  const tbody = table.createTBody()
  wrap.append(table)
  const note = document.createElement('p')
  note.className = 'result-note'
  box.replaceChildren(head, chartBox, wrap, note)

  return {
    addRows(data) {
      if (data.columns && !columns.length) {
        columns.push(...data.columns)
        const tr = thead.insertRow()
        for (const c of columns) {
          const th = document.createElement('th')
          th.scope = 'col'
          th.textContent = c.name
          th.title = c.type
          if (isNumericType(c.type)) th.className = 'num'
          tr.append(th)
        }
      }
      const fragment = document.createDocumentFragment()
      for (const row of data.rows) {
        rows.push(row)
        const tr = document.createElement('tr')
        row.forEach((value, i) => {
          const td = document.createElement('td')
          td.textContent = formatCell(value)
          if (value === null) td.className = 'null'
          else if (isNumericType(columns[i]?.type)) td.className = 'num'
          tr.append(td)
        })
        fragment.append(tr)
      }
      tbody.append(fragment)
    },
    finish(result, requestId) {
      if (!result.ok) {
        wrap.hidden = !rows.length
        note.className = 'result-note pg-error'
        note.textContent = `${t.resultFailed}: ${result.error}${result.position ? ` (${t.atPosition(result.position)})` : ''}${result.pg_code ? ` [${result.pg_code}]` : ''}`
        return
      }
      const count = document.createElement('span')
      count.className = 'row-count'
      count.textContent = `${t.rowsCount(result.row_count)} · ${t.runTime(result.elapsed_ms)}`
      head.append(count)
      if (!rows.length) {
        wrap.hidden = true
        note.textContent = t.noRows
        return
      }
      if (result.truncated) {
        note.className = 'result-note truncated'
        note.textContent = t.truncated(result.row_count)
      }
      const csv = document.createElement('button')
      csv.type = 'button'
      csv.className = 'button small'
      csv.textContent = t.exportCsv
      csv.addEventListener('click', () => download(toCsv(columns, rows), `txt2sql-${requestId ?? 'result'}.csv`))
      head.append(csv)
      const spec = chooseChart(columns, rows)
      if (spec) {
        chartBox.hidden = false
        const { svg, shown, total } = drawChart(columns, rows, spec, { width: chartBox.clientWidth || box.clientWidth })
        const caption = document.createElement('figcaption')
        const names = spec.series.map((i) => columns[i].name)
        const legend = document.createElement('span')
        legend.className = 'legend'
        names.forEach((name, s) => {
          const item = document.createElement('span')
          item.className = `legend-item series-${s % 6}`
          item.textContent = name
          legend.append(item)
        })
        caption.append(`${t.chart}: ${t.chartOf(names, columns[spec.label].name)} `, legend)
        if (shown < total) caption.append(` — ${t.chartCapped(shown, total)}`)
        chartBox.replaceChildren(svg, caption)
      }
    },
  }
}

function download(text, name) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
