import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEvents } from '../support/streams'
import { startDevServer, type DevServer } from './dev-server'

let server: DevServer
const root = join(import.meta.dirname, '..', '..')
/** A frame of a Node stack trace. */
const STACK_FRAME = /^\s+at .*(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m

/** `npx txt2sql-edge …` as the README writes it, from the checkout. */
function npx(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: '1', TXT2SQL_URL: undefined, TXT2SQL_API_KEY: undefined })) if (v !== undefined) env[k] = v
  const child = spawn('npx', ['txt2sql-edge', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })))
}

// The fake DashScope answers each with valid SQL for the demo database (tools/fake-dashscope/answers.mjs):
// a station by name, a line's stations, ridership totals, and the fallback station list.
// The fake answers each from another of its canned SQL (a station, a line, ridership, and its
// fallback for a question that names none of those).
// None is one of the demo's approved examples (db/demo/examples.sql), answered verified with no model call.
const QUESTIONS = ['沈塘桥站在哪个区？', '1号线有哪些站', '哪个站客流最多', '最早开通的有哪些']

/** Asks one question and returns its `sql` event. */
async function askSql(question: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question }) })
  expect(res.status).toBe(200)
  const events = await readEvents(res.body!)
  expect(events.map((e) => e.event)).not.toContain('repair')
  const sql = events.filter((e) => e.event === 'sql')
  expect(sql, JSON.stringify(events.map((e) => e.event))).toHaveLength(1)
  return sql[0]!.data
}

beforeAll(async () => {
  // Nothing configured: what `npm start` does on a fresh clone.
  server = await startDevServer({ DASHSCOPE_API_KEY: undefined, DASHSCOPE_BASE_URL: undefined, API_KEYS: undefined, DASHSCOPE_MODEL: undefined, DATABASE_URL: undefined, NEON_WS_PROXY: undefined })
}, 90_000)

afterAll(async () => {
  await server?.stop()
})

describe('npm start on embedded defaults', () => {
  it('answers from a live introspection of the embedded demo database, with the fake DashScope', async () => {
    const health = await (await fetch(`${server.url}/healthz`)).json()
    expect(health).toEqual({ ok: true, schema_version: expect.stringMatching(/^pg-[0-9a-f]{12}$/), model: 'fake-qwen-plus', execute: true, page_title: null })
    expect(server.output()).toContain('embedded demo database')
    const res = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '沈塘桥站在哪个区？' }) })
    expect(res.status).toBe(200)
    const events = await readEvents(res.body!)
    expect(events[0]!.data).toMatchObject({ model: 'fake-qwen-plus', schema_version: health.schema_version })
    expect(events[0]!.data.verified).toBeUndefined()
    expect(events[0]!.data.tables).toEqual(expect.arrayContaining(['stations', 'daily_ridership', 'station_ridership_totals']))
    expect(events.at(-3)!.data.ok).toBe(true)
    expect(events.at(-1)!.event).toBe('done')
  })

  it('checks every answer against the demo database: 12 questions in a row, then 6 at once', async () => {
    for (let i = 0; i < 12; i++) {
      const question = QUESTIONS[i % QUESTIONS.length]!
      expect(await askSql(question), `question ${i + 1}: ${question}`).toMatchObject({ ok: true, checked: true })
    }
    const together = await Promise.all(QUESTIONS.concat(QUESTIONS).slice(0, 6).map(askSql))
    expect(together).toEqual(Array.from({ length: 6 }, () => expect.objectContaining({ ok: true, checked: true })))
  })

  it('a client that fails a query mid-transaction and vanishes does not affect the next request', async () => {
    const port = Number(/PGlite on 127\.0\.0\.1:(\d+)/.exec(server.output())?.[1])
    expect(port).toBeGreaterThan(0)
    // Raw wire protocol: a failed transaction, then a named statement left half-sent (no Sync).
    const int32 = (n: number) => Buffer.from([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])
    const typed = (type: string, body: Buffer) => Buffer.concat([Buffer.from(type), int32(body.length + 4), body])
    const startupBody = Buffer.from('\0\x03\0\0user\0postgres\0database\0postgres\0\0', 'latin1')
    const socket = connect(port, '127.0.0.1')
    let received = ''
    socket.on('data', (d) => (received += d.toString('latin1')))
    socket.write(Buffer.concat([int32(startupBody.length + 4), startupBody]))
    socket.write(typed('Q', Buffer.from('BEGIN; SELECT nme FROM stations\0')))
    await expect.poll(() => received).toContain('does not exist')
    socket.write(typed('P', Buffer.from('txt2sql_1\0SELECT 1\0\0\0', 'latin1')))
    socket.destroy()
    expect(await askSql('沈塘桥地铁站的信息')).toMatchObject({ ok: true, checked: true })
  })

  it('runs the SQL and prints the rows: the README\'s `npx txt2sql-edge ask --execute …` examples exit 0', async () => {
    for (const [question, first] of [['客流量最高的十个站点', '近江'], ['1号线有哪些站', '湘湖']] as const) {
      const { code, stdout, stderr } = await npx(['ask', '--execute', question, '--url', server.url])
      expect(code, stdout + stderr).toBe(0)
      expect(stdout).toContain('✓ checked by Postgres')
      expect(Number(/^(\d+) rows? · \d+ ms$/m.exec(stdout)?.[1])).toBeGreaterThan(0)
      expect(stdout).toContain(first)
    }
  })

  it('runs them as the demo database\'s read-only role, never its superuser', async () => {
    const res = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '客流量最高的十个站点', execute: true }) })
    const events = await readEvents(res.body!)
    // A superuser's (or a server-file role's) run would be refused: the rows prove the role.
    const result = events.find((e) => e.event === 'result')?.data
    expect(result, JSON.stringify(events)).toMatchObject({ ok: true, row_count: 10 })
    expect(server.output()).toContain('run as its read-only role txt2sql_ro')
  })

  it('the playground shows an example question\'s rows as a table and a bar chart, in Chromium', async () => {
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    try {
      const page = await browser.newPage({ locale: 'zh-CN', viewport: { width: 1200, height: 900 } })
      await page.goto(server.url)
      await page.locator('.chip', { hasText: '客流量最高的十个站点' }).click()
      await page.waitForFunction(() => ['done', 'failed', 'stopped'].includes(document.querySelector<HTMLElement>('.turn:last-of-type')?.dataset.state ?? ''), null, { timeout: 60_000 })
      const turn = page.locator('.turn').last()
      expect(await turn.locator('.result tbody tr').count()).toBe(10)
      expect(await turn.locator('svg.chart-bar rect').count()).toBe(10)
      const shots = join(root, '.artifacts', 'screenshots')
      mkdirSync(shots, { recursive: true })
      // The whole page, with the composer where it ends up once scrolled to the bottom.
      // Through the CSSOM: the page's CSP refuses an added <style>, as it should.
      await page.evaluate(() => document.querySelector<HTMLElement>('.composer')?.style.setProperty('position', 'static', 'important'))
      await page.screenshot({ path: join(shots, 'embedded-defaults-rows-chart.png'), fullPage: true })
    } finally {
      await browser.close()
    }
  })

  it('starts without a stack trace on its screen', () => {
    expect(server.output()).not.toMatch(STACK_FRAME)
    expect(server.output()).not.toContain('Request.cf')
  })

  it('never prints a secret', () => {
    expect(server.output()).not.toContain('fake-key')
  })
})
