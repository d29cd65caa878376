// The rows of an executed query: a table that fills as `rows` events arrive (sticky header,
// numbers right-aligned with thousands separators), then — at `result` — the summary, a chart when
// one fits, and CSV export. Its caller (turn-view.js) holds the view: nothing is kept here.
import { drawChart } from './chart.js'
import { chooseChart, formatCell, formatNumber, isNumericType, toCsv } from './result-data.js'

/** Instead of rows: why none are shown (runs are off on this service). */
export function explainNoRun(box, reason, { t }) {
  box.replaceChildren()
  box.hidden = false
  const note = document.createElement('p')
  note.className = 'result-note'
  note.textContent = `${t.notRun}: ${t.executeOff[reason.code] ?? reason.message}`
  box.append(note)
}

/**
 * The view of one answer's result box (created at its first rows event).
 * @param {HTMLElement} box @param {{t: object, numberLocale: string}} ctx
 */
export function createResultView(box, { t, numberLocale }) {
  const columns = []
  const rows = []
  const head = document.createElement('div')
  head.className = 'result-head'
  const title = document.createElement('h3')
  title.textContent = t.result
  // A phone shows two or three columns: say how many there are while some are out of view.
  const columnsHint = document.createElement('span')
  columnsHint.className = 'columns-hint'
  columnsHint.hidden = true
  head.append(title)
  const chartBox = document.createElement('figure')
  chartBox.className = 'chart-box'
  chartBox.hidden = true
  const wrap = document.createElement('div')
  wrap.className = 'table-wrap'
  wrap.tabIndex = 0 // scrollable by keyboard
  wrap.setAttribute('role', 'region')
  // Named after its question: one conversation holds several of these regions.
  wrap.setAttribute('aria-label', `${t.table} · ${box.closest('.turn')?.querySelector('.question-text')?.textContent ?? ''}`)
  const table = document.createElement('table')
  const thead = table.createTHead()
  const tbody = table.createTBody()
  wrap.append(table)
  const note = document.createElement('p')
  note.className = 'result-note'
  box.replaceChildren(head, chartBox, wrap, note)
  const showColumnsHint = () => {
    columnsHint.hidden = wrap.hidden || wrap.scrollWidth <= wrap.clientWidth + 1
  }
  const resized = new ResizeObserver(showColumnsHint)
  resized.observe(wrap)

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
        columnsHint.textContent = t.moreColumns(columns.length)
        head.append(columnsHint)
      }
      const fragment = document.createDocumentFragment()
      for (const row of data.rows) {
        rows.push(row)
        const tr = document.createElement('tr')
        row.forEach((value, i) => {
          const td = document.createElement('td')
          const numeric = isNumericType(columns[i]?.type)
          td.textContent = numeric ? formatNumber(value, numberLocale, columns[i].name) : formatCell(value)
          if (value === null) td.className = 'null'
          else if (numeric) td.className = 'num'
          tr.append(td)
        })
        fragment.append(tr)
      }
      tbody.append(fragment)
      showColumnsHint()
    },
    finish(result, requestId) {
      if (!result.ok) {
        wrap.hidden = !rows.length
        note.className = 'result-note pg-error'
        const why = result.error ?? result.code ?? ''
        note.textContent = `${t.resultFailed}${why ? `: ${why}` : ''}${result.position ? ` (${t.atPosition(result.position)})` : ''}${result.pg_code ? ` [${result.pg_code}]` : ''}`
        showColumnsHint()
        return
      }
      const count = document.createElement('span')
      count.className = 'row-count'
      count.textContent = `${t.rowsCount(result.row_count ?? rows.length)}${result.elapsed_ms != null ? ` · ${t.runTime(result.elapsed_ms)}` : ''}`
      columnsHint.before(count)
      if (!rows.length) {
        wrap.hidden = true
        note.textContent = t.noRows
        showColumnsHint()
        return
      }
      if (result.truncated) {
        note.className = 'result-note truncated'
        note.textContent = t.truncated(rows.length)
      }
      const csv = document.createElement('button')
      csv.type = 'button'
      csv.className = 'button small'
      // A cut result says so on the button and in the file's name: the file is not the whole answer.
      csv.textContent = result.truncated ? t.exportCsvFirst(rows.length) : t.exportCsv
      const name = `txt2sql-${requestId ?? 'result'}${result.truncated ? `-first-${rows.length}-rows` : ''}.csv`
      csv.addEventListener('click', () => download(box, toCsv(columns, rows), name))
      head.append(csv)
      const spec = chooseChart(columns, rows)
      if (spec) drawInto(chartBox, columns, rows, spec, chartBox.clientWidth || box.clientWidth, t)
    },
    close() {
      resized.disconnect()
    },
  }
}

function drawInto(chartBox, columns, rows, spec, width, t) {
  chartBox.hidden = false
  const { svg, shown, total } = drawChart(columns, rows, spec, { width })
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
  // A bar's or point's value on a tap or click: tooltips need a mouse.
  const readout = document.createElement('p')
  readout.className = 'chart-readout'
  readout.setAttribute('role', 'status')
  readout.textContent = t.chartHint
  svg.addEventListener('click', (e) => {
    const mark = e.target.closest?.('.series')
    const text = mark?.querySelector('title')?.textContent
    if (text) readout.textContent = text
  })
  chartBox.replaceChildren(svg, readout, caption)
}

/** The link is clicked inside `near` (the result's own box): the page's <body> may not be ours. */
function download(near, text, name) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.hidden = true
  near.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
