// The playground's token field in a real browser (Debian's Chromium, playwright-core), against
// `npm start` with JWT_SECRET and DB_ROLES over a Postgres with roles and a tenant row policy
// (test/fixtures/db/roles.sql): the token is kept like the API key and sent as the bearer.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sign } from 'hono/jwt'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { startLocalPostgres } from '../../scripts/local-postgres.mjs'
// @ts-expect-error plain ESM JavaScript tool
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'
import { startDevServer, type DevServer } from './dev-server'

const root = join(import.meta.dirname, '..', '..')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SECRET = 'playground-jwt-secret-0123456789abcdef'
const TOKEN_STORAGE = 'txt2sql-edge.token'
const QUESTION = '订单的客户有哪些'

let pg: { url: (user?: string, password?: string, database?: string) => string; psql: (sql: string, db?: string) => string; stop: () => void }
let fake: { url: string; close: () => Promise<void> }
let server: DevServer
let browser: Browser
let context: BrowserContext | undefined

const token = (claims: Record<string, unknown>) => sign({ exp: Math.floor(Date.now() / 1000) + 600, ...claims }, SECRET, 'HS256')

beforeAll(async () => {
  pg = await startLocalPostgres()
  pg.psql('CREATE DATABASE company')
  pg.psql(readFileSync(join(root, 'test', 'fixtures', 'db', 'roles.sql'), 'utf8'), 'company')
  fake = await startFakeDashScope({ apiKey: 'fake-key', answers: { [QUESTION]: '我来写查询。\n```sql\nSELECT tenant, customer FROM orders ORDER BY id\n```' } })
  server = await startDevServer({
    DASHSCOPE_API_KEY: 'fake-key',
    DASHSCOPE_BASE_URL: fake.url,
    DASHSCOPE_MODEL: undefined,
    DATABASE_URL: pg.url('postgres', 'postgres', 'company'),
    DATABASE_URL_READONLY: pg.url('roles_ro', 'roles-ro-pw', 'company'),
    NEON_WS_PROXY: undefined,
    SQL_EXECUTE: 'true',
    API_KEYS: 'playground-service-key',
    JWT_SECRET: SECRET,
    DB_ROLES: 'analyst,sales_rep',
  })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
}, 180_000)

afterEach(async () => {
  await context?.close()
  context = undefined
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  await fake?.close()
  pg?.stop()
})

async function open(): Promise<{ page: Page; bearers: string[] }> {
  context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1200, height: 900 } })
  const page = await context.newPage()
  const bearers: string[] = []
  page.on('request', (req) => {
    if (req.url().endsWith('/v1/ask')) bearers.push(req.headers().authorization ?? '')
  })
  await page.goto(server.url)
  await page.locator('#service').filter({ hasText: 'qwen-plus' }).waitFor()
  return { page, bearers }
}

const lastTurn = (page: Page) => page.locator('.turn').last()
const waitSettled = (page: Page) => page.waitForFunction(() => ['done', 'failed', 'stopped'].includes(document.querySelector<HTMLElement>('.turn:last-of-type')?.dataset.state ?? ''), null, { timeout: 30_000 })
const rowsOf = (page: Page) => lastTurn(page).locator('.result tbody tr').allTextContents()

describe('the playground with a token (JWT)', { timeout: 120_000 }, () => {
  it('asks for credentials on 401, sends the token as the bearer, keeps it across a reload, and clears it', async () => {
    const { page, bearers } = await open()
    await page.locator('#question').fill(QUESTION)
    await page.locator('#question').press('Enter')
    await page.locator('#key-dialog').waitFor({ state: 'visible' })
    expect(await page.locator('label[for=token-input]').textContent()).toBe('令牌（JWT）')
    const alpha = await token({ sub: 'alice', role: 'analyst', tenant: 'alpha' })
    await page.locator('#token-input').fill(alpha)
    await page.locator('#key-form button[value=save]').click()
    await waitSettled(page)
    expect(await lastTurn(page).getAttribute('data-state')).toBe('done')
    const rows = await rowsOf(page)
    expect(rows.length).toBe(2)
    expect(rows.join()).toContain('阿尔法商贸')
    expect(rows.join()).not.toContain('贝塔')
    expect(bearers).toEqual(['', `Bearer ${alpha}`])
    expect(await page.evaluate((name) => localStorage.getItem(name), TOKEN_STORAGE)).toBe(alpha)

    // Kept: after a reload the next question goes out with it, no dialog.
    await page.reload()
    await page.locator('#question').fill(QUESTION)
    await page.locator('#question').press('Enter')
    await waitSettled(page)
    expect(bearers.at(-1)).toBe(`Bearer ${alpha}`)
    expect(await page.locator('#key-dialog').isVisible()).toBe(false)

    // A token wins over a key kept beside it; Clear forgets both.
    await page.locator('#key-button').click()
    expect(await page.locator('#token-input').inputValue()).toBe(alpha)
    await page.locator('#key-input').fill('playground-service-key')
    await page.locator('#key-form button[value=save]').click()
    await page.locator('#question').fill(QUESTION)
    await page.locator('#question').press('Enter')
    await waitSettled(page)
    expect(bearers.at(-1)).toBe(`Bearer ${alpha}`)
    await page.locator('#key-button').click()
    await page.locator('#key-form button[value=clear]').click()
    expect(await page.evaluate(() => [localStorage.getItem('txt2sql-edge.token'), localStorage.getItem('txt2sql-edge.api-key')])).toEqual([null, null])
  })

  it('another tenant\'s token sees only its rows; a token naming an unlisted role is told so', async () => {
    const { page } = await open()
    await page.evaluate(([name, value]) => localStorage.setItem(name!, value!), [TOKEN_STORAGE, await token({ sub: 'bob', role: 'sales_rep', tenant: 'beta' })])
    await page.reload()
    await page.locator('#question').fill(QUESTION)
    await page.locator('#question').press('Enter')
    await waitSettled(page)
    const rows = await rowsOf(page)
    expect(rows.length).toBe(3)
    expect(rows.join()).not.toContain('阿尔法')

    await page.evaluate(([name, value]) => localStorage.setItem(name!, value!), [TOKEN_STORAGE, await token({ sub: 'mallory', role: 'postgres' })])
    await page.locator('#question').fill(QUESTION)
    await page.locator('#question').press('Enter')
    await waitSettled(page)
    expect(await lastTurn(page).locator('.error-title').textContent()).toBe('错误 · role_not_allowed')
    expect(await lastTurn(page).locator('.error-message').textContent()).toMatch(/^令牌中的数据库角色不被这个服务允许。/)
  })
})
