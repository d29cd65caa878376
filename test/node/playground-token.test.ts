// The playground's token field in a real browser (Debian's Chromium, playwright-core), against
// `npm start` with JWT_SECRET and DB_ROLES over a Postgres with roles and a tenant row policy
// (test/fixtures/db/roles.sql): the token is kept like the API key and sent as the bearer.
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './chromium'
import type { DevServer } from './dev-server'
import { startRolesService, type RolesService } from './roles-service'

const TOKEN_STORAGE = 'txt2sql-edge.token'
const QUESTION = '订单的客户有哪些'

let service: RolesService
let server: DevServer
let browser: Browser
let context: BrowserContext | undefined

const token = (claims: Record<string, unknown>) => service.token(claims)

beforeAll(async () => {
  service = await startRolesService({ [QUESTION]: '我来写查询。\n```sql\nSELECT tenant, customer FROM orders ORDER BY id\n```' }, { API_KEYS: 'playground-service-key' })
  server = service.server
  browser = await launchChromium()
}, 180_000)

afterEach(async () => {
  await context?.close()
  context = undefined
})

afterAll(async () => {
  await browser?.close()
  await service?.stop()
})

async function open(): Promise<{ page: Page; bearers: string[] }> {
  context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1200, height: 900 } })
  const page = await context.newPage()
  const bearers: string[] = []
  page.on('request', (req) => {
    if (req.url().endsWith('/v1/ask')) bearers.push(req.headers().authorization ?? '')
  })
  await page.goto(server.url)
  await scriptsReady(page)
  return { page, bearers }
}

/** The page's script has run (it read /healthz): before that the form sends nothing. */
const scriptsReady = (page: Page) => page.locator('#service').filter({ hasText: 'qwen-plus' }).waitFor()

async function reload(page: Page): Promise<void> {
  await page.reload()
  await scriptsReady(page)
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
    expect(await page.evaluate((name) => [sessionStorage.getItem(name), localStorage.getItem(name)], TOKEN_STORAGE)).toEqual([alpha, null])

    // Kept: after a reload the next question goes out with it, no dialog.
    await reload(page)
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
    // The dialog's `close` event, which forgets them, is a task queued after the click.
    await expect.poll(() => page.evaluate(() => [sessionStorage, localStorage].flatMap((s) => [s.getItem('txt2sql-edge.token'), s.getItem('txt2sql-edge.api-key')]))).toEqual([null, null, null, null])
  })

  it('another tenant\'s token sees only its rows; a token naming an unlisted role is told so', async () => {
    const { page } = await open()
    await page.evaluate(([name, value]) => localStorage.setItem(name!, value!), [TOKEN_STORAGE, await token({ sub: 'bob', role: 'sales_rep', tenant: 'beta' })])
    await reload(page)
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
