// What the playground's browser tests share: a real Postgres with the demo database and a
// read-only role, the fake DashScope, `npm start` (wrangler dev) against both with runs on, and
// Debian's Chromium driven by playwright-core. `usePlayground()` registers the hooks of the
// calling test file. Screenshots go to .artifacts/screenshots/ (git-ignored) for a human to look at.
import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { launchChromium } from './chromium'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { startLocalPostgres, type LocalPostgres } from '../../scripts/local-postgres.mjs'
// @ts-expect-error plain ESM JavaScript tool
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'
import { startDevServer, type DevServer } from './dev-server'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const SHOTS = join(root, '.artifacts', 'screenshots')
export const API_KEY = 'playground-key'
export const KEY_STORAGE = 'txt2sql-edge.api-key'
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

export type FakeRecord = { seen: boolean; closed_early: boolean; completed: boolean; events_sent: number; body: any }
export type Fake = { url: string; setDefaultOptions: (o: string) => void; record: (tag: string) => FakeRecord | undefined; records: (tag: string) => FakeRecord[]; close: () => Promise<void> }
export type OpenOptions = { locale?: string; width?: number; height?: number; key?: string | null; colorScheme?: 'light' | 'dark'; touch?: boolean; url?: string; wait?: boolean }

export type Playground = {
  fake: Fake
  pg: LocalPostgres
  server: DevServer
  browser: Browser
  /** The environment `server` runs with: start another service with some of it changed. */
  env: Record<string, string | undefined>
  /** A fresh browser profile at this language, size and colour scheme, with the API key already entered unless told. */
  open: (options?: OpenOptions) => Promise<Page>
}

/** Registers the services and the browser for the calling test file; their handles are filled in by beforeAll. `settings`: more of the service's environment. */
export function usePlayground(settings: Record<string, string> = {}): Playground {
  const pw = {} as Playground
  let context: BrowserContext | undefined
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    // The demo database in a real Postgres: checks and runs behave as in production.
    pw.pg = await startLocalPostgres()
    pw.pg.psql('CREATE DATABASE metro')
    pw.pg.psql(readFileSync(join(root, 'db', 'demo', 'metro.sql'), 'utf8'), 'metro')
    // The demo's approved examples, as `npm start` loads them: the page's example buttons.
    pw.pg.psql(readFileSync(join(root, 'db', 'demo', 'examples.sql'), 'utf8'), 'metro')
    pw.pg.psql('ANALYZE', 'metro')
    // Runs need a read-only role (docs/SECURITY.md): the service refuses to run model SQL as a superuser.
    pw.pg.psql(`CREATE ROLE txt2sql_ro LOGIN PASSWORD 'ro';
      ALTER ROLE txt2sql_ro SET default_transaction_read_only = on;
      GRANT USAGE ON SCHEMA public TO txt2sql_ro;
      GRANT SELECT ON ALL TABLES IN SCHEMA public TO txt2sql_ro;`, 'metro')
    pw.fake = await startFakeDashScope({ apiKey: 'fake-key' })
    pw.env = {
      DASHSCOPE_API_KEY: 'fake-key',
      DASHSCOPE_BASE_URL: pw.fake.url,
      DASHSCOPE_MODEL: undefined,
      DATABASE_URL: pw.pg.url('postgres', 'postgres', 'metro'),
      DATABASE_URL_READONLY: pw.pg.url('txt2sql_ro', 'ro', 'metro'),
      NEON_WS_PROXY: undefined,
      API_KEYS: API_KEY,
      SQL_EXECUTE: 'true',
      ...settings,
    }
    pw.server = await startDevServer(pw.env)
    pw.browser = await launchChromium()
  }, 180_000)

  afterEach(async () => {
    await context?.close()
    context = undefined
    pw.fake.setDefaultOptions('')
  })

  afterAll(async () => {
    await pw.browser?.close()
    await pw.server?.stop()
    await pw.fake?.close()
    pw.pg?.stop()
  })

  pw.open = async ({ locale = 'zh-CN', width = 1280, height = 900, key = API_KEY, colorScheme = 'light', touch = false, url, wait = true } = {}) => {
    await context?.close()
    context = await pw.browser.newContext({ locale, viewport: { width, height }, colorScheme, hasTouch: touch, acceptDownloads: true })
    if (key) await context.addInitScript(([name, value]) => localStorage.setItem(name!, value!), [KEY_STORAGE, key])
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(err.message))
    // The browser logs every refused request; those are what some tests are about.
    page.on('console', (m) => m.type() === 'error' && !/status of (400|401|404|429)|ERR_CONNECTION_REFUSED/.test(m.text()) && problems.push(m.text()))
    ;(page as Page & { problems: string[] }).problems = problems
    if (!wait) return page
    await page.goto(url ?? pw.server.url)
    await page.locator('#service').filter({ hasText: /qwen-plus/ }).waitFor()
    return page
  }
  return pw
}

