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

/** Axis text size in the drawing's units (CSS pixels: the drawing is made at the width shown). */
const TICK_PX = 11
/** Never drawn narrower than this, so text is never scaled below TICK_PX × (shown / MIN_W). */
const MIN_W = 300
const SLANT = (35 * Math.PI) / 180
/** Least space between two x labels: at a phone's width fewer labels, each readable. */
const LABEL_GAP_PX = 56

/**
 * How wide a label is drawn, estimated from its characters (no layout in a module that also runs
 * in Node): CJK and other wide characters take about 1 em, the rest about 0.6 em.
 */
export function labelWidth(text, px = TICK_PX) {
  let ems = 0
  for (const ch of text) ems += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{20000}-\u{3fffd}]/u.test(ch) ? 1 : 0.6
  return ems * px
}

/** A label cut to `max` characters (fewer on a phone, where a long slanted label would eat the plot). */
const cutLabel = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

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
  const W = Math.round(Math.min(Math.max(width, MIN_W), 1000))
  let data = rows
  if (spec.kind === 'line') data = [...rows].sort((a, b) => String(a[spec.label]).localeCompare(String(b[spec.label])))
  const cap = spec.kind === 'bar' ? MAX_BARS : MAX_POINTS
  const shown = data.slice(0, cap)
  // The slanted x labels need room below the plot (and left of the first one) in proportion to the
  // longest of them: reserved from their length, so Chinook's country names are not cut off.
  const baseLeft = W < 500 ? 48 : 72
  const shortLabel = (text) => cutLabel(text, W < 500 ? 10 : 14)
  const longest = Math.max(0, ...shown.map((row) => labelWidth(shortLabel(formatCell(row[spec.label])))))
  const plotBase = W < 500 ? 176 : 242
  const bottom = Math.ceil(Math.min(Math.max(W < 500 ? 64 : 78, 14 + longest * Math.sin(SLANT) + TICK_PX * Math.cos(SLANT) + 6), plotBase))
  const M = { top: 16, right: 12, bottom, left: baseLeft }
  const H = M.top + plotBase + M.bottom
  const values = shown.flatMap((r) => spec.series.map((i) => toNumber(r[i]))).filter((v) => v !== null)
  const ticks = niceTicks(Math.min(0, ...values), Math.max(0, ...values))
  const [y0, y1] = [ticks[0], ticks.at(-1)]
  const plotW = W - M.left - M.right
  const plotH = plotBase
  const y = (v) => M.top + plotH - ((v - y0) / (y1 - y0)) * plotH
  const n = shown.length
  let band = plotW / Math.max(n, 1)
  // The first label reaches left of its bar by its slanted length and the slant of its height.
  const firstLabel = n ? labelWidth(shortLabel(formatCell(shown[0][spec.label]))) * Math.cos(SLANT) + TICK_PX * Math.sin(SLANT) : 0
  if (firstLabel - band / 2 + 4 > M.left) {
    M.left = Math.min(Math.ceil(firstLabel - band / 2 + 4), Math.round(W * 0.3))
    band = (W - M.left - M.right) / Math.max(n, 1)
  }
  const x = (i) => M.left + band * (i + 0.5)

  const labelName = columns[spec.label].name
  const seriesNames = spec.series.map((i) => columns[i].name)
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: `chart chart-${spec.kind}`, role: 'img', 'aria-label': `${seriesNames.join(', ')} / ${labelName}` })

  // Grid and y axis.
  for (const tick of ticks) {
    svg.append(el('line', { x1: M.left, x2: W - M.right, y1: y(tick), y2: y(tick), class: tick === 0 ? 'axis' : 'grid' }))
    svg.append(el('text', { x: M.left - 8, y: y(tick) + 4, 'text-anchor': 'end', class: 'tick', 'font-size': TICK_PX }, compact.format(tick)))
  }

  // X labels: at least LABEL_GAP_PX apart (on a phone, fewer labels rather than smaller ones),
  // evenly skipped; slanted so long names fit. Their size is fixed in pixels (font-size below).
  const every = Math.max(1, Math.ceil(n / Math.max(3, Math.floor((W - M.left - M.right) / LABEL_GAP_PX))))
  shown.forEach((row, i) => {
    if (i % every !== 0) return
    const text = formatCell(row[spec.label])
    const label = el('text', { x: x(i), y: M.top + plotH + 14, 'text-anchor': 'end', class: 'tick', 'font-size': TICK_PX, transform: `rotate(-35 ${x(i)} ${M.top + plotH + 14})` }, shortLabel(text))
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
