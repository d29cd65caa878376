// A bar or line chart of a result, drawn as SVG by hand: one label column on the x axis, each
// numeric column a series. Sized by its viewBox, so it scales to the page (phones included).
import { formatCell, toNumber } from './result-data.js'

const SVG = 'http://www.w3.org/2000/svg'
export const MAX_BARS = 40
export const MAX_POINTS = 500

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
  if (text !== undefined) node.textContent = text
  return node
}

/** About five round tick values covering [lo, hi] (1, 2, 2.5 or 5 × a power of ten apart). */
export function niceTicks(lo, hi, count = 5) {
  if (lo === hi) hi = lo + 1
  const raw = (hi - lo) / count
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((s) => s >= raw) ?? 10 * power
  const start = Math.floor(lo / step) * step
  const ticks = []
  for (let v = start; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)))
  if (ticks.at(-1) < hi) ticks.push(Number((ticks.at(-1) + step).toPrecision(12)))
  return ticks
}

const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 2 })
const full = new Intl.NumberFormat(undefined, { maximumFractionDigits: 6 })

/**
 * @param {{name: string, type: string}[]} columns
 * @param {unknown[][]} rows
 * @param {{kind: 'bar'|'line', label: number, series: number[]}} spec from chooseChart
 * @param {{ width?: number }} [size] the width it will be shown at, in CSS pixels: the drawing
 *   uses it as its own unit so text stays readable from a phone to a wide screen
 * @returns {{ svg: SVGSVGElement, shown: number, total: number }}
 */
export function drawChart(columns, rows, spec, { width = 720 } = {}) {
  const W = Math.round(Math.min(Math.max(width, 300), 1000))
  const H = W < 500 ? 240 : 320
  const M = { top: 16, right: 12, bottom: W < 500 ? 64 : 78, left: W < 500 ? 48 : 72 }
  let data = rows
  if (spec.kind === 'line') data = [...rows].sort((a, b) => String(a[spec.label]).localeCompare(String(b[spec.label])))
  const cap = spec.kind === 'bar' ? MAX_BARS : MAX_POINTS
  const shown = data.slice(0, cap)
  const values = shown.flatMap((r) => spec.series.map((i) => toNumber(r[i]))).filter((v) => v !== null)
  const ticks = niceTicks(Math.min(0, ...values), Math.max(0, ...values))
  const [y0, y1] = [ticks[0], ticks.at(-1)]
  const plotW = W - M.left - M.right
  const plotH = H - M.top - M.bottom
  const y = (v) => M.top + plotH - ((v - y0) / (y1 - y0)) * plotH
  const n = shown.length
  const band = plotW / Math.max(n, 1)
  const x = (i) => M.left + band * (i + 0.5)

  const labelName = columns[spec.label].name
  const seriesNames = spec.series.map((i) => columns[i].name)
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: `chart chart-${spec.kind}`, role: 'img', 'aria-label': `${seriesNames.join(', ')} / ${labelName}` })

  // Grid and y axis.
  for (const tick of ticks) {
    svg.append(el('line', { x1: M.left, x2: W - M.right, y1: y(tick), y2: y(tick), class: tick === 0 ? 'axis' : 'grid' }))
    svg.append(el('text', { x: M.left - 8, y: y(tick) + 4, 'text-anchor': 'end', class: 'tick' }, compact.format(tick)))
  }

  // X labels: about one per 48 px, evenly skipped; slanted so long names fit.
  const every = Math.max(1, Math.ceil(n / Math.max(4, Math.floor(plotW / 48))))
  shown.forEach((row, i) => {
    if (i % every !== 0) return
    const text = formatCell(row[spec.label])
    const label = el('text', { x: x(i), y: M.top + plotH + 14, 'text-anchor': 'end', class: 'tick', transform: `rotate(-35 ${x(i)} ${M.top + plotH + 14})` }, text.length > 14 ? `${text.slice(0, 13)}…` : text)
    svg.append(label)
  })

  spec.series.forEach((col, s) => {
    const cls = `series series-${s % 6}`
    if (spec.kind === 'bar') {
      const width = (band * 0.8) / spec.series.length
      const labelled = spec.series.length === 1 && band >= 40
      shown.forEach((row, i) => {
        const v = toNumber(row[col])
        if (v === null) return
        const top = y(Math.max(v, 0))
        const rect = el('rect', { x: x(i) - band * 0.4 + width * s, y: top, width: Math.max(width - 1, 1), height: Math.max(Math.abs(y(v) - y(0)), 1), class: cls })
        rect.append(el('title', {}, `${formatCell(row[spec.label])} · ${columns[col].name}: ${full.format(v)}`))
        svg.append(rect)
        // Values on the bars when there is room: no hover needed to read them (touch screens).
        if (labelled) svg.append(el('text', { x: x(i), y: v < 0 ? y(v) + 12 : top - 4, 'text-anchor': 'middle', class: 'value' }, compact.format(v)))
      })
    } else {
      const points = shown.map((row, i) => [x(i), toNumber(row[col]), row]).filter(([, v]) => v !== null)
      svg.append(el('polyline', { points: points.map(([px, v]) => `${px},${y(v)}`).join(' '), class: `${cls} line`, fill: 'none' }))
      if (points.length <= 60) {
        for (const [px, v, row] of points) {
          const dot = el('circle', { cx: px, cy: y(v), r: 3, class: cls })
          dot.append(el('title', {}, `${formatCell(row[spec.label])} · ${columns[col].name}: ${full.format(v)}`))
          svg.append(dot)
        }
      }
    }
  })
  return { svg, shown: n, total: rows.length }
}