/** A UI expectation that may take a moment on a loaded machine (expect.poll waits 1 s by default). */
export const eventually = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 20_000, interval: 50 })
export const problemsOf = (page: Page) => (page as Page & { problems: string[] }).problems
export const lastTurn = (page: Page) => page.locator('.turn').last()
export const waitSettled = (page: Page) =>
  page.waitForFunction(() => ['done', 'failed', 'stopped'].includes(document.querySelector<HTMLElement>('.turn:last-of-type')?.dataset.state ?? ''), null, { timeout: 30_000 })
export const waitState = (page: Page, state: string) =>
  page.waitForFunction((want) => document.querySelector<HTMLElement>('.turn:last-of-type')?.dataset.state === want, state, { timeout: 30_000 })

/** Asks `text` by typing it and pressing Enter. */
export async function ask(page: Page, text: string) {
  await page.locator('#question').fill(text)
  await page.locator('#question').press('Enter')
}

/** What the user sees: the browser's viewport as it is. */
export async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) })
}

export async function waitForRecord(fake: Fake, tag: string, check: (r: FakeRecord) => boolean): Promise<FakeRecord> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const record = fake.record(tag)
    if (record && check(record)) return record
    if (Date.now() > deadline) throw new Error(`fake record ${tag}: ${JSON.stringify(record ?? null)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * Where `locator` is against what the user can see: `visible` when the whole of it is on screen,
 * above the question box and not covered by anything (the topmost element at its corners is
 * itself or inside it); `top`/`bottom` in viewport pixels; `composerTop` where the question box begins.
 */
export async function placement(locator: Locator) {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect()
    const composerTop = document.getElementById('composer')!.getBoundingClientRect().top
    // Inside rounded corners, where a point still hits the element itself.
    const inset = Math.min(12, r.width / 3, r.height / 3)
    const corners: [number, number][] = [[r.left + inset, r.top + inset], [r.right - inset, r.top + inset], [r.left + inset, r.bottom - inset], [r.right - inset, r.bottom - inset]]
    const uncovered = corners.every(([x, y]) => {
      const hit = document.elementFromPoint(x, y)
      return hit !== null && (hit === el || el.contains(hit))
    })
    const onScreen = r.height > 0 && r.top >= 0 && r.bottom <= Math.min(composerTop, innerHeight) + 0.5
    return { visible: onScreen && uncovered, top: Math.round(r.top), bottom: Math.round(r.bottom), composerTop: Math.round(composerTop), height: innerHeight }
  })
}

export type AxeViolation = { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }
/** axe-core's violations on the page as it is now (injected from node_modules, never a CDN). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, not added as a <script>: a page's CSP (public/_headers)
  // forbids inline scripts, and it must stay as served while it is checked.
  await page.evaluate(readFileSync(AXE, 'utf8'))
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: AxeViolation[] }> } }).axe
    const { violations } = await axe.run(document, { resultTypes: ['violations'] })
    return violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }))
  })
}

/** The examples table of the demo database, oldest first, without the demo's own (db/demo/examples.sql). */
export const examples = (pg: LocalPostgres) =>
  JSON.parse(pg.psql("SELECT coalesce(json_agg(json_build_object('question', question, 'sql', sql, 'source', source, 'approved', approved) ORDER BY id), '[]') FROM txt2sql_examples WHERE source <> 'demo'", 'metro')) as unknown[]

/** The user/assistant turns the fake received, without the system prompt. */
/** A request of the service's summary call (the rows in words), not of a question. */
const isSummaryRequest = (record: FakeRecord) => JSON.stringify(record.body).includes('【查询结果】')
/** The question requests the fake saw under `tag` (each run with rows adds its summary request: left out). */
export const questionRecords = (fake: Fake, tag: string) => fake.records(tag).filter((r) => !isSummaryRequest(r))
export const lastQuestionRecord = (fake: Fake, tag: string) => questionRecords(fake, tag).at(-1)

export const dialogue = (record: FakeRecord) =>
  (record.body.input.messages as { role: string; content: string }[]).filter((m) => m.role !== 'system').map((m) => ({ role: m.role, content: m.content }))
