import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join, normalize } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './chromium'

// The playground's charts on a schema that is not the demo (issue 34): Chinook's country names on a
// bar chart, long date labels on a line chart, drawn by public/js/chart.js in Debian's Chromium at
// a desktop's and a phone's width. What is measured is what a person sees: every label inside the
// drawing, and axis text at least 10 CSS pixels tall.
const root = join(import.meta.dirname, '..', '..')
let server: Server
let base: string
let browser: Browser

const COUNTRIES = ['United States of America', 'Canada', 'Brazil', 'France', 'Germany', 'United Kingdom', 'Czech Republic', 'Portugal', 'India', 'Chile', 'Ireland', 'Hungary', 'Austria', 'Finland', 'Netherlands', 'Norway', 'Sweden', 'Poland', 'Italy', 'Denmark', 'Australia', 'Argentina', 'Spain', 'Belgium']
// The same countries as a Chinese-commented schema may hold them: wide characters, longer labels.
const COUNTRIES_ZH = ['大不列颠及北爱尔兰联合王国', '美利坚合众国', '加拿大', '巴西联邦共和国', '法兰西共和国', '德意志联邦共和国', '捷克共和国', '葡萄牙共和国', '印度共和国', '智利共和国', '爱尔兰', '匈牙利']
const BAR_ZH = { columns: [{ name: 'billing_country', type: 'text' }, { name: 'total', type: 'numeric' }], rows: COUNTRIES_ZH.map((c, i) => [c, 300 - i * 11]) }
const BAR = { columns: [{ name: 'billing_country', type: 'text' }, { name: 'total', type: 'numeric' }], rows: COUNTRIES.map((c, i) => [c, 523.06 - i * 17.3]) }
const LINE = {
  columns: [{ name: 'invoice_month', type: 'text' }, { name: 'total', type: 'numeric' }],
  rows: Array.from({ length: 60 }, (_, i) => [`${2009 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-01 00:00:00`, 30 + ((i * 7) % 23)]),
}

type Measured = { svg: { top: number; bottom: number; left: number; right: number }; labels: { top: number; bottom: number; left: number; right: number; text: string }[]; tickHeights: number[] }

async function draw(page: Page, width: number, result: { columns: unknown[]; rows: unknown[][] }, kind: 'bar' | 'line'): Promise<Measured> {
  await page.setViewportSize({ width, height: 900 })
  await page.goto(`${base}/blank.html`)
  await page.waitForFunction(() => 'drawChart' in window)
  return page.evaluate(
    ({ result, kind }) => {
      const { drawChart } = window as unknown as { drawChart: (c: unknown[], r: unknown[][], s: unknown, o: { width: number }) => { svg: SVGSVGElement } }
      const box = document.createElement('figure')
      box.style.margin = '0 12px'
      document.body.append(box)
      const { svg } = drawChart(result.columns, result.rows, { kind, label: 0, series: [1] }, { width: box.clientWidth })
      box.append(svg)
      const rect = (e: Element) => e.getBoundingClientRect()
      const s = rect(svg)
      const ticks = Array.from(svg.querySelectorAll('text.tick'))
      return {
        svg: { top: s.top, bottom: s.bottom, left: s.left, right: s.right },
        labels: ticks.filter((t) => t.getAttribute('transform')).map((t) => ({ ...rect(t).toJSON(), text: t.textContent ?? '' })),
        // A text's box is about 1.2 × its font size: 10 px of box is an 8 px font, unreadable.
        tickHeights: ticks.map((t) => rect(t).height),
      }
    },
    { result, kind },
  )
}

beforeAll(async () => {
  const types: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.css': 'text/css' }
  server = createServer((req, res) => {
    if (req.url === '/blank.html') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><link rel="stylesheet" href="/app.css"><style>body{margin:0}</style><body><script type="module">import { drawChart } from "/js/chart.js"; window.drawChart = drawChart</script></body>')
    const path = normalize(join(root, 'public', req.url ?? '/'))
    if (!path.startsWith(join(root, 'public'))) return res.writeHead(404).end()
    let body: Buffer
    try {
      body = readFileSync(path)
    } catch {
      return res.writeHead(404).end()
    }
    res.writeHead(200, { 'content-type': types[path.slice(path.lastIndexOf('.'))] ?? 'text/plain' }).end(body)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  browser = await launchChromium()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await new Promise((r) => server?.close(r))
})

describe('charts of another schema stay readable', () => {
  for (const [size, width] of [['desktop', 1280], ['phone', 390]] as const) {
    it(`bar chart of long country names, in English and in Chinese, at ${width} px (${size}): every slanted label inside the drawing`, async () => {
      const page = await browser.newPage()
      try {
        for (const result of [BAR, BAR_ZH]) {
          const m = await draw(page, width, result, 'bar')
          expect(m.labels.length).toBeGreaterThan(3)
          for (const l of m.labels) {
            expect(l.bottom, l.text).toBeLessThanOrEqual(m.svg.bottom + 0.5)
            expect(l.left, l.text).toBeGreaterThanOrEqual(m.svg.left - 0.5)
          }
        }
      } finally {
        await page.close()
      }
    })

    it(`line chart of 60 dated points at ${width} px (${size}): axis text at least 12 px tall and labels apart`, async () => {
      const page = await browser.newPage()
      try {
        const m = await draw(page, width, LINE, 'line')
        expect(Math.min(...m.tickHeights)).toBeGreaterThanOrEqual(12)
        const lefts = m.labels.map((l) => l.left).sort((a, b) => a - b)
        for (let i = 1; i < lefts.length; i++) expect(lefts[i]! - lefts[i - 1]!).toBeGreaterThanOrEqual(40)
        for (const l of m.labels) expect(l.bottom, l.text).toBeLessThanOrEqual(m.svg.bottom + 0.5)
      } finally {
        await page.close()
      }
    })
  }
})
